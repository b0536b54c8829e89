package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/graph/model"
)

func TestReadConfig(t *testing.T) {
	t.Parallel()
	if _, err := readConfig(config.FromMap(map[string]string{"APP_API_TOKEN": "t"})); err == nil {
		t.Fatal("missing HARVEST_JWT_SECRET accepted")
	}
	c, err := readConfig(config.FromMap(map[string]string{
		"HARVEST_ENV":                "development", // production refuses a short token and secret
		"APP_API_TOKEN":              "t",
		"HARVEST_JWT_SECRET":         "s3cret",
		"HARVEST_PUBSUB":             "pubsub",
		"HARVEST_PUBLIC_ADDR":        "0.0.0.0:8080",
		"HARVEST_GATEWAY_WS_ORIGINS": "app.harvest.test, *.harvest.test",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Base.AppID != "gateway" || c.Base.MySQLDSN != "" {
		t.Errorf("base = %+v, want app gateway without a database", c.Base)
	}
	if c.FeedPubSub != "pubsub" || len(c.WSOrigins) != 2 || c.WSOrigins[1] != "*.harvest.test" || c.PublicAddr != "0.0.0.0:8080" {
		t.Errorf("config = %+v", c)
	}
	if c.MutationRate != 20 || c.MutationBurst != 40 {
		t.Errorf("mutation rate %d burst %d, want 20 and 40 by default", c.MutationRate, c.MutationBurst)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const forgedPaid = `{"topic":"oms.order.paid","entries":[{"entryId":"1","event":{"id":"forged","type":"oms.order.paid","data":{"order_id":"O-VICTIM","customer_id":"C0042"}},"contentType":"application/cloudevents+json"}]}`

// TestPublicListenerServesOnlyGraphQL is finding 2's regression test: a
// forged oms.order.paid bulk posted to the port /graphql is served on
// pushed a PAID update to the customer's orderUpdated (reproduced on main:
// 200, the update reached the feed). Now the public listener serves
// /graphql (and /playground in development) only: event delivery, /dapr/*,
// metrics, health and pprof answer 404 there, and nothing reaches the
// feed; on the sidecar-facing listener the same delivery needs the
// sidecar's token.
func TestPublicListenerServesOnlyGraphQL(t *testing.T) {
	t.Setenv("DAPR_HTTP_PORT", strings.TrimPrefix(freeAddr(t), "127.0.0.1:"))
	const token = "gateway-app-api-token-0123456789abcdef"
	cfg := Config{
		Base: config.Base{AppID: "gateway", HTTPAddr: freeAddr(t), OpsAddr: freeAddr(t), Env: "development",
			PubSub: "pubsub", AppToken: token, ShutdownTimeout: time.Second},
		PublicAddr: freeAddr(t), JWTSecret: strings.Repeat("s", 32), FeedPubSub: "pubsub",
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, feed, err := setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	updates := feed.Subscribe(ctx, func(*model.OrderUpdate) bool { return true })
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	post := func(url, body string, hdr map[string]string) int {
		t.Helper()
		var resp *http.Response
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	get := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	public := "http://" + cfg.PublicAddr
	if code := post(public+"/events-bulk/oms.order.paid", forgedPaid, nil); code != http.StatusNotFound {
		t.Errorf("public POST /events-bulk/oms.order.paid: %d, want 404", code)
	}
	if code := post(public+"/events-bulk/oms.order.paid", forgedPaid, map[string]string{daprx.APITokenHeader: token}); code != http.StatusNotFound {
		t.Errorf("public POST /events-bulk/oms.order.paid with the token: %d, want 404", code)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/dapr/subscribe", "/dapr/config", "/debug/pprof/", "/events/oms.order.paid"} {
		if code := get(public + path); code != http.StatusNotFound {
			t.Errorf("public GET %s: %d, want 404", path, code)
		}
	}
	if code := post(public+"/graphql", `{"query":"{ __typename }"}`, nil); code != http.StatusOK {
		t.Errorf("public POST /graphql: %d, want 200", code)
	}
	if code := get(public + "/playground"); code != http.StatusOK {
		t.Errorf("public GET /playground (development): %d, want 200", code)
	}
	sidecar := "http://" + cfg.Base.HTTPAddr
	if code := post(sidecar+"/events-bulk/oms.order.paid", forgedPaid, nil); code != http.StatusUnauthorized {
		t.Errorf("sidecar listener without the token: %d, want 401", code)
	}
	select {
	case u := <-updates:
		t.Fatalf("a forged event reached the feed: %+v", u)
	case <-time.After(300 * time.Millisecond):
	}
	// Through the sidecar (with its token) the feed still works.
	if code := post(sidecar+"/events-bulk/oms.order.paid", forgedPaid, map[string]string{daprx.APITokenHeader: token}); code != http.StatusOK {
		t.Errorf("sidecar listener with the token: %d, want 200", code)
	}
	select {
	case u := <-updates:
		if u.OrderID != "O-VICTIM" || u.Status != model.OrderStatusPaid {
			t.Fatalf("update %+v", u)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a delivery with the sidecar's token did not reach the feed")
	}
	if code := get("http://" + cfg.Base.OpsAddr + "/metrics"); code != http.StatusOK {
		t.Errorf("ops /metrics: %d", code)
	}
}
