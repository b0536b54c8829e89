package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Handlers is the use cases WMS's own subscribers run (*app.Service):
// outbound is driven by WMS's messages to itself, each step's commit
// writing the message that starts the next (no polling job). The split
// claims its message id in its transaction; allocation is guarded by the
// work order's status; the TMS import is idempotent by batch id at TMS.
type Handlers interface {
	SplitOrder(ctx context.Context, msgID, wmsOrderID string) ([]domain.WorkOrder, error)
	AllocateWorkOrder(ctx context.Context, id string) (domain.WorkOrder, error)
	ReleaseWaiting(ctx context.Context, warehouse, sku string) (int, error)
	ImportHandover(ctx context.Context, h HandoverCompleted) error
	// OrderCancelled releases a cancelled order's ERP occupations
	// (oms.order.cancelled); idempotent.
	OrderCancelled(ctx context.Context, orderID string) error
}

// Subscribe registers WMS's consumers of its own outbound events, and of
// OMS's cancellations (which release ERP occupations). Each
// decodes, runs a use case and maps the result: nil done, ErrDrop for a
// payload that can never apply (bad JSON, unknown document, invalid
// data), else retry.
func Subscribe(svc common.Service, pubsub string, h Handlers) error {
	subs := []struct {
		topic string
		h     daprx.Handler
	}{
		{TopicOrderReceived, func(ctx context.Context, m daprx.Message) error {
			var ev OrderReceived
			if err := decode(m, &ev); err != nil {
				return err
			}
			_, err := h.SplitOrder(ctx, m.ID, ev.WMSOrderID)
			return permanent(err)
		}},
		{TopicWorkOrderCreated, func(ctx context.Context, m daprx.Message) error {
			var ev WorkOrder
			if err := decode(m, &ev); err != nil {
				return err
			}
			_, err := h.AllocateWorkOrder(ctx, ev.WorkOrderID)
			return permanent(err)
		}},
		{TopicStockReceived, func(ctx context.Context, m daprx.Message) error {
			var ev StockReceived
			if err := decode(m, &ev); err != nil {
				return err
			}
			_, err := h.ReleaseWaiting(ctx, ev.Warehouse, ev.SKU)
			return permanent(err)
		}},
		{TopicHandoverCompleted, func(ctx context.Context, m daprx.Message) error {
			var ev HandoverCompleted
			if err := decode(m, &ev); err != nil {
				return err
			}
			return permanent(h.ImportHandover(ctx, ev))
		}},
		{omsevents.TopicOrderCancelled, func(ctx context.Context, m daprx.Message) error {
			var ev omsevents.OrderCancelled
			if err := decode(m, &ev); err != nil {
				return err
			}
			return permanent(h.OrderCancelled(ctx, ev.OrderID))
		}},
	}
	for _, sub := range subs {
		if err := daprx.Subscribe(svc, pubsub, sub.topic, sub.h); err != nil {
			return fmt.Errorf("subscribe %s: %w", sub.topic, err)
		}
	}
	return nil
}

// permanent turns errors no retry can fix into drops.
func permanent(err error) error {
	if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrValidation) {
		return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
	}
	return err
}

func decode(m daprx.Message, v any) error {
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
	}
	return nil
}
