package graph

import (
	"context"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of the WebSocket limits.
const (
	// CodeTooManySubscriptions: the connection holds its maximum of live
	// subscriptions (an error message answers the subscribe).
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"
	// CloseTooManyConnections is the WebSocket close code refusing a
	// connection beyond the user's maximum (after HTTP 429).
	CloseTooManyConnections = 4429
)

// wsLimits bounds what one user holds open: live connections per token
// subject, and live subscriptions per connection. One socket held 2,000
// subscriptions, each a hub subscriber with its own buffer and filter.
type wsLimits struct {
	subsPerConn  int
	connsPerUser int
	anonymous    int // live anonymous connections, all callers together

	mu    sync.Mutex
	conns map[string]int // live connections per subject
}

// wsConn is one connection's share of the limits, in its context.
type wsConn struct {
	l       *wsLimits
	subject string // "" for an anonymous connection

	mu   sync.Mutex
	subs int
}

type wsConnKey struct{}

func newWSLimits(subsPerConn, connsPerUser, anonymous int) *wsLimits {
	return &wsLimits{subsPerConn: subsPerConn, connsPerUser: connsPerUser, anonymous: anonymous, conns: map[string]int{}}
}

// open admits a connection of subject, or refuses it with an error and a
// context carrying the close code and reason the transport closes with.
// Anonymous connections (subject "") share one budget: they can subscribe
// to nothing, so they need few, and none of them can hold the gateway's
// sockets open without bound.
func (l *wsLimits) open(ctx context.Context, subject string) (context.Context, error) {
	limit, msg := l.connsPerUser, fmt.Sprintf("too many connections: at most %d per user", l.connsPerUser)
	if subject == "" {
		limit, msg = l.anonymous, fmt.Sprintf("too many anonymous connections: at most %d; authenticate in connection_init", l.anonymous)
	}
	l.mu.Lock()
	n := l.conns[subject]
	if n >= limit {
		l.mu.Unlock()
		ctx = transport.WithWebsocketCloseCode(ctx, CloseTooManyConnections)
		return transport.AppendCloseReason(ctx, msg), fmt.Errorf("%s", msg)
	}
	l.conns[subject] = n + 1
	l.mu.Unlock()
	return context.WithValue(ctx, wsConnKey{}, &wsConn{l: l, subject: subject}), nil
}

// closed gives the connection of ctx back; the transport calls it once.
func (l *wsLimits) closed(ctx context.Context) {
	c, ok := ctx.Value(wsConnKey{}).(*wsConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[c.subject] <= 1 {
		delete(l.conns, c.subject)
	} else {
		l.conns[c.subject]--
	}
}

// aroundSubscriptions counts a connection's live subscriptions; one past
// the limit is answered with an error message and never reaches a
// resolver. The count drops when the subscription ends (complete, error,
// or the connection closing).
func (l *wsLimits) aroundSubscriptions(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	c, ok := ctx.Value(wsConnKey{}).(*wsConn)
	if !ok || graphql.GetOperationContext(ctx).Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	c.mu.Lock()
	full := c.subs >= l.subsPerConn
	if !full {
		c.subs++
	}
	c.mu.Unlock()
	if full {
		err := gqlerror.Errorf("too many subscriptions: at most %d per connection", l.subsPerConn)
		err.Extensions = map[string]any{"code": CodeTooManySubscriptions, "max": l.subsPerConn}
		transport.AddSubscriptionError(ctx, err)
		return func(context.Context) *graphql.Response { return nil }
	}
	context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.subs--
		c.mu.Unlock()
	})
	return next(ctx)
}
