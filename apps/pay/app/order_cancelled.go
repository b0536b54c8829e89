package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// ErrUnconfirmed: an event that would move money was not confirmed by its
// owner (OMS does not say the order is cancelled). The subscriber drops it.
var ErrUnconfirmed = domain.ErrUnconfirmed

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
// event's own list; the trades refunded are the order's and the one OMS
// says paid it (a pull-back's order holds nothing in PAY: the event's
// trade id only says to ask).
func (s *Service) OnOrderCancelled(ctx context.Context, msgID string, ev events.OrderCancelled) error {
	if ev.OrderID == "" {
		return fmt.Errorf("%w: cancelled event without an order id", ErrUnconfirmed)
	}
	holds, err := s.repo.HoldsFor(ctx, ev.OrderID)
	if err != nil {
		return err
	}
	if !holds && len(ev.DeductionIDs) == 0 && ev.TradeID == "" {
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
	reversed := func(d domain.Deduction) outbox.Event {
		return outbox.Event{Topic: payevents.TopicRefundSucceeded, AggregateID: ev.OrderID, Type: payevents.TopicRefundSucceeded + ".v1",
			Payload: payevents.RefundSucceeded{RefundID: d.ID(), OrderID: ev.OrderID, AmountFen: d.TotalFen(), Reason: domain.ReasonCancel, At: now}}
	}
	unknown := func(id string) {
		s.log.Warn("cancelled order names an unknown deduction", "order", ev.OrderID, "deduction", id)
	}
	fresh, err := s.repo.SettleCancelled(ctx, InboxClaim{Consumer: consumerOrderCancelled, MsgID: msgID},
		CancelledOrder{ID: ev.OrderID, CustomerID: o.CustomerID, DeductionIDs: o.DeductionIDs, TradeID: o.TradeID}, now, reversed, unknown)
	if err == nil && fresh {
		s.notify()
		s.Wake()
	}
	return err
}
