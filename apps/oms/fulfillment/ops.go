package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// State is where a unit stands (runner.State).
type State = runner.State

// Unit states.
const (
	StateReady     = runner.StateReady
	StateRunning   = runner.StateRunning
	StatePaused    = runner.StatePaused
	StateFailed    = runner.StateFailed
	StateSplit     = runner.StateSplit
	StateDone      = runner.StateDone
	StateCancelled = runner.StateCancelled
	StateHeld      = runner.StateHeld
)

// Suspension is the state of the operators' switch of the whole pipeline.
type Suspension = runner.Suspension

// StageCount is how many units stand at a stage, by state.
type StageCount = runner.StageCount

// ErrNoFulfillment: the order has not entered fulfillment.
var ErrNoFulfillment = errors.New("order has no fulfillment")

// ErrInvalid: an operator's input is malformed.
var ErrInvalid = runner.ErrInvalid

// ErrNotFailed: nothing of the order is in the exception queue.
var ErrNotFailed = errors.New("no failed fulfillment to retry")

// ErrNotPaused: the order is not paused.
var ErrNotPaused = errors.New("order is not paused")

// StageCounts counts the units of every stage that are not finished, in
// pipeline order.
func (e *Engine) StageCounts(ctx context.Context) ([]StageCount, error) { return e.r.Counts(ctx) }

// UnitView is a unit as operators see it.
type UnitView struct {
	ID         string
	ParentID   string
	Stage      string
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
type StepView = runner.StepView

// Timeline is an order's fulfillment: its units and every stage run.
type Timeline struct {
	OrderID string
	Units   []UnitView
	Steps   []StepView
}

func unitView(v runner.UnitView[stages.Doc]) UnitView {
	u := UnitView{ID: v.ID, ParentID: v.ParentID, Stage: v.Stage, State: v.State, ResumeAt: v.ResumeAt, Attempts: v.Attempts,
		FailCode: v.FailCode, FailReason: v.FailReason, UpdatedAt: v.UpdatedAt}
	if c := v.Doc.Child; v.DocErr == nil && c != nil {
		u.Warehouse, u.Supplier, u.WaybillNo = c.Warehouse, c.Supplier, c.WaybillNo
	}
	return u
}

// Timeline returns an order's fulfillment timeline.
func (e *Engine) Timeline(ctx context.Context, orderID string) (Timeline, error) {
	t := Timeline{OrderID: orderID}
	us, err := e.r.Units(ctx, orderID)
	if err != nil {
		return t, err
	}
	if len(us) == 0 {
		return t, fmt.Errorf("%w: %s", ErrNoFulfillment, orderID)
	}
	for _, u := range us {
		t.Units = append(t.Units, unitView(u))
	}
	t.Steps, err = e.r.Steps(ctx, orderID)
	return t, err
}

// Retry sends an order's failed units back to their stage. A unit the
// fraud audit sent for review is cleared by the retry: the operator has
// reviewed it. It returns how many units were retried.
func (e *Engine) Retry(ctx context.Context, orderID, operator string) (int, error) {
	n, err := e.r.Retry(ctx, orderID, operator)
	if errors.Is(err, runner.ErrNotFailed) {
		return 0, fmt.Errorf("%w: order %s", ErrNotFailed, orderID)
	}
	return n, err
}

// Suspend stops the pipeline on every instance within a second.
// Suspending a suspended pipeline keeps its first operator and time and
// takes the new reason.
func (e *Engine) Suspend(ctx context.Context, reason, operator string) (Suspension, error) {
	s, err := e.r.Suspend(ctx, reason, operator)
	if errors.Is(err, runner.ErrInvalid) {
		err = fmt.Errorf("%w: a reason is required to suspend fulfillment", ErrInvalid)
		if strings.TrimSpace(reason) != "" {
			err = fmt.Errorf("%w: the reason is longer than 500 characters", ErrInvalid)
		}
	}
	return s, err
}

// Resume starts the pipeline again; resuming a running one changes nothing.
func (e *Engine) Resume(ctx context.Context, operator string) (Suspension, error) {
	return e.r.Resume(ctx, operator)
}

// Suspension reads the switch.
func (e *Engine) Suspension(ctx context.Context) (Suspension, error) { return e.r.Suspension(ctx) }

// OrderPause is an order as a pause left it.
type OrderPause struct {
	OrderID string
	// Paused is false when the order was paused already.
	Paused bool
	// Stage is the stage the order's own unit stands at, or, once it
	// split, "" (its delivery orders stand at theirs).
	Stage string
	Units []UnitView
	// Dispatched are the delivery orders that reached their warehouse
	// (or drop-ship supplier).
	Dispatched []string
	// InDispatch are the delivery orders a worker had in hand when the
	// pause came, not recorded as dispatched: the run may have been the
	// hand-over, so the warehouse may have them (WMS answers by delivery
	// order id). On resume the hand-over is repeated, idempotently.
	InDispatch []string
}

// PauseOrder pauses one order for another app (after-sales, the reverse
// flow): every unit of it not finished stops where it stands, in one
// transaction, and stays until ResumeOrder. A unit a worker is running
// at that moment commits nothing of that run and goes no further. It
// tells where the order stands and which delivery orders reached a
// warehouse. Pausing a paused order changes nothing and answers the same.
func (e *Engine) PauseOrder(ctx context.Context, orderID, reason, by string) (OrderPause, error) {
	us, newly, err := e.r.Hold(ctx, orderID, reason, by)
	switch {
	case errors.Is(err, runner.ErrNotFound):
		return OrderPause{}, fmt.Errorf("%w: %s", ErrNoFulfillment, orderID)
	case err != nil:
		return OrderPause{}, err
	}
	p := OrderPause{OrderID: orderID, Paused: newly}
	for _, u := range us {
		v := unitView(u)
		p.Units = append(p.Units, v)
		if u.ParentID == "" {
			if u.State != StateSplit {
				p.Stage = u.Stage
			}
			continue
		}
		switch {
		case u.DocErr == nil && u.Doc.Child != nil && u.Doc.Child.WMSID != "":
			p.Dispatched = append(p.Dispatched, u.ID)
		case u.State == StateHeld && u.HeldFrom == StateRunning:
			p.InDispatch = append(p.InDispatch, u.ID)
		}
	}
	return p, nil
}

// ResumeOrder lets a paused order go on from where the pause stopped it.
func (e *Engine) ResumeOrder(ctx context.Context, orderID, by string) (int, error) {
	n, err := e.r.Release(ctx, orderID, by)
	switch {
	case errors.Is(err, runner.ErrNotFound):
		return 0, fmt.Errorf("%w: %s", ErrNoFulfillment, orderID)
	case errors.Is(err, runner.ErrNotHeld):
		return 0, fmt.Errorf("%w: %s", ErrNotPaused, orderID)
	}
	return n, err
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

// ErrReachedWarehouse: a delivery order of the order reached (or may have
// reached) its warehouse or supplier and was not intercepted there.
type ErrReachedWarehouse struct{ DeliveryOrders []string }

func (e *ErrReachedWarehouse) Error() string {
	return "delivery orders reached their warehouse and were not intercepted: " + strings.Join(e.DeliveryOrders, ", ")
}

// ReverseCancel is what CancelPaused did.
type ReverseCancel struct {
	OrderID string
	Status  string // the order's status afterwards
	// Already: the order was cancelled before this call (a repeat).
	Already bool
	// Cancelled are the units this call cancelled.
	Cancelled int
}

// CancelPaused cancels a paid order for the reverse flow, in one
// transaction with its fulfillment: every unit must be paused (held by
// PauseOrder) or finished, and every delivery order that reached its
// warehouse, or was in the hand-over when the pause came, must be in
// intercepted (WMS refuses it from then on); the held units end
// CANCELLED, so no resume brings them back, and the order is cancelled
// with its oms.order.cancelled event, on which PAY refunds it. An order
// that never entered fulfillment is cancelled alone (a later start of it
// finds it no longer PAID). Repeating it answers Already.
func (e *Engine) CancelPaused(ctx context.Context, orderID, note, by string, intercepted []string) (ReverseCancel, error) {
	out := ReverseCancel{OrderID: orderID}
	ok := map[string]bool{}
	for _, id := range intercepted {
		ok[id] = true
	}
	err := runner.RunTx(ctx, e.db, func(tx *sql.Tx) error {
		out = ReverseCancel{OrderID: orderID}
		rows, err := tx.QueryContext(ctx, `SELECT unit_id, parent_id, stage, state, held_from, doc FROM fulfillments WHERE order_id = ? FOR UPDATE`, orderID)
		if err != nil {
			return fmt.Errorf("lock units of %s: %w", orderID, err)
		}
		type unit struct{ id, parent, stage, state, from string }
		var units []unit
		var reached, blocking, running []string
		for rows.Next() {
			var u unit
			var doc []byte
			if err := rows.Scan(&u.id, &u.parent, &u.stage, &u.state, &u.from, &doc); err != nil {
				rows.Close()
				return fmt.Errorf("read units of %s: %w", orderID, err)
			}
			units = append(units, u)
			switch State(u.state) {
			case StateHeld, StateSplit, StateCancelled, StateDone:
			default:
				running = append(running, u.id)
			}
			if u.parent == "" {
				continue
			}
			var d stages.Doc
			derr := stages.Decode(doc, &d)
			dispatched := derr == nil && d.Child != nil && d.Child.WMSID != ""
			inHandOver := State(u.state) == StateHeld && State(u.from) == StateRunning && e.r.StageName(u.stage) == "dispatch"
			if dispatched || inHandOver || State(u.state) == StateDone {
				reached = append(reached, u.id)
				if !ok[u.id] {
					blocking = append(blocking, u.id)
				}
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read units of %s: %w", orderID, err)
		}
		now := e.clock.Now()
		o, err := e.orders.UpdateTx(ctx, tx, orderID, func(o *domain.Order) ([]outbox.Event, error) {
			err := o.CancelForReverse(now, note, len(reached) > 0)
			if errors.Is(err, domain.ErrAlreadyCancelled) {
				out.Already = true
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if len(running) > 0 {
				return nil, fmt.Errorf("%w: %s (units %s not paused)", ErrNotPaused, orderID, strings.Join(running, ", "))
			}
			if len(blocking) > 0 {
				return nil, &ErrReachedWarehouse{DeliveryOrders: blocking}
			}
			return []outbox.Event{app.CancelledEvent(o, now)}, nil
		})
		if err != nil {
			return err
		}
		out.Status = string(o.Status())
		if out.Already {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE fulfillments SET state = 'CANCELLED', held_from = '', updated_at = ? WHERE order_id = ? AND state = 'HELD'`,
			now, orderID)
		if err != nil {
			return fmt.Errorf("cancel units of %s: %w", orderID, err)
		}
		n, _ := res.RowsAffected()
		out.Cancelled = int(n)
		for _, u := range units {
			if State(u.state) != StateHeld {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO fulfillment_steps (order_id, unit_id, stage, outcome, note, owner, started_at, duration_us)
				VALUES (?,?,?,?,?,?,?,0)`, orderID, u.id, u.stage, "CANCEL", cut("reverse flow: "+note, 400), cut(by, 64), now); err != nil {
				return fmt.Errorf("record cancel of %s: %w", u.id, err)
			}
		}
		return nil
	})
	return out, err
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
