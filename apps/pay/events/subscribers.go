package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/daprx"
)

// Handlers is the use cases PAY's subscribers run (*app.Service); each
// claims the message id in its transaction, so a redelivery changes
// nothing.
type Handlers interface {
	OnOrderPlaced(ctx context.Context, msgID string, ev events.OrderPlaced) error
	OnOrderCancelled(ctx context.Context, msgID string, ev events.OrderCancelled) error
	OnPaymentRejected(ctx context.Context, msgID string, ev events.PaymentRejected) error
}

// Subscribe registers PAY's consumers of OMS's events. Each decodes, runs a
// use case, and maps the result: nil done, ErrDrop for a payload that can
// never apply or an event its owner does not confirm
// (domain.ErrUnconfirmed), else retry.
func Subscribe(svc common.Service, pubsub string, s Handlers) error {
	subs := []struct {
		topic string
		h     daprx.Handler
	}{
		// Only orders that use non-cash deductions concern PAY at placement;
		// OMS publishes those on a topic of their own, so most orders never
		// reach PAY or its sidecar.
		{events.TopicDeductionsUsed, func(ctx context.Context, m daprx.Message) error {
			var ev events.OrderPlaced
			if err := decode(m, &ev); err != nil {
				return err
			}
			return s.OnOrderPlaced(ctx, m.ID, ev)
		}},
		{events.TopicOrderCancelled, func(ctx context.Context, m daprx.Message) error {
			var ev events.OrderCancelled
			if err := decode(m, &ev); err != nil {
				return err
			}
			err := s.OnOrderCancelled(ctx, m.ID, ev)
			if errors.Is(err, domain.ErrUnconfirmed) {
				return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
			}
			return err
		}},
		{events.TopicPaymentRejected, func(ctx context.Context, m daprx.Message) error {
			var ev events.PaymentRejected
			if err := decode(m, &ev); err != nil {
				return err
			}
			err := s.OnPaymentRejected(ctx, m.ID, ev)
			if errors.Is(err, domain.ErrUnconfirmed) {
				return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
			}
			return err
		}},
	}
	for _, sub := range subs {
		if err := daprx.Subscribe(svc, pubsub, sub.topic, sub.h); err != nil {
			return fmt.Errorf("subscribe %s: %w", sub.topic, err)
		}
	}
	return nil
}

func decode(m daprx.Message, v any) error {
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
	}
	return nil
}
