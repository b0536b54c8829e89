package graph_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/graph/auth"
)

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient speaks graphql-transport-ws over a real WebSocket.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, srvURL, bearer string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srvURL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.CloseNow() })
	init := map[string]any{"type": "connection_init"}
	if bearer != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + bearer}
	}
	c.send(init)
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, v); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message that is not a keep-alive.
func (c *wsClient) next() wsMsg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			c.t.Fatalf("read: %v", err)
		}
		switch m.Type {
		case "ping":
			c.send(map[string]any{"type": "pong"})
		case "pong", "ka":
		default:
			return m
		}
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func deliver(t *testing.T, e *env, topic string, payload any) {
	t.Helper()
	b, _ := json.Marshal(payload)
	if err := e.hub.Handle(context.Background(), daprx.Message{ID: "m", Topic: topic, Data: b}); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionsOverWebSocket(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()

	alice := dialWS(t, srv.URL, token(t, "alice", auth.RoleCustomer))
	alice.subscribe("a", `subscription { orderUpdated { orderId type status order { totalFen } } }`)
	bob := dialWS(t, srv.URL, token(t, "bob", auth.RoleCustomer))
	bob.subscribe("b", `subscription { orderUpdated { orderId type } }`)
	cs := dialWS(t, srv.URL, token(t, "agent", auth.RoleCSAgent))
	cs.subscribe("c", `subscription { orderEvents { orderId customerId } }`)
	waitFor(t, "three hub subscribers", func() bool { return e.hub.Len() == 3 })

	deliver(t, e, events.TopicOrderPaid, events.OrderPaid{OrderID: "o-alice", CustomerID: "alice", PaidFen: 1205, PaidAt: time.Now()})
	m := alice.next()
	if m.Type != "next" || m.ID != "a" || string(m.Payload) != `{"data":{"orderUpdated":{"orderId":"o-alice","type":"PAID","status":"PAID","order":{"totalFen":1205}}}}` {
		t.Fatalf("alice got %s %s", m.Type, m.Payload)
	}
	if m := cs.next(); string(m.Payload) != `{"data":{"orderEvents":{"orderId":"o-alice","customerId":"alice"}}}` {
		t.Fatalf("cs got %s", m.Payload)
	}
	// Bob's first message must be his own order: alice's never reached him.
	deliver(t, e, events.TopicOrderCancelled, events.OrderCancelled{OrderID: "o-bob", CustomerID: "bob", Reason: events.ReasonCustomer, CancelledAt: time.Now()})
	if m := bob.next(); string(m.Payload) != `{"data":{"orderUpdated":{"orderId":"o-bob","type":"CANCELLED"}}}` {
		t.Fatalf("bob got %s", m.Payload)
	}

	t.Run("subscriber channel closes when the client disconnects", func(t *testing.T) {
		if err := alice.conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "alice's hub channel to close", func() bool { return e.hub.Len() == 2 })
	})
	t.Run("complete ends one subscription", func(t *testing.T) {
		bob.send(map[string]any{"id": "b", "type": "complete"})
		waitFor(t, "bob's hub channel to close", func() bool { return e.hub.Len() == 1 })
	})
	t.Run("anonymous subscription is refused", func(t *testing.T) {
		anon := dialWS(t, srv.URL, "")
		anon.subscribe("x", `subscription { orderEvents { orderId } }`)
		m := anon.next()
		if m.ID != "x" || !strings.Contains(string(m.Payload), `"code":"UNAUTHENTICATED"`) || strings.Contains(string(m.Payload), `"orderId"`) {
			t.Fatalf("anonymous got %s %s", m.Type, m.Payload)
		}
		if e.hub.Len() != 1 {
			t.Fatalf("hub has %d subscribers", e.hub.Len())
		}
	})
	t.Run("customer cannot subscribe to all orders", func(t *testing.T) {
		bob.subscribe("b2", `subscription { orderEvents { orderId } }`)
		m := bob.next()
		for m.ID == "b" { // the server's complete for the subscription ended above
			m = bob.next()
		}
		if m.ID != "b2" || !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) {
			t.Fatalf("bob got %s %s", m.Type, m.Payload)
		}
	})
	t.Run("bad token closes the connection", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer forged"}})
		for {
			var m wsMsg
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				if websocket.CloseStatus(err) == -1 && ctx.Err() != nil {
					t.Fatalf("connection not closed: %v", err)
				}
				return
			}
			if m.Type == "connection_ack" {
				t.Fatal("forged token acknowledged")
			}
		}
	})
}
