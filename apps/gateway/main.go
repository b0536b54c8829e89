// Command gateway is Harvest's GraphQL backend-for-frontend: it serves the
// schema in schema/graphql (resolvers in graph/) on /graphql over HTTP and
// WebSocket, calls OMS, inventory and PAY through its Dapr sidecar, and feeds
// GraphQL subscriptions from OMS's order topics. It owns no database.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/harvest/harvest/apps/gateway/gatewayconfig"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/runtime"
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

// Config is the gateway's configuration (apps/gateway/gatewayconfig).
type Config = gatewayconfig.Config

func readConfig(r *config.Reader) (Config, error) { return gatewayconfig.Read(r) }

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := readConfig(config.New())
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	verifier, err := auth.NewVerifier([]byte(cfg.JWTSecret), cfg.JWT)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	app, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return err
	}

	feed := hub.New(hub.DefaultBuffer, app.Logger)
	// Every order's events reach the feed, so they come in bulks (up to
	// 100, gathered for at most 20 ms): one request per bulk, not per event.
	for _, topic := range hub.Topics {
		app.SubscribeBulk(cfg.FeedPubSub, topic, "", 100, 20, daprx.EachMessage(feed.Handle))
	}

	app.Invoker.Batch(omsclient.AppID, omsclient.BatchRoutes...)
	resolver := &graph.Resolver{
		Orders:   omsclient.New(app.Invoker),
		Catalog:  inventoryclient.New(app.Invoker),
		Payments: payclient.New(app.Invoker),
		Feed:     feed,
	}
	app.Mux.Handle("/graphql", graph.NewHandler(resolver, graph.Options{
		Verifier:         verifier,
		Development:      cfg.Base.Development(),
		Log:              app.Logger,
		WSOriginPatterns: cfg.WSOrigins,
	}))
	if cfg.Base.Development() {
		app.Mux.Handle("/playground", graph.Playground("/graphql"))
	}
	app.Logger.Info("gateway configured", "env", cfg.Base.Env, "feed_pubsub", cfg.FeedPubSub,
		"playground", cfg.Base.Development(), "jwt_secret", "***",
		"jwt_issuer", cfg.JWT.Issuer, "jwt_audience", cfg.JWT.Audience, "jwt_max_lifetime", cfg.JWT.MaxLifetime)
	return app.Run(ctx)
}
