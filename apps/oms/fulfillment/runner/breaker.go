package runner

import (
	"context"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
)

// breaker is a stage's in-process circuit breaker. Closed, it lets every
// worker through; after threshold consecutive passing failures it opens
// for cooldown, and workers wait instead of taking units; then one probe
// at a time goes through (half-open) until one succeeds and closes it, or
// fails and opens it again for twice as long (up to 8 × cooldown).
type breaker struct {
	mu        sync.Mutex
	clock     clock.Clock
	threshold int
	base      time.Duration
	cooldown  time.Duration
	failures  int
	open      bool
	until     time.Time
	probing   bool
	onChange  func(open bool)
}

func newBreaker(c clock.Clock, threshold int, cooldown time.Duration, onChange func(bool)) *breaker {
	return &breaker{clock: c, threshold: threshold, base: cooldown, cooldown: cooldown, onChange: onChange}
}

// acquire waits until the breaker lets a worker through; probe reports
// that the caller is the half-open probe and must report with done.
func (b *breaker) acquire(ctx context.Context) (probe bool, err error) {
	for {
		b.mu.Lock()
		if !b.open {
			b.mu.Unlock()
			return false, nil
		}
		now := b.clock.Now()
		if !now.Before(b.until) && !b.probing {
			b.probing = true
			b.mu.Unlock()
			return true, nil
		}
		wait := b.until.Sub(now)
		b.mu.Unlock()
		if wait <= 0 || wait > 100*time.Millisecond {
			wait = 100 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// done reports a run: failed when the partner had a passing fault.
func (b *breaker) done(probe, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	if !failed {
		b.failures = 0
		if b.open && probe {
			b.open = false
			b.cooldown = b.base
			b.notify(false)
		}
		return
	}
	b.failures++
	switch {
	case b.open && probe:
		b.cooldown = min(2*b.cooldown, 8*b.base)
		b.until = b.clock.Now().Add(b.cooldown)
	case !b.open && b.failures >= b.threshold:
		b.open = true
		b.until = b.clock.Now().Add(b.cooldown)
		b.notify(true)
	}
}

func (b *breaker) notify(open bool) {
	if b.onChange != nil {
		b.onChange(open)
	}
}

// isOpen reports whether the breaker is open now.
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}
