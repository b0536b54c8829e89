// Package group makes concurrent callers share one round trip: each
// submits its item and waits; a caller that finds fewer than InFlight
// groups being handled becomes a leader and handles groups of whatever has
// queued, its own item among them, until nothing waits. A lone caller
// therefore waits for nobody, and under load the queue grows while groups
// are handled, so groups grow with the load instead of by a timer.
//
// Harvest uses it where per-call overhead dominated the work: committing
// the orders (OMS) and reservations (inventory) created at the same moment
// in one transaction, and reading the idempotency keys and catalog entries
// that concurrent placements need with one query.
package group

import "sync"

// Queue groups items of type T. The zero value is not ready: set Max and
// InFlight (NewQueue).
type Queue[T any] struct {
	max, inFlight int

	mu      sync.Mutex
	pending []T
	running int
}

// NewQueue returns a Queue handing at most max items per group, with at
// most inFlight groups handled at once.
func NewQueue[T any](max, inFlight int) *Queue[T] {
	return &Queue[T]{max: max, inFlight: inFlight}
}

// Submit queues item and, when this caller becomes a leader, calls handle
// with groups of queued items until none is left. handle must answer every
// item of its group (the items carry their own way back, such as a
// channel); Submit returns once the caller's leadership, if any, is over,
// not when its item was handled.
func (q *Queue[T]) Submit(item T, handle func(group []T)) {
	q.mu.Lock()
	q.pending = append(q.pending, item)
	lead := q.running < q.inFlight
	if lead {
		q.running++
	}
	q.mu.Unlock()
	if !lead {
		return
	}
	for {
		q.mu.Lock()
		n := min(len(q.pending), q.max)
		if n == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		g := q.pending[:n:n]
		q.pending = q.pending[n:]
		q.mu.Unlock()
		handle(g)
	}
}
