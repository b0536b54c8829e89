// Command marketing is the marketing service: goods-gift campaigns issued
// by staff (DOMAIN 3.2), their candidate lists imported from .xlsx files,
// the gifts fulfillment stage 3 asks it to grant, and the coupon wallet
// (templates, bound coupons, the holds PAY's COUPON deduction takes), and
// pop-up claims on Redis-counted stock (DOMAIN 3.3). main wires
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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/api"
	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/claimstock"
	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/marketing/marketingconfig"
	"github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
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
	st := store.New(a.DB)
	svc := app.New(st, clock.System{}, a.Logger)
	api.Mount(a.Mux, svc)
	wallet := app.NewWallet(st, app.PayHolds{C: payclient.New(a.Invoker)}, clock.System{}, a.Logger)
	wallet.CheckAfter = cfg.HoldCheckAfter
	api.MountWallet(a.Mux, wallet)
	api.MountPointsCoupons(a.Mux, app.NewPointsCoupons(st, wallet.Now))
	a.Go(func(ctx context.Context) error { wallet.RunChecks(ctx, 10*time.Second); return nil })
	campaigns := app.NewCampaigns(st, partnersclient.New(a.Invoker, cfg.BIApp), partnersclient.New(a.Invoker, cfg.SMSApp),
		clock.System{}, a.Relay.Notify, a.Logger)
	campaigns.PageSize = cfg.CampaignPage
	api.MountCampaigns(a.Mux, campaigns)
	// Pop-up claims: stock in Redis, the claims' queues a worker of the
	// app's (they stop after the listeners, so every claim accepted was
	// queued, and hand what they hold to the broker before the relay drains).
	rdb := redis.NewClient(&redis.Options{Addr: base.RedisAddr, DB: base.RedisDB, PoolSize: 64})
	a.OnClose(func() { _ = rdb.Close() })
	claims := app.NewClaims(st, claimstock.New(rdb, cfg.RedisPrefix), clock.System{}, a.Relay.Notify, a.Logger, cfg.ClaimQueue)
	claims.Binders = cfg.ClaimBinders
	wallet.Pending = claims.IssuePending
	wallet.Catalog = app.InventoryCatalog{C: inventoryclient.New(a.Invoker)}
	api.MountClaims(a.Mux, claims)
	a.Go(claims.Run)
	a.Health.Add("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	if err := events.Subscribe(a.Service, a, base.PubSub, campaigns, int32(cfg.CampaignBulk)); err != nil {
		return err
	}
	if err := events.SubscribeClaims(a.Service, base.PubSub, claims); err != nil {
		return err
	}
	if cfg.Seed {
		seeded, err := wallet.Seed(ctx, cfg.SeedCustomers)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if seeded {
			a.Logger.Info("seeded coupons", "customers", cfg.SeedCustomers)
		}
	}
	// The candidate upload is a file, above the listener's default body limit.
	a.AllowBody("POST /v1/campaigns/{id}/candidates", api.MaxFileBytes+1)
	a.AllowBatch(marketingclient.BatchRoutes...)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
