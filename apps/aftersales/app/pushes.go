package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/clock"
)

// PushStore is the order-push table (apps/aftersales/store).
type PushStore interface {
	DuePushes(ctx context.Context, t domain.PushType, now time.Time, limit int) ([]domain.Push, error)
	ClaimPush(ctx context.Context, seq int64, now time.Time, lease time.Duration) (bool, error)
	FinishPush(ctx context.Context, p domain.Push, result string, follow []domain.NewPush, now time.Time) (bool, error)
	RetryPush(ctx context.Context, seq int64, why string, due time.Time) error
	KillPush(ctx context.Context, seq int64, why string, now time.Time) error
}

// Delivery is what a push's receiver answered: a result to keep (its
// document number, the refund's id) and the pushes that follow from it,
// written in the transaction that marks the push DONE.
type Delivery struct {
	Result string
	Follow []domain.NewPush
}

// ErrPushRefused wraps a receiver's refusal that no retry will change
// (bad input): the push ends DEAD with the reason.
var ErrPushRefused = errors.New("push refused by its receiver")

// Deliverer sends one push to its receiver, which deduplicates by p.ID.
type Deliverer func(ctx context.Context, p domain.Push) (Delivery, error)

var (
	pushesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_aftersales_pushes_total", Help: "Push attempts by type and outcome (done, retry, dead).",
	}, []string{"type", "outcome"})
	pushSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "harvest_aftersales_push_seconds", Help: "Time of one push delivery, by type.",
		Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
	}, []string{"type"})
)

// PushOptions tune the workers; zero values take the defaults.
type PushOptions struct {
	// Timeout bounds one delivery (default 20 s); Lease is how long a
	// claimed push is the claimer's (default Timeout + 10 s), so a worker
	// that died mid-delivery gives it back by itself.
	Timeout, Lease time.Duration
	// Poll is the idle wait when not woken (default 500 ms).
	Poll   time.Duration
	Clock  clock.Clock
	Logger *slog.Logger
}

// Pushers runs one worker per push type, each with its own concurrency:
// a worker lists its type's due pushes (at most one per order, the
// order's first pending one), claims each with a lease and delivers
// them concurrently; a delivered push is marked DONE with the pushes it
// calls for in one transaction. A failure retries with backoff and holds
// the order's later pushes of the type back (commit order); a refusal
// ends the push DEAD. At least once: a crash after the receiver took a
// push and before DONE delivers it again, and the receiver's
// deduplication by push id makes that harmless.
type Pushers struct {
	store   PushStore
	opt     PushOptions
	mu      sync.Mutex
	workers map[domain.PushType]*pushWorker
}

type pushWorker struct {
	t           domain.PushType
	concurrency int
	deliver     Deliverer
	wake        chan struct{}
}

// NewPushers returns workers over store; add each type with Handle.
func NewPushers(store PushStore, opt PushOptions) *Pushers {
	if opt.Timeout <= 0 {
		opt.Timeout = 20 * time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = opt.Timeout + 10*time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = 500 * time.Millisecond
	}
	if opt.Clock == nil {
		opt.Clock = clock.System{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Pushers{store: store, opt: opt, workers: map[domain.PushType]*pushWorker{}}
}

// Handle sets type t's receiver and concurrency.
func (ps *Pushers) Handle(t domain.PushType, concurrency int, deliver Deliverer) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.workers[t] = &pushWorker{t: t, concurrency: max(concurrency, 1), deliver: deliver, wake: make(chan struct{}, 1)}
}

// Wake tells every worker new pushes were committed.
func (ps *Pushers) Wake() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, w := range ps.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (ps *Pushers) now() time.Time { return ps.opt.Clock.Now().UTC().Truncate(time.Microsecond) }

// Run runs every worker until ctx ends; deliveries in hand finish first.
func (ps *Pushers) Run(ctx context.Context) error {
	ps.mu.Lock()
	ws := make([]*pushWorker, 0, len(ps.workers))
	for _, w := range ps.workers {
		ws = append(ws, w)
	}
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { ps.loop(ctx, w) })
	}
	wg.Wait()
	return nil
}

func (ps *Pushers) loop(ctx context.Context, w *pushWorker) {
	for ctx.Err() == nil {
		n, err := ps.pass(ctx, w)
		if err != nil && ctx.Err() == nil {
			ps.opt.Logger.Warn("push worker pass", "type", w.t, "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-time.After(ps.opt.Poll):
		}
	}
}

// Pass runs one pass of type t's worker: the pushes due now, delivered
// with the type's concurrency; it answers how many it delivered or tried.
func (ps *Pushers) Pass(ctx context.Context, t domain.PushType) (int, error) {
	ps.mu.Lock()
	w := ps.workers[t]
	ps.mu.Unlock()
	if w == nil {
		return 0, fmt.Errorf("no worker for push type %s", t)
	}
	return ps.pass(ctx, w)
}

func (ps *Pushers) pass(ctx context.Context, w *pushWorker) (int, error) {
	due, err := ps.store.DuePushes(ctx, w.t, ps.now(), 2*w.concurrency)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, w.concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	n := 0
	for _, p := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// Claimed in the delivering goroutine, so claims run with the
			// type's concurrency too.
			ok, err := ps.store.ClaimPush(ctx, p.Seq, ps.now(), ps.opt.Lease)
			if err == nil && ok {
				p.Attempts++
				err = ps.deliver(context.WithoutCancel(ctx), w, p)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				n++ // else another worker (replica) has it
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return n, errors.Join(errs...)
}

// deliver runs one claimed push to its end for this attempt. Its context
// is not the worker's: a stopping worker finishes what it has in hand
// (within Timeout) rather than leave it to the lease.
func (ps *Pushers) deliver(ctx context.Context, w *pushWorker, p domain.Push) error {
	dctx, cancel := context.WithTimeout(ctx, ps.opt.Timeout)
	start := time.Now()
	d, err := w.deliver(dctx, p)
	cancel()
	pushSeconds.WithLabelValues(string(w.t)).Observe(time.Since(start).Seconds())
	now := ps.now()
	switch {
	case errors.Is(err, ErrPushRefused):
		pushesTotal.WithLabelValues(string(w.t), "dead").Inc()
		ps.opt.Logger.Error("push refused by its receiver", "type", w.t, "push", p.ID, "order", p.OrderID, "err", err)
		return ps.store.KillPush(ctx, p.Seq, err.Error(), now)
	case err != nil:
		pushesTotal.WithLabelValues(string(w.t), "retry").Inc()
		if rerr := ps.store.RetryPush(ctx, p.Seq, err.Error(), now.Add(domain.PushBackoff(p.Attempts))); rerr != nil {
			return rerr
		}
		return fmt.Errorf("push %s %s of %s: %w", w.t, p.ID, p.OrderID, err)
	}
	done, err := ps.store.FinishPush(ctx, p, d.Result, d.Follow, now)
	if err != nil {
		return err
	}
	if done {
		pushesTotal.WithLabelValues(string(w.t), "done").Inc()
		if len(d.Follow) > 0 {
			ps.Wake()
		}
	}
	return nil
}
