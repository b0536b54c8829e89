package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// orderMaker writes a new order inside the engine's transaction;
// *store.Store satisfies it.
type orderMaker interface {
	CreateTx(ctx context.Context, tx *sql.Tx, o *domain.Order, idem app.Idempotency, events []outbox.Event) error
	HandOverDeductionsTx(ctx context.Context, tx *sql.Tx, from string) error
	FindIdempotency(ctx context.Context, customerID, key string) (app.Idempotency, bool, error)
}

// PullBack is what a pull-back did: the order it ended and the new one.
type PullBack struct {
	OrderID, NewOrderID string
	// Already: an earlier call with the same key did it (a repeat).
	Already bool
}

// PullBack ends a paused paid order and makes its new order directly
// (DOMAIN 4.1a: the one source that skips the accept-order API), in one
// transaction with its fulfillment: as CancelPaused, every unit must be
// held or finished (ErrNotPaused) and every delivery order that reached
// its warehouse intercepted there (*ErrReachedWarehouse); the held units
// end CANCELLED; the order ends CANCELLED with reason PULLED_BACK and no
// cancel event (its payment and stock go over to the new order); the new
// order (source PULL_BACK, change's address and slot) is written PAID
// with the original's payment (domain.NewPullBackOrder: its trade, cash
// and deductions, which it uses from now on) and its oms.order.paid,
// which starts its fulfillment. The new order is
// stored under key (per customer): a repeat answers it with Already.
func (e *Engine) PullBack(ctx context.Context, orderID, key, note, by string, intercepted []string, change domain.PullBackChange) (PullBack, error) {
	maker, ok := e.orders.(orderMaker)
	if !ok {
		return PullBack{}, errors.New("pull-back needs a store that writes orders in a transaction")
	}
	if strings.TrimSpace(key) == "" {
		return PullBack{}, fmt.Errorf("%w: an idempotency key is required", ErrInvalid)
	}
	stored := app.PullBackKey(key)
	out := PullBack{OrderID: orderID}
	ok2 := map[string]bool{}
	for _, id := range intercepted {
		ok2[id] = true
	}
	err := runner.RunTx(ctx, e.db, func(tx *sql.Tx) error {
		out = PullBack{OrderID: orderID}
		reached, blocking, running, held, err := e.pullBackUnits(ctx, tx, orderID, ok2)
		if err != nil {
			return err
		}
		now := e.clock.Now()
		var next *domain.Order
		var customer string
		_, err = e.orders.UpdateTx(ctx, tx, orderID, func(o *domain.Order) ([]outbox.Event, error) {
			customer = o.CustomerID()
			err := o.EndForPullBack(now, note, len(reached) > 0)
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
			next, err = domain.NewPullBackOrder(ids.New(), o, change, now)
			return nil, err
		})
		if err != nil {
			return err
		}
		if out.Already {
			rec, found, err := maker.FindIdempotency(ctx, customer, stored)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: order %s was pulled back under another key", domain.ErrNotCancellable, orderID)
			}
			out.NewOrderID = rec.OrderID
			return nil
		}
		idem := app.Idempotency{CustomerID: customer, Key: stored, RequestHash: stored, OrderID: next.ID(), CreatedAt: now}
		if err := maker.HandOverDeductionsTx(ctx, tx, orderID); err != nil {
			return err
		}
		if err := maker.CreateTx(ctx, tx, next, idem, []outbox.Event{app.PaidEvent(next, now)}); err != nil {
			return fmt.Errorf("make the pull-back's order: %w", err)
		}
		out.NewOrderID = next.ID()
		if _, err := tx.ExecContext(ctx, `UPDATE fulfillments SET state = 'CANCELLED', held_from = '', updated_at = ? WHERE order_id = ? AND state = 'HELD'`,
			now, orderID); err != nil {
			return fmt.Errorf("end units of %s: %w", orderID, err)
		}
		for _, u := range held {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fulfillment_steps (order_id, unit_id, stage, outcome, note, owner, started_at, duration_us)
				VALUES (?,?,?,?,?,?,?,0)`, orderID, u.id, u.stage, "CANCEL", cut("pulled back into "+next.ID()+": "+note, 400), cut(by, 64), now); err != nil {
				return fmt.Errorf("record the pull-back of %s: %w", u.id, err)
			}
		}
		return nil
	})
	return out, err
}

type heldUnit struct{ id, stage string }

// pullBackUnits locks an order's units and sorts them as CancelPaused does:
// the delivery orders that reached a warehouse (dispatched, finished or
// caught in the hand-over), those of them not in intercepted (blocking),
// the units not held or finished (running) and the held ones.
func (e *Engine) pullBackUnits(ctx context.Context, tx *sql.Tx, orderID string, intercepted map[string]bool) (reached, blocking, running []string, held []heldUnit, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT unit_id, parent_id, stage, state, held_from, doc FROM fulfillments WHERE order_id = ? FOR UPDATE`, orderID)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("lock units of %s: %w", orderID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, stage, state, from string
		var doc []byte
		if err := rows.Scan(&id, &parent, &stage, &state, &from, &doc); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("read units of %s: %w", orderID, err)
		}
		switch State(state) {
		case StateHeld:
			held = append(held, heldUnit{id: id, stage: stage})
		case StateSplit, StateCancelled, StateDone:
		default:
			running = append(running, id)
		}
		if parent == "" {
			continue
		}
		var d stages.Doc
		derr := stages.Decode(doc, &d)
		dispatched := derr == nil && d.Child != nil && d.Child.WMSID != ""
		inHandOver := State(state) == StateHeld && State(from) == StateRunning && e.r.StageName(stage) == "dispatch"
		if dispatched || inHandOver || State(state) == StateDone {
			reached = append(reached, id)
			if !intercepted[id] {
				blocking = append(blocking, id)
			}
		}
	}
	return reached, blocking, running, held, rows.Err()
}
