package api

import (
	"context"
	"log/slog"
	"sync"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/oms/app"
)

// SweepBinding handles the cron input binding that runs the expiry sweep.
// A pass still running when the next tick comes makes that tick skip:
// passes would only compete for the same rows.
func SweepBinding(svc common.Service, name string, uc *app.Service, log *slog.Logger) error {
	var running sync.Mutex
	return svc.AddBindingInvocationHandler("/"+name, func(ctx context.Context, _ *common.BindingEvent) ([]byte, error) {
		if !running.TryLock() {
			return nil, nil
		}
		defer running.Unlock()
		n, err := uc.SweepExpired(ctx)
		if n > 0 {
			log.InfoContext(ctx, "expiry sweep cancelled unpaid orders", "count", n)
		}
		if err != nil {
			log.WarnContext(ctx, "expiry sweep incomplete; the next tick retries", "err", err)
		}
		return nil, nil
	})
}
