// Command oms is the order service (OMS): the accept-order API, the order
// state machine and payment expiry. It hosts the OrderExpiry actor, so it
// runs on the go-sdk HTTP service beside its Dapr sidecar. This file is
// wiring only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/actors"
	"github.com/harvest/harvest/apps/oms/api"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/runtime"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oms:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := readConfig(os.Environ())
	if err != nil {
		return err
	}
	a, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return err
	}
	reminders := actors.NewReminders(a.Dapr)
	svc := app.New(app.Deps{
		Repo:      store.New(a.DB),
		Inventory: inventoryclient.New(a.Invoker),
		Pay:       payclient.New(a.Invoker),
		Reminders: reminders,
		Clock:     clock.System{},
		Notify:    a.Relay.Notify,
		Logger:    a.Logger,
	}, cfg.App)

	api.Mount(a.Mux, svc)
	if err := api.Subscribe(a.Service, cfg.Base.PubSub, svc); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := api.SweepBinding(a.Service, cfg.SweepBinding, svc, a.Logger); err != nil {
		return fmt.Errorf("expiry sweep binding: %w", err)
	}
	a.Service.RegisterActorImplFactoryContext(actors.Factory(svc, reminders, a.Logger))
	a.Logger.Info("oms configured", "pay_deadline", cfg.App.PayDeadline.String(),
		"channel_deadlines", fmt.Sprint(cfg.App.ChannelDeadlines), "reserve_ttl", cfg.App.ReserveTTL.String())
	return a.Run(ctx)
}
