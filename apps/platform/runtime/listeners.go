package runtime

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// An app listens on up to three addresses (ARCHITECTURE, Trust boundaries):
//
//   - HARVEST_HTTP_ADDR, the sidecar-facing listener: the app's API, its
//     event routes, Dapr's callbacks (/dapr/subscribe, /dapr/config),
//     actors, bindings and the batch route. Only the app's own sidecar may
//     call it, so every request must carry the sidecar's APP_API_TOKEN in
//     dapr-api-token; the check wraps the whole router, so no route can be
//     registered around it (the go-sdk checks the token only on handlers
//     added through its own AddServiceInvocationHandler).
//   - HARVEST_OPS_ADDR: /healthz, /readyz, /metrics and, in development,
//     /debug/pprof, without a token, for probes and the scraper; nothing
//     else is routed there.
//   - public listeners (ServePublic): what callers without a sidecar
//     reach, such as the gateway's /graphql; they authenticate their own
//     callers.
//
// Every listener has server timeouts and a bound on request bodies.

// Timeouts bound how long a connection may hold a listener: a slow or
// stalled client (slowloris) cannot pin goroutines and descriptors.
type Timeouts struct {
	ReadHeader time.Duration // request line and headers
	Read       time.Duration // the whole request, body included
	// Write bounds the whole exchange from the end of the headers to the
	// last byte of the answer: above the longest handler (the sidecar's
	// resiliency timeouts are 15-20 s, the Invoker's 30 s).
	Write time.Duration
	Idle  time.Duration // a kept-alive connection between requests
}

// DefaultTimeouts are every listener's timeouts unless App.Timeouts is
// changed before Run.
var DefaultTimeouts = Timeouts{ReadHeader: 5 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second}

// DefaultMaxBodyBytes bounds every request body unless App.MaxBodyBytes
// is changed or AllowBody raises it for a route: the largest JSON body a
// route takes is a batch of 64 calls or a bulk delivery of 100 events,
// both far below it.
const DefaultMaxBodyBytes = 4 << 20

// AllowBody lets requests matching pattern (an http.ServeMux pattern such
// as "POST /v1/campaigns/{id}/candidates") carry bodies up to max bytes
// instead of MaxBodyBytes, for a route that takes a file. Call before Run.
func (a *App) AllowBody(pattern string, max int64) {
	a.bodyLimits.Handle(pattern, bodyLimit(max))
}

// bodyLimit is a body size registered by AllowBody; it is looked up, never
// served.
type bodyLimit int64

func (bodyLimit) ServeHTTP(http.ResponseWriter, *http.Request) {}

// limitBody refuses a declared body over the route's limit at once and
// cuts off an undeclared (chunked) one when it passes it: reading it then
// fails with *http.MaxBytesError, which httpapi.Decode answers as 413
// BODY_TOO_LARGE.
func (a *App) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := a.MaxBodyBytes
		if h, _ := a.bodyLimits.Handler(r); h != nil {
			if l, ok := h.(bodyLimit); ok {
				limit = int64(l)
			}
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close") // do not read what is left of it
			httpapi.WriteError(w, r, httpapi.BodyTooLarge(limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// requireToken lets through only requests whose dapr-api-token header is
// token, compared in constant time (as SHA-256 digests, so neither the
// content nor the length of the token leaks through timing); any other
// request gets 401 UNAUTHENTICATED and reaches no handler. The header
// stays on the request: a handler added through the go-sdk's
// AddServiceInvocationHandler checks it again.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get(daprx.APITokenHeader)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			httpapi.WriteError(w, r, httpapi.Errorf(http.StatusUnauthorized, httpapi.CodeUnauthenticated,
				"this listener serves only the app's own Dapr sidecar: %s is missing or wrong", daprx.APITokenHeader))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// newServer is a listener's server with every timeout set.
func newServer(addr string, h http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}

// newPublicServer is a public listener's server. A public listener may
// carry WebSockets (the gateway's subscriptions live for hours), so its
// server has no ReadTimeout or WriteTimeout of its own, which would apply
// to the upgrade request's connection: perRequestDeadlines sets the same
// bounds on every other request through http.ResponseController, and a
// WebSocket, once upgraded, is kept or dropped by its own keep-alive pings
// (graph.NewServer: 15 s) and the transport's init timeout. The header and
// idle timeouts hold for every connection.
func newPublicServer(addr string, h http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           perRequestDeadlines(t, h),
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
	}
}

// perRequestDeadlines gives each request that is not a WebSocket upgrade
// the read and write deadlines a server's ReadTimeout and WriteTimeout
// would.
func perRequestDeadlines(t Timeouts, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebSocketUpgrade(r) {
			rc := http.NewResponseController(w)
			now := time.Now()
			_ = rc.SetReadDeadline(now.Add(t.Read))
			_ = rc.SetWriteDeadline(now.Add(t.Write))
		}
		next.ServeHTTP(w, r)
	})
}

func isWebSocketUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}
