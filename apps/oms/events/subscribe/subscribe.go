// Package subscribe holds OMS's topic subscribers, in one place. They
// live beside OMS's contract (package events, the topics and payloads OMS
// publishes) rather than in it because PAY's subscribers import that
// contract, and OMS's import PAY's: one package would make a cycle.
package subscribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	wmsevents "github.com/harvest/harvest/apps/wms/events"
)

// Payments is the use case OMS's trade subscriber runs (*app.Service); it
// claims the message id in its transaction, so a redelivery changes
// nothing.
type Payments interface {
	OnTradeSucceeded(ctx context.Context, msgID string, t payevents.TradeSucceeded) error
}

// Trades registers OMS's subscriber of PAY's trades: pay.trade.succeeded marks
// orders paid (or asks for a refund). A trade PAY does not confirm
// (domain.ErrUnverifiedTrade) is dropped, anything else failing retried.
func Trades(svc common.Service, pubsub string, p Payments) error {
	return daprx.Subscribe(svc, pubsub, payevents.TopicTradeSucceeded, func(ctx context.Context, m daprx.Message) error {
		var t payevents.TradeSucceeded
		if err := json.Unmarshal(m.Data, &t); err != nil {
			return fmt.Errorf("%w: decode trade: %v", daprx.ErrDrop, err)
		}
		if t.OrderID == "" || t.TradeID == "" || t.AmountFen <= 0 {
			return fmt.Errorf("%w: trade %q for order %q is incomplete", daprx.ErrDrop, t.TradeID, t.OrderID)
		}
		err := p.OnTradeSucceeded(ctx, m.ID, t)
		if errors.Is(err, domain.ErrUnverifiedTrade) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	})
}

// BulkSubscriber declares bulk subscriptions (runtime.App does).
type BulkSubscriber interface {
	SubscribeBulk(pubsub, topic, match string, max, waitMs int32, h daprx.BulkHandler)
}

// Starter starts the fulfillment of a paid order once per message
// (*fulfillment.Engine).
type Starter interface {
	Start(ctx context.Context, msgID, orderID string) (started bool, err error)
}

// Bulk deliveries of oms.order.paid: every paid order reaches the engine,
// so they come in bulks of up to paidBulk, gathered for at most
// paidWaitMs, and are started together (Engine.Start groups the starts
// that arrive at once into one transaction).
const (
	paidBulk   = 100
	paidWaitMs = 20
)

// Paid registers the start of fulfillment on oms.order.paid.
func Paid(bulk BulkSubscriber, pubsub string, s Starter) {
	bulk.SubscribeBulk(pubsub, events.TopicOrderPaid, "", paidBulk, paidWaitMs, daprx.EachMessageAtOnce(func(ctx context.Context, m daprx.Message) error {
		var p events.OrderPaid
		if err := json.Unmarshal(m.Data, &p); err != nil {
			return fmt.Errorf("%w: decode paid order: %v", daprx.ErrDrop, err)
		}
		if p.OrderID == "" {
			return fmt.Errorf("%w: paid event without an order id", daprx.ErrDrop)
		}
		_, err := s.Start(ctx, m.ID, p.OrderID)
		return err
	}))
}

// Delivery is the use cases OMS's subscribers of WMS's parcel and
// shortage events run (*app.Service).
type Delivery interface {
	TrackDelivery(ctx context.Context, orderID string) (domain.Status, error)
	RecordShortage(ctx context.Context, msgID, orderID, note string) error
}

// Warehouse registers OMS's subscribers of WMS: wms.parcel.tracked moves an
// order along its delivery leg, as WMS answers when asked (the event only
// says "look"); wms.shortage.reported puts a confirmed shortage on the
// order's timeline for customer service, once per message.
func Warehouse(svc common.Service, pubsub string, d Delivery) error {
	if err := daprx.Subscribe(svc, pubsub, wmsevents.TopicParcelTracked, func(ctx context.Context, m daprx.Message) error {
		var p wmsevents.Parcel
		if err := json.Unmarshal(m.Data, &p); err != nil || p.OrderID == "" {
			return fmt.Errorf("%w: decode parcel: %v", daprx.ErrDrop, err)
		}
		_, err := d.TrackDelivery(ctx, p.OrderID)
		if errors.Is(err, domain.ErrNotFound) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	}); err != nil {
		return err
	}
	return daprx.Subscribe(svc, pubsub, wmsevents.TopicShortageReported, func(ctx context.Context, m daprx.Message) error {
		var ev wmsevents.ShortageReported
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.OrderID == "" {
			return fmt.Errorf("%w: decode shortage: %v", daprx.ErrDrop, err)
		}
		err := d.RecordShortage(ctx, m.ID, ev.OrderID, shortageNote(ev))
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrBadTransition) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	})
}

// shortageNote is the timeline's reading of a confirmed shortage.
func shortageNote(ev wmsevents.ShortageReported) string {
	parts := make([]string, len(ev.Lines))
	for i, l := range ev.Lines {
		parts[i] = fmt.Sprintf("%s: %d ordered, %d short (%s), %d ship, %d back on the shelf", l.SKU, l.Ordered, l.Short, l.Reason, l.Ship, l.Withheld)
	}
	return "work order " + ev.WorkOrderID + " " + ev.Status + ": " + strings.Join(parts, "; ")
}
