package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// A phase's lookups are the change of the gateway's histogram across it,
// the asked_* paths summed; mean and quantiles come from that change.
func TestLookupCostsOfAPhase(t *testing.T) {
	before := map[string]float64{
		`harvest_gateway_cancel_lookup_seconds_bucket{path="filter_no_memory",le="0.0001"}`: 50,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="filter_no_memory",le="0.001"}`:  50,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="filter_no_memory",le="+Inf"}`:   50,
		`harvest_gateway_cancel_lookup_seconds_sum{path="filter_no_memory"}`:                0.0025,
		`harvest_gateway_cancel_lookup_seconds_count{path="filter_no_memory"}`:              50,
	}
	after := map[string]float64{
		`harvest_gateway_cancel_lookup_seconds_bucket{path="filter_no_memory",le="0.0001"}`: 149,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="filter_no_memory",le="0.001"}`:  150,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="filter_no_memory",le="+Inf"}`:   150,
		`harvest_gateway_cancel_lookup_seconds_sum{path="filter_no_memory"}`:                0.0025 + 0.005,
		`harvest_gateway_cancel_lookup_seconds_count{path="filter_no_memory"}`:              150,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="asked_maybe",le="0.001"}`:       0,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="asked_maybe",le="0.01"}`:        1,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="asked_maybe",le="+Inf"}`:        1,
		`harvest_gateway_cancel_lookup_seconds_sum{path="asked_maybe"}`:                     0.004,
		`harvest_gateway_cancel_lookup_seconds_count{path="asked_maybe"}`:                   1,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="asked_not_ready",le="0.001"}`:   0,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="asked_not_ready",le="0.01"}`:    3,
		`harvest_gateway_cancel_lookup_seconds_bucket{path="asked_not_ready",le="+Inf"}`:    3,
		`harvest_gateway_cancel_lookup_seconds_sum{path="asked_not_ready"}`:                 0.008,
		`harvest_gateway_cancel_lookup_seconds_count{path="asked_not_ready"}`:               3,
		`harvest_http_request_seconds_count{route="POST /graphql",status="200"}`:            900,
	}
	c := lookupCosts(before, after)
	no, asked := c["filter_no_memory"], c["asked"]
	if no == nil || asked == nil || len(c) != 2 {
		t.Fatalf("groups %v", c)
	}
	if no.count != 100 || no.mean() != 50*time.Microsecond {
		t.Fatalf("filter_no_memory: %v lookups, mean %s; want 100, 50µs", no.count, no.mean())
	}
	// 99 of the 100 within 100 µs: the p50 interpolates inside the first
	// bucket, the p99 is its top.
	if p := no.quantile(0.5); p < 50*time.Microsecond || p > 51*time.Microsecond {
		t.Fatalf("filter_no_memory p50 %s", p)
	}
	if p := no.quantile(0.99); p != 100*time.Microsecond {
		t.Fatalf("filter_no_memory p99 %s", p)
	}
	if asked.count != 4 || asked.mean() != 3*time.Millisecond {
		t.Fatalf("asked: %v lookups, mean %s; want 4, 3ms", asked.count, asked.mean())
	}
	if p := asked.quantile(0.99); p <= time.Millisecond || p > 10*time.Millisecond {
		t.Fatalf("asked p99 %s, want within (1ms, 10ms]", p)
	}
	if q := asked.quantileText(0.99); strings.HasPrefix(q, ">") {
		t.Fatalf("asked p99 %s is inside the buckets", q)
	}
	// Past the last finite bucket the quantile is not known: "> top".
	slow := &lookupCost{count: 10, sum: 100, buckets: map[float64]float64{1: 2, 30: 5, math.Inf(1): 10}}
	if q := slow.quantileText(0.99); q != "> 30s" {
		t.Fatalf("saturated p99 %q, want > 30s", q)
	}
}
