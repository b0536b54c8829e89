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

// contactSaver writes an order's address and SMS recipients in the
// engine's transaction; *store.Store satisfies it.
type contactSaver interface {
	SaveContactsTx(ctx context.Context, tx *sql.Tx, o *domain.Order) error
}

// ContactChange is customer service's change of an order's address or
// SMS recipients, asked for by after-sales' action ChangeID.
type ContactChange struct {
	ChangeID string
	By, Note string
	// Address, when set, replaces the delivery address.
	Address *domain.Address
	// SMSRecipients, when set, replace the phones the order's SMS go to.
	SMSRecipients []string
}

// ContactResult is the order after a change.
type ContactResult struct {
	Order *domain.Order
	// Already: the change with this id was applied before (a repeat).
	Already bool
	// Units are the fulfillment units whose working document took it.
	Units int
}

// ErrAddressDispatched: a delivery order of the order reached its
// warehouse or supplier (or was being handed over when the change came):
// the address stays as it is.
type ErrAddressDispatched struct{ DeliveryOrders []string }

func (e *ErrAddressDispatched) Error() string {
	return "delivery orders reached their warehouse or supplier: " + strings.Join(e.DeliveryOrders, ", ")
}

// Is makes errors.Is(err, domain.ErrAddressLocked) true.
func (e *ErrAddressDispatched) Is(target error) bool { return target == domain.ErrAddressLocked }

// ChangeContact changes an order's address or SMS recipients in one
// transaction with the working documents of its fulfillment units, the
// copies the stages read (waybill, dispatch, the SMS of stage 14).
//
// The order's row is locked first: fulfillment's start creates the units
// from the order under that lock, so a change either precedes the start
// (which copies it) or sees the units it made. Then the units are locked:
// an address may change only while no delivery order was dispatched,
// none is DONE, and none is in a worker's hands at the dispatch stage
// (the hand-over may be under way; WMS would keep the old address). A
// unit in a worker's hands at another stage is fenced as PauseOrder
// fences it (its lease token changes, so that run commits nothing) and
// made READY to run its stage again with the new document; stages are
// idempotent. A repeat of ChangeID answers Already and changes nothing.
func (e *Engine) ChangeContact(ctx context.Context, orderID string, c ContactChange) (ContactResult, error) {
	saver, ok := e.orders.(contactSaver)
	if !ok {
		return ContactResult{}, errors.New("the engine's order store cannot save contacts")
	}
	if c.ChangeID == "" || (c.Address == nil && c.SMSRecipients == nil) {
		return ContactResult{}, fmt.Errorf("%w: a change id and an address or SMS recipients are required", ErrInvalid)
	}
	var out ContactResult
	err := runner.RunTx(ctx, e.db, func(tx *sql.Tx) error {
		out = ContactResult{}
		var locked string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE id = ? FOR UPDATE`, orderID).Scan(&locked); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %s", domain.ErrNotFound, orderID)
			}
			return fmt.Errorf("lock order %s: %w", orderID, err)
		}
		units, err := e.lockUnits(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if c.Address != nil {
			var reached []string
			for _, u := range units {
				if u.parent == "" {
					continue
				}
				inHand := (u.state == StateRunning || (u.state == StateHeld && u.from == StateRunning)) && e.r.StageName(u.stage) == "dispatch"
				if (u.docErr == nil && u.doc.Child != nil && u.doc.Child.WMSID != "") || u.state == StateDone || inHand {
					reached = append(reached, u.id)
				}
			}
			if len(reached) > 0 {
				return &ErrAddressDispatched{DeliveryOrders: reached}
			}
		}
		now := e.clock.Now()
		o, err := e.orders.UpdateTx(ctx, tx, orderID, func(o *domain.Order) ([]outbox.Event, error) {
			if o.HasChange(c.ChangeID) {
				out.Already = true
				return nil, app.ErrNoChange
			}
			note := "by " + c.By + ": " + c.Note
			if c.Address != nil {
				if err := o.ChangeAddress(now, *c.Address, c.ChangeID, note); err != nil {
					return nil, err
				}
			}
			if c.SMSRecipients != nil {
				if err := o.SetSMSRecipients(now, c.SMSRecipients, c.ChangeID, note); err != nil {
					return nil, err
				}
			}
			return nil, nil
		})
		out.Order = o
		if out.Already {
			return nil
		}
		if err != nil {
			return err
		}
		if err := saver.SaveContactsTx(ctx, tx, o); err != nil {
			return err
		}
		for _, u := range units {
			switch u.state {
			case StateDone, StateCancelled:
				continue
			}
			if u.docErr != nil {
				return fmt.Errorf("unit %s: %w", u.id, u.docErr)
			}
			if c.Address != nil {
				u.doc.Address = o.Address()
			}
			if c.SMSRecipients != nil {
				u.doc.SMSRecipients = o.CustomSMSRecipients()
			}
			raw, err := stages.Encode(&u.doc)
			if err != nil {
				return err
			}
			q := `UPDATE fulfillments SET doc = ?, updated_at = ? WHERE unit_id = ?`
			args := []any{raw, now, u.id}
			if u.state == StateRunning {
				q = `UPDATE fulfillments SET doc = ?, updated_at = ?, state = 'READY', resume_at = ?, lease_owner = '', lease_token = ? WHERE unit_id = ?`
				args = []any{raw, now, now, ids.New(), u.id}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("change the document of %s: %w", u.id, err)
			}
			out.Units++
		}
		return nil
	})
	if err != nil {
		return ContactResult{}, err
	}
	if out.Units > 0 {
		e.r.Wake()
	}
	return out, nil
}

type lockedUnit struct {
	id, parent, stage string
	state, from       State
	doc               stages.Doc
	docErr            error
}

func (e *Engine) lockUnits(ctx context.Context, tx *sql.Tx, orderID string) ([]*lockedUnit, error) {
	rows, err := tx.QueryContext(ctx, `SELECT unit_id, parent_id, stage, state, held_from, doc FROM fulfillments WHERE order_id = ? ORDER BY unit_id FOR UPDATE`, orderID)
	if err != nil {
		return nil, fmt.Errorf("lock units of %s: %w", orderID, err)
	}
	defer rows.Close()
	var out []*lockedUnit
	for rows.Next() {
		u := &lockedUnit{}
		var state, from string
		var raw []byte
		if err := rows.Scan(&u.id, &u.parent, &u.stage, &state, &from, &raw); err != nil {
			return nil, fmt.Errorf("read units of %s: %w", orderID, err)
		}
		u.state, u.from = State(state), State(from)
		u.docErr = stages.Decode(raw, &u.doc)
		out = append(out, u)
	}
	return out, rows.Err()
}
