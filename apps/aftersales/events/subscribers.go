package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/daprx"
)

// Processor is what the subscriber runs (*app.Service): it reads the
// request from after-sales' own database and moves it on; every step is
// idempotent, so a redelivery only repeats what is done.
type Processor interface {
	Process(ctx context.Context, id string) error
}

// Subscribe registers after-sales' consumer of its own accepted requests.
// The event carries only the request id; an unknown id is dropped.
func Subscribe(svc common.Service, pubsub string, p Processor, waiting func(error) bool, notFound func(error) bool) error {
	h := func(ctx context.Context, m daprx.Message) error {
		var ev RequestAccepted
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.RequestID == "" {
			return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
		}
		err := p.Process(ctx, ev.RequestID)
		switch {
		case err == nil, waiting(err):
			return nil // the sweep comes back for it
		case notFound(err):
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	}
	if err := daprx.Subscribe(svc, pubsub, TopicRequestAccepted, h); err != nil {
		return fmt.Errorf("subscribe %s: %w", TopicRequestAccepted, err)
	}
	return nil
}

// Rejecter is what the refusal subscriber runs (*app.Service).
type Rejecter interface {
	Reject(ctx context.Context, orderID string) error
}

// RejecterFunc adapts a function to Rejecter.
type RejecterFunc func(ctx context.Context, orderID string) error

// Reject calls f.
func (f RejecterFunc) Reject(ctx context.Context, orderID string) error { return f(ctx, orderID) }

// SubscribeRefusals registers the consumer of OMS's refusals at the door
// (oms.order.refused): each becomes a rejection by itself. The rejection
// is one per order, so a redelivery answers the one made; an event OMS
// does not confirm (drop) is dropped.
func SubscribeRefusals(svc common.Service, pubsub string, r Rejecter, drop func(error) bool) error {
	h := func(ctx context.Context, m daprx.Message) error {
		var ev omsevents.OrderDelivery
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.OrderID == "" {
			return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
		}
		err := r.Reject(ctx, ev.OrderID)
		if err != nil && drop(err) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	}
	if err := daprx.Subscribe(svc, pubsub, omsevents.TopicOrderRefused, h); err != nil {
		return fmt.Errorf("subscribe %s: %w", omsevents.TopicOrderRefused, err)
	}
	return nil
}

// RefundWaiter is what the refund subscriber runs (*app.Service).
type RefundWaiter interface {
	RefundSucceeded(ctx context.Context, orderID string) error
}

// SubscribeRefunds registers the consumer of PAY's refunds
// (pay.refund.succeeded): the order's requests that wait on PAY move on
// when one of its refunds succeeds, rather than when the sweep next asks
// PAY (every request of a burst was asked again and again meanwhile).
// Moving a request on is idempotent and believes only what PAY answers,
// so a redelivery, or an event ahead of the refund's other trades, only
// asks again; still waiting (waiting) is not an error: the sweep remains.
func SubscribeRefunds(svc common.Service, pubsub string, w RefundWaiter, waiting func(error) bool) error {
	h := func(ctx context.Context, m daprx.Message) error {
		var ev payevents.RefundSucceeded
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.OrderID == "" {
			return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
		}
		if err := w.RefundSucceeded(ctx, ev.OrderID); err != nil && !waiting(err) {
			return err
		}
		return nil
	}
	if err := daprx.Subscribe(svc, pubsub, payevents.TopicRefundSucceeded, h); err != nil {
		return fmt.Errorf("subscribe %s: %w", payevents.TopicRefundSucceeded, err)
	}
	return nil
}
