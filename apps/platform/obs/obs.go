// Package obs sets up what operators look at: JSON logs through log/slog
// carrying the trace id, Prometheus /metrics, and the /healthz (live) and
// /readyz (dependencies reachable) endpoints.
package obs

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type traceKey struct{}

// WithTrace returns ctx carrying a trace id for the logs.
func WithTrace(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey{}, id)
}

// traceHandler adds trace_id from the context to every record.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(traceKey{}).(string); ok && id != "" {
		r.AddAttrs(slog.String("trace_id", id))
	}
	return h.Handler.Handle(ctx, r)
}
func (h traceHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(a)}
}
func (h traceHandler) WithGroup(n string) slog.Handler { return traceHandler{h.Handler.WithGroup(n)} }

// NewLogger returns a JSON logger tagged with the app id and makes it the default.
func NewLogger(app string) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("HARVEST_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	l := slog.New(traceHandler{slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})}).With("app", app)
	slog.SetDefault(l)
	return l
}

// Check is one readiness dependency.
type Check func(ctx context.Context) error

// Health serves /healthz and /readyz.
type Health struct {
	mu       sync.Mutex
	checks   map[string]Check
	stopping bool
}

// NewHealth returns an empty Health.
func NewHealth() *Health { return &Health{checks: map[string]Check{}} }

// Add registers a named readiness check.
func (h *Health) Add(name string, c Check) { h.mu.Lock(); h.checks[name] = c; h.mu.Unlock() }

// Stopping makes /readyz fail so load balancers stop sending work.
func (h *Health) Stopping() { h.mu.Lock(); h.stopping = true; h.mu.Unlock() }

// Mount adds /healthz, /readyz and /metrics to mux.
func (h *Health) Mount(mux interface {
	Handle(string, http.Handler)
}) {
	mux.Handle("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	}))
	mux.Handle("/readyz", http.HandlerFunc(h.ready))
	mux.Handle("/metrics", promhttp.Handler())
}

func (h *Health) ready(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	stopping := h.stopping
	checks := make(map[string]Check, len(h.checks))
	for k, v := range h.checks {
		checks[k] = v
	}
	h.mu.Unlock()
	if stopping {
		http.Error(w, "stopping", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for name, c := range checks {
		if err := c(ctx); err != nil {
			http.Error(w, name+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
