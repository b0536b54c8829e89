package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Group commit. Every stage outcome is committed before its unit moves on,
// and each commit is fenced by the unit's lease; but a commit per outcome
// would bind the whole engine to the database's fsync rate (about 2,400
// commits/s on the 2-core machine, ~17 outcomes per order). So workers hand
// their outcomes to a few committers, which write every outcome that is
// waiting in one transaction: one fsync for many units, each unit's rows
// still written by its own fenced statements. Under light load a batch is
// a single outcome, so nothing waits for a batch to fill.

// committers is how many transactions may be committing at once: enough
// for the database to group-commit several while others are being built.
const committers = 12

// maxBatch bounds the outcomes of one transaction.
const maxBatch = 128

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

func (e *Engine) committer(reqs <-chan *commitReq) {
	for first := range reqs {
		batch := []*commitReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		e.commitBatch(batch)
	}
}

// errItem marks a batch that failed because of one of its outcomes.
var errItem = errors.New("an outcome of the batch failed")

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
	err := sqltx.Run(ctx, e.db, func(tx *sql.Tx) error {
		var steps []stepRow
		for _, r := range batch {
			r.next, r.err = e.apply(ctx, tx, r)
			if r.err != nil && !errors.Is(r.err, errLeaseLost) {
				return fmt.Errorf("%w: %w", errItem, r.err)
			}
			if r.err == nil {
				for _, st := range r.steps {
					steps = append(steps, stepRow{u: r.u, step: st})
				}
			}
		}
		return insertStepRows(ctx, tx, e.cfg.Owner, steps)
	})
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
		if err != nil && (r.err == nil || errors.Is(r.err, errLeaseLost)) {
			r.err = err
		}
		if err == nil && r.out.tx != nil {
			notify = true
		}
		if err != nil {
			r.next = nil
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
	err := sqltx.Run(ctx, e.db, func(tx *sql.Tx) error {
		var err error
		if r.next, err = e.apply(ctx, tx, r); err != nil {
			return err
		}
		return insertSteps(ctx, tx, r.u, e.cfg.Owner, r.steps)
	})
	r.err = err
	if err != nil {
		r.next = nil
	} else if r.out.tx != nil {
		e.notify()
	}
	close(r.done)
}

// apply writes one outcome in tx and returns the units to queue next (the
// unit at its next stage, or the new delivery orders), leaving the
// timeline rows in r.steps for the caller to insert. errLeaseLost means
// nothing was written for it: another claim owns the unit.
func (e *Engine) apply(ctx context.Context, tx *sql.Tx, r *commitReq) ([]*Unit, error) {
	s, u, out := r.s, r.u, r.out
	now := e.clock.Now()
	steps := []step{{stage: s, outcome: string(out.Kind), note: joinNote(out.Code, out.Note), started: r.startedAt, dur: r.ran}}
	w := *u
	var next []*Unit
	// save writes the unit first: the lease check comes before any other
	// effect of the outcome.
	save := func(st State, resume time.Time, code, reason string) error {
		if err := saveUnit(ctx, tx, &w, st, resume, code, reason, now); err != nil {
			return err
		}
		if out.tx != nil {
			return out.tx(ctx, tx)
		}
		return nil
	}
	switch out.Kind {
	case OutcomeNext:
		w.Attempts = 0
		ns := e.nextStage(u, s)
		end := ns
		if ns == 0 {
			end = lastStage(u) + 1
		}
		var skipped []string
		for t := s + 1; t < end; t++ {
			skipped = append(skipped, t.String())
		}
		if len(skipped) > 0 {
			steps[0].note = strings.TrimSpace(steps[0].note + " (skipped, nothing to do: " + strings.Join(skipped, ", ") + ")")
		}
		switch {
		case ns != 0:
			w.Stage = ns
			if w.LeaseUntil.Sub(now) < e.cfg.LeaseTTL/2 {
				w.LeaseUntil = now.Add(e.cfg.LeaseTTL)
			}
			if err := save(StateRunning, now, "", ""); err != nil {
				return nil, err
			}
			next = []*Unit{&w}
		case !u.IsChild():
			if err := save(StateSplit, now, "", fmt.Sprintf("%d delivery orders", len(u.Doc.Deliveries))); err != nil {
				return nil, err
			}
			children, err := e.fanOut(ctx, tx, &w, now)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE fulfillments SET open_children = ? WHERE unit_id = ?`, len(children), u.ID); err != nil {
				return nil, fmt.Errorf("count delivery orders of %s: %w", u.ID, err)
			}
			next = children
		default:
			// The order's unit is locked before the child's row, in the
			// same order by every finishing child, so the last two
			// finishing at once serialize instead of deadlocking.
			var st string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM fulfillments WHERE unit_id = ? FOR UPDATE`, u.ParentID).Scan(&st); err != nil {
				return nil, fmt.Errorf("lock order unit %s: %w", u.ParentID, err)
			}
			if err := save(StateDone, now, "", ""); err != nil {
				return nil, err
			}
			if err := e.childDone(ctx, tx, &w, State(st), now); err != nil {
				return nil, err
			}
		}
	case OutcomePause:
		if err := save(StatePaused, out.Until, out.Code, out.Note); err != nil {
			return nil, err
		}
	case OutcomeRetry:
		w.Attempts++
		if w.Attempts >= e.cfg.MaxAttempts {
			steps[0].outcome = string(OutcomeFail)
			if err := save(StateFailed, now, "RETRIES_EXHAUSTED", joinNote(out.Code, out.Note)); err != nil {
				return nil, err
			}
			break
		}
		after := max(out.After, e.backoff(w.Attempts-1))
		if err := save(StateReady, now.Add(after), out.Code, out.Note); err != nil {
			return nil, err
		}
	case OutcomeFail:
		if err := save(StateFailed, now, out.Code, out.Note); err != nil {
			return nil, err
		}
	case OutcomeCancel:
		if err := save(StateCancelled, now, out.Code, out.Note); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("stage %s: unknown outcome %q", s, out.Kind)
	}
	r.steps = steps
	return next, nil
}
