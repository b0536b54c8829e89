package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/oms/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// TradeConsumer is the inbox name of the pay.trade.succeeded subscriber.
const TradeConsumer = "oms.trade-succeeded"

// PaymentResult says what a verified trade did to its order.
type PaymentResult string

// Payment results.
const (
	PaymentPaid      PaymentResult = "paid"      // the order is now PAID; oms.order.paid follows
	PaymentRejected  PaymentResult = "rejected"  // the money goes back; oms.payment.rejected follows
	PaymentDuplicate PaymentResult = "duplicate" // seen before (same message or same trade): nothing
)

// verifyTrade asks PAY, the owner of trades, whether the event tells the
// truth, before it is believed (ARCHITECTURE, trust boundaries): a forged
// pay.trade.succeeded would otherwise mark an order paid and start its
// fulfillment. It costs one invocation per cash-paid order (non-cash and
// ToB orders are paid at placement and never come here), which the
// at-least-once delivery of events already makes the cheap side of the
// work: the order's own commit and its oms.order.paid dwarf it.
func (s *Service) verifyTrade(ctx context.Context, t payevents.TradeSucceeded) error {
	pt, err := s.pay.GetTrade(ctx, t.TradeID)
	switch {
	case httpapi.HasCode(err, payclient.CodeNotFound):
		return fmt.Errorf("%w: trade %s is unknown to PAY", domain.ErrUnverifiedTrade, t.TradeID)
	case err != nil:
		return fmt.Errorf("ask PAY about trade %s: %w", t.TradeID, err)
	case pt.Status != payclient.TradeSucceeded:
		return fmt.Errorf("%w: trade %s is %s at PAY", domain.ErrUnverifiedTrade, t.TradeID, pt.Status)
	case pt.OrderID != t.OrderID || pt.CustomerID != t.CustomerID:
		return fmt.Errorf("%w: trade %s is for order %s of %s at PAY, not %s of %s", domain.ErrUnverifiedTrade, t.TradeID,
			pt.OrderID, pt.CustomerID, t.OrderID, t.CustomerID)
	case pt.PaidFen != t.AmountFen:
		return fmt.Errorf("%w: trade %s paid %s at PAY, not %s", domain.ErrUnverifiedTrade, t.TradeID, pt.PaidFen, t.AmountFen)
	}
	return nil
}

// OnTradeSucceeded is ApplyTrade for the subscriber (subscribe.Trades).
func (s *Service) OnTradeSucceeded(ctx context.Context, msgID string, t payevents.TradeSucceeded) error {
	_, err := s.ApplyTrade(ctx, msgID, t)
	return err
}

// ApplyTrade applies PAY's verified cash payment (DOMAIN 1.5), once PAY
// has confirmed it (verifyTrade). In one
// transaction with the inbox claim of msgID: a PENDING_PAYMENT order paid
// the exact cash due becomes PAID (oms.order.paid); an order that cannot
// take the money — cancelled, paid by another trade, or a wrong amount —
// stays as it is and oms.payment.rejected asks PAY to refund it in full
// (DOMAIN 1.4 case 4). The same trade again changes nothing.
func (s *Service) ApplyTrade(ctx context.Context, msgID string, t payevents.TradeSucceeded) (PaymentResult, error) {
	if t.OrderID == "" || t.TradeID == "" || t.AmountFen <= 0 {
		return "", fmt.Errorf("trade %q for order %q: incomplete payload", t.TradeID, t.OrderID)
	}
	if err := s.verifyTrade(ctx, t); err != nil {
		if errors.Is(err, domain.ErrUnverifiedTrade) {
			paymentsApplied.WithLabelValues("unverified").Inc()
		}
		return "", err
	}
	claim := &InboxClaim{Consumer: TradeConsumer, MsgID: msgID}
	var result PaymentResult
	_, err := s.repo.Update(ctx, t.OrderID, claim, func(o *domain.Order) ([]outbox.Event, error) {
		now := s.clock.Now()
		err := o.MarkPaid(t.TradeID, t.AmountFen, now)
		switch {
		case err == nil:
			result = PaymentPaid
			return []outbox.Event{paidEvent(o, now)}, nil
		case errors.Is(err, domain.ErrAlreadyPaid), o.PaymentRejected(t.TradeID):
			result = PaymentDuplicate
			return nil, ErrNoChange
		case errors.Is(err, domain.ErrNotPayable), errors.Is(err, domain.ErrAmountMismatch):
			result = PaymentRejected
			o.RejectPayment(t.TradeID, t.AmountFen, now)
			return []outbox.Event{rejectedEvent(o.ID(), t.TradeID, t.AmountFen, string(o.Status()))}, nil
		}
		return nil, err
	})
	switch {
	case errors.Is(err, ErrDuplicateMessage):
		result, err = PaymentDuplicate, nil
	case errors.Is(err, domain.ErrNotFound):
		// PAY only takes cash for orders OMS called payable, so this is a
		// trade nobody can fulfil: give the money back.
		result = PaymentRejected
		err = s.repo.Record(ctx, claim, []outbox.Event{rejectedEvent(t.OrderID, t.TradeID, t.AmountFen, "NOT_FOUND")})
		if errors.Is(err, ErrDuplicateMessage) {
			result, err = PaymentDuplicate, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("apply trade %s to order %s: %w", t.TradeID, t.OrderID, err)
	}
	paymentsApplied.WithLabelValues(string(result)).Inc()
	if result != PaymentDuplicate {
		s.notify()
	}
	return result, nil
}
