package app

import (
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
)

func eventLines(o *domain.Order) []events.Line {
	ls := o.Lines()
	out := make([]events.Line, len(ls))
	for i, l := range ls {
		out[i] = events.Line{SKU: l.SKU, Qty: l.Qty}
	}
	return out
}

func placedEvent(o *domain.Order) outbox.Event {
	return outbox.Event{Topic: events.TopicOrderPlaced, AggregateID: o.ID(), Type: events.TopicOrderPlaced + ".v1",
		Payload: events.OrderPlaced{
			OrderID: o.ID(), CustomerID: o.CustomerID(), Source: string(o.Source()), Status: string(o.Status()),
			TotalFen: o.Total(), CashDueFen: o.CashDue(), DeductionIDs: o.DeductionIDs(), Lines: eventLines(o),
			PayBy: o.PayBy(), PlacedAt: o.CreatedAt(),
		}}
}

// deductionsUsedEvent is placedEvent on the topic PAY takes, for an order
// with non-cash deductions.
func deductionsUsedEvent(o *domain.Order) outbox.Event {
	e := placedEvent(o)
	e.Topic, e.Type = events.TopicDeductionsUsed, events.TopicDeductionsUsed+".v1"
	return e
}

func paidEvent(o *domain.Order, at time.Time) outbox.Event {
	return outbox.Event{Topic: events.TopicOrderPaid, AggregateID: o.ID(), Type: events.TopicOrderPaid + ".v1",
		Payload: events.OrderPaid{OrderID: o.ID(), CustomerID: o.CustomerID(), PaidFen: o.Paid(), TradeID: o.TradeID(), PaidAt: at}}
}

func cancelledEvent(o *domain.Order, at time.Time) outbox.Event {
	return outbox.Event{Topic: events.TopicOrderCancelled, AggregateID: o.ID(), Type: events.TopicOrderCancelled + ".v1",
		Payload: events.OrderCancelled{
			OrderID: o.ID(), CustomerID: o.CustomerID(), Reason: string(o.CancelReason()),
			DeductionIDs: o.DeductionIDs(), CouponIDs: o.CouponIDs(), PaidFen: o.Paid(), TradeID: o.TradeID(), StockOrderID: stockOrderOf(o), Lines: eventLines(o), CancelledAt: at,
		}}
}

// stockOrderOf is the event's stock_order_id: empty when o holds its own.
func stockOrderOf(o *domain.Order) string {
	if id := o.StockOrder(); id != o.ID() {
		return id
	}
	return ""
}

func rejectedEvent(orderID, tradeID string, amount money.Fen, status string) outbox.Event {
	return outbox.Event{Topic: events.TopicPaymentRejected, AggregateID: orderID, Type: events.TopicPaymentRejected + ".v1",
		Payload: events.PaymentRejected{OrderID: orderID, TradeID: tradeID, AmountFen: amount, Status: status}}
}

// CancelledEvent is the oms.order.cancelled event of o, for use cases
// outside this package that cancel an order (the fulfillment fraud audit):
// PAY reverses non-cash and refunds cash, inventory releases the stock.
func CancelledEvent(o *domain.Order, at time.Time) outbox.Event { return cancelledEvent(o, at) }
