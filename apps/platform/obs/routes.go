package obs

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Per-route metrics.
//
// Dapr's own HTTP metrics run with low cardinality (dapr/config.yaml), and
// a call that travels in a batch (daprx.Invoker.Batch) reaches both
// sidecars as one invocation of v1/batch: neither sidecar can tell what a
// batch carried. The app counts and times every request itself, by the
// router's pattern ("POST /v1/orders/{id}/pay", so an id does not make a
// series of its own); a batched call runs through the same router as a
// request of its own (daprx.BatchHandler), so it is counted and timed
// under its own route, and the batch once more under v1/batch.

var routeSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "harvest_http_request_seconds",
	Help:    "Requests served, by route pattern and status, and how long each took; a call that came in a batch counts under its own route.",
	Buckets: prometheus.DefBuckets,
}, []string{"route", "status"})

// Routes counts and times every request next serves by its chi route
// pattern and status (see above). Use it as middleware of a chi router.
func Routes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK // nothing written: net/http answers 200
		}
		routeSeconds.WithLabelValues(RouteOf(r), strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	})
}

// RouteOf names the route chi matched for r ("POST /v1/orders/{id}"), or
// "unmatched"; it is known once r has been routed.
func RouteOf(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return r.Method + " " + p
		}
	}
	return "unmatched"
}
