// Package obstest lets tests read the metrics an app registered with
// Prometheus' default registry.
package obstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Histogram answers the sample count and sum of the series of histogram
// name with exactly labels (0, 0 when it has none yet).
func Histogram(t testing.TB, name string, labels map[string]string) (count uint64, sum float64) {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
					continue series
				}
			}
			return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
		}
	}
	return 0, 0
}
