package load

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Arrival is when the i-th of an open-loop run's arrivals is due, rate per
// second from the start: evenly spaced, computed from i (not accumulated),
// so a late scheduler catches up instead of drifting.
func Arrival(i int64, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(i) * float64(time.Second) / rate)
}

// Quantile returns the q-quantile (0..1) of sorted ds, nearest rank.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)) * q)
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Steps records the latency of each named step of a multi-step operation
// and the failures of each step by code; safe for concurrent use.
type Steps struct {
	mu       sync.Mutex
	order    []string
	lat      map[string][]time.Duration
	failures map[string]map[string]int64
}

// NewSteps returns a recorder whose report lists steps in the given order
// (steps first seen later follow).
func NewSteps(order ...string) *Steps {
	return &Steps{order: append([]string(nil), order...), lat: map[string][]time.Duration{}, failures: map[string]map[string]int64{}}
}

func (s *Steps) known(step string) {
	for _, o := range s.order {
		if o == step {
			return
		}
	}
	s.order = append(s.order, step)
}

// Took records one success of step.
func (s *Steps) Took(step string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known(step)
	s.lat[step] = append(s.lat[step], d)
}

// Failed records one failure of step with code.
func (s *Steps) Failed(step, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known(step)
	if s.failures[step] == nil {
		s.failures[step] = map[string]int64{}
	}
	s.failures[step][code]++
}

// StepStats are one step's figures.
type StepStats struct {
	Name               string
	OK, Failed         int64
	P50, P95, P99, Max time.Duration
}

// Stats returns every step's figures, in report order.
func (s *Steps) Stats() []StepStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StepStats, 0, len(s.order))
	for _, name := range s.order {
		ds := append([]time.Duration(nil), s.lat[name]...)
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		st := StepStats{Name: name, OK: int64(len(ds)), P50: Quantile(ds, .50), P95: Quantile(ds, .95), P99: Quantile(ds, .99)}
		if len(ds) > 0 {
			st.Max = ds[len(ds)-1]
		}
		for _, n := range s.failures[name] {
			st.Failed += n
		}
		out = append(out, st)
	}
	return out
}

// Failures returns "step: code" → count.
func (s *Steps) Failures() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for step, codes := range s.failures {
		for code, n := range codes {
			out[step+": "+code] += n
		}
	}
	return out
}

// Print writes one line per step and one per failure kind, most first.
func (s *Steps) Print(w io.Writer) {
	fmt.Fprintf(w, "  %-26s %8s %7s %9s %9s %9s %9s\n", "step", "ok", "failed", "p50", "p95", "p99", "max")
	for _, st := range s.Stats() {
		fmt.Fprintf(w, "  %-26s %8d %7d %9s %9s %9s %9s\n", st.Name, st.OK, st.Failed,
			round(st.P50), round(st.P95), round(st.P99), round(st.Max))
	}
	f := s.Failures()
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return f[keys[i]] > f[keys[j]] || f[keys[i]] == f[keys[j]] && keys[i] < keys[j] })
	for _, k := range keys {
		fmt.Fprintf(w, "  failed %6d × %s\n", f[k], k)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}
