package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/generated"
	"github.com/harvest/harvest/graph/model"
)

// Options tune the GraphQL handler; zero values take the defaults.
type Options struct {
	Verifier    *auth.Verifier // required
	Development bool           // introspection and the playground only then
	Log         *slog.Logger

	ComplexityLimit int           // default 500
	MaxDepth        int           // default 12
	MaxBodyBytes    int64         // default 1 MiB
	MaxListInput    int           // entries of any list argument, default 500
	LoaderWait      time.Duration // dataloader batch window, default 5ms
	// SubscriptionsPerConn bounds a WebSocket's live subscriptions
	// (default 20); ConnectionsPerUser a token subject's live WebSockets
	// (default 10); AnonymousConnections the live WebSockets without a
	// token, all together (default 100).
	SubscriptionsPerConn int
	ConnectionsPerUser   int
	AnonymousConnections int
	// MutationRate is each token subject's mutation fields per second
	// (default 20; negative: no limit), MutationBurst how many may come at
	// once (default twice the rate).
	MutationRate  float64
	MutationBurst int
	Clock         clock.Clock // default the system clock
	// WSOriginPatterns are extra Origin host patterns allowed to open
	// WebSockets (same-host is always allowed): browsers send cookies and
	// no CORS preflight with a WebSocket, so origins are checked here.
	WSOriginPatterns []string
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.ComplexityLimit <= 0 {
		o.ComplexityLimit = 500
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 12
	}
	if o.MaxListInput <= 0 {
		o.MaxListInput = defaultMaxListInput
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.SubscriptionsPerConn <= 0 {
		o.SubscriptionsPerConn = 20
	}
	if o.ConnectionsPerUser <= 0 {
		o.ConnectionsPerUser = 10
	}
	if o.AnonymousConnections <= 0 {
		o.AnonymousConnections = 100
	}
	if o.MutationRate == 0 {
		o.MutationRate = 20
	}
	if o.MutationBurst <= 0 {
		o.MutationBurst = max(1, int(2*o.MutationRate))
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.LoaderWait <= 0 {
		o.LoaderWait = 5 * time.Millisecond
	}
}

// unbatchedCall is the complexity of a field that makes a service call of
// its own (no dataloader batches it).
const unbatchedCall = 25

// NewServer builds the gqlgen server: transports (POST JSON, GET for
// queries, graphql-transport-ws WebSocket, with its per-connection and
// per-user limits), the @hasRole directive, list complexity, complexity,
// depth and list-input limits, the per-user mutation rate limit,
// per-response dataloaders, the error presenter and recover func.
func NewServer(r *Resolver, o Options) *handler.Server {
	o.defaults()
	cfg := generated.Config{Resolvers: r}
	cfg.Directives.HasRole = HasRole
	// A connection costs its page size times what each node selects, so a
	// client cannot ask for 100 products with every field for free.
	cfg.Complexity.Query.Products = func(child int, _ *model.ProductFilter, first *int64, _ *string) int {
		return 1 + pageSize(first)*child
	}
	cfg.Complexity.Query.MyOrders = func(child int, _ *model.OrderStatus, first *int64, _ *string) int {
		return 1 + pageSize(first)*child
	}
	cfg.Complexity.Query.WarehouseStock = func(child int, _ string, _ *model.Zone, first *int64, _ *string) int {
		return 1 + pageSize(first)*child
	}
	// A field that calls a service no dataloader batches costs
	// unbatchedCall, so one operation cannot alias it into hundreds of
	// calls (at the default limit, 20 per operation).
	cfg.Complexity.Query.MyAccounts = func(child int) int { return unbatchedCall + child }
	cfg.Complexity.Query.FulfillmentStages = func(child int) int { return unbatchedCall + child }
	cfg.Complexity.Query.FulfillmentSuspension = func(child int) int { return unbatchedCall + child }
	cfg.Complexity.Query.FulfillmentTimeline = func(child int, _ string) int { return unbatchedCall + child }
	cfg.Complexity.Query.WarehouseCapacities = func(child int, _ string) int { return unbatchedCall + child }

	srv := handler.New(generated.NewExecutableSchema(cfg))
	ws := newWSLimits(o.SubscriptionsPerConn, o.ConnectionsPerUser, o.AnonymousConnections)
	srv.AddTransport(&transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: o.WSOriginPatterns,
		}},
		InitFunc:              wsInit(o.Verifier, ws),
		CloseFunc:             wsClose(ws),
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// Candidate files of goods-gift campaigns (importGiftCandidates): a
	// multipart request, read whole into memory (they are small).
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: MaxCandidateFile + 64<<10, MaxMemory: MaxCandidateFile + 64<<10})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(ErrorPresenter(o.Log))
	srv.SetRecoverFunc(RecoverFunc(o.Log))
	if o.Development {
		srv.Use(extension.Introspection{})
	} else {
		// "Did you mean …?" would leak the schema that introspection hides.
		srv.SetDisableSuggestion(true)
		srv.Use(NoIntrospection{})
	}
	srv.Use(extension.FixedComplexityLimit(o.ComplexityLimit))
	srv.Use(DepthLimit{Max: o.MaxDepth})
	srv.Use(ListLimit{Max: o.MaxListInput})
	srv.AroundOperations(ws.aroundSubscriptions)
	if o.MutationRate > 0 {
		srv.AroundFields(newMutationLimiter(o.MutationRate, o.MutationBurst, o.Clock).aroundFields)
	}
	// Loaders per response: a subscription's events each see fresh orders.
	wait := o.LoaderWait
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(withLoaders(ctx, newLoaders(r, wait)))
	})
	return srv
}

// NewHandler is the /graphql endpoint: trace id, body size limit, CSRF
// guard and bearer-token authentication in front of the gqlgen server.
func NewHandler(r *Resolver, o Options) http.Handler {
	o.defaults()
	return withTrace(limitBody(o.MaxBodyBytes, csrfGuard(authenticate(o.Verifier, NewServer(r, o)))))
}

// Playground serves GraphiQL against endpoint; mount it in development only.
func Playground(endpoint string) http.Handler {
	return playground.Handler("Harvest GraphQL", endpoint)
}

// authenticate puts the bearer token's identity into the request context.
// No header means anonymous (public fields still work; @hasRole answers
// UNAUTHENTICATED); a header that does not verify is refused outright with
// 401, so a client with an expired token learns it at once. WebSocket
// upgrades authenticate in connection_init instead (browsers cannot set
// headers on them).
func authenticate(v *auth.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := v.FromAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			writeHTTPError(w, http.StatusUnauthorized, CodeUnauthenticated, "invalid or expired token")
			return
		}
		if ok {
			r = r.WithContext(auth.WithIdentity(r.Context(), id))
		}
		next.ServeHTTP(w, r)
	})
}

type wsCancelKey struct{}

// wsInit authenticates a WebSocket from connection_init's payload
// {"Authorization": "Bearer …"}. A bad token closes the connection; no
// token leaves it anonymous. A user's connection beyond the limit closes
// with CloseTooManyConnections. The connection ends when the token expires.
func wsInit(v *auth.Verifier, limits *wsLimits) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		raw := p.Authorization()
		if raw == "" {
			ctx, err := limits.open(ctx, "")
			return ctx, nil, err
		}
		id, _, err := v.FromAuthorization(raw)
		if err != nil {
			return ctx, nil, errors.New("invalid or expired token")
		}
		if ctx, err = limits.open(ctx, id.Subject); err != nil {
			return ctx, nil, err
		}
		ctx = auth.WithIdentity(ctx, id)
		if !id.ExpiresAt.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, id.ExpiresAt)
			ctx = context.WithValue(ctx, wsCancelKey{}, cancel)
		}
		return ctx, nil, nil
	}
}

func wsClose(limits *wsLimits) transport.WebsocketCloseFunc {
	return func(ctx context.Context, _ int) {
		if cancel, ok := ctx.Value(wsCancelKey{}).(context.CancelFunc); ok {
			cancel()
		}
		limits.closed(ctx)
	}
}
