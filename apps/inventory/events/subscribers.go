package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
)

// Handlers is the use cases the subscribers run; each has one effect per
// message however often it is delivered (the release by its inbox, the
// confirmation by its guarded transition).
type Handlers interface {
	OrderPlaced(ctx context.Context, msgID, orderID string) error
	OrderCancelled(ctx context.Context, msgID, orderID string) error
}

// Subscribe registers the thin subscribers: oms.order.placed confirms the
// order's reservation, oms.order.cancelled releases it.
func Subscribe(svc common.Service, pubsub string, h Handlers) error {
	if err := daprx.Subscribe(svc, pubsub, omsevents.TopicOrderPlaced, func(ctx context.Context, m daprx.Message) error {
		var e omsevents.OrderPlaced
		if err := decode(m, &e, &e.OrderID); err != nil {
			return err
		}
		return h.OrderPlaced(ctx, m.ID, e.OrderID)
	}); err != nil {
		return err
	}
	return daprx.Subscribe(svc, pubsub, omsevents.TopicOrderCancelled, func(ctx context.Context, m daprx.Message) error {
		var e omsevents.OrderCancelled
		if err := decode(m, &e, &e.OrderID); err != nil {
			return err
		}
		return h.OrderCancelled(ctx, m.ID, e.OrderID)
	})
}

func decode(m daprx.Message, v any, orderID *string) error {
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("%s %s: %w: %v", m.Topic, m.ID, daprx.ErrDrop, err)
	}
	if *orderID == "" || m.ID == "" {
		return fmt.Errorf("%s %s: %w: no order id or message id", m.Topic, m.ID, daprx.ErrDrop)
	}
	return nil
}
