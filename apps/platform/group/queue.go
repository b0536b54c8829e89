package group

import (
	"sync"
	"time"
)

// Queue groups items of type T (see the package comment).
//
// A leader whose own item has been handled hands what still waits to a
// goroutine of its own and returns: under steady load the queue is rarely
// empty, and a caller kept leading until it was would wait for other
// callers' groups, one after another, long after its own answer was ready.
type Queue[T any] struct {
	opt Options

	mu        sync.Mutex
	seq       uint64
	pending   []entry[T]
	running   int
	lingering int           // leaders waiting for their group to fill
	filled    chan struct{} // wakes a lingering leader: a group is full
}

type entry[T any] struct {
	seq  uint64
	item T
}

// NewQueue returns a Queue forming its groups as o says.
func NewQueue[T any](o Options) *Queue[T] {
	return &Queue[T]{opt: o.withDefaults(), filled: make(chan struct{}, 1)}
}

// Submit queues item and, when this caller becomes a leader, calls handle
// with groups of queued items until its own item was in one (with
// Options.Detach, a goroutine of the queue's does, and Submit returns at
// once). handle must answer every item of its group (the items carry
// their own way back, such as a channel); Submit does not wait for the
// item to be handled when another leader has it.
func (q *Queue[T]) Submit(item T, handle func(group []T)) {
	q.mu.Lock()
	q.seq++
	mine := q.seq
	q.pending = append(q.pending, entry[T]{mine, item})
	if q.lingering > 0 && len(q.pending) >= q.opt.MaxSize {
		select {
		case q.filled <- struct{}{}:
		default:
		}
	}
	lead := q.running < q.opt.InFlight
	if lead {
		q.running++
	}
	q.mu.Unlock()
	switch {
	case !lead:
	case q.opt.Detach:
		go q.lead(handle, 0, false)
	default:
		q.lead(handle, mine, false)
	}
}

// lead handles groups until the queue is empty or, for a caller (mine >
// 0), until the caller's own item has been handled; what then still waits
// is led on by a new goroutine, which keeps the leader's slot. busy says
// the queue was busy when this leader took over (a group was handled just
// before), which makes its first group linger.
func (q *Queue[T]) lead(handle func([]T), mine uint64, busy bool) {
	for {
		q.mu.Lock()
		if q.opt.Linger > 0 && (busy || q.opt.LingerAlways) && len(q.pending) > 0 && len(q.pending) < q.opt.MaxSize {
			q.linger()
		}
		n := min(len(q.pending), q.opt.MaxSize)
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
		if q.opt.Sizes != nil {
			q.opt.Sizes.Observe(float64(n))
		}
		q.handle(handle, items)
		busy = true
		if mine > 0 && g[n-1].seq >= mine {
			q.mu.Lock()
			if len(q.pending) == 0 {
				q.running--
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			go q.lead(handle, 0, true)
			return
		}
	}
}

// linger waits, without q.mu (held on entry and on return), until the
// queue holds a full group or Options.Linger has passed.
func (q *Queue[T]) linger() {
	select {
	case <-q.filled: // a stale wake-up from a group already taken
	default:
	}
	q.lingering++
	q.mu.Unlock()
	t := time.NewTimer(q.opt.Linger)
	select {
	case <-t.C:
	case <-q.filled:
	}
	t.Stop()
	q.mu.Lock()
	q.lingering--
}

// handle runs handle on items. Should it panic, the leader's slot is
// given up, or passed on to a goroutine when items wait, before the panic
// goes on: a queue must not stall because one group failed.
func (q *Queue[T]) handle(handle func([]T), items []T) {
	ok := false
	defer func() {
		if ok {
			return
		}
		q.mu.Lock()
		waiting := len(q.pending) > 0
		if !waiting {
			q.running--
		}
		q.mu.Unlock()
		if waiting {
			go q.lead(handle, 0, true)
		}
	}()
	handle(items)
	ok = true
}
