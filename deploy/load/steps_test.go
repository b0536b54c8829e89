package load

import (
	"strings"
	"testing"
	"time"
)

func TestArrivalIsEvenAndDoesNotDrift(t *testing.T) {
	t.Parallel()
	if got := Arrival(0, 300); got != 0 {
		t.Fatalf("first arrival at %s", got)
	}
	if got := Arrival(300, 300); got != time.Second {
		t.Fatalf("arrival 300 at 300/s: %s, want 1s", got)
	}
	// 3 per second is 333.33 ms apart; the millionth is not a million
	// rounded steps away.
	if got, want := Arrival(3_000_000, 3), 1_000_000*time.Second; got != want {
		t.Fatalf("arrival 3e6 at 3/s: %s, want %s", got, want)
	}
	if Arrival(5, 0) != 0 {
		t.Fatal("rate 0 must not divide by zero")
	}
}

func TestQuantileNearestRank(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 51 * time.Millisecond}, {0.95, 96 * time.Millisecond}, {0.99, 100 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := Quantile(ds, c.q); got != c.want {
			t.Errorf("q%.2f = %s, want %s", c.q, got, c.want)
		}
	}
	if Quantile(nil, .5) != 0 {
		t.Fatal("empty")
	}
}

func TestStepsReport(t *testing.T) {
	t.Parallel()
	s := NewSteps("deduct", "place")
	for i := 10; i >= 1; i-- { // unsorted on purpose
		s.Took("place", time.Duration(i)*time.Millisecond)
	}
	s.Took("deduct", time.Millisecond)
	s.Failed("place", "OUT_OF_STOCK")
	s.Failed("place", "OUT_OF_STOCK")
	s.Failed("paid", "timeout") // a step first seen failing is listed too
	st := s.Stats()
	if len(st) != 3 || st[0].Name != "deduct" || st[1].Name != "place" || st[2].Name != "paid" {
		t.Fatalf("order %+v", st)
	}
	if p := st[1]; p.OK != 10 || p.Failed != 2 || p.P50 != 6*time.Millisecond || p.P99 != 10*time.Millisecond || p.Max != 10*time.Millisecond {
		t.Fatalf("place %+v", p)
	}
	if f := s.Failures(); f["place: OUT_OF_STOCK"] != 2 || f["paid: timeout"] != 1 || len(f) != 2 {
		t.Fatalf("failures %v", f)
	}
	var b strings.Builder
	s.Print(&b)
	out := b.String()
	if !strings.Contains(out, "failed      2 × place: OUT_OF_STOCK") || strings.Index(out, "OUT_OF_STOCK") > strings.Index(out, "paid: timeout") {
		t.Fatalf("report:\n%s", out)
	}
}
