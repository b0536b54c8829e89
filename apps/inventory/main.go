// Command inventory is the product center and sellable-stock service:
// catalog and search, reservations for orders (ordinary SKUs in MariaDB,
// flash-sale SKUs in Redis with a durable write-back), the check-back that
// settles reservations whose order never confirmed, and the consumers of
// OMS's order events. This file is wiring only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dapr/go-sdk/service/common"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/api"
	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/events"
	"github.com/harvest/harvest/apps/inventory/hotstock"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/inventory/inventoryconfig"
	"github.com/harvest/harvest/apps/inventory/seed"
	"github.com/harvest/harvest/apps/inventory/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/runtime"
)

// checkBackBinding is the cron input binding's name
// (components/local/inventory-checkback.yaml).
const checkBackBinding = "inventory-checkback"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "inventory:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := inventoryconfig.Read(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	base, seedOn, prefix, batch := cfg.Base, cfg.Seed, cfg.RedisPrefix, cfg.CheckBackBatch

	a, err := runtime.New(ctx, base)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: base.RedisAddr, DB: base.RedisDB, PoolSize: 128})
	a.OnClose(func() { _ = rdb.Close() })
	a.Health.Add("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })

	st := store.New(a.DB, clock.System{})
	hot := hotstock.New(rdb, a.DB, prefix)
	if seedOn {
		if did, err := seed.IfEmpty(ctx, st); err != nil {
			return err
		} else if did {
			a.Logger.Info("seeded the catalog")
		}
	}
	if n, err := hot.EnsureAll(ctx); err != nil {
		return fmt.Errorf("rebuild hot stock: %w", err)
	} else if n > 0 {
		a.Logger.Info("rebuilt hot stock counters from MariaDB", "count", n)
	}

	svc := app.New(st, hot, omsclient.New(a.Invoker), clock.System{}, app.Options{CheckBackBatch: batch, Logger: a.Logger})
	api.Mount(a.Mux, svc)
	a.AllowBatch(inventoryclient.BatchRoutes...)
	if err := events.Subscribe(a.Service, a, base.PubSub, svc); err != nil {
		return err
	}
	if err := a.Service.AddBindingInvocationHandler(checkBackBinding, func(ctx context.Context, _ *common.BindingEvent) ([]byte, error) {
		rep, err := svc.CheckBack(ctx)
		if err != nil {
			return nil, err
		}
		if rep != (app.CheckBackReport{}) {
			a.Logger.InfoContext(ctx, "check-back", "confirmed", rep.Confirmed, "released", rep.Released,
				"failed", rep.Failed, "hot_settled", rep.HotSettled, "orphans", rep.Orphans, "prices_rolled", rep.PricesRolled)
		}
		return nil, nil
	}); err != nil {
		return err
	}
	host, _ := os.Hostname()
	a.Go(func(ctx context.Context) error {
		return hot.RunWriteBack(ctx, hotstock.WriteBackOptions{Consumer: host + "-" + ids.New(), Logger: a.Logger.With("worker", "hot-writeback")})
	})
	a.Logger.Info("inventory wired", "redis_db", base.RedisDB, "redis_prefix", prefix)
	return a.Run(ctx)
}
