package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Outbound (DOMAIN 7.1 steps 2-3): the split into work orders and the
// allocation of bin stock, each a transaction started by a message.

// Order statuses WMS moves a received order through after the split.
const (
	orderSplit      = "SPLIT"
	orderHandedOver = "HANDED_OVER"
)

// Split splits a received order into work orders (split decides them) and
// writes one wms.workorder.created event per work order (evs), claiming
// msgID for the splitter in the same transaction: a redelivery, or an
// order split already, changes nothing. It returns the work orders made
// (none for a repeat).
func (s *Store) Split(ctx context.Context, msgID, wmsOrderID string, split func(domain.Order, map[string]domain.Item) ([]domain.WorkOrder, error),
	evs func([]domain.WorkOrder) []outbox.Event, now time.Time) ([]domain.WorkOrder, error) {
	var out []domain.WorkOrder
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = nil
		fresh, err := inbox.Claim(ctx, tx, "wms.split", msgID)
		if err != nil || !fresh {
			return err
		}
		var status string
		err = tx.QueryRowContext(ctx, `SELECT status FROM order_header WHERE wms_order_id=? FOR UPDATE`, wmsOrderID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: order %s", domain.ErrNotFound, wmsOrderID)
		}
		if err != nil {
			return fmt.Errorf("lock order %s: %w", wmsOrderID, err)
		}
		if status != string(domain.OrderReceived) {
			return nil // split before, under another message id
		}
		o, err := s.Order(ctx, wmsOrderID)
		if err != nil {
			return err
		}
		skus := make([]string, len(o.Lines))
		for i, l := range o.Lines {
			skus[i] = l.SKU
		}
		its, err := items(ctx, tx, skus)
		if err != nil {
			return err
		}
		wos, err := split(o, its)
		if err != nil {
			return err
		}
		var head, detail []any
		nDetail := 0
		for _, w := range wos {
			head = append(head, w.ID, w.WMSOrderID, w.Warehouse, w.Carrier, w.Zone, w.Handling, w.Seq, w.Status, now, now)
			for _, l := range w.Lines {
				detail = append(detail, w.ID, l.LineNo, l.SKU, l.Name, l.Qty)
				nDetail++
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sales_order (work_order_id, wms_order_id, warehouse, carrier, temp_zone, handling, seq,
			status, created_at, updated_at) VALUES `+sqltx.Tuples("(?,?,?,?,?,?,?,?,?,?)", len(wos)), head...); err != nil {
			return fmt.Errorf("insert sales_order of %s: %w", wmsOrderID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sales_detail (work_order_id, line_no, sku, name, qty) VALUES `+
			sqltx.Tuples("(?,?,?,?,?)", nDetail), detail...); err != nil {
			return fmt.Errorf("insert sales_detail of %s: %w", wmsOrderID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_header SET status=? WHERE wms_order_id=?`, orderSplit, wmsOrderID); err != nil {
			return fmt.Errorf("mark %s split: %w", wmsOrderID, err)
		}
		if _, err := outbox.Add(ctx, tx, evs(wos)...); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		out = wos
		return nil
	})
	return out, err
}

// workOrder reads a work order with its lines; lock takes it FOR UPDATE.
func workOrder(ctx context.Context, tx interface {
	sqltx.Querier
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, id string, lock bool) (domain.WorkOrder, error) {
	q := `SELECT work_order_id, wms_order_id, warehouse, carrier, temp_zone, handling, seq, status, reason,
		COALESCE(pick_list_id, ''), COALESCE(slot_no, 0) FROM sales_order WHERE work_order_id=?`
	if lock {
		q += ` FOR UPDATE`
	}
	var w domain.WorkOrder
	err := tx.QueryRowContext(ctx, q, id).Scan(&w.ID, &w.WMSOrderID, &w.Warehouse, &w.Carrier, &w.Zone, &w.Handling, &w.Seq, &w.Status,
		&w.Reason, &w.PickListID, &w.SlotNo)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("%w: work order %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return w, fmt.Errorf("read work order %s: %w", id, err)
	}
	w.Lines, err = sqltx.Collect[domain.WorkLine](tx.QueryContext(ctx, `SELECT line_no, sku, name, qty, picked_qty, qc_qty, COALESCE(ship_qty, -1)
		FROM sales_detail WHERE work_order_id=? ORDER BY line_no`, id))(func(r interface{ Scan(...any) error }) (domain.WorkLine, error) {
		var l domain.WorkLine
		err := r.Scan(&l.LineNo, &l.SKU, &l.Name, &l.Qty, &l.Picked, &l.QCed, &l.Ship)
		if l.Partial = l.Ship >= 0; !l.Partial {
			l.Ship = 0
		}
		return l, err
	})
	if err != nil {
		return w, fmt.Errorf("read lines of %s: %w", id, err)
	}
	return w, nil
}

// WorkOrder returns a work order with its lines.
func (s *Store) WorkOrder(ctx context.Context, id string) (domain.WorkOrder, error) {
	return workOrder(ctx, s.db, id, false)
}

// Picks returns what allocation took for a work order.
func (s *Store) Picks(ctx context.Context, id string) ([]domain.Pick, error) {
	return picks(ctx, s.db, id)
}

func picks(ctx context.Context, q sqltx.Querier, id string) ([]domain.Pick, error) {
	out, err := sqltx.Collect[domain.Pick](q.QueryContext(ctx, `SELECT pick_no, inv_id, bin_code, sku, batch_no, qty, picked_qty FROM work_order_picks
		WHERE work_order_id=? ORDER BY pick_no`, id))(func(r interface{ Scan(...any) error }) (domain.Pick, error) {
		var p domain.Pick
		err := r.Scan(&p.PickNo, &p.InvID, &p.Bin, &p.SKU, &p.Batch, &p.Qty, &p.Picked)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read picks of %s: %w", id, err)
	}
	return out, nil
}

// WorkOrders lists a warehouse's work orders in a status, oldest first,
// after the cursor id (keyset).
func (s *Store) WorkOrders(ctx context.Context, warehouse string, status domain.WorkOrderStatus, after string, limit int) ([]domain.WorkOrder, error) {
	idList, err := sqltx.Strings(ctx, s.db, `SELECT work_order_id FROM sales_order WHERE warehouse=? AND status=? AND work_order_id > ?
		ORDER BY work_order_id LIMIT ?`, warehouse, status, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list work orders: %w", err)
	}
	out := make([]domain.WorkOrder, 0, len(idList))
	for _, id := range idList {
		w, err := s.WorkOrder(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// WorkOrdersOf lists the work orders of a received order.
func (s *Store) WorkOrdersOf(ctx context.Context, wmsOrderID string) ([]domain.WorkOrder, error) {
	idList, err := sqltx.Strings(ctx, s.db, `SELECT work_order_id FROM sales_order WHERE wms_order_id=? ORDER BY seq`, wmsOrderID)
	if err != nil {
		return nil, fmt.Errorf("list work orders of %s: %w", wmsOrderID, err)
	}
	out := make([]domain.WorkOrder, 0, len(idList))
	for _, id := range idList {
		w, err := s.WorkOrder(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// Allocate occupies bin stock for a work order in ALLOCATING or
// WAITING_STOCK (any other status: it is returned as it stands). The
// candidate rows are locked in inv_id order, so concurrent allocations
// queue instead of deadlocking; plan (domain.Allocate) decides on the
// locked figures, and every occupation is a conditional UPDATE checked by
// rows affected. A shortage leaves the work order WAITING_STOCK with its
// reason and occupies nothing. ev is written when the status changes.
func (s *Store) Allocate(ctx context.Context, id string, ev func(domain.WorkOrder) outbox.Event, now time.Time) (domain.WorkOrder, error) {
	var out domain.WorkOrder
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		w, err := workOrder(ctx, tx, id, true)
		if err != nil {
			return err
		}
		out = w
		if w.Status != domain.WOAllocating && w.Status != domain.WOWaitingStock {
			return nil
		}
		cands, err := lockCandidates(ctx, tx, w)
		if err != nil {
			return err
		}
		ps, short := domain.Allocate(w, cands)
		before := w.Status
		if len(short) > 0 {
			w.Status, w.Reason = domain.WOWaitingStock, domain.ShortReason(short)
			if before == domain.WOWaitingStock && w.Reason == out.Reason {
				return nil // still waiting, for the same reason
			}
		} else {
			var rows []any
			for _, p := range ps {
				n, err := affected(tx.ExecContext(ctx, `UPDATE wms_inv SET occupied=occupied+?, updated_at=? WHERE inv_id=? AND on_hand-occupied >= ?`,
					p.Qty, now, p.InvID, p.Qty))
				if err != nil {
					return fmt.Errorf("occupy %s in %s: %w", p.SKU, p.Bin, err)
				}
				if n != 1 {
					return fmt.Errorf("occupy %s in %s: the locked row no longer holds %d free", p.SKU, p.Bin, p.Qty)
				}
				rows = append(rows, w.ID, p.PickNo, p.InvID, p.Bin, p.SKU, p.Batch, p.Qty)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO work_order_picks (work_order_id, pick_no, inv_id, bin_code, sku, batch_no, qty) VALUES `+
				sqltx.Tuples("(?,?,?,?,?,?,?)", len(ps)), rows...); err != nil {
				return fmt.Errorf("record picks of %s: %w", w.ID, err)
			}
			w.Status, w.Reason = domain.WOAllocated, ""
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, reason=?, updated_at=? WHERE work_order_id=?`,
			w.Status, w.Reason, now, w.ID); err != nil {
			return fmt.Errorf("update work order %s: %w", w.ID, err)
		}
		if _, err := outbox.Add(ctx, tx, ev(w)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		out = w
		return nil
	})
	return out, err
}

// lockCandidates reads the batch rows with free stock of w's SKUs in its
// warehouse, with their areas, and locks them (FOR UPDATE on wms_inv
// alone: locking the join would lock zone rows every allocation shares).
func lockCandidates(ctx context.Context, tx *sql.Tx, w domain.WorkOrder) ([]domain.BinStock, error) {
	args := []any{w.Warehouse}
	for _, l := range w.Lines {
		args = append(args, l.SKU)
	}
	type meta struct {
		area domain.Area
		zone domain.TempZone
	}
	byID := map[int64]meta{}
	rows, err := tx.QueryContext(ctx, `SELECT i.inv_id, z.area, z.temp_zone FROM wms_inv i
		JOIN wms_bin b ON b.warehouse=i.warehouse AND b.bin_code=i.bin_code
		JOIN wms_zone z ON z.warehouse=b.warehouse AND z.zone_code=b.zone_code
		WHERE i.warehouse=? AND i.sku IN (`+sqltx.Tuples("?", len(w.Lines))+`) AND i.on_hand > i.occupied`, args...)
	if err != nil {
		return nil, fmt.Errorf("find stock for %s: %w", w.ID, err)
	}
	for rows.Next() {
		var id int64
		var m meta
		if err := rows.Scan(&id, &m.area, &m.zone); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find stock for %s: %w", w.ID, err)
		}
		byID[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find stock for %s: %w", w.ID, err)
	}
	if len(byID) == 0 {
		return nil, nil
	}
	idArgs := make([]any, 0, len(byID))
	for id := range byID {
		idArgs = append(idArgs, id)
	}
	sort.Slice(idArgs, func(i, j int) bool { return idArgs[i].(int64) < idArgs[j].(int64) })
	out, err := sqltx.Collect[domain.BinStock](tx.QueryContext(ctx, `SELECT inv_id, bin_code, sku, batch_no, production_date, expiry_date, on_hand, occupied
		FROM wms_inv WHERE inv_id IN (`+sqltx.Tuples("?", len(idArgs))+`) ORDER BY inv_id FOR UPDATE`, idArgs...))(
		func(r interface{ Scan(...any) error }) (domain.BinStock, error) {
			b := domain.BinStock{Warehouse: w.Warehouse}
			err := r.Scan(&b.InvID, &b.Bin, &b.SKU, &b.Batch, &b.Production, &b.Expiry, &b.OnHand, &b.Occupied)
			m := byID[b.InvID]
			b.Area, b.Zone = m.area, m.zone
			return b, err
		})
	if err != nil {
		return nil, fmt.Errorf("lock stock for %s: %w", w.ID, err)
	}
	return out, nil
}

// Waiting lists the work orders of a warehouse waiting for stock of sku,
// oldest first: those a receipt of it may release.
func (s *Store) Waiting(ctx context.Context, warehouse, sku string, limit int) ([]string, error) {
	out, err := sqltx.Strings(ctx, s.db, `SELECT DISTINCT o.work_order_id FROM sales_order o JOIN sales_detail d ON d.work_order_id=o.work_order_id
		WHERE o.warehouse=? AND o.status=? AND d.sku=? ORDER BY o.work_order_id LIMIT ?`, warehouse, domain.WOWaitingStock, sku, limit)
	if err != nil {
		return nil, fmt.Errorf("list waiting work orders of %s: %w", sku, err)
	}
	return out, nil
}
