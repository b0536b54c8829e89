// Package fresh keeps a value read from a shared store (a switch, a small
// table) and trusts it for a while, so a hot path does not read it on
// every call. A change this process makes is seen at once (Set, Forget);
// one made by another replica, within the TTL.
package fresh

import (
	"context"
	"sync"
	"time"
)

// Copy is a value as last read, trusted for TTL. The zero Copy with a TTL
// set is ready to use.
type Copy[T any] struct {
	TTL time.Duration

	mu   sync.Mutex
	read time.Time
	ok   bool
	v    T
}

// Get answers the copy, reading it with load when it is missing or older
// than TTL. Loads are serialized: callers arriving while one runs wait
// for its answer rather than all reading at once. A failed load leaves
// the copy as it was and returns load's error.
func (c *Copy[T]) Get(ctx context.Context, load func(context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || time.Since(c.read) > c.TTL {
		v, err := load(ctx)
		if err != nil {
			return v, err
		}
		c.v, c.read, c.ok = v, time.Now(), true
	}
	return c.v, nil
}

// Set replaces the copy with v, read just now.
func (c *Copy[T]) Set(v T) {
	c.mu.Lock()
	c.v, c.read, c.ok = v, time.Now(), true
	c.mu.Unlock()
}

// Forget drops the copy: the next Get reads it again.
func (c *Copy[T]) Forget() {
	c.mu.Lock()
	c.ok = false
	c.mu.Unlock()
}

// Last is the copy as last read, however old, and whether there is one.
func (c *Copy[T]) Last() (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v, !c.read.IsZero()
}
