// Package hub fans events out to the gateway's GraphQL subscribers
// in-process: OMS's order events (Hub, oms.go) and WMS's floor events
// (Floor, wms.go), each a Feed. The gateway's Dapr subscriptions feed them;
// each subscription gets a buffered channel that a feed never blocks on: a subscriber too slow to keep up is dropped (its channel
// closed, which ends its GraphQL subscription) so one stalled client cannot
// hold back every other one or the Dapr delivery. Every channel closes when
// its subscriber's context ends, with no goroutine left waiting for that.
package hub

import (
	"context"
	"log/slog"
	"sync"

	"github.com/harvest/harvest/graph/model"
)

// DefaultBuffer is how many updates a subscriber may lag before it is dropped.
const DefaultBuffer = 16

// Feed is the in-process fan-out of one kind of update; the zero value is
// not usable, use NewFeed.
type Feed[T any] struct {
	mu     sync.Mutex
	next   uint64
	subs   map[uint64]*subscriber[T]
	buffer int
	log    *slog.Logger
	what   string // what it carries, for logs
}

type subscriber[T any] struct {
	ch    chan T
	match func(T) bool
	stop  func() bool // detaches the context.AfterFunc
}

// NewFeed returns a feed of what whose subscriber channels hold buffer updates.
func NewFeed[T any](what string, buffer int, log *slog.Logger) *Feed[T] {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	if log == nil {
		log = slog.Default()
	}
	return &Feed[T]{subs: map[uint64]*subscriber[T]{}, buffer: buffer, log: log, what: what}
}

// Hub is the feed of order updates.
type Hub struct{ *Feed[*model.OrderUpdate] }

// New returns a hub of order updates whose subscriber channels hold buffer
// updates.
func New(buffer int, log *slog.Logger) *Hub {
	return &Hub{NewFeed[*model.OrderUpdate]("order", buffer, log)}
}

// Subscribe returns a channel of the updates match accepts. The channel is
// closed when ctx ends or when the subscriber falls behind by more than the
// buffer. match runs on the publisher's goroutine and must be cheap.
func (h *Feed[T]) Subscribe(ctx context.Context, match func(T) bool) <-chan T {
	s := &subscriber[T]{ch: make(chan T, h.buffer), match: match}
	h.mu.Lock()
	id := h.next
	h.next++
	h.subs[id] = s
	h.mu.Unlock()
	// AfterFunc runs only once ctx is done: no goroutine waits meanwhile.
	s.stop = context.AfterFunc(ctx, func() { h.remove(id) })
	return s.ch
}

func (h *Feed[T]) remove(id uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.subs[id]; ok {
		delete(h.subs, id)
		close(s.ch)
	}
}

// Publish hands u to every matching subscriber without blocking; a
// subscriber whose buffer is full is dropped.
func (h *Feed[T]) Publish(u T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, s := range h.subs {
		if s.match != nil && !s.match(u) {
			continue
		}
		select {
		case s.ch <- u:
		default:
			delete(h.subs, id)
			close(s.ch)
			s.stop()
			h.log.Warn("dropping slow subscriber", "feed", h.what)
		}
	}
}

// Len is the number of live subscribers (for tests and metrics).
func (h *Feed[T]) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
