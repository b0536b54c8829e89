// Command aftersales is after-sales, the reverse flow (DOMAIN 4, 5): it
// takes customers' cancels of paid orders and returns of delivered ones,
// makes rejections from OMS's refusals at the door, holds customer
// service's documents for a supervisor's audit, drives them through OMS,
// WMS, PAY, inventory and the outside systems (the order-push table's
// workers), and keeps the Redis-held filter of orders with requests that
// the gateway's order detail reads. main wires configuration, the
// runtime, the use cases, the routes, the subscribers and the background
// workers.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/aftersalesconfig"
	"github.com/harvest/harvest/apps/aftersales/api"
	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/aftersales/store"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/redislock"
	"github.com/harvest/harvest/apps/platform/runtime"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

func main() {
	if err := run(); err != nil {
		slog.Error("aftersales stopped", "err", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := aftersalesconfig.Read(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Base.RedisAddr, DB: cfg.Base.RedisDB})
	a.OnClose(func() { _ = rdb.Close() })
	a.Health.Add("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	st := store.New(a.DB)
	deps := app.Deps{Repo: st, Orders: omsclient.NewForAfterSales(a.Invoker), Warehouse: wmsclient.New(a.Invoker),
		Payments: payclient.New(a.Invoker), Partners: partnersclient.New(a.Invoker, cfg.PartnersAppID),
		Stock: inventoryclient.New(a.Invoker), Coupons: marketingclient.New(a.Invoker), Filter: aftersalesclient.NewCancelFilter(rdb, aftersalesclient.DefaultFilterPrefix),
		Forward: omsclient.NewForAfterSales(a.Invoker), Shortages: wmsclient.New(a.Invoker),
		Locks: redislock.New(rdb, "harvest:aftersales:lock:", cfg.LockTTL), LockWait: cfg.LockWait,
		Clock: clock.System{}, Notify: a.Relay.Notify, Logger: a.Logger}
	// Customer service's actions: the log and reviews here, carried out by
	// marketing's wallet, OMS and the invoicing system.
	deps.Actions, deps.Coupons, deps.Contacts = st, marketingclient.New(a.Invoker), omsclient.NewForAfterSales(a.Invoker)
	deps.Invoicing = partnersclient.New(a.Invoker, cfg.PartnersAppID)
	if cfg.CrashAfterCancel {
		deps.AfterCancel = func(r *domain.Request, already bool) {
			if !already && strings.Contains(r.Reason(), app.CrashToken) {
				a.Logger.Warn("fault: exiting after OMS cancelled the order, before recording it", "request", r.ID())
				os.Exit(3)
			}
		}
	}
	svc := app.New(deps)
	concurrency := map[domain.PushType]int{}
	for t, n := range cfg.PushConcurrency {
		concurrency[domain.PushType(t)] = n
	}
	pushers := svc.Pushers(st, app.PushOptions{Lease: cfg.PushLease, Timeout: cfg.PushLease - 10*time.Second, Logger: a.Logger}, concurrency)
	a.Go(pushers.Run)
	api.Mount(a.Mux, svc)
	api.MountActions(a.Mux, svc)
	waiting := func(err error) bool { return errors.Is(err, app.ErrNotYet) }
	notFound := func(err error) bool { return errors.Is(err, domain.ErrNotFound) }
	if err := events.Subscribe(a.Service, cfg.Base.PubSub, svc, waiting, notFound); err != nil {
		return err
	}
	if err := events.SubscribeRefunds(a.Service, cfg.Base.PubSub, svc, waiting); err != nil {
		return err
	}
	reject := events.RejecterFunc(func(ctx context.Context, orderID string) error {
		_, err := svc.Reject(ctx, orderID)
		if errors.Is(err, app.ErrNothingToReject) {
			return nil
		}
		return err
	})
	if err := events.SubscribeRefusals(a.Service, cfg.Base.PubSub, reject, func(err error) bool {
		return errors.Is(err, app.ErrUnconfirmed) || errors.Is(err, domain.ErrNotFound)
	}); err != nil {
		return err
	}
	a.Go(svc.RunSweeper(cfg.SweepEvery, cfg.SweepIdle))
	a.Go(svc.RunFilterKeeper(cfg.FilterCheck))
	a.Go(svc.RunActionSweeper(cfg.SweepEvery, cfg.SweepIdle))
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
