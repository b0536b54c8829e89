// Command marketing is the marketing service: here, goods-gift campaigns
// issued by staff (DOMAIN 3.2), their candidate lists imported from .xlsx
// files, and the gifts fulfillment stage 3 asks it to grant. main wires
// configuration, the runtime, the use cases and the routes.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/harvest/harvest/apps/marketing/api"
	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/marketing/marketingconfig"
	"github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/runtime"
)

func main() {
	if err := run(); err != nil {
		slog.Error("marketing stopped", "err", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := marketingconfig.Read(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	base := cfg.Base
	a, err := runtime.New(ctx, base)
	if err != nil {
		return err
	}
	svc := app.New(store.New(a.DB), clock.System{}, a.Logger)
	api.Mount(a.Mux, svc)
	// The candidate upload is a file, above the listener's default body limit.
	a.AllowBody("POST /v1/campaigns/{id}/candidates", api.MaxFileBytes+1)
	a.AllowBatch(marketingclient.BatchRoutes...)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
