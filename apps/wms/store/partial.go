package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Partial outbound (DOMAIN 7.2): QC confirm with differences, the second
// QC by work order, the shortage confirmation whose chain (domain.RunChain)
// commits inside this transaction, and RF put-away of what is not shipped.

// lockPickList locks a pick list of warehouse and returns its status.
func lockPickList(ctx context.Context, tx *sql.Tx, warehouse, id string) (domain.PickListStatus, error) {
	var wh string
	var status domain.PickListStatus
	err := tx.QueryRowContext(ctx, `SELECT warehouse, status FROM pick_lists WHERE pick_list_id=? FOR UPDATE`, id).Scan(&wh, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: pick list %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return "", fmt.Errorf("lock pick list %s: %w", id, err)
	}
	if wh != warehouse {
		return "", fmt.Errorf("%w: pick list %s", domain.ErrWrongWarehouse, id)
	}
	return status, nil
}

// ConfirmQC confirms QC on a PICKED pick list: every work order with a
// line checked short of what was picked becomes QC_SHORT, its physical
// shortage recorded per SKU (qc_shortages). It returns those work orders;
// the others are ready to pack. Idempotent: a repeat records nothing new.
func (s *Store) ConfirmQC(ctx context.Context, warehouse, pickListID string, now time.Time) ([]string, error) {
	var out []string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = nil
		status, err := lockPickList(ctx, tx, warehouse, pickListID)
		if err != nil {
			return err
		}
		if status != domain.PLPicked {
			return fmt.Errorf("%w: pick list %s is %s, not PICKED", domain.ErrState, pickListID, status)
		}
		type short struct {
			wo, sku string
			qty     int64
		}
		rows, err := sqltx.Collect[short](tx.QueryContext(ctx, `SELECT o.work_order_id, d.sku, d.picked_qty - d.qc_qty FROM sales_order o
			JOIN sales_detail d ON d.work_order_id=o.work_order_id
			WHERE o.pick_list_id=? AND o.status IN (?,?) AND d.qc_qty < d.picked_qty ORDER BY o.slot_no, d.line_no FOR UPDATE`,
			pickListID, domain.WOPicked, domain.WOQCShort))(func(r interface{ Scan(...any) error }) (short, error) {
			var x short
			err := r.Scan(&x.wo, &x.sku, &x.qty)
			return x, err
		})
		if err != nil {
			return fmt.Errorf("find differences on %s: %w", pickListID, err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO qc_shortages (work_order_id, sku, short_qty, created_at) VALUES (?,?,?,?)
				ON DUPLICATE KEY UPDATE short_qty=VALUES(short_qty)`, r.wo, r.sku, r.qty, now); err != nil {
				return fmt.Errorf("record shortage of %s: %w", r.sku, err)
			}
			if !seen[r.wo] {
				seen[r.wo] = true
				out = append(out, r.wo)
				if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, updated_at=? WHERE work_order_id=?`, domain.WOQCShort, now, r.wo); err != nil {
					return fmt.Errorf("mark %s short: %w", r.wo, err)
				}
			}
		}
		return nil
	})
	return out, err
}

// SecondQC checks qty units of sku again on a QC_SHORT work order (the
// checker entered its number at the container field); once every line is
// checked in full the work order is PICKED again, its shortage gone.
// Idempotent by (work order, key).
func (s *Store) SecondQC(ctx context.Context, warehouse, workOrderID, key, sku string, qty int64, now time.Time) (domain.WorkOrder, error) {
	var out domain.WorkOrder
	hash := domain.RequestHash([]any{"qc2", sku, qty})
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		w, err := workOrder(ctx, tx, workOrderID, true)
		if err != nil {
			return err
		}
		out = w
		if w.Warehouse != warehouse {
			return fmt.Errorf("%w: work order %s", domain.ErrWrongWarehouse, workOrderID)
		}
		var h string
		err = tx.QueryRowContext(ctx, `SELECT request_hash FROM rf_scans WHERE task_id=? AND idempotency_key=?`, workOrderID, key).Scan(&h)
		if err == nil {
			if h != hash {
				return fmt.Errorf("%w: QC scan key %s", domain.ErrKeyReused, key)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read QC scan %s: %w", key, err)
		}
		if w.Status != domain.WOQCShort {
			return fmt.Errorf("%w: work order %s is %s, not QC_SHORT", domain.ErrState, workOrderID, w.Status)
		}
		if qty <= 0 {
			return fmt.Errorf("%w: qty must be positive", domain.ErrValidation)
		}
		n, err := affected(tx.ExecContext(ctx, `UPDATE sales_detail SET qc_qty=qc_qty+? WHERE work_order_id=? AND sku=? AND picked_qty-qc_qty >= ?`,
			qty, workOrderID, sku, qty))
		if err != nil {
			return fmt.Errorf("check %s: %w", sku, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: work order %s does not still need %d of %s", domain.ErrValidation, workOrderID, qty, sku)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rf_scans (task_id, idempotency_key, request_hash, step_no, qty, created_at) VALUES (?,?,?,0,?,?)`,
			workOrderID, key, hash, qty, now); err != nil {
			return fmt.Errorf("record QC scan: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE qc_shortages SET short_qty=short_qty-? WHERE work_order_id=? AND sku=?`, qty, workOrderID, sku); err != nil {
			return fmt.Errorf("shrink shortage of %s: %w", sku, err)
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sales_detail WHERE work_order_id=? AND qc_qty < picked_qty`, workOrderID).Scan(&open); err != nil {
			return fmt.Errorf("count short lines of %s: %w", workOrderID, err)
		}
		if open == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM qc_shortages WHERE work_order_id=?`, workOrderID); err != nil {
				return fmt.Errorf("clear shortage of %s: %w", workOrderID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, updated_at=? WHERE work_order_id=?`, domain.WOPicked, now, workOrderID); err != nil {
				return fmt.Errorf("pass %s: %w", workOrderID, err)
			}
		}
		out, err = workOrder(ctx, tx, workOrderID, false)
		return err
	})
	return out, err
}

// ConfirmShortage confirms a QC_SHORT work order's shortage (报缺重检确认):
// it locks the work order, reads its picks, the items' store MOQs and the
// order's business type, and runs run — the business type's chain — whose
// commit step writes, in this same transaction: what each line ships, the
// loss records (and LOSS movements), the put-away tasks, the work order's
// new status (PICKED to pack what ships, or SHORT_CLOSED), and ev when
// customer service is to be told. Once per work order: the same key again
// returns the work order as it stands; another key, domain.ErrState.
func (s *Store) ConfirmShortage(ctx context.Context, warehouse, workOrderID, key, hash string,
	run func(bt domain.BusinessType, c *domain.ShortageCase) ([]string, error),
	ev func(w domain.WorkOrder, orderID string, o domain.ShortageOutcome) outbox.Event, reasons map[string]string, now time.Time) (domain.WorkOrder, domain.ShortageOutcome, error) {
	var out domain.WorkOrder
	var outcome domain.ShortageOutcome
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		w, err := workOrder(ctx, tx, workOrderID, true)
		if err != nil {
			return err
		}
		out, outcome = w, domain.ShortageOutcome{}
		if w.Warehouse != warehouse {
			return fmt.Errorf("%w: work order %s", domain.ErrWrongWarehouse, workOrderID)
		}
		var k, h string
		err = tx.QueryRowContext(ctx, `SELECT idempotency_key, request_hash FROM shortage_confirms WHERE work_order_id=?`, workOrderID).Scan(&k, &h)
		if err == nil {
			if k != key {
				return fmt.Errorf("%w: the shortage of %s is confirmed already", domain.ErrState, workOrderID)
			}
			if h != hash {
				return fmt.Errorf("%w: shortage key %s", domain.ErrKeyReused, key)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read shortage confirmation of %s: %w", workOrderID, err)
		}
		if w.Status != domain.WOQCShort {
			return fmt.Errorf("%w: work order %s is %s, not QC_SHORT", domain.ErrState, workOrderID, w.Status)
		}
		// The order's own business type, else its store customer's.
		var bt string
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(
			(SELECT profile_value FROM order_profiles WHERE wms_order_id=h.wms_order_id AND profile_key=?),
			(SELECT business_type FROM wms_store_customers WHERE customer_id=h.customer_id), '')
			FROM order_header h WHERE h.wms_order_id=?`, domain.ProfileBusinessType, w.WMSOrderID).Scan(&bt)
		if err != nil {
			return fmt.Errorf("read business type of %s: %w", w.WMSOrderID, err)
		}
		btype, err := domain.ParseBusinessType(bt)
		if err != nil {
			return err
		}
		ps, err := picks(ctx, tx, workOrderID)
		if err != nil {
			return err
		}
		skus := make([]string, len(w.Lines))
		for i, l := range w.Lines {
			skus[i] = l.SKU
		}
		its, err := items(ctx, tx, skus)
		if err != nil {
			return err
		}
		moq := map[string]int64{}
		for sku, it := range its {
			moq[sku] = it.StoreMOQ()
		}
		c := &domain.ShortageCase{WorkOrder: w, Picks: ps, MOQ: moq, Reasons: reasons}
		c.Commit = func(o domain.ShortageOutcome) error {
			return s.commitShortage(ctx, tx, w, btype, o, ev, now)
		}
		ran, err := run(btype, c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO shortage_confirms (work_order_id, idempotency_key, request_hash, business_type, steps, created_at)
			VALUES (?,?,?,?,?,?)`, workOrderID, key, hash, btype, truncate(strings.Join(ran, " > "), 512), now); err != nil {
			return fmt.Errorf("record shortage confirmation of %s: %w", workOrderID, err)
		}
		outcome = c.Out
		out, err = workOrder(ctx, tx, workOrderID, false)
		return err
	})
	return out, outcome, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// commitShortage writes a chain's outcome (its commit step).
func (s *Store) commitShortage(ctx context.Context, tx *sql.Tx, w domain.WorkOrder, bt domain.BusinessType, o domain.ShortageOutcome,
	ev func(w domain.WorkOrder, orderID string, o domain.ShortageOutcome) outbox.Event, now time.Time) error {
	for _, l := range o.Lines {
		if _, err := tx.ExecContext(ctx, `UPDATE sales_detail SET ship_qty=? WHERE work_order_id=? AND sku=?`, l.Ship, w.ID, l.SKU); err != nil {
			return fmt.Errorf("set what ships of %s: %w", l.SKU, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE qc_shortages SET confirmed=TRUE, reason=? WHERE work_order_id=? AND sku=?`, l.Reason, w.ID, l.SKU); err != nil {
			return fmt.Errorf("confirm shortage of %s: %w", l.SKU, err)
		}
	}
	for _, x := range o.Losses {
		id := ids.NewAt(now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO wms_loss (loss_id, warehouse, work_order_id, sku, bin_code, batch_no, qty, reason, with_tran, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, id, w.Warehouse, w.ID, x.SKU, x.Bin, x.Batch, x.Qty, x.Reason, x.WithTxn, now); err != nil {
			return fmt.Errorf("record loss of %s: %w", x.SKU, err)
		}
		// The units left their bin at picking; the loss writes them off at
		// the bench, logged against it.
		if x.WithTxn {
			if err := logMovement(ctx, tx, w.Warehouse, "BENCH", x.SKU, x.Batch, "LOSS", -x.Qty, id, now); err != nil {
				return err
			}
		}
	}
	for _, p := range o.PutAways {
		if _, err := tx.ExecContext(ctx, `INSERT INTO putaway_tasks (task_id, warehouse, work_order_id, bin_code, sku, batch_no, qty, status, created_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, ids.NewAt(now), w.Warehouse, w.ID, p.Bin, p.SKU, p.Batch, p.Qty, domain.TaskOpen, now); err != nil {
			return fmt.Errorf("create put-away of %s: %w", p.SKU, err)
		}
	}
	status := domain.WOPicked
	if o.Shipping() == 0 {
		status = domain.WOShortClosed
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, updated_at=? WHERE work_order_id=?`, status, now, w.ID); err != nil {
		return fmt.Errorf("settle %s: %w", w.ID, err)
	}
	if status == domain.WOShortClosed && w.PickListID != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE pick_lists p SET status=?, updated_at=? WHERE pick_list_id=? AND NOT EXISTS
			(SELECT 1 FROM sales_order o WHERE o.pick_list_id=p.pick_list_id AND o.status NOT IN (?,?))`, domain.PLPacked, now, w.PickListID,
			domain.WOPacked, domain.WOShortClosed); err != nil {
			return fmt.Errorf("finish pick list %s: %w", w.PickListID, err)
		}
	}
	if o.NotifyCS {
		w.Status = status
		var orderID string
		if err := tx.QueryRowContext(ctx, `SELECT order_id FROM order_header WHERE wms_order_id=?`, w.WMSOrderID).Scan(&orderID); err != nil {
			return fmt.Errorf("read order of %s: %w", w.WMSOrderID, err)
		}
		if _, err := outbox.Add(ctx, tx, ev(w, orderID, o)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
	}
	return nil
}

// PutAwayTasks lists a warehouse's put-away tasks in a status, oldest first.
func (s *Store) PutAwayTasks(ctx context.Context, warehouse string, status domain.TaskStatus, limit int) ([]domain.PutAwayTask, error) {
	out, err := sqltx.Collect[domain.PutAwayTask](s.db.QueryContext(ctx, `SELECT task_id, work_order_id, bin_code, sku, batch_no, qty, status, operator
		FROM putaway_tasks WHERE warehouse=? AND status=? ORDER BY task_id LIMIT ?`, warehouse, status, limit))(
		func(r interface{ Scan(...any) error }) (domain.PutAwayTask, error) {
			t := domain.PutAwayTask{Warehouse: warehouse}
			err := r.Scan(&t.ID, &t.WorkOrderID, &t.Bin, &t.SKU, &t.Batch, &t.Qty, &t.Status, &t.Operator)
			return t, err
		})
	if err != nil {
		return nil, fmt.Errorf("list put-away tasks: %w", err)
	}
	return out, nil
}

// ConfirmPutAway puts an OPEN put-away task's units back: the scanned bin
// must be the task's (a *domain.ScanError otherwise); the batch row's
// on-hand stock and ERP on-hand rise, a PUTAWAY movement is logged, the
// task is DONE and ev (built by the caller from the task) is written — one
// transaction. The same key again answers the task.
func (s *Store) ConfirmPutAway(ctx context.Context, warehouse, id, key, operator, bin string, ev func(domain.PutAwayTask) outbox.Event,
	now time.Time) (domain.PutAwayTask, error) {
	var t domain.PutAwayTask
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		t = domain.PutAwayTask{}
		var wh, k string
		err := tx.QueryRowContext(ctx, `SELECT task_id, warehouse, work_order_id, bin_code, sku, batch_no, qty, status, operator, idempotency_key
			FROM putaway_tasks WHERE task_id=? FOR UPDATE`, id).Scan(&t.ID, &wh, &t.WorkOrderID, &t.Bin, &t.SKU, &t.Batch, &t.Qty, &t.Status, &t.Operator, &k)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: put-away task %s", domain.ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("lock put-away task %s: %w", id, err)
		}
		t.Warehouse = wh
		switch {
		case wh != warehouse:
			return fmt.Errorf("%w: put-away task %s", domain.ErrWrongWarehouse, id)
		case t.Status == domain.TaskDone && k == key:
			return nil
		case t.Status == domain.TaskDone:
			return fmt.Errorf("%w: put-away task %s is done", domain.ErrState, id)
		case bin != t.Bin:
			return &domain.ScanError{Code: domain.ScanWrongBin, Expected: t.Bin, Got: bin}
		}
		n, err := affected(tx.ExecContext(ctx, `UPDATE wms_inv SET on_hand=on_hand+?, updated_at=? WHERE warehouse=? AND bin_code=? AND sku=? AND batch_no=?`,
			t.Qty, now, warehouse, t.Bin, t.SKU, t.Batch))
		if err != nil {
			return fmt.Errorf("put %s back into %s: %w", t.SKU, t.Bin, err)
		}
		if n != 1 {
			return fmt.Errorf("put %s back into %s: batch %s is not in the bin", t.SKU, t.Bin, t.Batch)
		}
		if err := logMovement(ctx, tx, warehouse, t.Bin, t.SKU, t.Batch, "PUTAWAY", t.Qty, t.WorkOrderID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE erp_stock SET on_hand=on_hand+?, updated_at=? WHERE warehouse=? AND sku=?`, t.Qty, now, warehouse, t.SKU); err != nil {
			return fmt.Errorf("raise ERP stock of %s: %w", t.SKU, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE putaway_tasks SET status=?, idempotency_key=?, operator=?, done_at=? WHERE task_id=?`,
			domain.TaskDone, key, operator, now, id); err != nil {
			return fmt.Errorf("finish put-away %s: %w", id, err)
		}
		t.Status, t.Operator = domain.TaskDone, operator
		if _, err := outbox.Add(ctx, tx, ev(t)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	return t, err
}

// PutStoreCustomer sets the business type of a retail-store customer's
// orders.
func (s *Store) PutStoreCustomer(ctx context.Context, customerID string, bt domain.BusinessType, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO wms_store_customers (customer_id, business_type, updated_at) VALUES (?,?,?)
		ON DUPLICATE KEY UPDATE business_type=VALUES(business_type), updated_at=VALUES(updated_at)`, customerID, bt, now); err != nil {
		return fmt.Errorf("put store customer %s: %w", customerID, err)
	}
	return nil
}
