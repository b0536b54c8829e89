// Package gqlc is a small GraphQL client that speaks to the gateway the
// way a front-end does: JSON over HTTP POST with a bearer token, and
// subscriptions over WebSocket with the graphql-transport-ws protocol. The
// end-to-end tests and the load runs use it; it knows nothing of Harvest.
package gqlc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Client posts operations to one GraphQL endpoint.
type Client struct {
	URL   string // http://host:port/graphql
	Token string // bearer token, may be empty
	HTTP  *http.Client
}

// New returns a client with a pooled HTTP transport.
func New(url, token string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024
	return &Client{URL: url, Token: token, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// WithToken returns a copy of c that sends token and shares its
// connections (the checkout load run gives each customer one).
func (c *Client) WithToken(token string) *Client { cc := *c; cc.Token = token; return &cc }

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Errors are the errors of one response.
type Errors []Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = fmt.Sprintf("%s (%s)", e.Message, e.Code())
	}
	return "graphql: " + strings.Join(parts, "; ")
}

// Do runs an operation and decodes data into out. GraphQL errors come back
// as Errors (data is still decoded where present).
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors Errors          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	if out != nil && len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, out); err != nil {
			return fmt.Errorf("decode data: %w", err)
		}
	}
	if len(r.Errors) > 0 {
		return r.Errors
	}
	return nil
}

// Subscription is an open graphql-transport-ws subscription.
type Subscription struct {
	Next <-chan json.RawMessage // each payload's data; closed when the stream ends
	Err  func() error           // why it ended, after Next closed
	conn *websocket.Conn
}

// Close ends the subscription and the connection.
func (s *Subscription) Close() { s.conn.Close(websocket.StatusNormalClosure, "bye") }

// Subscribe opens wsURL (ws://host:port/graphql), authenticates in
// connection_init and starts one subscription.
func Subscribe(ctx context.Context, wsURL, token, query string, vars map[string]any) (*Subscription, error) {
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", wsURL, err)
	}
	conn.SetReadLimit(1 << 20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return conn.Write(ctx, websocket.MessageText, b)
	}
	init := map[string]any{"type": "connection_init"}
	if token != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + token}
	}
	if err := send(init); err != nil {
		conn.CloseNow()
		return nil, err
	}
	var ack struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	_, b, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("await connection_ack: %w", err)
	}
	if json.Unmarshal(b, &ack); ack.Type != "connection_ack" {
		conn.CloseNow()
		return nil, fmt.Errorf("expected connection_ack, got %s", b)
	}
	if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}}); err != nil {
		conn.CloseNow()
		return nil, err
	}
	ch := make(chan json.RawMessage, 64)
	var endErr error
	go func() {
		defer close(ch)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				var ce websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure {
					endErr = err
				}
				return
			}
			var m struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			switch m.Type {
			case "next":
				var p struct {
					Data   json.RawMessage `json:"data"`
					Errors Errors          `json:"errors"`
				}
				_ = json.Unmarshal(m.Payload, &p)
				if len(p.Errors) > 0 {
					endErr = p.Errors
					return
				}
				ch <- p.Data
			case "error":
				endErr = fmt.Errorf("subscription error: %s", m.Payload)
				return
			case "complete":
				return
			case "ping":
				_ = conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
			}
		}
	}()
	return &Subscription{Next: ch, Err: func() error { return endErr }, conn: conn}, nil
}
