// Package hub fans order events out to the gateway's GraphQL subscribers
// in-process. The gateway's Dapr subscriptions (oms.order.placed, .paid,
// .cancelled) feed it; each subscription gets a buffered channel that the hub
// never blocks on: a subscriber too slow to keep up is dropped (its channel
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

// Hub is the in-process fan-out; the zero value is not usable, use New.
type Hub struct {
	mu     sync.Mutex
	next   uint64
	subs   map[uint64]*subscriber
	buffer int
	log    *slog.Logger
}

type subscriber struct {
	ch    chan *model.OrderUpdate
	match func(*model.OrderUpdate) bool
	stop  func() bool // detaches the context.AfterFunc
}

// New returns a hub whose subscriber channels hold buffer updates.
func New(buffer int, log *slog.Logger) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	if log == nil {
		log = slog.Default()
	}
	return &Hub{subs: map[uint64]*subscriber{}, buffer: buffer, log: log}
}

// Subscribe returns a channel of the updates match accepts. The channel is
// closed when ctx ends or when the subscriber falls behind by more than the
// buffer. match runs on the publisher's goroutine and must be cheap.
func (h *Hub) Subscribe(ctx context.Context, match func(*model.OrderUpdate) bool) <-chan *model.OrderUpdate {
	s := &subscriber{ch: make(chan *model.OrderUpdate, h.buffer), match: match}
	h.mu.Lock()
	id := h.next
	h.next++
	h.subs[id] = s
	h.mu.Unlock()
	// AfterFunc runs only once ctx is done: no goroutine waits meanwhile.
	s.stop = context.AfterFunc(ctx, func() { h.remove(id) })
	return s.ch
}

func (h *Hub) remove(id uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.subs[id]; ok {
		delete(h.subs, id)
		close(s.ch)
	}
}

// Publish hands u to every matching subscriber without blocking; a
// subscriber whose buffer is full is dropped.
func (h *Hub) Publish(u *model.OrderUpdate) {
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
			h.log.Warn("dropping slow order subscriber", "order_id", u.OrderID)
		}
	}
}

// Len is the number of live subscribers (for tests and metrics).
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
