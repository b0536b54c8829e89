package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// ErrInvalid: an operator's input is malformed.
var ErrInvalid = errors.New("invalid input")

// ErrNotFound: the key has no units.
var ErrNotFound = errors.New("no units")

// ErrNotFailed: no unit of the key is in the exception queue.
var ErrNotFailed = errors.New("no failed unit to retry")

// ErrNotHeld: no unit of the key is held.
var ErrNotHeld = errors.New("not held")

// StageCount is how many units stand at a stage, by state.
type StageCount struct {
	Stage   string
	Kind    Kind
	Waiting int64 // READY: due or backing off before a retry
	Running int64 // leased by an instance: queued in its memory or running
	Paused  int64 // waiting for their time
	Failed  int64 // in the exception queue
	Held    int64 // their key is held
}

// Counts counts the units of every stage that are not finished, in
// pipeline order.
func (r *Runner[D]) Counts(ctx context.Context) ([]StageCount, error) {
	out := make([]StageCount, len(r.stages))
	for i, s := range r.stages {
		out[i] = StageCount{Stage: s.Name, Kind: s.Kind}
	}
	rows, err := r.db.QueryContext(ctx, `SELECT stage, state, COUNT(*) FROM fulfillments
		WHERE state IN ('READY','RUNNING','PAUSED','FAILED','HELD') GROUP BY stage, state`)
	if err != nil {
		return nil, fmt.Errorf("count units by stage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, st string
		var n int64
		if err := rows.Scan(&s, &st, &n); err != nil {
			return nil, err
		}
		i, ok := r.stageIndex(s)
		if !ok {
			continue
		}
		c := &out[i]
		switch State(st) {
		case StateReady:
			c.Waiting += n
		case StateRunning:
			c.Running += n
		case StatePaused:
			c.Paused += n
		case StateFailed:
			c.Failed += n
		case StateHeld:
			c.Held += n
		}
	}
	return out, rows.Err()
}

// UnitView is a unit's row as operators see it.
type UnitView[D any] struct {
	ID         string
	ParentID   string
	Stage      string
	State      State
	HeldFrom   State // a held unit's state when it was held (RUNNING: a worker had it)
	ResumeAt   time.Time
	Attempts   int
	FailCode   string
	FailReason string
	Doc        D
	DocErr     error // the document could not be read
	UpdatedAt  time.Time
}

// StepView is one entry of a key's timeline.
type StepView struct {
	UnitID   string
	Stage    string
	Outcome  string
	Note     string
	Owner    string
	At       time.Time
	Duration time.Duration
}

// Units reads the units of key, the root first.
func (r *Runner[D]) Units(ctx context.Context, key string) ([]UnitView[D], error) {
	return r.units(ctx, r.db, key, "")
}

func (r *Runner[D]) units(ctx context.Context, db querier, key, lock string) ([]UnitView[D], error) {
	rows, err := db.QueryContext(ctx, `SELECT unit_id, parent_id, stage, state, held_from, resume_at, attempts, fail_code, fail_reason, doc, updated_at
		FROM fulfillments WHERE order_id = ? ORDER BY child_seq`+lock, key)
	if err != nil {
		return nil, fmt.Errorf("read units of %s: %w", key, err)
	}
	defer rows.Close()
	var out []UnitView[D]
	for rows.Next() {
		var v UnitView[D]
		var st, from string
		var doc []byte
		if err := rows.Scan(&v.ID, &v.ParentID, &v.Stage, &st, &from, &v.ResumeAt, &v.Attempts, &v.FailCode, &v.FailReason, &doc, &v.UpdatedAt); err != nil {
			return nil, err
		}
		v.Stage, v.State, v.HeldFrom = r.StageName(v.Stage), State(st), State(from)
		v.ResumeAt, v.UpdatedAt = v.ResumeAt.UTC(), v.UpdatedAt.UTC()
		v.DocErr = r.hooks.Decode(doc, &v.Doc)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Steps reads key's timeline, oldest first.
func (r *Runner[D]) Steps(ctx context.Context, key string) ([]StepView, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT unit_id, stage, outcome, note, owner, started_at, duration_us
		FROM fulfillment_steps WHERE order_id = ? ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("read steps of %s: %w", key, err)
	}
	defer rows.Close()
	var out []StepView
	for rows.Next() {
		var v StepView
		var us int64
		if err := rows.Scan(&v.UnitID, &v.Stage, &v.Outcome, &v.Note, &v.Owner, &v.At, &us); err != nil {
			return nil, err
		}
		v.Stage, v.At, v.Duration = r.StageName(v.Stage), v.At.UTC(), time.Duration(us)*time.Microsecond
		out = append(out, v)
	}
	return out, rows.Err()
}

// Retry sends key's failed units back to their stage (Hooks.Retried may
// change their document first) and returns how many it sent.
func (r *Runner[D]) Retry(ctx context.Context, key, operator string) (int, error) {
	n := 0
	err := sqltx.Run(ctx, r.db, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `SELECT unit_id, stage, fail_code, doc FROM fulfillments WHERE order_id = ? AND state = 'FAILED' FOR UPDATE`, key)
		if err != nil {
			return fmt.Errorf("read failed units of %s: %w", key, err)
		}
		type failed struct {
			id, code, stage string
			doc             []byte
		}
		var fs []failed
		for rows.Next() {
			var f failed
			if err := rows.Scan(&f.id, &f.stage, &f.code, &f.doc); err != nil {
				rows.Close()
				return err
			}
			fs = append(fs, f)
		}
		rows.Close()
		now := r.clock.Now()
		var steps []StepView
		for _, f := range fs {
			doc := f.doc
			if r.hooks.Retried != nil {
				var d D
				if err := r.hooks.Decode(f.doc, &d); err != nil {
					return fmt.Errorf("unit %s document: %w", f.id, err)
				}
				r.hooks.Retried(f.code, &d)
				if doc, err = r.hooks.Encode(&d); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE fulfillments SET state = 'READY', resume_at = ?, attempts = 0, fail_code = '',
				fail_reason = '', doc = ?, updated_at = ? WHERE unit_id = ? AND state = 'FAILED'`, now, doc, now, f.id); err != nil {
				return fmt.Errorf("retry unit %s: %w", f.id, err)
			}
			steps = append(steps, StepView{UnitID: f.id, Stage: f.stage, Outcome: "RETRIED", Note: "by " + operator + " after " + f.code, At: now})
			n++
		}
		return insertViews(ctx, tx, key, operator, steps)
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %s", ErrNotFailed, key)
	}
	r.Wake()
	return n, nil
}

// insertViews writes operators' timeline rows (stage as stored).
func insertViews(ctx context.Context, tx *sql.Tx, key, owner string, steps []StepView) error {
	if len(steps) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO fulfillment_steps (order_id, unit_id, stage, outcome, note, owner, started_at, duration_us) VALUES `)
	args := make([]any, 0, 8*len(steps))
	for i, s := range steps {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,0)")
		args = append(args, key, s.UnitID, s.Stage, s.Outcome, truncate(s.Note, 500), truncate(owner, 64), s.At)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert timeline steps: %w", err)
	}
	return nil
}

// Hold stops every unfinished unit of key where it stands, in one
// transaction, until Release: a held unit is claimed by no instance, and
// the lease of a unit an instance holds in memory is revoked, so that the
// run it may be in commits nothing and the unit goes no further (its
// effects, all idempotent by the unit, are repeated on release). It
// returns key's units as the hold left them; holding a held key changes
// nothing (and reports newly false).
func (r *Runner[D]) Hold(ctx context.Context, key, reason, by string) (units []UnitView[D], newly bool, err error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, false, fmt.Errorf("%w: a reason is required to hold %s", ErrInvalid, key)
	}
	err = RunTx(ctx, r.db, func(tx *sql.Tx) error {
		newly = false
		us, err := r.units(ctx, tx, key, " FOR UPDATE")
		if err != nil {
			return err
		}
		if len(us) == 0 {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		now := r.clock.Now()
		var steps []StepView
		for _, u := range us {
			switch u.State {
			case StateReady, StateRunning, StatePaused, StateFailed:
				steps = append(steps, StepView{UnitID: u.ID, Stage: u.Stage, Outcome: "HELD", Note: truncate(reason, 400) + " (by " + by + ", was " + string(u.State) + ")", At: now})
			}
		}
		if len(steps) > 0 {
			newly = true
			// The token changes, which is the fence: the holder of a RUNNING
			// unit finds it gone at its commit or before its next stage.
			if _, err := tx.ExecContext(ctx, `UPDATE fulfillments SET held_from = state, state = 'HELD',
				lease_owner = '', lease_token = ?, lease_until = ?, updated_at = ? WHERE order_id = ? AND state IN ('READY','RUNNING','PAUSED','FAILED')`,
				ids.New(), time.Unix(0, 0).UTC(), now, key); err != nil {
				return fmt.Errorf("hold %s: %w", key, err)
			}
			if err := insertViews(ctx, tx, key, by, steps); err != nil {
				return err
			}
		}
		units, err = r.units(ctx, tx, key, "")
		return err
	})
	return units, newly, err
}

// Release lets key's held units go on from where the hold stopped them.
func (r *Runner[D]) Release(ctx context.Context, key, by string) (int, error) {
	n := 0
	err := RunTx(ctx, r.db, func(tx *sql.Tx) error {
		us, err := r.units(ctx, tx, key, " FOR UPDATE")
		if err != nil {
			return err
		}
		if len(us) == 0 {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		now := r.clock.Now()
		var steps []StepView
		for _, u := range us {
			if u.State == StateHeld {
				steps = append(steps, StepView{UnitID: u.ID, Stage: u.Stage, Outcome: "RELEASED", Note: "by " + by + ", back to " + string(u.HeldFrom), At: now})
			}
		}
		n = len(steps)
		if n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fulfillments SET state = IF(held_from IN ('', 'RUNNING'), 'READY', held_from), held_from = '', updated_at = ?
			WHERE order_id = ? AND state = 'HELD'`, now, key); err != nil {
			return fmt.Errorf("release %s: %w", key, err)
		}
		return insertViews(ctx, tx, key, by, steps)
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %s", ErrNotHeld, key)
	}
	r.Wake()
	return n, nil
}
