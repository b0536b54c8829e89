// Command channels is third-party orders (DOMAIN 6): the marketplaces'
// push endpoints on its public listener, each in its platform's format
// and signature; the pull job of the pull platforms (a cron binding);
// the staging tables, the sales plans they make, and the Harvest orders
// the plans make through OMS's accept-order API; the statuses told back
// to each platform once per change; sales staff's plans. main wires
// configuration, the runtime, the use cases, the routes and the
// subscribers.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/channels/api"
	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/channelsconfig"
	"github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/runtime"
)

func main() {
	if err := run(); err != nil {
		slog.Error("channels stopped", "err", err)
		os.Exit(1)
	}
}

// omsBatchesInFlight is how many accept-order batches channels has in
// flight to OMS: a group buy's plans are ordered in bulks of hundreds,
// and with the Invoker's default 2 the 20 k run ordered ~110 a second
// while OMS was 8 % busy, waiting on two batches' round trips.
const omsBatchesInFlight = 6

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := channelsconfig.Read(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Base.RedisAddr, DB: cfg.Base.RedisDB, PoolSize: 64})
	a.OnClose(func() { _ = rdb.Close() })
	a.Health.Add("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	// A burst's accept-order calls travel as batches of OMS's v1/batch,
	// their catalog reads as inventory's (throughput over latency).
	a.Invoker.BatchInFlight(omsclient.AppID, omsBatchesInFlight, omsclient.BatchRoutes...)
	a.Invoker.BatchForThroughput(inventoryclient.AppID, inventoryclient.RouteCatalogBatch)
	deps := app.Deps{Store: store.New(a.DB), Orders: omsclient.New(a.Invoker), Catalog: inventoryclient.New(a.Invoker),
		Outside: a.Invoker, Nonces: app.NewNonceStore(rdb, "channels:nonce:"), PlatformApp: cfg.Endpoint, Keys: cfg.Keys,
		Window: cfg.Window, PullOverlap: cfg.PullOverlap, PullFrom: cfg.PullFrom, PullPage: cfg.PullPage,
		Clock: clock.System{}, Notify: a.Relay.Notify, Logger: a.Logger}
	if cfg.CrashAfterFetch != "" {
		deps.AfterFetch = func(platform string, page int) error {
			if page != 2 || platform != platforms.Douyin { // the Douyin crash test's fault, not the other pulls'
				return nil
			}
			f, err := os.OpenFile(cfg.CrashAfterFetch, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return nil // crashed once already
			}
			f.Close()
			a.Logger.Warn("fault: exiting after fetching a page, before storing it with its cursor", "platform", platform, "page", page)
			os.Exit(3)
			return nil
		}
	}
	svc := app.New(deps)
	api.Mount(a.Mux, svc)
	public := chi.NewRouter()
	api.MountPublic(public, svc, a.Logger)
	a.ServePublic(cfg.PublicAddr, public)
	if err := events.Subscribe(a.Service, a, cfg.Base.PubSub, svc); err != nil {
		return err
	}
	a.Go(svc.RunSweeper(cfg.SweepEvery, cfg.SweepIdle))
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
