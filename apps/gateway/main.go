// Command gateway is Harvest's GraphQL backend-for-frontend: it serves the
// schema in schema/graphql (resolvers in graph/) on /graphql over HTTP and
// WebSocket, calls OMS, inventory and PAY through its Dapr sidecar, and feeds
// GraphQL subscriptions from OMS's order topics. It owns no database.
//
// Its public listener (HARVEST_PUBLIC_ADDR) serves /graphql (and the
// playground in development) and nothing else; the order events feeding
// the subscriptions arrive on the sidecar-facing listener
// (HARVEST_HTTP_ADDR), behind the sidecar's token, and health and metrics
// on the ops listener (runtime.App).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/channels/channelsclient"
	"github.com/harvest/harvest/apps/gateway/gatewayconfig"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/runtime"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/hub"
)

func main() {
	if err := run(); err != nil {
		slog.Error("gateway stopped", "err", err)
		os.Exit(1)
	}
}

// Config is the gateway's configuration beyond config.Base.
type Config struct {
	Base config.Base
	// PublicAddr is the public listener, /graphql only (HARVEST_PUBLIC_ADDR).
	PublicAddr string
	// JWTSecret verifies bearer tokens (HARVEST_JWT_SECRET); never logged.
	JWTSecret string
	// JWT is what a token must carry beyond its signature (issuer,
	// audience, longest lifetime: gatewayconfig.ReadJWT).
	JWT auth.Policy
	// FeedPubSub is the pub/sub component the subscription hub reads
	// (HARVEST_GATEWAY_PUBSUB, default HARVEST_PUBSUB). With more than one
	// gateway replica use a broadcast component such as gateway-broadcast
	// (components/local/gateway-broadcast.yaml), so every replica sees
	// every order event.
	FeedPubSub string
	// WSOrigins are extra browser origins allowed to open WebSockets
	// (HARVEST_GATEWAY_WS_ORIGINS, comma-separated host patterns).
	WSOrigins []string
	// MutationRate and MutationBurst are each token subject's token bucket
	// of mutation fields (HARVEST_GATEWAY_MUTATION_RATE per second, default
	// 20, negative for none; HARVEST_GATEWAY_MUTATION_BURST, default 40).
	// harvest-load's place run sends 10 per second per customer.
	MutationRate  int
	MutationBurst int
}

func readConfig(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "gateway", false)}
	c.PublicAddr = r.String("HARVEST_PUBLIC_ADDR", "127.0.0.1:8080")
	c.JWTSecret = r.Required("HARVEST_JWT_SECRET")
	c.FeedPubSub = r.String("HARVEST_GATEWAY_PUBSUB", c.Base.PubSub)
	// Production refuses a development or short secret; tokens are checked
	// for issuer, audience and lifetime from the environment.
	c.JWT = gatewayconfig.ReadJWT(r, c.Base, c.JWTSecret)
	for _, o := range strings.Split(r.String("HARVEST_GATEWAY_WS_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.WSOrigins = append(c.WSOrigins, o)
		}
	}
	c.MutationRate = r.Int("HARVEST_GATEWAY_MUTATION_RATE", 20)
	c.MutationBurst = r.Int("HARVEST_GATEWAY_MUTATION_BURST", 2*max(c.MutationRate, 1))
	return c, r.Err()
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := readConfig(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	app, _, err := setup(ctx, cfg)
	if err != nil {
		return err
	}
	return app.Run(ctx)
}

// setup prepares the gateway's app: the feed's subscriptions on the
// sidecar-facing listener, GraphQL on the public one.
func setup(ctx context.Context, cfg Config) (*runtime.App, *hub.Hub, error) {
	verifier, err := auth.NewVerifier([]byte(cfg.JWTSecret), cfg.JWT)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	app, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return nil, nil, err
	}

	rdb := redis.NewClient(&redis.Options{Addr: cfg.Base.RedisAddr, DB: cfg.Base.RedisDB})
	app.OnClose(func() { _ = rdb.Close() })
	feed := hub.New(hub.DefaultBuffer, app.Logger)
	// Every order's events reach the feed, so they come in bulks (up to
	// 100, gathered for at most 20 ms): one request per bulk, not per event.
	for _, topic := range hub.Topics {
		app.SubscribeBulk(cfg.FeedPubSub, topic, "", 100, 20, daprx.EachMessage(feed.Handle))
	}
	// The warehouse console's live events, likewise.
	floor := hub.NewFloor(hub.DefaultBuffer, app.Logger)
	for _, topic := range hub.FloorTopics {
		app.SubscribeBulk(cfg.FeedPubSub, topic, "", 100, 20, daprx.EachMessage(floor.Handle))
	}

	// The CS console's after-sales feed: new requests, documents, audits.
	afterSales := hub.NewAfterSales(hub.DefaultBuffer, app.Logger)
	for _, topic := range hub.AfterSalesTopics {
		app.SubscribeBulk(cfg.FeedPubSub, topic, "", 100, 20, daprx.EachMessage(afterSales.Handle))
	}

	// The cancel filter's copy in this gateway's memory, kept while the
	// gateway runs and leaving after-sales' registry when it stops
	// (aftersalesclient/bloom.go): order detail's "no" without a round trip.
	cancelFilter := aftersalesclient.NewMirror(aftersalesclient.NewCancelFilter(rdb, aftersalesclient.DefaultFilterPrefix), app.Logger)
	app.Go(cancelFilter.Run)

	app.Invoker.Batch(omsclient.AppID, omsclient.BatchRoutes...)
	oms := omsclient.New(app.Invoker)
	resolver := &graph.Resolver{
		Orders:    oms,
		Addresses: oms,
		Catalog:   inventoryclient.New(app.Invoker),
		Payments:  payclient.New(app.Invoker),
		Wallet:    marketingclient.New(app.Invoker),
		Campaigns: marketingclient.New(app.Invoker),
		Claims:    marketingclient.New(app.Invoker),
		Gifts:     marketingclient.New(app.Invoker),
		Feed:      feed,
		Warehouse: wmsclient.New(app.Invoker),
		Floor:     floor,
		// The CS console's live after-sales events.
		AfterSalesFeed: afterSales,
		AfterSales:     aftersalesclient.New(app.Invoker),
		CSActions:      aftersalesclient.New(app.Invoker),
		Documents:      aftersalesclient.New(app.Invoker),
		Channels:       channelsclient.New(app.Invoker),
		CancelFilter:   cancelFilter,
	}
	public := http.NewServeMux()
	public.Handle("/graphql", graph.NewHandler(resolver, graph.Options{
		Verifier:         verifier,
		Development:      cfg.Base.Development(),
		Log:              app.Logger,
		WSOriginPatterns: cfg.WSOrigins,
		MutationRate:     float64(cfg.MutationRate),
		MutationBurst:    cfg.MutationBurst,
	}))
	if cfg.Base.Development() {
		public.Handle("/playground", graph.Playground("/graphql"))
	}
	app.ServePublic(cfg.PublicAddr, public)
	app.Logger.Info("gateway configured", "env", cfg.Base.Env, "public_addr", cfg.PublicAddr, "feed_pubsub", cfg.FeedPubSub,
		"playground", cfg.Base.Development(), "jwt_secret", "***")
	return app, feed, nil
}
