package fulfillment

import (
	"slices"
	"sync"
	"time"
)

// batcher runs together the requests that wait at the same moment, with
// no goroutine of its own. A caller that finds fewer than par batches
// running leads a batch of its own request at once (a lone request waits
// for nothing); otherwise its request waits, and a leader finishing its
// batch takes every waiting request (up to a bound) and hands that batch
// to the first of them, whose caller runs it. The engine batches the
// starts of paid orders and the warehouse throttle's capacity takes this
// way, one transaction per batch.
type batcher[T any] struct {
	par int // batches running at once; 0 means 1
	// linger is how long a batch handed over from the queue (the batcher
	// is busy) waits for more requests before it runs; a lone request
	// never waits.
	linger  time.Duration
	mu      sync.Mutex
	running int
	pending []*batchItem[T]
}

type batchItem[T any] struct {
	req  T
	lead chan []*batchItem[T] // the batch to lead, or nil: the request ran
}

// do queues req and returns once a batch holding it has run.
func (b *batcher[T]) do(req T, limit int, run func(batch []T)) {
	it := &batchItem[T]{req: req, lead: make(chan []*batchItem[T], 1)}
	var batch []*batchItem[T]
	b.mu.Lock()
	if b.running < max(b.par, 1) {
		// Nothing waits while a batch could run, so the queue is empty.
		b.running++
		batch = []*batchItem[T]{it}
	} else {
		b.pending = append(b.pending, it)
	}
	b.mu.Unlock()
	if batch == nil {
		if batch = <-it.lead; batch == nil {
			return
		}
		if b.linger > 0 && len(batch) < limit {
			time.Sleep(b.linger)
			b.mu.Lock()
			n := min(len(b.pending), limit-len(batch))
			batch = append(batch, b.pending[:n]...)
			b.pending = slices.Delete(b.pending, 0, n)
			b.mu.Unlock()
		}
	}
	defer func() {
		// even if run panicked: release the batch and pass the lead on
		var next []*batchItem[T]
		b.mu.Lock()
		if len(b.pending) > 0 {
			n := min(len(b.pending), limit)
			next = slices.Clone(b.pending[:n])
			b.pending = slices.Delete(b.pending, 0, n)
		} else {
			b.running--
		}
		b.mu.Unlock()
		for _, x := range batch {
			if x != it {
				x.lead <- nil
			}
		}
		if next != nil {
			next[0].lead <- next
		}
	}()
	reqs := make([]T, len(batch))
	for i, x := range batch {
		reqs[i] = x.req
	}
	run(reqs)
}
