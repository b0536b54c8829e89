package hub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/graph/model"
)

// Topics are the OMS topics the hub follows.
var Topics = []string{events.TopicOrderPlaced, events.TopicOrderPaid, events.TopicOrderCancelled,
	events.TopicOrderShipped, events.TopicOrderCompleted, events.TopicOrderRefused}

// deliveryTypes are the update types of the delivery leg's topics.
var deliveryTypes = map[string]model.OrderEventType{
	events.TopicOrderShipped:   model.OrderEventTypeShipped,
	events.TopicOrderCompleted: model.OrderEventTypeCompleted,
	events.TopicOrderRefused:   model.OrderEventTypeRefused,
}

// Decode turns one OMS event into the update subscribers see. A payload
// that cannot be read wraps daprx.ErrDrop: retrying it cannot help.
func Decode(topic string, data []byte) (*model.OrderUpdate, error) {
	switch topic {
	case events.TopicOrderPlaced:
		var e events.OrderPlaced
		if err := json.Unmarshal(data, &e); err != nil || e.OrderID == "" {
			return nil, bad(topic, err)
		}
		st := model.OrderStatus(e.Status)
		if !st.IsValid() {
			st = model.OrderStatusPendingPayment
		}
		return &model.OrderUpdate{OrderID: e.OrderID, CustomerID: e.CustomerID, Type: model.OrderEventTypePlaced, Status: st, At: e.PlacedAt}, nil
	case events.TopicOrderPaid:
		var e events.OrderPaid
		if err := json.Unmarshal(data, &e); err != nil || e.OrderID == "" {
			return nil, bad(topic, err)
		}
		return &model.OrderUpdate{OrderID: e.OrderID, CustomerID: e.CustomerID, Type: model.OrderEventTypePaid, Status: model.OrderStatusPaid, At: e.PaidAt}, nil
	case events.TopicOrderCancelled:
		var e events.OrderCancelled
		if err := json.Unmarshal(data, &e); err != nil || e.OrderID == "" {
			return nil, bad(topic, err)
		}
		u := &model.OrderUpdate{OrderID: e.OrderID, CustomerID: e.CustomerID, Type: model.OrderEventTypeCancelled, Status: model.OrderStatusCancelled, At: e.CancelledAt}
		if e.Reason != "" {
			u.Reason = &e.Reason
		}
		return u, nil
	case events.TopicOrderShipped, events.TopicOrderCompleted, events.TopicOrderRefused:
		var e events.OrderDelivery
		if err := json.Unmarshal(data, &e); err != nil || e.OrderID == "" {
			return nil, bad(topic, err)
		}
		st := model.OrderStatus(e.Status)
		if !st.IsValid() {
			return nil, bad(topic, fmt.Errorf("status %q", e.Status))
		}
		return &model.OrderUpdate{OrderID: e.OrderID, CustomerID: e.CustomerID, Type: deliveryTypes[topic], Status: st, At: e.At}, nil
	}
	return nil, fmt.Errorf("topic %q is not followed: %w", topic, daprx.ErrDrop)
}

func bad(topic string, err error) error {
	if err == nil {
		err = fmt.Errorf("no order_id")
	}
	return fmt.Errorf("decode %s: %v: %w", topic, err, daprx.ErrDrop)
}

// Handle is the daprx.Handler for the OMS topics: decode and publish. The
// hub keeps no state a redelivery could double, so no inbox is needed; a
// duplicate reaches subscribers twice, which the update's idempotent shape
// (status, not delta) makes harmless.
func (h *Hub) Handle(_ context.Context, m daprx.Message) error {
	u, err := Decode(m.Topic, m.Data)
	if err != nil {
		return err
	}
	h.Publish(u)
	return nil
}
