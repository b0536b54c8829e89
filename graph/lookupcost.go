package graph

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// What a cancelRequest lookup costs, by the path it took (issue 15: the
// filter's "no" must be ≥ 100× cheaper than asking after-sales). Timed
// where it really runs, in the gateway: the "no" comes from the gateway's
// mirror of the filter in memory while its lease holds, else from one
// pipelined Redis round trip; asking after-sales also crosses both daprd sidecars,
// after-sales and MariaDB, and its time here includes the filter read
// that sent it there, as production pays it. harvest-load detail reads
// these after each phase.
var cancelLookupSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name: "harvest_gateway_cancel_lookup_seconds",
	Help: "Order detail's cancelRequest lookups and how long each took, by path: filter_no_memory (the filter's certain no from the gateway's " +
		"mirror), filter_no_redis (the same no read from Redis, the mirror out of its lease), " +
		"asked_maybe / asked_not_ready / asked_redis_error / asked_no_filter (after-sales was asked, and why).",
	// From 100 ns (a "no" from memory is about 1 µs) to 30 s in steps of
	// about 39 %: fine enough for a p99 of any path, and wide enough for a
	// saturated stack's queueing.
	Buckets: prometheus.ExponentialBucketsRange(100e-9, 30, 60),
}, []string{"path"})

// The paths of a cancelRequest lookup.
const (
	lookupNoMemory      = "filter_no_memory"
	lookupNoRedis       = "filter_no_redis"
	lookupAskedMaybe    = "asked_maybe"
	lookupAskedNotReady = "asked_not_ready"
	lookupAskedRedisErr = "asked_redis_error"
	lookupAskedNoFilter = "asked_no_filter"
)

// observeLookup records one lookup that started at start and took path.
func observeLookup(path string, start time.Time) {
	cancelLookupSeconds.WithLabelValues(path).Observe(time.Since(start).Seconds())
}
