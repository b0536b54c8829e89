package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// StageCount is how many units stand at a stage, by state.
type StageCount struct {
	Stage   Stage
	Kind    Kind
	Waiting int64 // READY: due or backing off before a retry
	Running int64 // leased by an instance: queued in its memory or running
	Paused  int64 // waiting for their time (effective time, full warehouse)
	Failed  int64 // in the exception queue
}

// StageCounts counts the units of every stage that are not finished.
func (e *Engine) StageCounts(ctx context.Context) ([]StageCount, error) {
	out := make([]StageCount, NumStages)
	for i := range out {
		out[i] = StageCount{Stage: Stage(i + 1), Kind: kinds[i+1]}
	}
	rows, err := e.db.QueryContext(ctx, `SELECT stage, state, COUNT(*) FROM fulfillments
		WHERE state IN ('READY','RUNNING','PAUSED','FAILED') GROUP BY stage, state`)
	if err != nil {
		return nil, fmt.Errorf("count units by stage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s int
		var st string
		var n int64
		if err := rows.Scan(&s, &st, &n); err != nil {
			return nil, err
		}
		if s < 1 || s > NumStages {
			continue
		}
		c := &out[s-1]
		switch State(st) {
		case StateReady:
			c.Waiting += n
		case StateRunning:
			c.Running += n
		case StatePaused:
			c.Paused += n
		case StateFailed:
			c.Failed += n
		}
	}
	return out, rows.Err()
}

// UnitView is a unit as operators see it.
type UnitView struct {
	ID         string
	ParentID   string
	Stage      Stage
	State      State
	ResumeAt   time.Time
	Attempts   int
	FailCode   string
	FailReason string
	Warehouse  string
	Supplier   string
	WaybillNo  string
	UpdatedAt  time.Time
}

// StepView is one entry of a fulfillment timeline.
type StepView struct {
	UnitID   string
	Stage    Stage
	Outcome  string
	Note     string
	Owner    string
	At       time.Time
	Duration time.Duration
}

// Timeline is an order's fulfillment: its units and every stage run.
type Timeline struct {
	OrderID string
	Units   []UnitView
	Steps   []StepView
}

// ErrNoFulfillment: the order has not entered fulfillment.
var ErrNoFulfillment = errors.New("order has no fulfillment")

// ErrInvalid: an operator's input is malformed.
var ErrInvalid = errors.New("invalid input")

// ErrNotFailed: nothing of the order is in the exception queue.
var ErrNotFailed = errors.New("no failed fulfillment to retry")

// Timeline returns an order's fulfillment timeline.
func (e *Engine) Timeline(ctx context.Context, orderID string) (Timeline, error) {
	t := Timeline{OrderID: orderID}
	rows, err := e.db.QueryContext(ctx, `SELECT unit_id, parent_id, stage, state, resume_at, attempts, fail_code, fail_reason, doc, updated_at
		FROM fulfillments WHERE order_id = ? ORDER BY child_seq`, orderID)
	if err != nil {
		return t, fmt.Errorf("read units of %s: %w", orderID, err)
	}
	for rows.Next() {
		var v UnitView
		var s int
		var st string
		var doc []byte
		if err := rows.Scan(&v.ID, &v.ParentID, &s, &st, &v.ResumeAt, &v.Attempts, &v.FailCode, &v.FailReason, &doc, &v.UpdatedAt); err != nil {
			rows.Close()
			return t, err
		}
		v.Stage, v.State = Stage(s), State(st)
		v.ResumeAt, v.UpdatedAt = v.ResumeAt.UTC(), v.UpdatedAt.UTC()
		var d Doc
		if decodeDoc(doc, &d) == nil && d.Child != nil {
			v.Warehouse, v.Supplier, v.WaybillNo = d.Child.Warehouse, d.Child.Supplier, d.Child.WaybillNo
		}
		t.Units = append(t.Units, v)
	}
	rows.Close()
	if len(t.Units) == 0 {
		return t, fmt.Errorf("%w: %s", ErrNoFulfillment, orderID)
	}
	rows, err = e.db.QueryContext(ctx, `SELECT unit_id, stage, outcome, note, owner, started_at, duration_us
		FROM fulfillment_steps WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return t, fmt.Errorf("read steps of %s: %w", orderID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v StepView
		var s int
		var us int64
		if err := rows.Scan(&v.UnitID, &s, &v.Outcome, &v.Note, &v.Owner, &v.At, &us); err != nil {
			return t, err
		}
		v.Stage, v.At, v.Duration = Stage(s), v.At.UTC(), time.Duration(us)*time.Microsecond
		t.Steps = append(t.Steps, v)
	}
	return t, rows.Err()
}

// Retry sends an order's failed units back to their stage. A unit the
// fraud audit sent for review is cleared by the retry: the operator has
// reviewed it. It returns how many units were retried.
func (e *Engine) Retry(ctx context.Context, orderID, operator string) (int, error) {
	n := 0
	err := sqltx.Run(ctx, e.db, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `SELECT unit_id, stage, fail_code, doc FROM fulfillments WHERE order_id = ? AND state = 'FAILED' FOR UPDATE`, orderID)
		if err != nil {
			return fmt.Errorf("read failed units of %s: %w", orderID, err)
		}
		type failed struct {
			id, code string
			stage    int
			doc      []byte
		}
		var fs []failed
		for rows.Next() {
			var f failed
			if err := rows.Scan(&f.id, &f.stage, &f.code, &f.doc); err != nil {
				rows.Close()
				return err
			}
			fs = append(fs, f)
		}
		rows.Close()
		now := e.clock.Now()
		for _, f := range fs {
			doc := f.doc
			if f.code == "FRAUD_REVIEW" {
				var d Doc
				if err := decodeDoc(f.doc, &d); err != nil {
					return fmt.Errorf("unit %s document: %w", f.id, err)
				}
				d.FraudCleared = true
				if doc, err = encodeDoc(&d); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE fulfillments SET state = 'READY', resume_at = ?, attempts = 0, fail_code = '',
				fail_reason = '', doc = ?, updated_at = ? WHERE unit_id = ? AND state = 'FAILED'`, now, doc, now, f.id); err != nil {
				return fmt.Errorf("retry unit %s: %w", f.id, err)
			}
			u := &Unit{ID: f.id, OrderID: orderID}
			if err := insertSteps(ctx, tx, u, operator, []step{{stage: Stage(f.stage), outcome: "RETRIED",
				note: "by " + operator + " after " + f.code, started: now}}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: order %s", ErrNotFailed, orderID)
	}
	e.Wake()
	return n, nil
}

// Capacity is a warehouse's capacity on one Shanghai day.
type Capacity struct {
	Warehouse string
	Day       string
	Capacity  int
	Used      int
}

// Capacities lists the warehouses' capacities of a day (YYYY-MM-DD).
func (e *Engine) Capacities(ctx context.Context, day string) ([]Capacity, error) {
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return nil, fmt.Errorf("%w: day %q is not YYYY-MM-DD", ErrInvalid, day)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT warehouse, day, capacity, used FROM warehouse_capacity WHERE day = ? ORDER BY warehouse`, day)
	if err != nil {
		return nil, fmt.Errorf("read capacities of %s: %w", day, err)
	}
	defer rows.Close()
	var out []Capacity
	for rows.Next() {
		var c Capacity
		var d time.Time
		if err := rows.Scan(&c.Warehouse, &d, &c.Capacity, &c.Used); err != nil {
			return nil, err
		}
		c.Day = d.Format("2006-01-02")
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetCapacity sets a warehouse's capacity of a day. Lowering it below
// what is used already takes nothing back; it only stops further orders.
// Raising it wakes the feeder, since orders paused for that day may now
// pass — they resume at their own time, the next midnight.
func (e *Engine) SetCapacity(ctx context.Context, warehouse, day string, capacity int) (Capacity, error) {
	if _, err := time.Parse("2006-01-02", day); err != nil || warehouse == "" || capacity < 0 {
		return Capacity{}, fmt.Errorf("%w: warehouse %q, day %q, capacity %d", ErrInvalid, warehouse, day, capacity)
	}
	if _, err := e.db.ExecContext(ctx, `INSERT INTO warehouse_capacity (warehouse, day, capacity, used) VALUES (?,?,?,0)
		ON DUPLICATE KEY UPDATE capacity = VALUES(capacity)`, warehouse, day, capacity); err != nil {
		return Capacity{}, fmt.Errorf("set capacity of %s on %s: %w", warehouse, day, err)
	}
	c := Capacity{Warehouse: warehouse, Day: day}
	err := e.db.QueryRowContext(ctx, `SELECT capacity, used FROM warehouse_capacity WHERE warehouse = ? AND day = ?`, warehouse, day).Scan(&c.Capacity, &c.Used)
	return c, err
}
