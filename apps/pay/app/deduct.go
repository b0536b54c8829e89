package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// DeductInput is a deduction request.
type DeductInput struct {
	IdempotencyKey string
	CustomerID     string
	Items          []domain.Item
}

// Deduct takes the non-cash part of an order: all items or none, never
// below zero, idempotent by key.
func (s *Service) Deduct(ctx context.Context, in DeductInput) (domain.Deduction, error) {
	if err := domain.CheckKey(in.IdempotencyKey, in.CustomerID); err != nil {
		return domain.Deduction{}, err
	}
	if err := domain.ValidateItems(in.CustomerID, in.Items); err != nil {
		return domain.Deduction{}, err
	}
	d := domain.Deduction{ID: ids.New(), IdempotencyKey: in.IdempotencyKey, RequestHash: domain.RequestHash(in),
		CustomerID: in.CustomerID, Items: in.Items}
	out, err := s.store.Deduct(ctx, d, s.now())
	if err == nil {
		s.Wake() // the finance push
	}
	return out, err
}

// Deduction returns one deduction.
func (s *Service) Deduction(ctx context.Context, id string) (domain.Deduction, error) {
	return s.store.Deduction(ctx, id)
}

// SweepDeductions reverses held deductions older than the bound that no
// order uses, asking OMS first (the check-back). An unreachable OMS leaves
// them for the next sweep.
func (s *Service) SweepDeductions(ctx context.Context) (reversed int, err error) {
	held, err := s.store.HeldBefore(ctx, s.now().Add(-s.cfg.HoldBound), 200)
	if err != nil {
		return 0, err
	}
	for _, id := range held {
		e, err := s.oms.ExistsForDeduction(ctx, id)
		if err != nil {
			s.log.Warn("deduction check-back failed; retry next sweep", "deduction", id, "err", err)
			continue
		}
		if e.Exists {
			if err := s.store.MarkUsedWithoutOrder(ctx, id, s.now()); err != nil {
				return reversed, err
			}
			continue
		}
		ok, err := s.store.Reverse(ctx, id, s.now())
		if err != nil {
			return reversed, err
		}
		if ok {
			reversed++
			s.log.Info("deduction reversed: no order used it", "deduction", id)
		}
	}
	if reversed > 0 {
		s.Wake()
	}
	return reversed, nil
}

// OnOrderPlaced binds the order's deductions to it (consumer of
// oms.order.deductions-used).
func (s *Service) OnOrderPlaced(ctx context.Context, msgID string, ev events.OrderPlaced) error {
	if len(ev.DeductionIDs) == 0 {
		return nil // nothing to mark, so nothing to remember either
	}
	var conflicts []string
	_, err := s.store.Claim(ctx, "pay.order-placed", msgID, func(tx *sql.Tx) error {
		var err error
		conflicts, err = store.MarkUsedTx(ctx, tx, ev.OrderID, ev.DeductionIDs, s.now())
		return err
	})
	if err == nil && len(conflicts) > 0 {
		s.log.Error("order placed with deductions no longer held", "order", ev.OrderID, "deductions", conflicts)
	}
	return err
}

// ErrUnconfirmed: an event that would move money was not confirmed by its
// owner (OMS does not say the order is cancelled). The subscriber drops it.
var ErrUnconfirmed = errors.New("event not confirmed by its owner")

// OnOrderCancelled gives back what a cancelled order took: its non-cash
// deductions are reversed and every succeeded trade is refunded in full,
// straight to the channel (consumer of oms.order.cancelled). The order is
// remembered, so a payment that still succeeds later is refunded too.
//
// The event is believed only after OMS confirms it (ARCHITECTURE, trust
// boundaries): a forged "cancelled" for a paid order would otherwise
// refund it. The question costs one invocation, so it is asked only when
// PAY holds something for the order (a deduction named or bound, a
// trade): most cancels are unpaid orders without non-cash, expired by the
// hundred thousand, and for those there is nothing to give back and
// nothing is remembered (a payment that still succeeds for one is refused
// by OMS and refunded on oms.payment.rejected). The deductions reversed
// are the ones OMS names for the order and PAY bound to it, never the
// event's own list.
func (s *Service) OnOrderCancelled(ctx context.Context, msgID string, ev events.OrderCancelled) error {
	if ev.OrderID == "" {
		return fmt.Errorf("%w: cancelled event without an order id", ErrUnconfirmed)
	}
	holds, err := s.store.HoldsFor(ctx, ev.OrderID)
	if err != nil {
		return err
	}
	if !holds && len(ev.DeductionIDs) == 0 {
		return nil
	}
	o, err := s.oms.GetOrder(ctx, ev.OrderID)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound):
		return fmt.Errorf("%w: order %s said cancelled does not exist", ErrUnconfirmed, ev.OrderID)
	case err != nil:
		return fmt.Errorf("ask oms whether %s is cancelled: %w", ev.OrderID, err)
	case o.Status != omsclient.StatusCancelled:
		return fmt.Errorf("%w: order %s said cancelled is %s", ErrUnconfirmed, ev.OrderID, o.Status)
	}
	now := s.now()
	fresh, err := s.store.Claim(ctx, "pay.order-cancelled", msgID, func(tx *sql.Tx) error {
		if err := store.RememberCancelledTx(ctx, tx, ev.OrderID, now); err != nil {
			return err
		}
		bound, err := store.DeductionsOfOrderTx(ctx, tx, ev.OrderID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, id := range append(append([]string{}, o.DeductionIDs...), bound...) {
			if seen[id] {
				continue
			}
			seen[id] = true
			d, done, err := store.ReverseTx(ctx, tx, id, true, now)
			if err != nil {
				if isNotFound(err) {
					s.log.Warn("cancelled order names an unknown deduction", "order", ev.OrderID, "deduction", id)
					continue
				}
				return err
			}
			if !done {
				continue
			}
			if err := store.AddOutboxTx(ctx, tx, outbox.Event{Topic: payevents.TopicRefundSucceeded, AggregateID: ev.OrderID,
				Type: payevents.TopicRefundSucceeded + ".v1", Payload: payevents.RefundSucceeded{RefundID: d.ID, OrderID: ev.OrderID,
					AmountFen: money.Fen(d.TotalFen), Reason: domain.ReasonCancel, At: now}}); err != nil {
				return err
			}
		}
		trades, err := tradesOfOrderTx(ctx, tx, ev.OrderID)
		if err != nil {
			return err
		}
		for _, t := range trades {
			if _, _, err := store.FullRefundTx(ctx, tx, t, ids.New(), domain.ReasonCancel, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && fresh {
		s.notify()
		s.Wake()
	}
	return err
}

// OnPaymentRejected refunds in full a payment OMS could not take (the order
// was cancelled meanwhile; consumer of oms.payment.rejected). Like a
// cancel, it is believed after asking OMS (rejections are rare, so always):
// the trade's own order (PAY's record, not the event's) must not be one
// OMS holds as paid by this very trade, or a forged rejection would refund
// a paid order.
func (s *Service) OnPaymentRejected(ctx context.Context, msgID string, ev events.PaymentRejected) error {
	t, err := s.store.Trade(ctx, ev.TradeID)
	if isNotFound(err) {
		s.log.Error("payment rejected for an unknown trade", "trade", ev.TradeID, "order", ev.OrderID)
		return nil
	}
	if err != nil {
		return err
	}
	if t.OrderID != ev.OrderID {
		return fmt.Errorf("%w: trade %s is for order %s, not %s", ErrUnconfirmed, t.ID, t.OrderID, ev.OrderID)
	}
	o, err := s.oms.GetOrder(ctx, t.OrderID)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound):
		// OMS rejects money for an order it does not have.
	case err != nil:
		return fmt.Errorf("ask oms about the rejection of trade %s: %w", t.ID, err)
	case o.TradeID == t.ID && o.Status != omsclient.StatusCancelled:
		return fmt.Errorf("%w: order %s is %s, paid by trade %s", ErrUnconfirmed, o.ID, o.Status, t.ID)
	}
	fresh, err := s.store.Claim(ctx, "pay.payment-rejected", msgID, func(tx *sql.Tx) error {
		_, _, err := store.FullRefundTx(ctx, tx, ev.TradeID, ids.New(), domain.ReasonRejected, s.now())
		if isNotFound(err) {
			s.log.Error("payment rejected for an unknown trade", "trade", ev.TradeID, "order", ev.OrderID)
			return nil
		}
		return err
	})
	if err == nil && fresh {
		s.Wake()
	}
	return err
}

func tradesOfOrderTx(ctx context.Context, tx *sql.Tx, orderID string) ([]string, error) {
	return sqltx.Strings(ctx, tx, `SELECT id FROM trades WHERE order_id=? AND status=? FOR UPDATE`, orderID, domain.TradeSucceeded)
}
