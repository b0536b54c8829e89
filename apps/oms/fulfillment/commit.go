package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// Group commit. Every stage outcome is committed before its unit moves on,
// and each commit is fenced by the unit's lease; but a commit per outcome
// would bind the whole engine to the database's fsync rate (about 2,400
// commits/s on the 2-core machine, ~17 outcomes per order). So workers hand
// their outcomes to a few committers, which write every outcome that is
// waiting in one transaction: one fsync for many units. Under light load a
// batch is a single outcome, so nothing waits for a batch to fill.
//
// A batch is written set-wise, in a fixed number of statements whatever
// its size: one locking read of every unit of the batch, which is the
// lease fence — a unit whose token or state no longer matches is dropped,
// its locked row cannot change under the transaction — then one multi-row
// write of the units' new rows, one INSERT of the new delivery orders, one
// of the timeline rows, and last (they are shared with other batches) one
// locking read and one UPDATE of the order units their finishing delivery
// orders count off and one store.UpdateManyTx of the orders done. A statement (and a round trip)
// per outcome made the database, not the stages, the bound on the 2-core
// machine; so did the lock waits of batches on sibling delivery orders'
// order unit, which commitShard removes.

// committers is how many transactions may be committing at once: enough
// for the database to group-commit several while others are being built.
const committers = 8

// maxBatch bounds the outcomes of one transaction.
const maxBatch = 256

// commitShard is the committer of an order's outcomes. The delivery
// orders of an order count themselves off the order's unit when they
// finish, which locks that row until the commit; siblings finishing in
// two batches at once would make one batch wait for the other's whole
// transaction. Sent to one committer, they meet in one batch or in
// batches one after the other.
func commitShard(orderID string) int {
	h := fnv.New32a()
	h.Write([]byte(orderID))
	return int(h.Sum32() % committers)
}

type commitReq struct {
	s         Stage
	u         *Unit
	out       Outcome
	startedAt time.Time
	ran       time.Duration
	// results
	steps []step
	cost  time.Duration // this outcome's share of its transaction
	next  []*Unit
	err   error
	done  chan struct{}
}

// commitLinger is how long a busy committer waits for more outcomes to
// join its batch. A committer is busy when outcomes had queued behind the
// first: then a transaction per few outcomes would spend the database's
// CPU on transactions (each a dozen statements whatever its size) rather
// than on outcomes. An idle one commits a lone outcome at once.
const commitLinger = 10 * time.Millisecond

func (e *Engine) committer(reqs <-chan *commitReq) {
	for first := range reqs {
		batch, _ := group.Gather(reqs, first, maxBatch, commitLinger, 2)
		e.commitBatch(batch)
	}
}

func (e *Engine) commitBatch(batch []*commitReq) {
	ctx := context.Background()
	// The same order of rows in every transaction keeps batches from
	// deadlocking one another.
	slices.SortFunc(batch, func(a, b *commitReq) int { return strings.Compare(a.u.ID, b.u.ID) })
	start := time.Now()
	defer func() {
		d := time.Since(start)
		e.batches.Add(1)
		e.batchItems.Add(int64(len(batch)))
		e.batchNanos.Add(int64(d))
	}()
	err := runTx(ctx, e.db, func(tx *sql.Tx) error { return e.writeBatch(ctx, tx, batch) })
	if err != nil && len(batch) > 1 {
		// One outcome spoilt the batch (or the batch kept deadlocking):
		// commit them one by one so the others are not held back by it.
		for _, r := range batch {
			e.commitOne(ctx, r)
		}
		return
	}
	notify := false
	share := time.Since(start) / time.Duration(len(batch))
	for _, r := range batch {
		r.cost = share
		if err != nil {
			r.err, r.next = err, nil
		}
		if r.err == nil && r.out.tx != nil {
			notify = true
		}
		close(r.done)
	}
	if notify {
		e.notify()
	}
}

func (e *Engine) commitOne(ctx context.Context, r *commitReq) {
	start := time.Now()
	defer func() { r.cost = time.Since(start) }()
	err := runTx(ctx, e.db, func(tx *sql.Tx) error { return e.writeBatch(ctx, tx, []*commitReq{r}) })
	if err != nil {
		r.err, r.next = err, nil
	} else if r.err == nil && r.out.tx != nil {
		e.notify()
	}
	close(r.done)
}

// orderWork is a change to an order's row in the batch (fraud cancel,
// dispatched), run in order id order.
type orderWork struct {
	orderID string
	fn      func(ctx context.Context, tx *sql.Tx) error
}

// writeBatch writes the outcomes of batch (sorted by unit id) in tx. An
// outcome whose unit's lease was taken over gets errLeaseLost and writes
// nothing; every other one gets its next units in r.next. An error fails
// the whole transaction.
func (e *Engine) writeBatch(ctx context.Context, tx *sql.Tx, batch []*commitReq) error {
	now := e.clock.Now()
	ids := make([]string, 0, len(batch))
	for _, r := range batch {
		r.next, r.err, r.steps = nil, nil, nil // a retried transaction starts over
		ids = append(ids, r.u.ID)
	}
	locked, err := lockUnits(ctx, tx, ids)
	if err != nil {
		return err
	}
	var (
		rows     []unitRow
		children []*Unit
		steps    []stepRow
		orders   []orderWork
		countOff = map[string]int{}
		parentOf = map[string]string{} // order unit -> order id
	)
	for _, r := range batch {
		l, ok := locked[r.u.ID]
		if !ok || l.token != r.u.Token || l.state != StateRunning {
			r.err = errLeaseLost
			continue
		}
		p, err := e.plan(r, now, l.open)
		if err != nil {
			return fmt.Errorf("%w: %w", errItem, err)
		}
		rows = append(rows, p.row)
		children = append(children, p.children...)
		if p.countOff {
			countOff[r.u.ParentID]++
			parentOf[r.u.ParentID] = r.u.OrderID
		}
		if r.out.tx != nil {
			orders = append(orders, orderWork{r.u.OrderID, r.out.tx})
		}
		r.next = p.next
		for _, st := range r.steps {
			steps = append(steps, stepRow{u: r.u, step: st})
		}
		for _, c := range p.children {
			steps = append(steps, stepRow{u: c, step: p.created[c.ID]})
		}
	}
	if err := upsertUnits(ctx, tx, rows, e.cfg.Owner, now); err != nil {
		return err
	}
	if err := insertUnits(ctx, tx, children, StateRunning, now, e.cfg.Owner, now); err != nil {
		return err
	}
	if err := insertStepRows(ctx, tx, e.cfg.Owner, steps); err != nil {
		return err
	}
	// Delivery orders dispatched: count them off their order's unit, and
	// close the order when none is left. The order units are shared by
	// sibling delivery orders in other batches, so they are locked last,
	// in key order, to be held only until the commit.
	if len(countOff) > 0 {
		parents := make([]string, 0, len(countOff))
		for p := range countOff {
			parents = append(parents, p)
		}
		slices.Sort(parents)
		plocked, err := lockUnits(ctx, tx, parents)
		if err != nil {
			return err
		}
		counts := make([]parentCount, 0, len(parents))
		var closing []string // orders whose last delivery order was dispatched
		for _, p := range parents {
			l, ok := plocked[p]
			if !ok {
				return fmt.Errorf("%w: lock order unit %s: not found", errItem, p)
			}
			c := parentCount{id: p, open: l.open - countOff[p], state: l.state}
			if c.open <= 0 && l.state != StateDone {
				c.state = StateDone
				closing = append(closing, parentOf[p])
			}
			counts = append(counts, c)
		}
		if err := countOffChildren(ctx, tx, counts, now); err != nil {
			return err
		}
		dispatched := func(o *domain.Order) ([]outbox.Event, error) {
			return nil, o.MarkDispatched(now, "every delivery order dispatched")
		}
		if m, ok := e.orders.(manyOrders); ok && len(closing) > 0 {
			// many orders in a few statements; they are no order's work
			// below (a unit is at one stage at a time, and these are all
			// past the fraud audit)
			done, err := m.UpdateManyTx(ctx, tx, closing, dispatched)
			if err != nil {
				return err
			}
			if len(done) != len(closing) {
				return fmt.Errorf("%w: mark orders dispatched: %d of %d found", errItem, len(done), len(closing))
			}
		} else {
			for _, id := range closing {
				orders = append(orders, orderWork{id, func(ctx context.Context, tx *sql.Tx) error {
					_, err := e.orders.UpdateTx(ctx, tx, id, dispatched)
					return err
				}})
			}
		}
	}
	slices.SortStableFunc(orders, func(a, b orderWork) int { return strings.Compare(a.orderID, b.orderID) })
	for _, o := range orders {
		if err := o.fn(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// errItem marks a batch that failed because of one of its outcomes.
var errItem = errors.New("an outcome of the batch failed")

// planned is what one outcome writes.
type planned struct {
	row      unitRow
	next     []*Unit
	children []*Unit
	created  map[string]step // the children's first timeline rows
	countOff bool            // a delivery order finished: count it off its order
}

// plan works out what outcome r writes, with the unit's open_children as
// locked (kept unless the unit splits), leaving the unit's timeline rows
// in r.steps.
func (e *Engine) plan(r *commitReq, now time.Time, open int) (planned, error) {
	s, u, out := r.s, r.u, r.out
	this := step{stage: s, outcome: string(out.Kind), note: joinNote(out.Code, out.Note), started: r.startedAt, dur: r.ran}
	var ns Stage
	if out.Kind == OutcomeNext {
		this, ns = e.passed(u, s, out, r.startedAt, r.ran)
	}
	steps := append(slices.Clip(u.carried), this)
	last := len(steps) - 1
	w := *u
	w.carried = nil
	var p planned
	set := func(st State, resume time.Time, code, reason string) {
		p.row = unitRow{u: &w, state: st, resume: resume, code: code, reason: reason, open: open}
	}
	switch out.Kind {
	case OutcomeNext:
		w.Attempts = 0
		switch {
		case ns != 0:
			w.Stage = ns
			if w.LeaseUntil.Sub(now) < e.cfg.LeaseTTL/2 {
				w.LeaseUntil = now.Add(e.cfg.LeaseTTL)
			}
			set(StateRunning, now, "", "")
			p.next = []*Unit{&w}
		case !u.IsChild():
			children, created, err := e.fanOut(&w, now)
			if err != nil {
				return p, err
			}
			open = len(children)
			set(StateSplit, now, "", fmt.Sprintf("%d delivery orders", len(u.Doc.Deliveries)))
			p.next, p.children, p.created = children, children, created
		default:
			set(StateDone, now, "", "")
			p.countOff = true
		}
	case OutcomePause:
		set(StatePaused, out.Until, out.Code, out.Note)
	case OutcomeRetry:
		w.Attempts++
		if w.Attempts >= e.cfg.MaxAttempts {
			steps[last].outcome = string(OutcomeFail)
			set(StateFailed, now, "RETRIES_EXHAUSTED", joinNote(out.Code, out.Note))
			break
		}
		after := max(out.After, e.backoff(w.Attempts-1))
		set(StateReady, now.Add(after), out.Code, out.Note)
	case OutcomeFail:
		set(StateFailed, now, out.Code, out.Note)
	case OutcomeCancel:
		set(StateCancelled, now, out.Code, out.Note)
	default:
		return p, fmt.Errorf("stage %s: unknown outcome %q", s, out.Kind)
	}
	r.steps = steps
	return p, nil
}
