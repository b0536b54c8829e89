// Command oms is the order service (OMS): the accept-order API, the order
// state machine and payment expiry. It hosts the ExpiryWindow and
// UnpaidOrder actors (the payment-deadline reminders), so it runs on the
// go-sdk HTTP service beside its Dapr sidecar, and runs the fulfillment
// engine (apps/oms/fulfillment) that walks paid orders through the sixteen
// stages. This file is wiring only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/actors"
	"github.com/harvest/harvest/apps/oms/api"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/events/subscribe"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/runtime"
	"github.com/harvest/harvest/apps/wms/wmsclient"
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
	repo := store.New(a.DB)
	// The payment-deadline reminders: one per second of deadlines (the
	// default), or one per order (HARVEST_EXPIRY_REMINDERS; apps/oms/actors,
	// whose package comment has the measurement). Both actor
	// types are hosted whichever arms, so reminders armed before a switch
	// still fire.
	windows := actors.NewWindows(a.Dapr, 10_000, a.Logger)
	orders := actors.NewOrders(a.Dapr, 20_000, a.Logger)
	var reminders app.Reminders = orders
	if cfg.ExpiryReminders == actors.DesignWindow {
		reminders = windows
		a.Go(func(ctx context.Context) error { return windows.Run(ctx, actors.ArmWorkers, 5*time.Second) })
	} else {
		a.Go(func(ctx context.Context) error { return orders.Run(ctx, actors.ArmWorkers, 5*time.Second) })
	}
	svc := app.New(app.Deps{
		Repo:      repo,
		Inventory: inventoryclient.New(a.Invoker),
		Pay:       payclient.New(a.Invoker),
		Coupons:   marketingclient.New(a.Invoker),
		Reminders: reminders,
		Warehouse: wmsclient.New(a.Invoker),
		Clock:     clock.System{},
		Notify:    a.Relay.Notify,
		Logger:    a.Logger,
	}, cfg.App)

	api.Mount(a.Mux, svc)
	// Customers' address books, checked against inventory's served areas.
	api.MountAddresses(a.Mux, app.NewAddressBooks(repo, inventoryclient.New(a.Invoker), clock.System{}))
	a.AllowBatch(omsclient.BatchRoutes...)
	a.Invoker.Batch(inventoryclient.AppID, inventoryclient.RouteReserve)
	// Fulfillment's calls to the apps of this platform travel in batches
	// too, sized for throughput; its calls to partners do not, as real
	// partners have no batch endpoint.
	a.Invoker.BatchForThroughput(inventoryclient.AppID, inventoryclient.RouteCatalogBatch)
	a.Invoker.BatchForThroughput(marketingclient.AppID, marketingclient.BatchRoutes...)
	a.Invoker.BatchForThroughput(wmsclient.AppID, wmsclient.BatchRoutes...)
	if err := subscribe.Trades(a.Service, cfg.Base.PubSub, svc); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := subscribe.Warehouse(a.Service, cfg.Base.PubSub, svc); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := api.SweepBinding(a.Service, cfg.SweepBinding, svc, a.Logger); err != nil {
		return fmt.Errorf("expiry sweep binding: %w", err)
	}
	a.Service.RegisterActorImplFactoryContext(actors.Factory(svc, windows, a.Logger))
	a.Service.RegisterActorImplFactoryContext(actors.OrderFactory(svc, a.Logger))

	// Fulfillment (DOMAIN 1.6): the engine runs beside the API and starts
	// on oms.order.paid.
	eng := fulfillment.New(fulfillment.Deps{
		DB:        a.DB,
		Orders:    repo,
		Partners:  partnersclient.New(a.Invoker, cfg.PartnersAppID),
		Gifts:     marketingclient.New(a.Invoker),
		Warehouse: wmsclient.New(a.Invoker),
		Catalog:   inventoryclient.New(a.Invoker),
		Clock:     clock.System{},
		Logger:    a.Logger,
		Notify:    a.Relay.Notify,
	}, cfg.Fulfillment)
	api.MountFulfillment(a.Mux, eng)
	api.MountContacts(a.Mux, eng)
	subscribe.Paid(a, cfg.Base.PubSub, eng)
	a.Go(eng.Run)
	// Dapr 1.18 keeps actor reminders in the Scheduler (1.14 kept them in
	// state-store values it rewrote whole on every registration, which
	// remindersStoragePartitions split; 1.18 ignores that setting). A
	// window's or an order's actor is idle once it has fired, so it is
	// deactivated soon after.
	a.SetActorSettings(map[string]any{
		"actorIdleTimeout": "2m",
	})
	a.Logger.Info("oms configured", "pay_deadline", cfg.App.PayDeadline.String(),
		"channel_deadlines", fmt.Sprint(cfg.App.ChannelDeadlines), "reserve_ttl", cfg.App.ReserveTTL.String(),
		"expiry_reminders", cfg.ExpiryReminders)
	return a.Run(ctx)
}
