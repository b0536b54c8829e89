package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/oms/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
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

// ApplyTrade applies PAY's verified cash payment (DOMAIN 1.5). In one
// transaction with the inbox claim of msgID: a PENDING_PAYMENT order paid
// the exact cash due becomes PAID (oms.order.paid); an order that cannot
// take the money — cancelled, paid by another trade, or a wrong amount —
// stays as it is and oms.payment.rejected asks PAY to refund it in full
// (DOMAIN 1.4 case 4). The same trade again changes nothing.
func (s *Service) ApplyTrade(ctx context.Context, msgID string, t payevents.TradeSucceeded) (PaymentResult, error) {
	if t.OrderID == "" || t.TradeID == "" || t.AmountFen <= 0 {
		return "", fmt.Errorf("trade %q for order %q: incomplete payload", t.TradeID, t.OrderID)
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
