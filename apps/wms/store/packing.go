package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// QC, packing and handover (DOMAIN 7.1 steps 6-8).

// QCScan checks qty units of sku off a PICKED pick list at the bench: they
// go to the lowest slot whose work order still has that many picked and
// not yet checked. The same key again changes nothing and answers the
// first slot; with another scan, domain.ErrKeyReused.
func (s *Store) QCScan(ctx context.Context, warehouse, pickListID, key, sku string, qty int64, now time.Time) (domain.QCResult, error) {
	var out domain.QCResult
	hash := domain.RequestHash([]any{"qc", sku, qty})
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = domain.QCResult{}
		var wh string
		var status domain.PickListStatus
		err := tx.QueryRowContext(ctx, `SELECT warehouse, status FROM pick_lists WHERE pick_list_id=? FOR UPDATE`, pickListID).Scan(&wh, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: pick list %s", domain.ErrNotFound, pickListID)
		}
		if err != nil {
			return fmt.Errorf("lock pick list %s: %w", pickListID, err)
		}
		if wh != warehouse {
			return fmt.Errorf("%w: pick list %s", domain.ErrWrongWarehouse, pickListID)
		}
		var h string
		var slot int
		err = tx.QueryRowContext(ctx, `SELECT request_hash, step_no FROM rf_scans WHERE task_id=? AND idempotency_key=?`, pickListID, key).Scan(&h, &slot)
		if err == nil {
			if h != hash {
				return fmt.Errorf("%w: QC scan key %s", domain.ErrKeyReused, key)
			}
			out.Slot, out.Duplicate = slot, true
			return tx.QueryRowContext(ctx, `SELECT work_order_id FROM sales_order WHERE pick_list_id=? AND slot_no=?`, pickListID, slot).Scan(&out.WorkOrderID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read QC scan %s: %w", key, err)
		}
		if status != domain.PLPicked {
			return fmt.Errorf("%w: pick list %s is %s, not PICKED", domain.ErrState, pickListID, status)
		}
		if qty <= 0 {
			return fmt.Errorf("%w: qty must be positive", domain.ErrValidation)
		}
		var line int
		err = tx.QueryRowContext(ctx, `SELECT o.work_order_id, o.slot_no, d.line_no FROM sales_order o JOIN sales_detail d ON d.work_order_id=o.work_order_id
			WHERE o.pick_list_id=? AND d.sku=? AND d.picked_qty - d.qc_qty >= ? ORDER BY o.slot_no LIMIT 1 FOR UPDATE`, pickListID, sku, qty).
			Scan(&out.WorkOrderID, &out.Slot, &line)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no work order on pick list %s still needs %d of %s", domain.ErrValidation, pickListID, qty, sku)
		}
		if err != nil {
			return fmt.Errorf("find the slot for %s: %w", sku, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sales_detail SET qc_qty=qc_qty+? WHERE work_order_id=? AND line_no=?`, qty, out.WorkOrderID, line); err != nil {
			return fmt.Errorf("check %s: %w", sku, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rf_scans (task_id, idempotency_key, request_hash, step_no, qty, created_at) VALUES (?,?,?,?,?,?)`,
			pickListID, key, hash, out.Slot, qty, now); err != nil {
			return fmt.Errorf("record QC scan: %w", err)
		}
		return nil
	})
	return out, err
}

// Pack packs a PICKED work order into boxes (plan decides them from the
// work order, the item weights and its waybill), writing box_header and
// box_detail and marking it PACKED (and its pick list PACKED with its
// last work order), once per work order: the same key again returns the
// boxes; another key, domain.ErrState (packed already).
func (s *Store) Pack(ctx context.Context, warehouse, workOrderID, key, hash string,
	plan func(domain.WorkOrder, map[string]int64) ([]domain.Box, error), now time.Time) ([]domain.Box, error) {
	var out []domain.Box
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = nil
		w, err := workOrder(ctx, tx, workOrderID, true)
		if err != nil {
			return err
		}
		if w.Warehouse != warehouse {
			return fmt.Errorf("%w: work order %s", domain.ErrWrongWarehouse, workOrderID)
		}
		var k, h string
		err = tx.QueryRowContext(ctx, `SELECT idempotency_key, request_hash FROM pack_requests WHERE work_order_id=?`, workOrderID).Scan(&k, &h)
		if err == nil {
			if k != key {
				return fmt.Errorf("%w: work order %s is packed already", domain.ErrState, workOrderID)
			}
			if h != hash {
				return fmt.Errorf("%w: pack key %s", domain.ErrKeyReused, key)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read pack request of %s: %w", workOrderID, err)
		}
		skus := make([]string, len(w.Lines))
		for i, l := range w.Lines {
			skus[i] = l.SKU
		}
		its, err := items(ctx, tx, skus)
		if err != nil {
			return err
		}
		weights := map[string]int64{}
		for sku, it := range its {
			weights[sku] = it.UnitWeightG()
		}
		boxes, err := plan(w, weights)
		if err != nil {
			return err
		}
		var waybill string
		if err := tx.QueryRowContext(ctx, `SELECT waybill_no FROM order_delivery WHERE wms_order_id=?`, w.WMSOrderID).Scan(&waybill); err != nil {
			return fmt.Errorf("read waybill of %s: %w", w.WMSOrderID, err)
		}
		var head, detail []any
		nDetail := 0
		for _, b := range boxes {
			var weight any
			if b.WeightG > 0 {
				weight = b.WeightG
			}
			head = append(head, b.ID, w.ID, w.WMSOrderID, warehouse, w.Carrier, waybill, b.BoxNo, b.ExpectedG, weight, now)
			for _, l := range b.Lines {
				detail = append(detail, b.ID, l.SKU, l.Qty)
				nDetail++
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO box_header (box_id, work_order_id, wms_order_id, warehouse, carrier, waybill_no, box_no,
			expected_weight_g, weight_g, created_at) VALUES `+sqltx.Tuples("(?,?,?,?,?,?,?,?,?,?)", len(boxes)), head...); err != nil {
			return fmt.Errorf("insert boxes of %s: %w", w.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO box_detail (box_id, sku, qty) VALUES `+sqltx.Tuples("(?,?,?)", nDetail), detail...); err != nil {
			return fmt.Errorf("insert box contents of %s: %w", w.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pack_requests (work_order_id, idempotency_key, request_hash, created_at) VALUES (?,?,?,?)`,
			w.ID, key, hash, now); err != nil {
			return fmt.Errorf("record packing of %s: %w", w.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, updated_at=? WHERE work_order_id=?`, domain.WOPacked, now, w.ID); err != nil {
			return fmt.Errorf("mark %s packed: %w", w.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pick_lists p SET status=?, updated_at=? WHERE pick_list_id=? AND NOT EXISTS
			(SELECT 1 FROM sales_order o WHERE o.pick_list_id=p.pick_list_id AND o.status NOT IN (?,?))`, domain.PLPacked, now, w.PickListID,
			domain.WOPacked, domain.WOShortClosed); err != nil {
			return fmt.Errorf("finish pick list %s: %w", w.PickListID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return s.Boxes(ctx, workOrderID)
	}
	return out, nil
}

// Boxes returns a work order's boxes with their contents.
func (s *Store) Boxes(ctx context.Context, workOrderID string) ([]domain.Box, error) {
	bs, err := sqltx.Collect[domain.Box](s.db.QueryContext(ctx, `SELECT box_id, box_no, expected_weight_g, COALESCE(weight_g, 0) FROM box_header
		WHERE work_order_id=? ORDER BY box_no`, workOrderID))(func(r interface{ Scan(...any) error }) (domain.Box, error) {
		var b domain.Box
		err := r.Scan(&b.ID, &b.BoxNo, &b.ExpectedG, &b.WeightG)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("read boxes of %s: %w", workOrderID, err)
	}
	for i := range bs {
		bs[i].Lines, err = sqltx.Collect[domain.Line](s.db.QueryContext(ctx, `SELECT sku, qty FROM box_detail WHERE box_id=? ORDER BY sku`, bs[i].ID))(
			func(r interface{ Scan(...any) error }) (domain.Line, error) {
				var l domain.Line
				err := r.Scan(&l.SKU, &l.Qty)
				return l, err
			})
		if err != nil {
			return nil, fmt.Errorf("read box %s: %w", bs[i].ID, err)
		}
	}
	return bs, nil
}

// Handover forms a handover batch of every packed, not yet handed over
// parcel of carrier in warehouse (locked), marks their work orders
// HANDED_OVER (and a received order whose work orders all are), and writes
// ev (the parcels for TMS) in one transaction. The same key again returns
// the first batch; a key reused for another carrier, domain.ErrKeyReused;
// no parcel waiting, domain.ErrState.
func (s *Store) Handover(ctx context.Context, warehouse, carrier, key string, ev func(domain.Handover) outbox.Event, now time.Time) (domain.Handover, error) {
	var out domain.Handover
	hash := domain.RequestHash([]string{carrier})
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = domain.Handover{ID: ids.NewAt(now), Warehouse: warehouse, Carrier: carrier}
		var id, h string
		err := tx.QueryRowContext(ctx, `SELECT batch_id, request_hash FROM handover_batches WHERE warehouse=? AND idempotency_key=?`, warehouse, key).Scan(&id, &h)
		if err == nil {
			if h != hash {
				return fmt.Errorf("%w: handover key %s", domain.ErrKeyReused, key)
			}
			out.ID, out.Duplicate = id, true
			out.Parcels, err = parcels(ctx, tx, `b.handover_batch_id=?`, id)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read handover %s: %w", key, err)
		}
		ps, err := parcels(ctx, tx, `b.warehouse=? AND b.carrier=? AND b.handover_batch_id IS NULL AND o.status=? FOR UPDATE`,
			warehouse, carrier, domain.WOPacked)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("%w: no packed parcel of %s waits in %s", domain.ErrState, carrier, warehouse)
		}
		out.Parcels = ps
		if _, err := tx.ExecContext(ctx, `INSERT INTO handover_batches (batch_id, warehouse, carrier, idempotency_key, request_hash, parcels, created_at)
			VALUES (?,?,?,?,?,?,?)`, out.ID, warehouse, carrier, key, hash, len(ps), now); err != nil {
			return fmt.Errorf("insert handover batch: %w", err)
		}
		boxArgs, woSeen, orderSeen := []any{out.ID}, map[string]bool{}, map[string]bool{}
		var woArgs, orderArgs []any
		for _, p := range ps {
			boxArgs = append(boxArgs, p.ParcelID)
			if !woSeen[p.WorkOrderID] {
				woSeen[p.WorkOrderID] = true
				woArgs = append(woArgs, p.WorkOrderID)
			}
			if !orderSeen[p.WMSOrderID] {
				orderSeen[p.WMSOrderID] = true
				orderArgs = append(orderArgs, p.WMSOrderID)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE box_header SET handover_batch_id=? WHERE box_id IN (`+sqltx.Tuples("?", len(ps))+`)`, boxArgs...); err != nil {
			return fmt.Errorf("hand over parcels: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, updated_at=? WHERE work_order_id IN (`+sqltx.Tuples("?", len(woArgs))+`)`,
			append([]any{domain.WOHandedOver, now}, woArgs...)...); err != nil {
			return fmt.Errorf("mark work orders handed over: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_header h SET status=? WHERE wms_order_id IN (`+sqltx.Tuples("?", len(orderArgs))+`)
			AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.wms_order_id=h.wms_order_id AND o.status NOT IN (?,?))`,
			append(append([]any{orderHandedOver}, orderArgs...), domain.WOHandedOver, domain.WOShortClosed)...); err != nil {
			return fmt.Errorf("mark orders handed over: %w", err)
		}
		if _, err := outbox.Add(ctx, tx, ev(out)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	return out, err
}

// parcels reads boxes (b) with their work order (o) and order (h) by where.
func parcels(ctx context.Context, q sqltx.Querier, where string, args ...any) ([]domain.Parcel, error) {
	out, err := sqltx.Collect[domain.Parcel](q.QueryContext(ctx, `SELECT b.box_id, b.box_no, b.work_order_id, b.wms_order_id, h.delivery_order_id,
		h.order_id, b.carrier, b.waybill_no, COALESCE(b.weight_g, b.expected_weight_g), b.tracking
		FROM box_header b JOIN sales_order o ON o.work_order_id=b.work_order_id JOIN order_header h ON h.wms_order_id=b.wms_order_id
		WHERE `+where, args...))(func(r interface{ Scan(...any) error }) (domain.Parcel, error) {
		var p domain.Parcel
		err := r.Scan(&p.ParcelID, &p.BoxNo, &p.WorkOrderID, &p.WMSOrderID, &p.DeliveryOrderID, &p.OrderID, &p.Carrier, &p.WaybillNo, &p.WeightG, &p.Tracking)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read parcels: %w", err)
	}
	if err := parcelLines(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// parcelLines fills ps' contents (box_detail) and refused units
// (box_refusals), two queries for all of them.
func parcelLines(ctx context.Context, q sqltx.Querier, ps []domain.Parcel) error {
	if len(ps) == 0 {
		return nil
	}
	at := make(map[string]int, len(ps))
	args := make([]any, len(ps))
	for i, p := range ps {
		at[p.ParcelID], args[i] = i, p.ParcelID
	}
	for _, t := range []struct {
		table string
		set   func(p *domain.Parcel, l domain.ParcelLine)
	}{
		{"box_detail", func(p *domain.Parcel, l domain.ParcelLine) { p.Contents = append(p.Contents, l) }},
		{"box_refusals", func(p *domain.Parcel, l domain.ParcelLine) { p.Refused = append(p.Refused, l) }},
	} {
		rows, err := q.QueryContext(ctx, `SELECT box_id, sku, qty FROM `+t.table+` WHERE box_id IN (`+sqltx.Tuples("?", len(ps))+`) ORDER BY box_id, sku`, args...)
		if err != nil {
			return fmt.Errorf("read %s: %w", t.table, err)
		}
		for rows.Next() {
			var id string
			var l domain.ParcelLine
			if err := rows.Scan(&id, &l.SKU, &l.Qty); err != nil {
				rows.Close()
				return fmt.Errorf("read %s: %w", t.table, err)
			}
			t.set(&ps[at[id]], l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read %s: %w", t.table, err)
		}
	}
	return nil
}

// MarkImported records that TMS took a handover batch's parcels.
func (s *Store) MarkImported(ctx context.Context, batchID string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE handover_batches SET imported_at=? WHERE batch_id=? AND imported_at IS NULL`, now, batchID); err != nil {
		return fmt.Errorf("mark %s imported: %w", batchID, err)
	}
	return nil
}

// Track records a parcel's tracking state from TMS, moving only forward
// (COLLECTED, then DELIVERED or REFUSED: with the units refused, the
// courier's lines checked against the box or the whole box), and writes
// ev with the parcel when it changed. It reports whether it changed.
func (s *Store) Track(ctx context.Context, parcelID string, rep domain.ParcelReport, ev func(domain.Parcel) outbox.Event) (domain.Parcel, bool, error) {
	state, at := rep.State, rep.At
	var out domain.Parcel
	changed := false
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		changed = false
		ps, err := parcels(ctx, tx, `b.box_id=? FOR UPDATE`, parcelID)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("%w: parcel %s", domain.ErrNotFound, parcelID)
		}
		out = ps[0]
		if !domain.TrackingForward(out.Tracking, state) {
			return nil
		}
		if state == domain.ParcelRefused {
			refused, err := domain.RefusedUnits(out.Contents, rep.RefusedLines)
			if err != nil {
				return fmt.Errorf("parcel %s: %w", parcelID, err)
			}
			for _, l := range refused {
				if _, err := tx.ExecContext(ctx, `INSERT INTO box_refusals (box_id, sku, qty) VALUES (?,?,?)`, parcelID, l.SKU, l.Qty); err != nil {
					return fmt.Errorf("record refusal of %s: %w", parcelID, err)
				}
			}
			out.Refused = refused
		}
		if _, err := tx.ExecContext(ctx, `UPDATE box_header SET tracking=?, tracking_at=? WHERE box_id=?`, state, at, parcelID); err != nil {
			return fmt.Errorf("track %s: %w", parcelID, err)
		}
		out.Tracking, changed = state, true
		if _, err := outbox.Add(ctx, tx, ev(out)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	return out, changed, err
}

// ParcelsOfOrder returns every parcel WMS packed for an OMS order, over
// all its delivery orders, and how many of its work orders are not packed
// yet (parcels still to come).
func (s *Store) ParcelsOfOrder(ctx context.Context, orderID string) ([]domain.Parcel, int, error) {
	ps, err := parcels(ctx, s.db, `h.order_id=? ORDER BY b.box_id`, orderID)
	if err != nil {
		return nil, 0, err
	}
	var open int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sales_order o JOIN order_header h ON h.wms_order_id=o.wms_order_id
		WHERE h.order_id=? AND o.status NOT IN (?,?,?)`, orderID, domain.WOPacked, domain.WOHandedOver, domain.WOShortClosed).Scan(&open); err != nil {
		return nil, 0, fmt.Errorf("count open work orders of %s: %w", orderID, err)
	}
	var unsplit int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM order_header WHERE order_id=? AND status=?`, orderID, domain.OrderReceived).Scan(&unsplit); err != nil {
		return nil, 0, fmt.Errorf("count unsplit orders of %s: %w", orderID, err)
	}
	return ps, open + unsplit, nil
}

// HandoverBatches lists a warehouse's handover batches, newest first (of
// one carrier, or all), without their parcels.
func (s *Store) HandoverBatches(ctx context.Context, warehouse, carrier string, limit int) ([]domain.Handover, error) {
	q := `SELECT batch_id, carrier, parcels, created_at, imported_at FROM handover_batches WHERE warehouse=?`
	args := []any{warehouse}
	if carrier != "" {
		q += ` AND carrier=?`
		args = append(args, carrier)
	}
	args = append(args, limit)
	out, err := sqltx.Collect[domain.Handover](s.db.QueryContext(ctx, q+` ORDER BY batch_id DESC LIMIT ?`, args...))(
		func(r interface{ Scan(...any) error }) (domain.Handover, error) {
			h := domain.Handover{Warehouse: warehouse}
			var imported sql.NullTime
			err := r.Scan(&h.ID, &h.Carrier, &h.ParcelCount, &h.At, &imported)
			h.ImportedAt = imported.Time
			return h, err
		})
	if err != nil {
		return nil, fmt.Errorf("read handover batches of %s: %w", warehouse, err)
	}
	return out, nil
}

// HandoverBatch reads one batch with its parcels; another warehouse's is
// domain.ErrWrongWarehouse.
func (s *Store) HandoverBatch(ctx context.Context, warehouse, id string) (domain.Handover, error) {
	h := domain.Handover{ID: id}
	var imported sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT warehouse, carrier, parcels, created_at, imported_at FROM handover_batches WHERE batch_id=?`, id).
		Scan(&h.Warehouse, &h.Carrier, &h.ParcelCount, &h.At, &imported)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("%w: handover batch %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return h, fmt.Errorf("read handover batch %s: %w", id, err)
	}
	if h.Warehouse != warehouse {
		return domain.Handover{}, fmt.Errorf("%w: handover batch %s", domain.ErrWrongWarehouse, id)
	}
	h.ImportedAt = imported.Time
	h.Parcels, err = parcels(ctx, s.db, `b.handover_batch_id=? ORDER BY b.box_id`, id)
	return h, err
}
