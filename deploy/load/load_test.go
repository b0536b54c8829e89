package load

import (
	"testing"
	"time"
)

func TestSummarizeUnsortedAndEmpty(t *testing.T) {
	t.Parallel()
	if got := Summarize(nil); got != (Latency{}) {
		t.Fatalf("none: %+v, want zeros", got)
	}
	// 1..200 ms, shuffled: Summarize sorts before it ranks.
	var ds []time.Duration
	for i := 200; i >= 1; i-- {
		ds = append(ds, time.Duration((i*37)%200+1)*time.Millisecond)
	}
	got := Summarize(ds)
	want := Latency{P50: 101 * time.Millisecond, P95: 191 * time.Millisecond, P99: 199 * time.Millisecond, Max: 200 * time.Millisecond}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if p50, p99 := Percentiles(ds); p50 != want.P50 || p99 != want.P99 {
		t.Fatalf("Percentiles %s %s disagree with Summarize", p50, p99)
	}
}
