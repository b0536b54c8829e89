package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/obs/obstest"
)

const testToken = "the-sidecars-app-api-token-0123456789"

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type testApp struct {
	*App
	reached    atomic.Int64 // requests that reached any handler of the test
	publicAddr string       // the public listener's address
}

// startApp runs an App without a database, with one route of every kind
// the sidecar reaches, until the test ends.
func startApp(t *testing.T, env string, tune func(*testApp)) *testApp {
	t.Helper()
	t.Setenv("DAPR_HTTP_PORT", strings.TrimPrefix(freeAddr(t), "127.0.0.1:")) // no sidecar: readiness fails, nothing else cares
	base := config.Base{AppID: "rt", HTTPAddr: freeAddr(t), OpsAddr: freeAddr(t), Env: env, AppToken: testToken,
		PubSub: "pubsub", ShutdownTimeout: 2 * time.Second}
	a, err := New(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	ta := &testApp{App: a, publicAddr: freeAddr(t)}
	reach := func(w http.ResponseWriter, r *http.Request) {
		ta.reached.Add(1)
		var in map[string]any
		if r.ContentLength != 0 {
			if err := httpapi.Decode(r, &in); err != nil {
				httpapi.WriteError(w, r, err)
				return
			}
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}
	a.Mux.Post("/v1/accounts/{id}/credit", reach)
	a.Mux.Post("/v1/files", reach)
	a.AllowBatch(daprx.Route(http.MethodPost, "v1/accounts/C0042/credit"))
	if err := daprx.Subscribe(a.Service, "pubsub", "oms.order.cancelled", func(context.Context, daprx.Message) error {
		ta.reached.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	a.SubscribeBulk("pubsub", "oms.order.paid", "", 10, 10, daprx.EachMessage(func(context.Context, daprx.Message) error {
		ta.reached.Add(1)
		return nil
	}))
	if err := a.Service.AddBindingInvocationHandler("sweep", func(context.Context, *common.BindingEvent) ([]byte, error) {
		ta.reached.Add(1)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	a.SetActorSettings(map[string]any{"remindersStoragePartitions": 1})
	a.ServePublic(ta.publicAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ta.reached.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	if tune != nil {
		tune(ta)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if resp, err := http.Get("http://" + base.OpsAddr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ops listener did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ta
}

type call struct {
	method, path, body string
}

func (c call) String() string { return c.method + " " + c.path }

// sidecarRoutes are one route of every kind the sidecar calls an app on.
var sidecarRoutes = []call{
	{http.MethodPost, "/v1/accounts/C0042/credit", `{"amountFen":100000000}`},
	{http.MethodPost, "/events/oms.order.cancelled", `{"specversion":"1.0","id":"forged-1","source":"oms","type":"oms.order.cancelled","datacontenttype":"application/json","data":{"orderId":"O1"}}`},
	{http.MethodPost, "/events-bulk/oms.order.paid", `{"topic":"oms.order.paid","entries":[{"entryId":"1","event":{"id":"forged-2","type":"oms.order.paid","data":{"orderId":"O1"}},"contentType":"application/cloudevents+json"}]}`},
	{http.MethodGet, "/dapr/subscribe", ""},
	{http.MethodGet, "/dapr/config", ""},
	{http.MethodPut, "/actors/window/W1/method/remind/pass", `{}`},
	{http.MethodDelete, "/actors/window/W1", ""},
	{http.MethodPost, "/" + daprx.BatchPath, `{"calls":[{"method":"POST","path":"v1/accounts/C0042/credit","body":{"amountFen":1}}]}`},
	{http.MethodPost, "/sweep", `{}`},
	{http.MethodGet, "/healthz", ""},
	{http.MethodGet, "/metrics", ""},
	{http.MethodGet, "/debug/pprof/", ""},
	{http.MethodGet, "/no/such/route", ""},
}

func do(t *testing.T, addr string, c call, token string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, _ := http.NewRequest(c.method, "http://"+addr+c.path, body)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set(daprx.APITokenHeader, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestSidecarListenerRequiresToken: no route of the sidecar-facing
// listener (the app's API, events, bulk events, Dapr's callbacks, actors,
// bindings, the batch route, and routes that do not exist) answers a
// request without the sidecar's token or with a wrong one: 401 with an
// UNAUTHENTICATED Problem, and no handler runs. With the token they work.
func TestSidecarListenerRequiresToken(t *testing.T) {
	a := startApp(t, "development", nil)
	for _, c := range sidecarRoutes {
		for _, tok := range []string{"", "wrong", testToken[:len(testToken)-1], testToken + "x"} {
			status, body := do(t, a.Config.HTTPAddr, c, tok)
			var p httpapi.Problem
			_ = json.Unmarshal(body, &p)
			if status != http.StatusUnauthorized || p.Code != httpapi.CodeUnauthenticated {
				t.Errorf("%s with token %q: %d %s, want 401 %s", c, tok, status, body, httpapi.CodeUnauthenticated)
			}
		}
	}
	if n := a.reached.Load(); n != 0 {
		t.Fatalf("%d requests without the token reached a handler", n)
	}
	for _, c := range sidecarRoutes[:9] {
		if status, body := do(t, a.Config.HTTPAddr, c, testToken); status == http.StatusUnauthorized || status >= 500 && c.method != http.MethodPut && c.method != http.MethodDelete {
			t.Errorf("%s with the token: %d %s", c, status, body)
		}
	}
	if n := a.reached.Load(); n < 5 { // credit, event, bulk event, batch, binding
		t.Fatalf("only %d requests with the token reached a handler", n)
	}
	// The go-sdk's own answers survive: subscriptions and actor settings.
	_, subs := do(t, a.Config.HTTPAddr, call{http.MethodGet, "/dapr/subscribe", ""}, testToken)
	if !bytes.Contains(subs, []byte("/events/oms.order.cancelled")) || !bytes.Contains(subs, []byte("/events-bulk/oms.order.paid")) {
		t.Errorf("/dapr/subscribe = %s", subs)
	}
	_, cfg := do(t, a.Config.HTTPAddr, call{http.MethodGet, "/dapr/config", ""}, testToken)
	if !bytes.Contains(cfg, []byte("remindersStoragePartitions")) {
		t.Errorf("/dapr/config = %s", cfg)
	}
}

// TestBatchedCallsCountedUnderTheirOwnRoute: the app's router counts and
// times each call a batch carries under the call's own route pattern, and
// the batch once under the batch route.
func TestBatchedCallsCountedUnderTheirOwnRoute(t *testing.T) {
	a := startApp(t, "development", nil)
	served := func(route string) (uint64, float64) {
		return obstest.Histogram(t, "harvest_http_request_seconds", map[string]string{"route": route, "status": "200"})
	}
	credits0, _ := served("POST /v1/accounts/{id}/credit")
	batches0, _ := served("POST /" + daprx.BatchPath)
	two := call{http.MethodPost, "/" + daprx.BatchPath, `{"calls":[` +
		`{"method":"POST","path":"v1/accounts/C0042/credit","body":{"amountFen":1}},` +
		`{"method":"POST","path":"v1/accounts/C0042/credit","body":{"amountFen":2}}]}`}
	if status, body := do(t, a.Config.HTTPAddr, two, testToken); status != http.StatusOK {
		t.Fatalf("batch: %d %s", status, body)
	}
	credits, secs := served("POST /v1/accounts/{id}/credit")
	batches, _ := served("POST /" + daprx.BatchPath)
	if credits-credits0 != 2 || secs <= 0 {
		t.Errorf("the batch's 2 calls counted %d times under their route, timed %.6fs", credits-credits0, secs)
	}
	if batches-batches0 != 1 {
		t.Errorf("the batch counted %d times under %s, want once", batches-batches0, daprx.BatchPath)
	}
}

// TestOpsListenerServesOnlyHealthAndMetrics: the ops listener answers
// health, readiness and metrics without a token, pprof only in
// development, and nothing of the app's: no API, no events, no Dapr
// callbacks, token or not.
func TestOpsListenerServesOnlyHealthAndMetrics(t *testing.T) {
	for _, env := range []string{"development", "production"} {
		t.Run(env, func(t *testing.T) {
			a := startApp(t, env, nil)
			want := map[string]int{"/healthz": http.StatusOK, "/metrics": http.StatusOK,
				"/readyz": http.StatusServiceUnavailable} // no sidecar here
			if env == "development" {
				want["/debug/pprof/"] = http.StatusOK
			}
			for _, c := range sidecarRoutes {
				w, ok := want[c.path]
				if !ok {
					w = http.StatusNotFound
				}
				for _, tok := range []string{"", testToken} {
					if status, body := do(t, a.Config.OpsAddr, c, tok); status != w && !(w == http.StatusNotFound && status == http.StatusMethodNotAllowed) {
						t.Errorf("ops %s (token %v): %d %.80s, want %d", c, tok != "", status, body, w)
					}
				}
			}
			if status, _ := do(t, a.Config.OpsAddr, call{http.MethodGet, "/readyz", ""}, ""); status != http.StatusServiceUnavailable {
				t.Errorf("ops /readyz: %d", status)
			}
			if n := a.reached.Load(); n != 0 {
				t.Fatalf("%d ops requests reached an app handler", n)
			}
			// pprof is never on the sidecar-facing listener.
			if status, _ := do(t, a.Config.HTTPAddr, call{http.MethodGet, "/debug/pprof/", ""}, testToken); status != http.StatusNotFound {
				t.Errorf("app listener /debug/pprof/ with the token: %d, want 404", status)
			}
		})
	}
}

// TestBodyLimit: a body over the limit is refused with 413 BODY_TOO_LARGE
// before its handler runs when declared, and when it comes chunked the
// handler's read fails with the same Problem; AllowBody raises the limit
// for one route only; public listeners are bounded too.
func TestBodyLimit(t *testing.T) {
	a := startApp(t, "development", func(a *testApp) {
		a.MaxBodyBytes = 1 << 10
		a.AllowBody("POST /v1/files", 64<<10)
	})
	big := `{"pad":"` + strings.Repeat("x", 2<<10) + `"}`
	check := func(what string, status int, body []byte, want int) {
		t.Helper()
		var p httpapi.Problem
		_ = json.Unmarshal(body, &p)
		if status != want || want == http.StatusRequestEntityTooLarge && (p.Code != httpapi.CodeBodyTooLarge || !strings.Contains(p.Message, "1024 bytes")) {
			t.Errorf("%s: %d %s, want %d", what, status, body, want)
		}
	}
	s, b := do(t, a.Config.HTTPAddr, call{http.MethodPost, "/v1/accounts/C1/credit", big}, testToken)
	check("declared oversize body", s, b, http.StatusRequestEntityTooLarge)
	if a.reached.Load() != 0 {
		t.Fatal("a declared oversize body reached its handler")
	}
	// Chunked: no Content-Length, the limit cuts it off while it is read.
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.Config.HTTPAddr+"/v1/accounts/C1/credit", io.MultiReader(strings.NewReader(big)))
	req.Header.Set(daprx.APITokenHeader, testToken)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	check("chunked oversize body", resp.StatusCode, b, http.StatusRequestEntityTooLarge)

	s, b = do(t, a.Config.HTTPAddr, call{http.MethodPost, "/v1/files", big}, testToken)
	check("AllowBody route", s, b, http.StatusOK)
	s, b = do(t, a.publicAddr, call{http.MethodPost, "/anything", big}, "")
	check("public listener", s, b, http.StatusRequestEntityTooLarge)
	s, b = do(t, a.Config.HTTPAddr, call{http.MethodPost, "/v1/accounts/C1/credit", `{"amountFen":1}`}, testToken)
	check("small body", s, b, http.StatusOK)
}

// TestListenerTimeouts: every listener's server has its timeouts; a
// client that never finishes its headers is cut off; on a public listener
// a slow answer is cut off at the write deadline while a WebSocket
// upgraded there outlives it.
func TestListenerTimeouts(t *testing.T) {
	short := Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: time.Second}
	a := startApp(t, "development", func(a *testApp) {
		a.Timeouts = short
		a.App.public = nil
		a.ServePublic(a.publicAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebSocketUpgrade(r) {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				defer conn.Close()
				time.Sleep(2 * short.Write)
				fmt.Fprint(buf, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nstill-open")
				buf.Flush()
				return
			}
			time.Sleep(2 * short.Write)
			_, _ = w.Write([]byte("too late"))
		}))
	})

	for _, ls := range a.servers() {
		s := ls.srv
		if s.ReadHeaderTimeout != short.ReadHeader || s.IdleTimeout != short.Idle {
			t.Errorf("%s: header/idle timeouts %v/%v", s.Addr, s.ReadHeaderTimeout, s.IdleTimeout)
		}
		if s.Addr != a.publicAddr && (s.ReadTimeout != short.Read || s.WriteTimeout != short.Write) {
			t.Errorf("%s: read/write timeouts %v/%v", s.Addr, s.ReadTimeout, s.WriteTimeout)
		}
	}

	// Slowloris: half a request line, then nothing.
	for _, addr := range []string{a.Config.HTTPAddr, a.Config.OpsAddr, a.publicAddr} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(c)
		c.Close()
		if err != nil || time.Since(start) > 2*time.Second {
			t.Errorf("%s: a client that never ends its headers kept the connection %s (err %v)", addr, time.Since(start), err)
		}
	}

	// Public listener: a slow answer is cut off …
	resp, err := http.Get("http://" + a.publicAddr + "/slow")
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil && string(b) == "too late" {
			t.Errorf("a public answer later than the write deadline went through")
		}
	}
	// … a WebSocket is not.
	c, err := net.Dial("tcp", a.publicAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(bufio.NewReader(c))
	if !bytes.HasSuffix(got, []byte("still-open")) {
		t.Errorf("WebSocket cut off at the write deadline: read %q", got)
	}
}
