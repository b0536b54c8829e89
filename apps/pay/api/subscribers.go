package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/platform/daprx"
)

// Subscribe registers PAY's consumers of OMS's events. Each decodes, runs a
// use case that claims the message id in its transaction, and maps the
// result: nil done, ErrDrop for a payload that can never apply, else retry.
func Subscribe(svc common.Service, pubsub string, s *app.Service) error {
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
			if errors.Is(err, app.ErrUnconfirmed) {
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
			if errors.Is(err, app.ErrUnconfirmed) {
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

// Bindings registers the cron binding handlers: pay-poll (trades whose
// callback is late) and pay-deduction-sweep (held deductions no order used).
func Bindings(svc common.Service, s *app.Service) error {
	if err := svc.AddBindingInvocationHandler("/pay-poll", func(ctx context.Context, _ *common.BindingEvent) ([]byte, error) {
		_, err := s.PollTrades(ctx)
		return nil, err
	}); err != nil {
		return err
	}
	return svc.AddBindingInvocationHandler("/pay-deduction-sweep", func(ctx context.Context, _ *common.BindingEvent) ([]byte, error) {
		_, err := s.SweepDeductions(ctx)
		return nil, err
	})
}
