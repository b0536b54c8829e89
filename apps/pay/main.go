// Command pay is PAY, the payment service: non-cash accounts and
// deductions, cash payments through the channels, refunds, and pushes to
// finance. main wires configuration, the runtime, the use cases and the
// routes; everything else lives in the subpackages.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/api"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/payconfig"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/runtime"
)

func main() {
	if err := run(); err != nil {
		slog.Error("pay stopped", "err", err)
		os.Exit(1)
	}
}

// Config is PAY's configuration (apps/pay/payconfig).
type Config = payconfig.Config

func readConfig() (Config, error) { return payconfig.Read(config.New()) }

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := readConfig()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return err
	}
	channels := channel.NewSet(a.Invoker, cfg.Channel)
	svc := app.New(store.New(a.DB), omsclient.New(a.Invoker), app.WalletClient{C: marketingclient.New(a.Invoker)}, channels, a.Invoker, clock.System{}, a.Relay.Notify, a.Logger,
		app.Config{HoldBound: cfg.HoldBound, PollAfter: cfg.PollAfter, FinanceApp: cfg.FinanceApp,
			RefundConcurrency: cfg.RefundConcurrency})
	api.Mount(a.Mux, svc)
	if err := events.Subscribe(a.Service, cfg.Base.PubSub, svc); err != nil {
		return err
	}
	if err := api.Bindings(a.Service, svc); err != nil {
		return err
	}
	if cfg.Seed {
		seeded, err := svc.Seed(ctx, cfg.SeedCustomers)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if seeded {
			a.Logger.Info("seeded accounts", "customers", cfg.SeedCustomers)
		}
	}
	a.Go(svc.Run)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
