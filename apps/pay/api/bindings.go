package api

import (
	"context"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/pay/app"
)

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
