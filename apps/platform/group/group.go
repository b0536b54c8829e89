// Package group makes concurrent callers share one round trip: each
// submits its item and waits; a caller that finds fewer than inFlight
// groups being handled becomes a leader and handles a group of whatever
// has queued, its own item among them. A lone caller therefore waits for
// nobody, and under load the queue grows while groups are handled, so
// groups grow with the load instead of by a timer.
//
// A leader whose own item has been handled hands what still waits to a
// goroutine of its own and returns: under steady load the queue is rarely
// empty, and a caller kept leading until it was would wait for other
// callers' groups, one after another, long after its own answer was ready.
//
// Harvest uses it where per-call overhead dominated the work: committing
// the orders (OMS) and reservations (inventory) created at the same moment
// in one transaction, and reading the idempotency keys and catalog entries
// that concurrent placements need with one query.
package group

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The sizes Harvest's group commits and loaders use: at most MaxSize items
// per group, at most InFlight groups handled at once.
const (
	MaxSize  = 64
	InFlight = 2
)

// NewSizeHistogram registers (with Prometheus' default registry) a
// histogram of group sizes, 1 meaning an item handled alone, for
// Queue.Measured.
func NewSizeHistogram(name, help string) prometheus.Histogram {
	return promauto.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: SizeBuckets})
}

// SizeBuckets are the buckets of a group-size histogram.
var SizeBuckets = []float64{1, 2, 4, 8, 16, 32, 64}

// Queue groups items of type T.
type Queue[T any] struct {
	max, inFlight int

	sizes prometheus.Observer // of every group handed over, when set (Measured)

	mu      sync.Mutex
	seq     uint64
	pending []entry[T]
	running int
}

type entry[T any] struct {
	seq  uint64
	item T
}

// NewQueue returns a Queue handing at most max items per group, with at
// most inFlight groups handled at once.
func NewQueue[T any](max, inFlight int) *Queue[T] {
	return &Queue[T]{max: max, inFlight: inFlight}
}

// Measured makes q observe the size of every group it hands over in
// sizes, and returns q. Call it before the first Submit.
func (q *Queue[T]) Measured(sizes prometheus.Observer) *Queue[T] {
	q.sizes = sizes
	return q
}

// Submit queues item and, when this caller becomes a leader, calls handle
// with groups of queued items until its own item was in one. handle must
// answer every item of its group (the items carry their own way back, such
// as a channel); Submit does not wait for the item to be handled when
// another leader has it.
func (q *Queue[T]) Submit(item T, handle func(group []T)) {
	q.mu.Lock()
	q.seq++
	mine := q.seq
	q.pending = append(q.pending, entry[T]{mine, item})
	lead := q.running < q.inFlight
	if lead {
		q.running++
	}
	q.mu.Unlock()
	if lead {
		q.lead(handle, mine)
	}
}

// lead handles groups until the queue is empty or, for a caller (mine >
// 0), until the caller's own item has been handled; what then still waits
// is led on by a new goroutine, which keeps the leader's slot.
func (q *Queue[T]) lead(handle func([]T), mine uint64) {
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
		items := make([]T, n)
		for i, e := range g {
			items[i] = e.item
		}
		if q.sizes != nil {
			q.sizes.Observe(float64(n))
		}
		handle(items)
		if mine > 0 && g[n-1].seq >= mine {
			q.mu.Lock()
			if len(q.pending) == 0 {
				q.running--
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			go q.lead(handle, 0)
			return
		}
	}
}
