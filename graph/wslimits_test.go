package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

// One WebSocket held 2,000 subscriptions. Now the one past the limit is
// answered with an error message naming the limit, and never reaches the
// hub; a subscription that ends frees its slot.
func TestSubscriptionsPerConnectionLimited(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.SubscriptionsPerConn = 5 })
	srv := httptest.NewServer(e.handler)
	defer srv.Close()

	c := dialWS(t, srv.URL, token(t, "alice", auth.RoleCustomer))
	for i := range 5 {
		c.subscribe(fmt.Sprint("s", i), `subscription { orderUpdated { orderId } }`)
	}
	waitFor(t, "five hub subscribers", func() bool { return e.hub.Len() == 5 })
	c.subscribe("s5", `subscription { orderUpdated { orderId } }`)
	m := c.next()
	if m.Type != "error" || m.ID != "s5" || string(m.Payload) !=
		`[{"message":"too many subscriptions: at most 5 per connection","extensions":{"code":"TOO_MANY_SUBSCRIPTIONS","max":5}}]` {
		t.Fatalf("got %s %s %s", m.Type, m.ID, m.Payload)
	}
	if e.hub.Len() != 5 {
		t.Fatalf("hub has %d subscribers", e.hub.Len())
	}

	c.send(map[string]any{"id": "s0", "type": "complete"})
	waitFor(t, "s0 to end", func() bool { return e.hub.Len() == 4 })
	c.subscribe("s6", `subscription { orderUpdated { orderId } }`)
	waitFor(t, "s6 to take the freed slot", func() bool { return e.hub.Len() == 5 })

	t.Run("another connection has its own limit", func(t *testing.T) {
		d := dialWS(t, srv.URL, token(t, "alice", auth.RoleCustomer))
		d.subscribe("x", `subscription { orderUpdated { orderId } }`)
		waitFor(t, "the second connection's subscriber", func() bool { return e.hub.Len() == 6 })
	})
}

// A user's connections are bounded too: the one past the limit is closed
// with code 4429 and a reason naming the limit; closing one lets the next
// in. Anonymous connections share one budget of their own.
func TestConnectionsPerUserLimited(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.ConnectionsPerUser, o.AnonymousConnections = 3, 2 })
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	alice := token(t, "alice", auth.RoleCustomer)

	var open []*wsClient
	for range 3 {
		open = append(open, dialWS(t, srv.URL, alice))
	}
	status, reason := refusedWS(t, srv.URL, alice)
	if status != graph.CloseTooManyConnections || reason != "too many connections: at most 3 per user" {
		t.Fatalf("close %d %q, want 4429", status, reason)
	}
	dialWS(t, srv.URL, token(t, "bob", auth.RoleCustomer)) // bob has his own count
	dialWS(t, srv.URL, "")
	dialWS(t, srv.URL, "") // anonymous connections share one budget
	if status, reason := refusedWS(t, srv.URL, ""); status != graph.CloseTooManyConnections ||
		reason != "too many anonymous connections: at most 2; authenticate in connection_init" {
		t.Fatalf("third anonymous connection: close %d %q", status, reason)
	}

	if err := open[0].conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	// The server counts the close when its read loop sees it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, _ := refusedWS(t, srv.URL, alice); st == -2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's slot was never freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// refusedWS opens a connection with bearer and returns the close status and
// reason it was refused with; -2 if it was acknowledged (and is left open).
func refusedWS(t *testing.T, srvURL, bearer string) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srvURL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	init := map[string]any{"type": "connection_init"}
	if bearer != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + bearer}
	}
	_ = wsjson.Write(ctx, conn, init)
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read: %v", err)
			}
			return ce.Code, ce.Reason
		}
		if m.Type == "connection_ack" {
			return -2, ""
		}
	}
}
