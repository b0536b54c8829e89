package app

import (
	"context"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// Receive stores a dispatched delivery order and announces it
// (wms.order.received); the same delivery order again is a duplicate.
func (s *Service) Receive(ctx context.Context, o domain.Order) (string, bool, error) {
	if len(o.Profiles) == 0 {
		o.Profiles = nil // absent and empty hash the same
	}
	if err := o.Validate(); err != nil {
		return "", false, err
	}
	o.WMSOrderID, o.Status, o.ReceivedAt = ids.New(), domain.OrderReceived, s.now()
	id, dup, err := s.store.Receive(ctx, o, receivedEvent(o))
	if err != nil {
		return "", false, err
	}
	if !dup {
		s.notify()
	}
	return id, dup, nil
}

// receivedEvent is the wms.order.received outbox event of o.
func receivedEvent(o domain.Order) outbox.Event {
	d := o.Delivery
	ev := events.OrderReceived{WMSOrderID: o.WMSOrderID, DeliveryOrderID: o.DeliveryOrderID, OrderID: o.OrderID, Warehouse: o.Warehouse,
		DeliveryDate: d.Date, Express: d.Express, ReceivedAt: o.ReceivedAt, Lines: make([]events.Line, len(o.Lines))}
	for i, l := range o.Lines {
		ev.Lines[i] = events.Line{SKU: l.SKU, Qty: l.Qty, Zone: l.Zone}
	}
	return outbox.Event{Topic: events.TopicOrderReceived, AggregateID: o.WMSOrderID, Type: events.TypeOrderReceived, Payload: ev}
}

// Order returns a received order by WMS order id or delivery order id.
func (s *Service) Order(ctx context.Context, id string) (domain.Order, error) {
	return s.store.Order(ctx, id)
}
