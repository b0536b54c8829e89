package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Pick lists and RF picking (DOMAIN 7.1 steps 4-5).

// CreatePickList locks the work orders (in id order), lets plan build the
// pick list from them and their picks, and writes the list, its tasks and
// steps, the work orders' slots, and ev, in one transaction. The same
// (warehouse, key) again returns the first list; with other work orders,
// domain.ErrKeyReused.
func (s *Store) CreatePickList(ctx context.Context, warehouse, key, hash, operator string, woIDs []string,
	plan func([]domain.WorkOrder, map[string][]domain.Pick) (domain.PickList, error), ev func(domain.PickList) outbox.Event, now time.Time) (string, error) {
	var out string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var h string
		err := tx.QueryRowContext(ctx, `SELECT pick_list_id, request_hash FROM pick_lists WHERE warehouse=? AND idempotency_key=?`,
			warehouse, key).Scan(&out, &h)
		if err == nil {
			if h != hash {
				return fmt.Errorf("%w: pick list key %s", domain.ErrKeyReused, key)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read pick list %s: %w", key, err)
		}
		sorted := append([]string(nil), woIDs...)
		sort.Strings(sorted)
		byID := map[string]domain.WorkOrder{}
		ps := map[string][]domain.Pick{}
		for _, id := range sorted {
			if _, ok := byID[id]; ok {
				continue
			}
			w, err := workOrder(ctx, tx, id, true)
			if err != nil {
				return err
			}
			byID[id] = w
			if ps[id], err = picks(ctx, tx, id); err != nil {
				return err
			}
		}
		wos := make([]domain.WorkOrder, len(woIDs))
		for i, id := range woIDs {
			wos[i] = byID[id]
		}
		pl, err := plan(wos, ps)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pick_lists (pick_list_id, warehouse, carrier, status, idempotency_key, request_hash,
			created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)`, pl.ID, warehouse, pl.Carrier, pl.Status, key, hash, operator, now, now); err != nil {
			return fmt.Errorf("insert pick list: %w", err)
		}
		var tasks, steps []any
		nSteps := 0
		for _, t := range pl.Tasks {
			tasks = append(tasks, t.ID, pl.ID, warehouse, t.Zone, t.Status)
			for _, st := range t.Steps {
				steps = append(steps, t.ID, st.StepNo, st.WorkOrderID, st.PickNo, st.Slot, st.InvID, st.Bin, st.SKU, st.Batch, st.Qty)
				nSteps++
			}
		}
		if len(pl.Tasks) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pick_tasks (task_id, pick_list_id, warehouse, temp_zone, status) VALUES `+
				sqltx.Tuples("(?,?,?,?,?)", len(pl.Tasks)), tasks...); err != nil {
				return fmt.Errorf("insert pick tasks: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO pick_steps (task_id, step_no, work_order_id, pick_no, slot_no, inv_id, bin_code, sku,
				batch_no, qty) VALUES `+sqltx.Tuples("(?,?,?,?,?,?,?,?,?,?)", nSteps), steps...); err != nil {
				return fmt.Errorf("insert pick steps: %w", err)
			}
		}
		for i, id := range pl.WorkOrder {
			if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, pick_list_id=?, slot_no=?, updated_at=? WHERE work_order_id=?`,
				domain.WOPicking, pl.ID, i+1, now, id); err != nil {
				return fmt.Errorf("put %s on the cart: %w", id, err)
			}
		}
		if _, err := outbox.Add(ctx, tx, ev(pl)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		out = pl.ID
		return nil
	})
	return out, err
}

// PickList returns a pick list with its work orders (slot order) and tasks.
func (s *Store) PickList(ctx context.Context, id string) (domain.PickList, error) {
	var pl domain.PickList
	err := s.db.QueryRowContext(ctx, `SELECT pick_list_id, warehouse, carrier, status, idempotency_key FROM pick_lists WHERE pick_list_id=?`, id).
		Scan(&pl.ID, &pl.Warehouse, &pl.Carrier, &pl.Status, &pl.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return pl, fmt.Errorf("%w: pick list %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return pl, fmt.Errorf("read pick list %s: %w", id, err)
	}
	if pl.WorkOrder, err = sqltx.Strings(ctx, s.db, `SELECT work_order_id FROM sales_order WHERE pick_list_id=? ORDER BY slot_no`, id); err != nil {
		return pl, fmt.Errorf("read work orders of %s: %w", id, err)
	}
	taskIDs, err := sqltx.Strings(ctx, s.db, `SELECT task_id FROM pick_tasks WHERE pick_list_id=? ORDER BY task_id`, id)
	if err != nil {
		return pl, fmt.Errorf("read tasks of %s: %w", id, err)
	}
	for _, t := range taskIDs {
		task, err := s.Task(ctx, t)
		if err != nil {
			return pl, err
		}
		pl.Tasks = append(pl.Tasks, task)
	}
	return pl, nil
}

// PickLists lists a warehouse's pick lists in a status, newest first.
func (s *Store) PickLists(ctx context.Context, warehouse string, status domain.PickListStatus, limit int) ([]domain.PickList, error) {
	idList, err := sqltx.Strings(ctx, s.db, `SELECT pick_list_id FROM pick_lists WHERE warehouse=? AND status=? ORDER BY pick_list_id DESC LIMIT ?`,
		warehouse, status, limit)
	if err != nil {
		return nil, fmt.Errorf("list pick lists: %w", err)
	}
	var out []domain.PickList
	for _, id := range idList {
		pl, err := s.PickList(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, pl)
	}
	return out, nil
}

func task(ctx context.Context, q interface {
	sqltx.Querier
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, id string, lock bool) (domain.Task, error) {
	qs := `SELECT task_id, pick_list_id, warehouse, temp_zone, status, picker FROM pick_tasks WHERE task_id=?`
	if lock {
		qs += ` FOR UPDATE`
	}
	var t domain.Task
	err := q.QueryRowContext(ctx, qs, id).Scan(&t.ID, &t.PickListID, &t.Warehouse, &t.Zone, &t.Status, &t.Picker)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("%w: task %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return t, fmt.Errorf("read task %s: %w", id, err)
	}
	t.Steps, err = sqltx.Collect[domain.Step](q.QueryContext(ctx, `SELECT step_no, work_order_id, pick_no, slot_no, inv_id, bin_code, sku, batch_no, qty, picked_qty
		FROM pick_steps WHERE task_id=? ORDER BY step_no`, id))(func(r interface{ Scan(...any) error }) (domain.Step, error) {
		var s domain.Step
		err := r.Scan(&s.StepNo, &s.WorkOrderID, &s.PickNo, &s.Slot, &s.InvID, &s.Bin, &s.SKU, &s.Batch, &s.Qty, &s.Picked)
		return s, err
	})
	if err != nil {
		return t, fmt.Errorf("read steps of %s: %w", id, err)
	}
	return t, nil
}

// Task returns an RF task with its steps.
func (s *Store) Task(ctx context.Context, id string) (domain.Task, error) {
	return task(ctx, s.db, id, false)
}

// ClaimTask gives an OPEN task of warehouse to picker by one conditional
// UPDATE: of two pickers racing, one wins and the other gets
// domain.ErrTaskTaken. The holder claiming again gets the task back.
func (s *Store) ClaimTask(ctx context.Context, warehouse, id, picker string, now time.Time) (domain.Task, error) {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pick_tasks SET status=?, picker=?, claimed_at=? WHERE task_id=? AND warehouse=? AND status=?`,
		domain.TaskClaimed, picker, now, id, warehouse, domain.TaskOpen))
	if err != nil {
		return domain.Task{}, fmt.Errorf("claim task %s: %w", id, err)
	}
	t, err := s.Task(ctx, id)
	if err != nil {
		return t, err
	}
	switch {
	case t.Warehouse != warehouse:
		return domain.Task{}, fmt.Errorf("%w: task %s", domain.ErrWrongWarehouse, id)
	case n == 1 || (t.Status == domain.TaskClaimed && t.Picker == picker):
		return t, nil
	case t.Status == domain.TaskClaimed:
		return domain.Task{}, fmt.Errorf("%w: task %s is held by %s", domain.ErrTaskTaken, id, t.Picker)
	}
	return domain.Task{}, fmt.Errorf("%w: task %s is %s", domain.ErrState, id, t.Status)
}

// Scan applies one RF pick scan of picker on task id under key: the task
// is locked, the scan checked against its next step (domain.Task.Scan),
// and the picked quantity deducted from both the occupied and the on-hand
// stock of the step's batch row, logged as a PICK movement, consumed from
// the delivery order's ERP occupation, and counted on the step, the pick
// and the work order line, all in one transaction. The last step of the
// last task of a pick list marks the list and its work orders PICKED and
// writes picked (ev); every scan writes the task's progress. The same key again changes nothing and answers the
// task as it stands; with another scan, domain.ErrKeyReused.
func (s *Store) Scan(ctx context.Context, warehouse, id, picker, key, bin, sku string, qty int64,
	ev func(domain.PickList) outbox.Event, progress func(domain.Task, int) outbox.Event, now time.Time) (domain.ScanResult, error) {
	var out domain.ScanResult
	hash := domain.RequestHash([]any{bin, sku, qty})
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = domain.ScanResult{}
		t, err := task(ctx, tx, id, true)
		if err != nil {
			return err
		}
		switch {
		case t.Warehouse != warehouse:
			return fmt.Errorf("%w: task %s", domain.ErrWrongWarehouse, id)
		case t.Picker != picker:
			return fmt.Errorf("%w: task %s is held by %q; claim it first", domain.ErrTaskTaken, id, t.Picker)
		}
		var h string
		var step int
		err = tx.QueryRowContext(ctx, `SELECT request_hash, step_no FROM rf_scans WHERE task_id=? AND idempotency_key=?`, id, key).Scan(&h, &step)
		if err == nil {
			if h != hash {
				return fmt.Errorf("%w: scan key %s", domain.ErrKeyReused, key)
			}
			out = domain.ScanResult{Task: t, StepNo: step, Duplicate: true}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read scan %s: %w", key, err)
		}
		if t.Status != domain.TaskClaimed {
			return fmt.Errorf("%w: task %s is %s", domain.ErrState, id, t.Status)
		}
		st, err := t.Scan(bin, sku, qty)
		if err != nil {
			return err
		}
		n, err := affected(tx.ExecContext(ctx, `UPDATE wms_inv SET on_hand=on_hand-?, occupied=occupied-?, updated_at=?
			WHERE inv_id=? AND occupied >= ? AND on_hand >= ?`, qty, qty, now, st.InvID, qty, qty))
		if err != nil {
			return fmt.Errorf("deduct %s from %s: %w", sku, bin, err)
		}
		if n != 1 {
			return fmt.Errorf("deduct %s from %s: the batch row holds less than the %d occupied for it", sku, bin, qty)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE pick_steps SET picked_qty=picked_qty+? WHERE task_id=? AND step_no=? AND picked_qty+? <= qty`, []any{qty, id, st.StepNo, qty}},
			{`UPDATE work_order_picks SET picked_qty=picked_qty+? WHERE work_order_id=? AND pick_no=? AND picked_qty+? <= qty`,
				[]any{qty, st.WorkOrderID, st.PickNo, qty}},
			{`UPDATE sales_detail SET picked_qty=picked_qty+? WHERE work_order_id=? AND sku=? AND picked_qty+? <= qty`,
				[]any{qty, st.WorkOrderID, sku, qty}},
			{`INSERT INTO rf_scans (task_id, idempotency_key, request_hash, step_no, qty, created_at) VALUES (?,?,?,?,?,?)`,
				[]any{id, key, hash, st.StepNo, qty, now}},
		} {
			n, err := affected(tx.ExecContext(ctx, q.sql, q.args...))
			if err != nil {
				return fmt.Errorf("record pick of %s: %w", sku, err)
			}
			if n != 1 {
				return fmt.Errorf("record pick of %s: %d rows for %q", sku, n, q.sql[:30])
			}
		}
		if err := logMovement(ctx, tx, warehouse, bin, sku, st.Batch, "PICK", -qty, st.WorkOrderID, now); err != nil {
			return err
		}
		if err := consumeERP(ctx, tx, warehouse, st.WorkOrderID, sku, qty, now); err != nil {
			return err
		}
		for i := range t.Steps {
			if t.Steps[i].StepNo == st.StepNo {
				t.Steps[i].Picked += qty
			}
		}
		out = domain.ScanResult{Task: t, StepNo: st.StepNo}
		_, left := t.Next()
		if !left {
			if _, err := tx.ExecContext(ctx, `UPDATE pick_tasks SET status=?, done_at=? WHERE task_id=?`, domain.TaskDone, now, id); err != nil {
				return fmt.Errorf("finish task %s: %w", id, err)
			}
			out.Task.Status = domain.TaskDone
		}
		if _, err := outbox.Add(ctx, tx, progress(out.Task, st.StepNo)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		if left {
			return nil
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pick_tasks WHERE pick_list_id=? AND status<>? FOR UPDATE`,
			t.PickListID, domain.TaskDone).Scan(&open); err != nil {
			return fmt.Errorf("count open tasks of %s: %w", t.PickListID, err)
		}
		if open > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pick_lists SET status=?, updated_at=? WHERE pick_list_id=?`, domain.PLPicked, now, t.PickListID); err != nil {
			return fmt.Errorf("finish pick list %s: %w", t.PickListID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, updated_at=? WHERE pick_list_id=?`, domain.WOPicked, now, t.PickListID); err != nil {
			return fmt.Errorf("mark work orders of %s picked: %w", t.PickListID, err)
		}
		out.ListPicked = true
		if _, err := outbox.Add(ctx, tx, ev(domain.PickList{ID: t.PickListID, Warehouse: warehouse, Status: domain.PLPicked})); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	return out, err
}

// consumeERP takes qty of sku picked for a work order off its delivery
// order's ERP occupation and off ERP on-hand stock: picking consumes what
// fulfillment occupied (DOMAIN 7.3). A delivery order without an
// occupation line for the SKU lowers on-hand stock only, where it is free.
func consumeERP(ctx context.Context, tx *sql.Tx, warehouse, workOrderID, sku string, qty int64, now time.Time) error {
	n, err := affected(tx.ExecContext(ctx, `UPDATE erp_occupation_lines l
		JOIN order_header h ON h.delivery_order_id=l.delivery_order_id
		JOIN sales_order o ON o.wms_order_id=h.wms_order_id
		JOIN erp_occupations e ON e.delivery_order_id=l.delivery_order_id AND e.status=?
		SET l.consumed=l.consumed+? WHERE o.work_order_id=? AND l.sku=? AND l.consumed+? <= l.qty`,
		domain.Occupied, qty, workOrderID, sku, qty))
	if err != nil {
		return fmt.Errorf("consume ERP occupation of %s: %w", sku, err)
	}
	q := `UPDATE erp_stock SET on_hand=on_hand-?, occupied=occupied-?, updated_at=? WHERE warehouse=? AND sku=? AND occupied >= ? AND on_hand >= ?`
	args := []any{qty, qty, now, warehouse, sku, qty, qty}
	if n == 0 {
		q = `UPDATE erp_stock SET on_hand=on_hand-?, updated_at=? WHERE warehouse=? AND sku=? AND on_hand-occupied >= ?`
		args = []any{qty, now, warehouse, sku, qty}
	}
	m, err := affected(tx.ExecContext(ctx, q, args...))
	if err != nil {
		return fmt.Errorf("lower ERP stock of %s: %w", sku, err)
	}
	if n == 1 && m != 1 {
		return fmt.Errorf("lower ERP stock of %s: it holds less than its occupation", sku)
	}
	return nil
}
