// Package group is Harvest's one home for batching: it makes concurrent
// callers share one round trip (a transaction, a query, an invocation)
// wherever the fixed cost of a round trip dominated the work.
//
//   - Queue groups items: each caller submits its item; a caller that
//     finds fewer than InFlight groups being handled becomes a leader and
//     handles a group of whatever has queued, its own item among them. A
//     lone caller therefore waits for nobody, and under load the queue
//     grows while groups are handled, so groups grow with the load instead
//     of by a timer (unless Options.Linger asks for one).
//   - Writer writes items in groups through a Queue, with the one way
//     Harvest falls back to one by one (AllOrEach): a group that fails is
//     written again item by item by the same function, so a lone item is
//     just a group of one and no write is written twice.
//   - Loader reads values by key with one fetch per group.
//   - Gather takes a batch off a channel, for a consumer goroutine that
//     owns its queue (fulfillment's committers).
//
// Harvest uses it for committing the orders (OMS), reservations
// (inventory), gift evaluations (marketing), occupations and received
// orders (WMS) created at the same moment in one transaction; for reading
// the idempotency keys and catalog entries concurrent placements need with
// one query; for recording the partners stand-in's requests; and for
// sending concurrent service invocations of a route as one (daprx).
package group

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The sizes Harvest's group commits and loaders use: at most MaxSize items
// per group, at most InFlight groups handled at once.
const (
	MaxSize  = 64
	InFlight = 2
)

// Options says how a Queue forms and handles its groups. The zero value
// is Harvest's default: groups of up to MaxSize, InFlight at once, formed
// from what has queued at once, handled by the caller that leads.
type Options struct {
	// MaxSize bounds the items of one group; 0 means MaxSize.
	MaxSize int
	// InFlight bounds the groups handled at once; 0 means InFlight.
	InFlight int
	// Linger is how long a group that is not full waits for more items
	// before it is handled: work that waits on throughput rather than on
	// latency spreads each round trip's fixed cost over more items. Only
	// a group formed while the queue is busy (items queued behind a group
	// being handled) lingers, so a lone item on an idle queue still goes
	// at once; with LingerAlways every group does.
	Linger       time.Duration
	LingerAlways bool
	// Detach handles every group on a goroutine of the queue's, so Submit
	// never waits and a caller can stop waiting on its own context (a
	// service invocation). Without it the leading caller handles groups
	// itself until its own item has been handled.
	Detach bool
	// Sizes, when set, observes the size of every group handed over (see
	// NewSizeHistogram).
	Sizes prometheus.Observer
}

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = MaxSize
	}
	if o.InFlight <= 0 {
		o.InFlight = InFlight
	}
	return o
}

// NewSizeHistogram registers (with Prometheus' default registry) a
// histogram of group sizes, 1 meaning an item handled alone, for
// Options.Sizes.
func NewSizeHistogram(name, help string) prometheus.Histogram {
	return promauto.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: SizeBuckets})
}

// SizeBuckets are the buckets of a group-size histogram.
var SizeBuckets = []float64{1, 2, 4, 8, 16, 32, 64}
