// Package runtime hosts a Harvest app beside its Dapr sidecar: it opens and
// migrates the app's database, serves Dapr callbacks and the app's API to
// its sidecar only (the go-sdk HTTP service's router, the one that can host
// actors, behind the sidecar's token), health and metrics on a listener of
// their own, and any public listener the app asks for (listeners.go);
// connects the Dapr client, runs background workers, and on stop refuses
// new work, drains the workers and the outbox relay, and closes everything
// within a bound.
package runtime

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"time"

	daprc "github.com/dapr/go-sdk/client"
	"github.com/dapr/go-sdk/service/common"
	daprhttp "github.com/dapr/go-sdk/service/http"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/migrate"
	"github.com/harvest/harvest/apps/platform/obs"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// App is one running Harvest app.
type App struct {
	Config config.Base
	Logger *slog.Logger
	DB     *sql.DB // nil for apps without a database
	// Mux routes the sidecar-facing listener (Config.HTTPAddr); every
	// request reaches it only with the sidecar's token.
	Mux     *chi.Mux
	Service common.Service
	Invoker *daprx.Invoker
	Health  *obs.Health
	Relay   *outbox.Relay // nil without a database

	// Timeouts bound every listener's connections (DefaultTimeouts), and
	// MaxBodyBytes every request body (DefaultMaxBodyBytes; AllowBody
	// raises it for a route). Change them before Run.
	Timeouts     Timeouts
	MaxBodyBytes int64

	ops        *chi.Mux
	public     []publicListener
	bodyLimits *http.ServeMux

	daprHTTPPort int
	daprGRPCPort int

	clientOnce sync.Once
	client     daprc.Client
	clientErr  error

	workers []func(ctx context.Context) error
	closers []func()

	actorSettings map[string]any
	bulkSubs      []daprx.BulkSubscription
}

// publicListener is one ServePublic listener.
type publicListener struct {
	addr string
	h    http.Handler
}

// ServePublic serves h on addr to callers without a sidecar (the gateway's
// GraphQL, the partners stand-in's cashier pages): no sidecar token, its
// callers authenticate by their own means; timeouts and body limits as on
// every listener. Call it before Run.
func (a *App) ServePublic(addr string, h http.Handler) {
	a.public = append(a.public, publicListener{addr: addr, h: h})
}

// AllowBatch serves daprx.BatchPath for routes ("POST v1/orders", see
// daprx.Route): callers whose Invoker batches them send concurrent calls
// as one invocation. Call it once, before Run.
func (a *App) AllowBatch(routes ...string) {
	a.Mux.Post("/"+daprx.BatchPath, daprx.BatchHandler(a.Mux, routes...))
}

// SetActorSettings adds fields to the actor configuration this app hands
// its sidecar on GET /dapr/config (OMS sets actorIdleTimeout), beside what
// the go-sdk's service writes there. Call it before Run.
func (a *App) SetActorSettings(settings map[string]any) { a.actorSettings = settings }

// SubscribeBulk subscribes h to topic in bulk (see daprx.BulkHandler): up
// to max messages per delivery, gathered for at most waitMs; with match,
// only the messages matching that CEL expression. Call it before Run.
func (a *App) SubscribeBulk(pubsub, topic, match string, max, waitMs int32, h daprx.BulkHandler) {
	a.bulkSubs = append(a.bulkSubs, daprx.NewBulkSubscription(pubsub, topic, match, max, waitMs))
	a.Mux.Post(daprx.BulkRoute(topic), daprx.ServeBulk(topic, h))
}

// daprConfig lets SetActorSettings amend the go-sdk's /dapr/config answer,
// and SubscribeBulk its /dapr/subscribe answer.
func (a *App) daprConfig(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/dapr/subscribe" && len(a.bulkSubs) > 0:
			amendJSON(next, w, r, func(subs *[]any) {
				for _, b := range a.bulkSubs {
					*subs = append(*subs, b)
				}
			})
		case r.Method == http.MethodGet && r.URL.Path == "/dapr/config" && len(a.actorSettings) > 0:
			amendJSON(next, w, r, func(cfg *map[string]any) {
				if *cfg == nil {
					*cfg = map[string]any{}
				}
				for k, v := range a.actorSettings {
					(*cfg)[k] = v
				}
			})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// amendJSON serves r with next, lets amend change the JSON answer (empty
// when next failed), and writes it.
func amendJSON[T any](next http.Handler, w http.ResponseWriter, r *http.Request, amend func(*T)) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var v T
	if rec.Code == http.StatusOK {
		_ = json.Unmarshal(rec.Body.Bytes(), &v)
	}
	amend(&v)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// New prepares an app: database opened and migrated, HTTP service created.
// Register handlers on Mux and Service, then call Run.
func New(ctx context.Context, base config.Base) (*App, error) {
	if base.AppToken == "" {
		// config.ReadBase requires it; an App built otherwise must not
		// serve its sidecar-facing routes to anyone.
		return nil, errors.New("APP_API_TOKEN is required: the sidecar-facing listener serves only callers that present it")
	}
	a := &App{
		Config:       base,
		Logger:       obs.NewLogger(base.AppID),
		Mux:          chi.NewRouter(),
		Health:       obs.NewHealth(),
		Timeouts:     DefaultTimeouts,
		MaxBodyBytes: DefaultMaxBodyBytes,
		ops:          chi.NewRouter(),
		bodyLimits:   http.NewServeMux(),
	}
	var err error
	if a.daprHTTPPort, err = portEnv("DAPR_HTTP_PORT", 3500); err != nil {
		return nil, err
	}
	if a.daprGRPCPort, err = portEnv("DAPR_GRPC_PORT", 50001); err != nil {
		return nil, err
	}
	// The go-sdk's Dapr client reads DAPR_API_TOKEN itself.
	a.Invoker = daprx.NewInvoker(a.daprHTTPPort, daprx.WithAPIToken(base.DaprToken))
	a.Mux.Use(a.daprConfig) // before any route: chi refuses middleware after routes
	// Every request counted and timed by route, a batched call under its
	// own (obs.Routes, daprx.BatchHandler).
	a.Mux.Use(obs.Routes)
	a.Health.Mount(a.ops)
	if base.Development() {
		// Profiles of a local stack under load (go tool pprof
		// http://<ops addr>/debug/pprof/profile); never served in production.
		a.ops.Mount("/debug", middleware.Profiler())
	}
	a.Health.Add("sidecar", a.Invoker.Healthy)
	a.Service = daprhttp.NewServiceWithMux(base.HTTPAddr, a.Mux)

	if base.MySQLDSN != "" {
		if base.Migrate {
			if err := migrate.EnsureDatabase(ctx, base.MySQLDSN); err != nil {
				return nil, err
			}
		}
		a.DB, err = sqltx.Open(ctx, base.MySQLDSN)
		if err != nil {
			return nil, err
		}
		if base.Migrate {
			if err := migrate.Up(ctx, a.DB, base.AppID); err != nil {
				a.DB.Close()
				return nil, err
			}
		}
		a.Health.Add("mysql", a.DB.PingContext)
		a.Relay = outbox.NewRelay(a.DB, lazyPublisher{a}, outbox.RelayOptions{Source: base.AppID, Logger: a.Logger})
		a.Go(inbox.Pruner{DB: a.DB, Retention: base.InboxRetention, Logger: a.Logger}.Run)
	}
	a.Logger.Info("app prepared", "addr", base.HTTPAddr, "ops_addr", base.OpsAddr, "mysql", config.MaskDSN(base.MySQLDSN))
	return a, nil
}

func portEnv(key string, def int) (int, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port", key, v)
	}
	return n, nil
}

// Dapr returns the Dapr client, connecting on first use: the sidecar's gRPC
// port may open only after this app's HTTP port does.
func (a *App) Dapr(ctx context.Context) (daprc.Client, error) {
	a.clientOnce.Do(func() {
		deadline := time.Now().Add(60 * time.Second)
		for {
			a.client, a.clientErr = daprc.NewClientWithAddressContext(ctx, "127.0.0.1:"+strconv.Itoa(a.daprGRPCPort))
			if a.clientErr == nil || time.Now().After(deadline) || ctx.Err() != nil {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	return a.client, a.clientErr
}

type lazyPublisher struct{ a *App }

func (p lazyPublisher) Publish(ctx context.Context, topic string, ce []byte) error {
	c, err := p.a.Dapr(ctx)
	if err != nil {
		return err
	}
	return daprx.Publisher{Client: c, PubSub: p.a.Config.PubSub}.Publish(ctx, topic, ce)
}

func (p lazyPublisher) PublishBulk(ctx context.Context, topic string, ces [][]byte) ([]int, error) {
	c, err := p.a.Dapr(ctx)
	if err != nil {
		return nil, err
	}
	return daprx.Publisher{Client: c, PubSub: p.a.Config.PubSub}.PublishBulk(ctx, topic, ces)
}

// Go adds a background worker that runs until the app stops; it must return
// once its context is done, having drained what it holds.
func (a *App) Go(w func(ctx context.Context) error) { a.workers = append(a.workers, w) }

// OnClose adds a function run last on stop (close a Redis client, say).
func (a *App) OnClose(f func()) { a.closers = append(a.closers, f) }

// Run binds every listener (an address in use fails it at once), serves
// until ctx is done, then stops in order: readiness fails, the app and
// public listeners stop taking requests, workers drain, the relay drains,
// the database closes, and last the ops listener closes.
func (a *App) Run(ctx context.Context) error {
	servers, err := a.listen()
	if err != nil {
		return err
	}
	srvErr := make(chan error, len(servers))
	for _, ls := range servers {
		go func() {
			if err := ls.srv.Serve(ls.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				srvErr <- fmt.Errorf("%s listener %s: %w", ls.name, ls.srv.Addr, err)
			}
		}()
	}

	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	errs := make(chan error, len(a.workers)+1)
	start := func(w func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w(wctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
			}
		}()
	}
	for _, w := range a.workers {
		start(w)
	}
	relayDone := make(chan struct{})
	rctx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	if a.Relay != nil {
		go func() {
			defer close(relayDone)
			if err := a.Relay.Run(rctx, a.Config.ShutdownTimeout/2); err != nil {
				a.Logger.Warn("outbox relay drain incomplete", "err", err)
			}
		}()
	} else {
		close(relayDone)
	}
	a.Logger.Info("app serving", "addr", a.Config.HTTPAddr, "ops_addr", a.Config.OpsAddr, "public_listeners", len(a.public))

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-srvErr:
		runErr = err
	case err := <-errs:
		runErr = fmt.Errorf("worker: %w", err)
	}
	a.Logger.Info("stopping")
	a.Health.Stopping()
	// Refuse new work on every listener but ops, which keeps answering
	// (readiness failing) until everything has drained.
	shutdown := func(ls []servingListener) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, l := range ls {
			_ = l.srv.Shutdown(sctx)
		}
	}
	shutdown(servers[1:])
	stopWorkers()
	waitBounded(&wg, a.Config.ShutdownTimeout)
	stopRelay()
	select {
	case <-relayDone:
	case <-time.After(a.Config.ShutdownTimeout):
		a.Logger.Warn("outbox relay did not drain in time; rows stay for the next start")
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	if a.client != nil {
		a.client.Close()
	}
	if a.DB != nil {
		a.DB.Close()
	}
	shutdown(servers[:1])
	a.Logger.Info("stopped")
	return runErr
}

// servingListener is a bound listener and the server for it.
type servingListener struct {
	name string
	srv  *http.Server
	l    net.Listener
}

// listen binds every listener, ops first: the sidecar-facing one serves
// the go-sdk service's router (with its base handlers: /dapr/subscribe,
// /dapr/config, actors) behind the token check, on a server of this
// package's with timeouts. The go-sdk builds its own http.Server without
// timeouts inside Start, and registers its base handlers only there; so
// it is stopped before it starts: Start then registers them and returns
// http.ErrServerClosed without listening (a shut-down http.Server never
// serves again), and a.Mux holds every route.
func (a *App) listen() ([]servingListener, error) {
	_ = a.Service.Stop()
	if err := a.Service.Start(); !errors.Is(err, http.ErrServerClosed) {
		return nil, fmt.Errorf("go-sdk service: register base handlers: %v", err)
	}
	servers := a.servers()
	for i := range servers {
		l, err := net.Listen("tcp", servers[i].srv.Addr)
		if err != nil {
			for _, s := range servers[:i] {
				s.l.Close()
			}
			return nil, fmt.Errorf("%s listener: %w", servers[i].name, err)
		}
		servers[i].l = l
	}
	return servers, nil
}

// servers are the app's listeners' servers, ops first, each handler
// wrapped in the token check (the sidecar-facing one) and the body limit.
func (a *App) servers() []servingListener {
	servers := []servingListener{
		{name: "ops", srv: newServer(a.Config.OpsAddr, a.limitBody(a.ops), a.Timeouts)},
		{name: "app", srv: newServer(a.Config.HTTPAddr, requireToken(a.Config.AppToken, a.limitBody(a.Mux)), a.Timeouts)},
	}
	for _, p := range a.public {
		servers = append(servers, servingListener{name: "public", srv: newPublicServer(p.addr, a.limitBody(p.h), a.Timeouts)})
	}
	return servers
}

func waitBounded(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
