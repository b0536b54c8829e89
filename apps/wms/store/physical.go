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

// Physical stock (DOMAIN 7.3): the item master, zones, bins, batch stock
// per bin, goods receipts and the transaction log.

// PutItem creates or replaces an item master row.
func (s *Store) PutItem(ctx context.Context, it domain.Item, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO wms_item (sku, name, temp_zone, handling, unit_weight_g, store_moq, updated_at) VALUES (?,?,?,?,?,?,?)
		ON DUPLICATE KEY UPDATE name=VALUES(name), temp_zone=VALUES(temp_zone), handling=VALUES(handling),
		unit_weight_g=VALUES(unit_weight_g), store_moq=VALUES(store_moq), updated_at=VALUES(updated_at)`,
		it.SKU(), it.Name(), it.Zone(), it.Handling(), it.UnitWeightG(), it.StoreMOQ(), now)
	if err != nil {
		return fmt.Errorf("put item %s: %w", it.SKU(), err)
	}
	return nil
}

// items reads the item master rows of skus.
func items(ctx context.Context, q sqltx.Querier, skus []string) (map[string]domain.Item, error) {
	out := map[string]domain.Item{}
	if len(skus) == 0 {
		return out, nil
	}
	args := make([]any, len(skus))
	for i, s := range skus {
		args[i] = s
	}
	rows, err := q.QueryContext(ctx, `SELECT sku, name, temp_zone, handling, unit_weight_g, store_moq FROM wms_item WHERE sku IN (`+
		sqltx.Tuples("?", len(skus))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sku, name, zone, handling string
		var w, moq int64
		if err := rows.Scan(&sku, &name, &zone, &handling, &w, &moq); err != nil {
			return nil, fmt.Errorf("read items: %w", err)
		}
		it, err := domain.NewItem(sku, name, zone, handling, w)
		if err == nil {
			it, err = it.WithStoreMOQ(moq)
		}
		if err != nil {
			return nil, fmt.Errorf("item %s as stored: %w", sku, err)
		}
		out[sku] = it
	}
	return out, rows.Err()
}

// Items returns the item master rows of skus (those that exist).
func (s *Store) Items(ctx context.Context, skus []string) (map[string]domain.Item, error) {
	return items(ctx, s.db, skus)
}

// PutZone creates a zone; an existing zone must keep its temperature and area.
func (s *Store) PutZone(ctx context.Context, z domain.Zone, now time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var temp, area string
		err := tx.QueryRowContext(ctx, `SELECT temp_zone, area FROM wms_zone WHERE warehouse=? AND zone_code=? FOR UPDATE`,
			z.Warehouse, z.Code).Scan(&temp, &area)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, `INSERT INTO wms_zone (warehouse, zone_code, temp_zone, area, created_at) VALUES (?,?,?,?,?)`,
				z.Warehouse, z.Code, z.Temp, z.Area, now)
			if err != nil {
				return fmt.Errorf("add zone %s/%s: %w", z.Warehouse, z.Code, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read zone %s/%s: %w", z.Warehouse, z.Code, err)
		}
		if temp != string(z.Temp) || area != string(z.Area) {
			return fmt.Errorf("%w: zone %s is %s/%s already", domain.ErrConflict, z.Code, temp, area)
		}
		return nil
	})
}

// PutBin creates a bin in an existing zone; an existing bin must stay in its zone.
func (s *Store) PutBin(ctx context.Context, warehouse, bin, zone string, now time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM wms_zone WHERE warehouse=? AND zone_code=?`, warehouse, zone).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: zone %s in %s", domain.ErrNotFound, zone, warehouse)
		}
		if err != nil {
			return fmt.Errorf("read zone %s: %w", zone, err)
		}
		var cur string
		err = tx.QueryRowContext(ctx, `SELECT zone_code FROM wms_bin WHERE warehouse=? AND bin_code=? FOR UPDATE`, warehouse, bin).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, `INSERT INTO wms_bin (warehouse, bin_code, zone_code, created_at) VALUES (?,?,?,?)`, warehouse, bin, zone, now)
			if err != nil {
				return fmt.Errorf("add bin %s: %w", bin, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read bin %s: %w", bin, err)
		}
		if cur != zone {
			return fmt.Errorf("%w: bin %s is in zone %s already", domain.ErrConflict, bin, cur)
		}
		return nil
	})
}

// ReceiveGoods records a goods receipt and puts it away into its bin:
// the bin's batch stock rises (a new batch row, or the same batch with the
// same dates), a RECEIPT movement is logged, ERP on-hand rises, and
// wms.stock.received (ev, built by the caller from the receipt) is
// written, all in one transaction; a receipt without a bin waits at the
// dock (PutAwayReceipt) and moves no stock yet. Either way it is counted
// against its purchase order line (ordered: the line's quantity at ERP),
// never above it
// (*domain.OverReceiptError). The same key again returns the first
// receipt; with other content, domain.ErrKeyReused.
func (s *Store) ReceiveGoods(ctx context.Context, r domain.Receipt, ordered int64, ev func(domain.Receipt) outbox.Event, now time.Time) (domain.Receipt, bool, error) {
	out, dup := r, false
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out, dup = r, false
		var id, hash string
		err := tx.QueryRowContext(ctx, `SELECT receipt_id, request_hash FROM stock_receipts WHERE warehouse=? AND idempotency_key=?`,
			r.Warehouse, r.IdempotencyKey).Scan(&id, &hash)
		if err == nil {
			if hash != r.Hash() {
				return fmt.Errorf("%w: receipt key %s", domain.ErrKeyReused, r.IdempotencyKey)
			}
			out.ID, dup = id, true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read receipt %s: %w", r.IdempotencyKey, err)
		}
		if r.Bin != "" {
			if err := checkBin(ctx, tx, r.Warehouse, r.Bin, r.SKU); err != nil {
				return err
			}
		}
		if err := countAgainstPO(ctx, tx, r, ordered, now); err != nil {
			return err
		}
		putAway := int64(0)
		if r.Bin != "" {
			putAway = r.Qty
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_receipts (receipt_id, warehouse, idempotency_key, request_hash, purchase_order,
			bin_code, sku, batch_no, production_date, expiry_date, qty, put_away, operator, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			r.ID, r.Warehouse, r.IdempotencyKey, r.Hash(), r.PurchaseOrder, r.Bin, r.SKU, r.Batch, r.Production, r.Expiry, r.Qty, putAway,
			r.Operator, now); err != nil {
			return fmt.Errorf("record receipt %s: %w", r.IdempotencyKey, err)
		}
		if r.Bin == "" { // at the dock: in no bin yet, nothing to allocate or sell
			return nil
		}
		if err := intoBin(ctx, tx, r, r.Bin, r.Qty, r.ID, now); err != nil {
			return err
		}
		if _, err := outbox.Add(ctx, tx, ev(r)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	return out, dup, err
}

// checkBin checks that bin exists in warehouse and is of the temperature
// zone the item master stores sku in.
func checkBin(ctx context.Context, tx *sql.Tx, warehouse, bin, sku string) error {
	var temp string
	err := tx.QueryRowContext(ctx, `SELECT z.temp_zone FROM wms_bin b JOIN wms_zone z ON z.warehouse=b.warehouse AND z.zone_code=b.zone_code
		WHERE b.warehouse=? AND b.bin_code=?`, warehouse, bin).Scan(&temp)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: bin %s in %s", domain.ErrNotFound, bin, warehouse)
	}
	if err != nil {
		return fmt.Errorf("read bin %s: %w", bin, err)
	}
	its, err := items(ctx, tx, []string{sku})
	if err != nil {
		return err
	}
	if it, ok := its[sku]; ok && string(it.Zone()) != temp {
		return fmt.Errorf("%w: %s is stored %s, bin %s is %s", domain.ErrValidation, sku, it.Zone(), bin, temp)
	}
	return nil
}

// intoBin puts qty of r's batch into bin: the bin's batch row rises (a new
// row, or the same batch with the same dates), a RECEIPT movement (ref:
// the receipt or put-away) is logged and ERP on-hand rises.
func intoBin(ctx context.Context, tx *sql.Tx, r domain.Receipt, bin string, qty int64, ref string, now time.Time) error {
	var prod, exp time.Time
	err := tx.QueryRowContext(ctx, `SELECT production_date, expiry_date FROM wms_inv WHERE warehouse=? AND bin_code=? AND sku=? AND batch_no=? FOR UPDATE`,
		r.Warehouse, bin, r.SKU, r.Batch).Scan(&prod, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO wms_inv (warehouse, bin_code, sku, batch_no, production_date, expiry_date, on_hand, occupied, updated_at)
			VALUES (?,?,?,?,?,?,?,0,?)`, r.Warehouse, bin, r.SKU, r.Batch, r.Production, r.Expiry, qty, now)
	case err != nil:
	case !prod.Equal(r.Production) || !exp.Equal(r.Expiry):
		return fmt.Errorf("%w: batch %s of %s in %s has production %s and expiry %s", domain.ErrConflict, r.Batch, r.SKU, bin,
			prod.Format(time.DateOnly), exp.Format(time.DateOnly))
	default:
		_, err = tx.ExecContext(ctx, `UPDATE wms_inv SET on_hand=on_hand+?, updated_at=? WHERE warehouse=? AND bin_code=? AND sku=? AND batch_no=?`,
			qty, now, r.Warehouse, bin, r.SKU, r.Batch)
	}
	if err != nil {
		return fmt.Errorf("put away %s into %s: %w", r.SKU, bin, err)
	}
	if err := logMovement(ctx, tx, r.Warehouse, bin, r.SKU, r.Batch, "RECEIPT", qty, ref, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO erp_stock (warehouse, sku, on_hand, occupied, updated_at) VALUES (?,?,?,0,?)
		ON DUPLICATE KEY UPDATE on_hand=on_hand+VALUES(on_hand), updated_at=VALUES(updated_at)`, r.Warehouse, r.SKU, qty, now); err != nil {
		return fmt.Errorf("raise ERP stock of %s: %w", r.SKU, err)
	}
	return nil
}

// PutAwayReceipt puts qty of a receipt waiting at the dock into bin: the
// bin's stock, the movement log and ERP on-hand rise, the receipt's
// put_away rises (never above its quantity: domain.ErrState otherwise),
// and ev (built by the caller from the put-away) is written, in one
// transaction under the receipt's row lock. The same key again answers
// the first put-away; with other content, domain.ErrKeyReused.
func (s *Store) PutAwayReceipt(ctx context.Context, p domain.ReceiptPutAway, ev func(domain.ReceiptPutAway, domain.Receipt) outbox.Event,
	now time.Time) (domain.Receipt, bool, error) {
	var r domain.Receipt
	dup := false
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		dup = false
		var wh, bin string
		var prod, exp sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT receipt_id, warehouse, purchase_order, bin_code, sku, batch_no, production_date, expiry_date, qty,
			put_away, operator, created_at FROM stock_receipts WHERE receipt_id=? FOR UPDATE`, p.ReceiptID).
			Scan(&r.ID, &wh, &r.PurchaseOrder, &bin, &r.SKU, &r.Batch, &prod, &exp, &r.Qty, &r.PutAway, &r.Operator, &r.At)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: receipt %s", domain.ErrNotFound, p.ReceiptID)
		}
		if err != nil {
			return fmt.Errorf("lock receipt %s: %w", p.ReceiptID, err)
		}
		r.Warehouse, r.Bin, r.Production, r.Expiry = wh, bin, prod.Time, exp.Time
		if wh != p.Warehouse {
			return fmt.Errorf("%w: receipt %s", domain.ErrWrongWarehouse, p.ReceiptID)
		}
		var h string
		err = tx.QueryRowContext(ctx, `SELECT request_hash FROM receipt_putaways WHERE warehouse=? AND idempotency_key=?`, wh, p.IdempotencyKey).Scan(&h)
		if err == nil {
			if h != p.Hash() {
				return fmt.Errorf("%w: put-away key %s", domain.ErrKeyReused, p.IdempotencyKey)
			}
			dup = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read put-away %s: %w", p.IdempotencyKey, err)
		}
		if left := r.AtDock(); p.Qty > left {
			return fmt.Errorf("%w: receipt %s has %d at the dock, not %d", domain.ErrState, r.ID, left, p.Qty)
		}
		if err := checkBin(ctx, tx, wh, p.Bin, r.SKU); err != nil {
			return err
		}
		if err := intoBin(ctx, tx, r, p.Bin, p.Qty, p.ID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stock_receipts SET put_away=put_away+? WHERE receipt_id=?`, p.Qty, r.ID); err != nil {
			return fmt.Errorf("count put-away of %s: %w", r.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipt_putaways (putaway_id, receipt_id, warehouse, idempotency_key, request_hash, bin_code,
			qty, operator, created_at) VALUES (?,?,?,?,?,?,?,?,?)`, p.ID, r.ID, wh, p.IdempotencyKey, p.Hash(), p.Bin, p.Qty, p.Operator, now); err != nil {
			return fmt.Errorf("record put-away %s: %w", p.IdempotencyKey, err)
		}
		r.PutAway += p.Qty
		if _, err := outbox.Add(ctx, tx, ev(p, r)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	return r, dup, err
}

// countAgainstPO adds r to what its purchase order line received, by a
// conditional UPDATE: receipts racing for a line's last units serialize on
// its row and the one that would go above ordered fails.
func countAgainstPO(ctx context.Context, tx *sql.Tx, r domain.Receipt, ordered int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO purchase_order_lines (warehouse, po_id, sku, ordered, received, updated_at)
		VALUES (?,?,?,?,0,?)`, r.Warehouse, r.PurchaseOrder, r.SKU, ordered, now); err != nil {
		return fmt.Errorf("record purchase order line %s/%s: %w", r.PurchaseOrder, r.SKU, err)
	}
	n, err := affected(tx.ExecContext(ctx, `UPDATE purchase_order_lines SET received=received+?, updated_at=?
		WHERE warehouse=? AND po_id=? AND sku=? AND received+? <= ordered`, r.Qty, now, r.Warehouse, r.PurchaseOrder, r.SKU, r.Qty))
	if err != nil {
		return fmt.Errorf("count receipt against %s/%s: %w", r.PurchaseOrder, r.SKU, err)
	}
	if n == 1 {
		return nil
	}
	e := &domain.OverReceiptError{PO: r.PurchaseOrder, SKU: r.SKU, Qty: r.Qty}
	if err := tx.QueryRowContext(ctx, `SELECT ordered, received FROM purchase_order_lines WHERE warehouse=? AND po_id=? AND sku=?`,
		r.Warehouse, r.PurchaseOrder, r.SKU).Scan(&e.Ordered, &e.Received); err != nil {
		return fmt.Errorf("read purchase order line %s/%s: %w", r.PurchaseOrder, r.SKU, err)
	}
	return e
}

// POLines returns what the warehouse received of a purchase order's lines.
func (s *Store) POLines(ctx context.Context, warehouse, po string) ([]domain.POLine, error) {
	out, err := sqltx.Collect[domain.POLine](s.db.QueryContext(ctx, `SELECT sku, ordered, received FROM purchase_order_lines
		WHERE warehouse=? AND po_id=? ORDER BY sku`, warehouse, po))(func(r interface{ Scan(...any) error }) (domain.POLine, error) {
		var l domain.POLine
		err := r.Scan(&l.SKU, &l.Ordered, &l.Received)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("read lines of %s: %w", po, err)
	}
	return out, nil
}

// Receipts lists a warehouse's goods receipts, newest first, of one
// purchase order or all.
func (s *Store) Receipts(ctx context.Context, warehouse, po string, limit int) ([]domain.Receipt, error) {
	// Receipts recorded before their rows kept the batch's dates read
	// them from the bin's batch row.
	q := `SELECT r.receipt_id, r.purchase_order, r.bin_code, r.sku, r.batch_no,
		COALESCE(r.production_date, i.production_date, DATE(r.created_at)), COALESCE(r.expiry_date, i.expiry_date, DATE(r.created_at)),
		r.qty, r.put_away, r.operator, r.created_at FROM stock_receipts r LEFT JOIN wms_inv i ON i.warehouse=r.warehouse AND i.bin_code=r.bin_code
		AND i.sku=r.sku AND i.batch_no=r.batch_no WHERE r.warehouse=?`
	args := []any{warehouse}
	if po != "" {
		q += ` AND r.purchase_order=?`
		args = append(args, po)
	}
	args = append(args, limit)
	out, err := sqltx.Collect[domain.Receipt](s.db.QueryContext(ctx, q+` ORDER BY r.created_at DESC, receipt_id DESC LIMIT ?`, args...))(
		func(r interface{ Scan(...any) error }) (domain.Receipt, error) {
			x := domain.Receipt{Warehouse: warehouse}
			err := r.Scan(&x.ID, &x.PurchaseOrder, &x.Bin, &x.SKU, &x.Batch, &x.Production, &x.Expiry, &x.Qty, &x.PutAway, &x.Operator, &x.At)
			return x, err
		})
	if err != nil {
		return nil, fmt.Errorf("read receipts of %s: %w", warehouse, err)
	}
	return out, nil
}

// logMovement writes one inv_tran row.
func logMovement(ctx context.Context, tx *sql.Tx, warehouse, bin, sku, batch, kind string, qty int64, ref string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO inv_tran (tran_id, warehouse, bin_code, sku, batch_no, kind, qty, ref, created_at)
		VALUES (?,?,?,?,?,?,?,?,?)`, ids.NewAt(now), warehouse, bin, sku, batch, kind, qty, ref, now); err != nil {
		return fmt.Errorf("log %s of %s in %s: %w", kind, sku, bin, err)
	}
	return nil
}

// BinStock lists a warehouse's batch stock as f selects it, by bin, SKU
// and expiry.
func (s *Store) BinStock(ctx context.Context, warehouse string, f domain.StockFilter) ([]domain.BinStock, error) {
	q := `SELECT i.inv_id, i.bin_code, z.area, z.temp_zone, i.sku, i.batch_no, i.production_date, i.expiry_date, i.on_hand, i.occupied
		FROM wms_inv i JOIN wms_bin b ON b.warehouse=i.warehouse AND b.bin_code=i.bin_code
		JOIN wms_zone z ON z.warehouse=b.warehouse AND z.zone_code=b.zone_code WHERE i.warehouse=?`
	args := []any{warehouse}
	for _, c := range []struct{ col, v string }{{"i.sku", f.SKU}, {"i.bin_code", f.Bin}, {"i.batch_no", f.Batch}} {
		if c.v != "" {
			q += ` AND ` + c.col + `=?`
			args = append(args, c.v)
		}
	}
	if !f.ExpiringBefore.IsZero() {
		q += ` AND i.expiry_date < ?`
		args = append(args, f.ExpiringBefore)
	}
	out, err := sqltx.Collect[domain.BinStock](s.db.QueryContext(ctx, q+` ORDER BY i.bin_code, i.sku, i.expiry_date LIMIT 1000`, args...))(
		func(r interface{ Scan(...any) error }) (domain.BinStock, error) {
			b := domain.BinStock{Warehouse: warehouse}
			err := r.Scan(&b.InvID, &b.Bin, &b.Area, &b.Zone, &b.SKU, &b.Batch, &b.Production, &b.Expiry, &b.OnHand, &b.Occupied)
			return b, err
		})
	if err != nil {
		return nil, fmt.Errorf("read bin stock of %s: %w", warehouse, err)
	}
	return out, nil
}

// Movements lists a warehouse's stock movements, newest first.
func (s *Store) Movements(ctx context.Context, warehouse, sku string, limit int) ([]domain.Movement, error) {
	q := `SELECT tran_id, bin_code, sku, batch_no, kind, qty, ref, created_at, uploaded_at IS NOT NULL FROM inv_tran WHERE warehouse=?`
	args := []any{warehouse}
	if sku != "" {
		q += ` AND sku=?`
		args = append(args, sku)
	}
	args = append(args, limit)
	out, err := sqltx.Collect[domain.Movement](s.db.QueryContext(ctx, q+` ORDER BY tran_id DESC LIMIT ?`, args...))(
		func(r interface{ Scan(...any) error }) (domain.Movement, error) {
			m := domain.Movement{Warehouse: warehouse}
			err := r.Scan(&m.ID, &m.Bin, &m.SKU, &m.Batch, &m.Kind, &m.Qty, &m.Ref, &m.At, &m.Uploaded)
			return m, err
		})
	if err != nil {
		return nil, fmt.Errorf("read movements of %s: %w", warehouse, err)
	}
	return out, nil
}

// PendingMovements returns up to limit movements not yet uploaded to
// ERP, oldest first.
func (s *Store) PendingMovements(ctx context.Context, limit int) ([]domain.Movement, error) {
	out, err := sqltx.Collect[domain.Movement](s.db.QueryContext(ctx, `SELECT tran_id, warehouse, bin_code, sku, batch_no, kind, qty, ref, created_at
		FROM inv_tran WHERE uploaded_at IS NULL ORDER BY tran_id LIMIT ?`, limit))(func(r interface{ Scan(...any) error }) (domain.Movement, error) {
		var m domain.Movement
		err := r.Scan(&m.ID, &m.Warehouse, &m.Bin, &m.SKU, &m.Batch, &m.Kind, &m.Qty, &m.Ref, &m.At)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read movements to upload: %w", err)
	}
	return out, nil
}

// MarkUploaded records that ERP booked the movements.
func (s *Store) MarkUploaded(ctx context.Context, idList []string, now time.Time) error {
	if len(idList) == 0 {
		return nil
	}
	args := []any{now}
	for _, id := range idList {
		args = append(args, id)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE inv_tran SET uploaded_at=? WHERE uploaded_at IS NULL AND tran_id IN (`+sqltx.Tuples("?", len(idList))+`)`, args...); err != nil {
		return fmt.Errorf("mark %d movements uploaded: %w", len(idList), err)
	}
	return nil
}
