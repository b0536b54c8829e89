package graph

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/graph/auth"
)

// CodeRateLimited: the caller's mutations came faster than its rate;
// extensions.retryAfterMs says when one is allowed again.
const CodeRateLimited = "RATE_LIMITED"

// mutationLimiter is a token bucket per token subject: every mutation
// field (aliases count one each) takes a token; tokens come back at rate
// per second up to burst. Buckets that refilled are dropped, since a full
// bucket and none are the same, so memory follows the callers of the last
// few seconds.
type mutationLimiter struct {
	rate  float64
	burst float64
	clock clock.Clock

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newMutationLimiter(rate float64, burst int, c clock.Clock) *mutationLimiter {
	return &mutationLimiter{rate: rate, burst: float64(burst), clock: c, buckets: map[string]*bucket{}}
}

// take takes a token of subject's bucket, or says how long until one is back.
func (l *mutationLimiter) take(subject string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[subject]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[subject] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
}

// sweep drops the buckets that are full again, once per refill time.
func (l *mutationLimiter) sweep(now time.Time) {
	refill := time.Duration(l.burst / l.rate * float64(time.Second))
	if now.Sub(l.lastSweep) < refill {
		return
	}
	l.lastSweep = now
	for s, b := range l.buckets {
		if now.Sub(b.at) >= refill {
			delete(l.buckets, s)
		}
	}
}

// aroundFields limits the root fields of mutations by the caller's
// subject. Anonymous callers pass: every mutation requires a role, and
// @hasRole refuses them without calling anything.
func (l *mutationLimiter) aroundFields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	id, ok := auth.FromContext(ctx)
	if !ok {
		return next(ctx)
	}
	if ok, wait := l.take(id.Subject); !ok {
		ms := wait.Milliseconds()
		return nil, &PublicError{Code: CodeRateLimited,
			Message:    fmt.Sprintf("too many mutations: at most %g per second (burst %g); retry in %d ms", l.rate, l.burst, ms),
			Extensions: map[string]any{"retryAfterMs": ms, "retryAfter": int64(math.Ceil(wait.Seconds()))}}
	}
	return next(ctx)
}
