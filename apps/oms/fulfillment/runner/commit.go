package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/group"
)

// Group commit. Every stage outcome is committed before its unit moves on,
// and each commit is fenced by the unit's lease; but a commit per outcome
// would bind the whole runner to the database's fsync rate (about 2,400
// commits/s on the 2-core machine, ~17 outcomes per order). So workers hand
// their outcomes to a few committers, which write every outcome that is
// waiting in one transaction: one fsync for many units. Under light load a
// batch is a single outcome, so nothing waits for a batch to fill.
//
// A batch is written set-wise, in a fixed number of statements whatever
// its size: one locking read of every unit of the batch, which is the
// lease fence — a unit whose token or state no longer matches is dropped,
// its locked row cannot change under the transaction — then one multi-row
// write of the units' new rows, one INSERT of the new children, one of the
// timeline rows, and last (they are shared with other batches) one locking
// read and one UPDATE of the roots their finishing children count off, and
// Hooks.Done for the keys done. A statement (and a round trip) per outcome
// made the database, not the stages, the bound on the 2-core machine; so
// did the lock waits of batches on sibling children's root, which
// commitShard removes.

// committers is how many transactions may be committing at once: enough
// for the database to group-commit several while others are being built.
const committers = 8

// maxBatch bounds the outcomes of one transaction.
const maxBatch = 256

// commitShard is the committer of a key's outcomes. The children of a
// root count themselves off the root when they finish, which locks that
// row until the commit; siblings finishing in two batches at once would
// make one batch wait for the other's whole transaction. Sent to one
// committer, they meet in one batch or in batches one after the other.
func commitShard(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % committers)
}

type commitReq[D any] struct {
	s         int
	u         *Unit[D]
	out       Outcome
	startedAt time.Time
	ran       time.Duration
	// results
	steps []step
	cost  time.Duration // this outcome's share of its transaction
	next  []*Unit[D]
	err   error
	done  chan struct{}
}

// commitLinger is how long a busy committer waits for more outcomes to
// join its batch. A committer is busy when outcomes had queued behind the
// first: then a transaction per few outcomes would spend the database's
// CPU on transactions (each a dozen statements whatever its size) rather
// than on outcomes. An idle one commits a lone outcome at once.
const commitLinger = 10 * time.Millisecond

func (r *Runner[D]) committer(reqs <-chan *commitReq[D]) {
	for first := range reqs {
		batch, _ := group.Gather(reqs, first, maxBatch, commitLinger, 2)
		r.commitBatch(batch)
	}
}

func (r *Runner[D]) commitBatch(batch []*commitReq[D]) {
	ctx := context.Background()
	// The same order of rows in every transaction keeps batches from
	// deadlocking one another.
	slices.SortFunc(batch, func(a, b *commitReq[D]) int { return strings.Compare(a.u.ID, b.u.ID) })
	start := time.Now()
	defer func() {
		d := time.Since(start)
		r.batches.Add(1)
		r.batchItems.Add(int64(len(batch)))
		r.batchNanos.Add(int64(d))
	}()
	// One outcome that spoils the batch (or a batch that keeps
	// deadlocking) has the others committed one by one, so they are not
	// held back by it; each then costs its own transaction.
	alone := false
	write := func(g []*commitReq[D]) error {
		alone = alone || len(g) < len(batch)
		t := time.Now()
		err := RunTx(ctx, r.db, func(tx *sql.Tx) error { return r.writeBatch(ctx, tx, g) })
		if alone {
			g[0].cost = time.Since(t)
		}
		return err
	}
	notify := false
	group.AllOrEach(batch, write, func(i int, err error) {
		x := batch[i]
		if !alone {
			x.cost = time.Since(start) / time.Duration(len(batch))
		}
		if err != nil {
			x.err, x.next = err, nil
		}
		if x.err == nil && len(x.out.Effects) > 0 {
			notify = true
		}
		close(x.done)
	})
	if notify {
		r.hooks.Notify()
	}
}

// CommitDirect runs stage of u and commits its outcome alone, as a worker
// and a committer would, and returns the units to run next: for
// benchmarks of the stages without the runner's concurrency.
func (r *Runner[D]) CommitDirect(ctx context.Context, u *Unit[D]) (Outcome, []*Unit[D], error) {
	out := r.run(ctx, u.stage, u)
	x := &commitReq[D]{s: u.stage, u: u, out: out, startedAt: r.clock.Now(), done: make(chan struct{})}
	r.commitBatch([]*commitReq[D]{x})
	return out, x.next, x.err
}

// effectWork are the effects of an outcome, applied in key order.
type effectWork struct {
	key     string
	effects []any
}

// writeBatch writes the outcomes of batch (sorted by unit id) in tx. An
// outcome whose unit's lease was taken over gets errLeaseLost and writes
// nothing; every other one gets its next units in x.next. An error fails
// the whole transaction.
func (r *Runner[D]) writeBatch(ctx context.Context, tx *sql.Tx, batch []*commitReq[D]) error {
	now := r.clock.Now()
	ids := make([]string, 0, len(batch))
	for _, x := range batch {
		x.next, x.err, x.steps = nil, nil, nil // a retried transaction starts over
		ids = append(ids, x.u.ID)
	}
	locked, err := lockUnits(ctx, tx, ids)
	if err != nil {
		return err
	}
	var (
		rows     []unitRow[D]
		children []*Unit[D]
		steps    []stepRow[D]
		work     []effectWork
		done     []string
		countOff = map[string]int{}
		keyOf    = map[string]string{} // root -> key
	)
	for _, x := range batch {
		l, ok := locked[x.u.ID]
		if !ok || l.token != x.u.Token || l.state != StateRunning {
			x.err = errLeaseLost
			continue
		}
		p, err := r.plan(x, now, l.open)
		if err != nil {
			return fmt.Errorf("%w: %w", errItem, err)
		}
		rows = append(rows, p.row)
		children = append(children, p.children...)
		switch {
		case p.countOff:
			countOff[x.u.ParentID]++
			keyOf[x.u.ParentID] = x.u.Key
		case p.done:
			done = append(done, x.u.Key)
		}
		if len(x.out.Effects) > 0 {
			work = append(work, effectWork{x.u.Key, x.out.Effects})
		}
		x.next = p.next
		for _, st := range x.steps {
			steps = append(steps, stepRow[D]{u: x.u, step: st})
		}
		for _, c := range p.children {
			steps = append(steps, stepRow[D]{u: c, step: p.created[c.ID]})
		}
	}
	if err := r.upsertUnits(ctx, tx, rows, now); err != nil {
		return err
	}
	if err := r.insertUnits(ctx, tx, children, StateRunning, now, r.cfg.Owner, now); err != nil {
		return err
	}
	if err := r.insertStepRows(ctx, tx, r.cfg.Owner, steps); err != nil {
		return err
	}
	// Children done: count them off their root, and finish the key when
	// none is left. The roots are shared by sibling children in other
	// batches, so they are locked last, in key order, to be held only
	// until the commit.
	if len(countOff) > 0 {
		closing, err := r.countOff(ctx, tx, countOff, keyOf, now)
		if err != nil {
			return err
		}
		done = append(done, closing...)
	}
	if len(done) > 0 && r.hooks.Done != nil {
		slices.Sort(done)
		if err := r.hooks.Done(ctx, tx, done); err != nil {
			return err
		}
	}
	if len(work) > 0 {
		if r.hooks.Apply == nil {
			return fmt.Errorf("%w: outcomes with effects and no Apply hook", errItem)
		}
		slices.SortStableFunc(work, func(a, b effectWork) int { return strings.Compare(a.key, b.key) })
		for _, w := range work {
			if err := r.hooks.Apply(ctx, tx, w.key, w.effects); err != nil {
				return err
			}
		}
	}
	return nil
}

// countOff counts finished children off their roots and returns the keys
// whose last child finished.
func (r *Runner[D]) countOff(ctx context.Context, tx *sql.Tx, countOff map[string]int, keyOf map[string]string, now time.Time) ([]string, error) {
	parents := make([]string, 0, len(countOff))
	for p := range countOff {
		parents = append(parents, p)
	}
	slices.Sort(parents)
	plocked, err := lockUnits(ctx, tx, parents)
	if err != nil {
		return nil, err
	}
	counts := make([]parentCount, 0, len(parents))
	var closing []string
	for _, p := range parents {
		l, ok := plocked[p]
		if !ok {
			return nil, fmt.Errorf("%w: lock root %s: not found", errItem, p)
		}
		c := parentCount{id: p, open: l.open - countOff[p], state: l.state}
		if c.open <= 0 && l.state != StateDone {
			c.state = StateDone
			closing = append(closing, keyOf[p])
		}
		counts = append(counts, c)
	}
	return closing, countOffChildren(ctx, tx, counts, now)
}

// errItem marks a batch that failed because of one of its outcomes.
var errItem = errors.New("an outcome of the batch failed")

// planned is what one outcome writes.
type planned[D any] struct {
	row      unitRow[D]
	next     []*Unit[D]
	children []*Unit[D]
	created  map[string]step // the children's first timeline rows
	countOff bool            // a child finished: count it off its root
	done     bool            // a root finished without children
}

// plan works out what outcome x writes, with the unit's open children as
// locked (kept unless the unit splits), leaving the unit's timeline rows
// in x.steps.
func (r *Runner[D]) plan(x *commitReq[D], now time.Time, open int) (planned[D], error) {
	s, u, out := x.s, x.u, x.out
	this := step{stage: s, outcome: string(out.Kind), note: joinNote(out.Code, out.Note), started: x.startedAt, dur: x.ran}
	ns := -1
	if out.Kind == OutcomeNext {
		this, ns = r.passed(u, s, out, x.startedAt, x.ran)
	}
	steps := append(slices.Clip(u.carried), this)
	last := len(steps) - 1
	w := *u
	w.carried = nil
	var p planned[D]
	set := func(st State, resume time.Time, code, reason string) {
		p.row = unitRow[D]{u: &w, state: st, resume: resume, code: code, reason: reason, open: open}
	}
	switch out.Kind {
	case OutcomeNext:
		w.Attempts = 0
		switch {
		case ns >= 0:
			w.stage = ns
			if w.LeaseUntil.Sub(now) < r.cfg.LeaseTTL/2 {
				w.LeaseUntil = now.Add(r.cfg.LeaseTTL)
			}
			set(StateRunning, now, "", "")
			p.next = []*Unit[D]{&w}
		case !u.IsChild():
			children, created, err := r.fanOut(&w, now)
			if err != nil {
				return p, err
			}
			if len(children) == 0 {
				set(StateDone, now, "", "")
				p.done = true
				break
			}
			open = len(children)
			set(StateSplit, now, "", fmt.Sprintf("%d delivery orders", len(children)))
			p.next, p.children, p.created = children, children, created
		default:
			set(StateDone, now, "", "")
			p.countOff = true
		}
	case OutcomePause:
		set(StatePaused, out.Until, out.Code, out.Note)
	case OutcomeRetry:
		w.Attempts++
		if w.Attempts >= r.cfg.MaxAttempts {
			steps[last].outcome = string(OutcomeFail)
			set(StateFailed, now, "RETRIES_EXHAUSTED", joinNote(out.Code, out.Note))
			break
		}
		after := max(out.After, r.Backoff(w.Attempts-1))
		set(StateReady, now.Add(after), out.Code, out.Note)
	case OutcomeFail:
		set(StateFailed, now, out.Code, out.Note)
	case OutcomeCancel:
		set(StateCancelled, now, out.Code, out.Note)
	default:
		return p, fmt.Errorf("stage %s: unknown outcome %q", r.stages[s].Name, out.Kind)
	}
	x.steps = steps
	return p, nil
}

// A unit that moves on without a commit into a stage with effects has its
// lease checked before that stage runs (see carry), so a hold (or a
// catch-up) that took it meanwhile stops it there. The checks waiting at a
// moment share one read by primary key.

const fenceCheckers = 1

// fenceLinger is how long a busy checker waits for more checks to join its
// read; the units wait in their queues meanwhile, not for the read.
const fenceLinger = 5 * time.Millisecond

type fenceReq struct {
	id, token string
	ok        bool
	done      chan struct{}
}

func (r *Runner[D]) fenceChecker() {
	for first := range r.fences {
		batch, _ := group.Gather(r.fences, first, maxBatch, fenceLinger, 2)
		ids := make([]string, len(batch))
		for i, f := range batch {
			ids[i] = f.id
		}
		leases, err := readLeases(context.Background(), r.db, ids)
		for _, f := range batch {
			l, ok := leases[f.id]
			f.ok = err == nil && ok && l.token == f.token && l.state == StateRunning
			close(f.done)
		}
	}
}
