// Command wms is the warehouse system. It holds ERP stock and its
// occupation per delivery order (fulfillment stage 12), receives the
// delivery orders fulfillment dispatches (stage 16, DOMAIN 7.1 step 1),
// and runs outbound to the courier's door (DOMAIN 7.1): split, bin-stock
// allocation, pick lists and RF picking, QC and packing, weighing,
// handover and the TMS import, each step started by the message the one
// before committed; physical stock with goods receipt against ERP's
// purchase orders (DOMAIN 7.3); and it releases ERP occupations on
// interception and on OMS's cancellations (oms.order.cancelled).
// main wires configuration, the runtime, the use cases, the routes, the
// subscribers and the local seeder.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/runtime"
	"github.com/harvest/harvest/apps/wms/api"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/erp"
	"github.com/harvest/harvest/apps/wms/events"
	"github.com/harvest/harvest/apps/wms/store"
	"github.com/harvest/harvest/apps/wms/tms"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/apps/wms/wmsconfig"
)

func main() {
	if err := run(); err != nil {
		slog.Error("wms stopped", "err", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := wmsconfig.Read(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// HARVEST_SEED: fill an empty erp_stock from inventory's catalog (local stack).
	base, seed := cfg.Base, cfg.Seed
	a, err := runtime.New(ctx, base)
	if err != nil {
		return err
	}
	svc := app.New(store.New(a.DB), clock.System{}, a.Relay.Notify, a.Logger)
	partners := partnersclient.New(a.Invoker, cfg.PartnersAppID)
	svc.SetOutbound(cfg.WeighCarriers, tms.New(partners), erp.New(partners))
	a.Go(svc.UploadWorker(cfg.UploadEvery))
	a.Go(svc.PruneWorker(time.Hour))
	api.Mount(a.Mux, svc)
	if err := events.Subscribe(a.Service, base.PubSub, svc); err != nil {
		return err
	}
	a.AllowBatch(wmsclient.BatchRoutes...)
	if seed {
		// In the background: inventory and its sidecar may start after us.
		// Not ready until seeded: a delivery order that arrived first would
		// meet an empty ERP stock and fail as UNKNOWN_WAREHOUSE.
		var seeded atomic.Bool
		worker := svc.SeedWorker(inventoryclient.New(a.Invoker))
		a.Go(func(ctx context.Context) error {
			err := worker(ctx)
			seeded.Store(err == nil)
			return err
		})
		a.Health.Add("seed", func(context.Context) error {
			if !seeded.Load() {
				return errors.New("ERP stock not yet seeded from inventory's catalog")
			}
			return nil
		})
	}
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
