package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	wmsevents "github.com/harvest/harvest/apps/wms/events"
)

// Handlers is the use cases the subscribers run; each has one effect per
// message however often it is delivered (the release by its inbox, the
// confirmation by its guarded transition).
type Handlers interface {
	OrdersPlaced(ctx context.Context, orderIDs []string) []error
	OrderCancelled(ctx context.Context, msgID, orderID string) error
	// StockArrived raises sellable stock by what WMS received, once per
	// receipt id.
	StockArrived(ctx context.Context, receiptID, warehouse, sku string, qty int64) error
}

// BulkSubscriber declares bulk subscriptions (runtime.App does).
type BulkSubscriber interface {
	SubscribeBulk(pubsub, topic, match string, max, waitMs int32, h daprx.BulkHandler)
}

// Bulk deliveries of oms.order.placed: every order placed reaches
// inventory, so they come in bulks of up to placedBulk, gathered for at
// most placedWaitMs, and are confirmed with one statement per bulk.
const (
	placedBulk   = 100
	placedWaitMs = 20
)

// Subscribe registers the subscribers: oms.order.placed confirms the
// orders' reservations (in bulk), oms.order.cancelled releases one,
// wms.stock.received raises the SKU's sellable stock.
func Subscribe(svc common.Service, bulk BulkSubscriber, pubsub string, h Handlers) error {
	bulk.SubscribeBulk(pubsub, omsevents.TopicOrderPlaced, "", placedBulk, placedWaitMs, func(ctx context.Context, ms []daprx.Message) []error {
		errs := make([]error, len(ms))
		var ids []string
		var at []int
		for i, m := range ms {
			var e omsevents.OrderPlaced
			if errs[i] = decode(m, &e, &e.OrderID); errs[i] == nil {
				ids = append(ids, e.OrderID)
				at = append(at, i)
			}
		}
		if len(ids) > 0 {
			for j, err := range h.OrdersPlaced(ctx, ids) {
				errs[at[j]] = err
			}
		}
		return errs
	})
	if err := daprx.Subscribe(svc, pubsub, omsevents.TopicOrderCancelled, func(ctx context.Context, m daprx.Message) error {
		var e omsevents.OrderCancelled
		if err := decode(m, &e, &e.OrderID); err != nil {
			return err
		}
		// A pull-back's order holds its stock under the order it was made
		// from (OMS moved nothing at inventory): release that reservation.
		stockOf := e.OrderID
		if e.StockOrderID != "" {
			stockOf = e.StockOrderID
		}
		return h.OrderCancelled(ctx, m.ID, stockOf)
	}); err != nil {
		return err
	}
	return daprx.Subscribe(svc, pubsub, wmsevents.TopicStockReceived, func(ctx context.Context, m daprx.Message) error {
		var e wmsevents.StockReceived
		if err := json.Unmarshal(m.Data, &e); err != nil || e.ReceiptID == "" || e.SKU == "" || e.Warehouse == "" || e.Qty <= 0 {
			return fmt.Errorf("%s %s: %w: incomplete receipt (%v)", m.Topic, m.ID, daprx.ErrDrop, err)
		}
		return h.StockArrived(ctx, e.ReceiptID, e.Warehouse, e.SKU, e.Qty)
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
