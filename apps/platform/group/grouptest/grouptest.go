// Package grouptest lets tests see whether writes were actually grouped.
package grouptest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Grouped counts the items written in groups of more than one, from the
// group-size histogram named metric (buckets from 1, all label values
// summed), as registered with Prometheus' default registry.
func Grouped(t testing.TB, metric string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			alone := float64(0) // items of groups of one: the count in bucket le=1
			for _, b := range h.GetBucket() {
				if b.GetUpperBound() == 1 {
					alone = float64(b.GetCumulativeCount())
				}
			}
			n += h.GetSampleSum() - alone
		}
	}
	return n
}
