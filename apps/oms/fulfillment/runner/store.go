package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// This file is the runner's SQL: the units' rows, their leases and the
// steps of the timeline.

const unitCols = `unit_id, order_id, parent_id, child_seq, stage, attempts, lease_token, lease_until, doc`

// scanUnits reads units; one at a stage the pipeline does not know is
// left out (logged): it stays leased and is taken up again after its lease.
func (r *Runner[D]) scanUnits(rows *sql.Rows) ([]*Unit[D], error) {
	defer rows.Close()
	var out []*Unit[D]
	for rows.Next() {
		u := &Unit[D]{}
		var doc []byte
		var stage string
		if err := rows.Scan(&u.ID, &u.Key, &u.ParentID, &u.Seq, &stage, &u.Attempts, &u.Token, &u.LeaseUntil, &doc); err != nil {
			return nil, fmt.Errorf("read unit: %w", err)
		}
		i, ok := r.stageIndex(stage)
		if !ok {
			r.log.Error("pipeline unit at an unknown stage", "unit", u.ID, "stage", stage)
			continue
		}
		u.stage = i
		u.LeaseUntil = u.LeaseUntil.UTC()
		if err := r.hooks.Decode(doc, &u.Doc); err != nil {
			return nil, fmt.Errorf("unit %s document: %w", u.ID, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// insertUnits writes new units in tx in one statement; state RUNNING rows
// are leased to owner under their token until their LeaseUntil.
func (r *Runner[D]) insertUnits(ctx context.Context, tx *sql.Tx, units []*Unit[D], state State, resumeAt time.Time, owner string, now time.Time) error {
	if len(units) == 0 {
		return nil
	}
	if state != StateRunning {
		owner = ""
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO fulfillments (unit_id, order_id, parent_id, child_seq, stage, state, resume_at,
		lease_owner, lease_token, lease_until, doc, created_at, updated_at) VALUES `)
	args := make([]any, 0, 13*len(units))
	for i, u := range units {
		doc, err := r.hooks.Encode(&u.Doc)
		if err != nil {
			return fmt.Errorf("encode unit %s: %w", u.ID, err)
		}
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, u.ID, u.Key, u.ParentID, u.Seq, r.stages[u.stage].Name, string(state), resumeAt, owner, u.Token, u.LeaseUntil, doc, now, now)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert units %s…: %w", units[0].ID, err)
	}
	return nil
}

// errLeaseLost: the unit's lease was taken over; its copy must be dropped.
var errLeaseLost = errors.New("lease lost")

// lockedUnit is a unit's row as a commit locked it.
type lockedUnit struct {
	token string
	state State
	open  int
}

// readLeases reads the lease token and state of ids, without locking.
func readLeases(ctx context.Context, db *sql.DB, ids []string) (map[string]lockedUnit, error) {
	return leasesOf(ctx, db, ids, "")
}

// lockUnits locks the rows of ids (sorted) for the rest of tx and returns
// their lease token, state and open delivery orders. A locking read by
// primary key takes no gap locks, and every transaction takes its rows in
// key order, so commits do not deadlock one another.
func lockUnits(ctx context.Context, tx *sql.Tx, ids []string) (map[string]lockedUnit, error) {
	return leasesOf(ctx, tx, ids, " FOR UPDATE")
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func leasesOf(ctx context.Context, db querier, ids []string, lock string) (map[string]lockedUnit, error) {
	out := make(map[string]lockedUnit, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.QueryContext(ctx, `SELECT unit_id, lease_token, state, open_children FROM fulfillments WHERE unit_id IN (`+
		sqltx.Tuples("?", len(ids))+`)`+lock, args...)
	if err != nil {
		return nil, fmt.Errorf("lock units: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, st string
		var l lockedUnit
		if err := rows.Scan(&id, &l.token, &st, &l.open); err != nil {
			return nil, fmt.Errorf("lock units: %w", err)
		}
		l.state = State(st)
		out[id] = l
	}
	return out, rows.Err()
}

// unitRow is a unit's new row: stage, state and document.
type unitRow[D any] struct {
	u            *Unit[D]
	state        State
	resume       time.Time
	code, reason string
	open         int
}

// upsertUnits writes units' new rows in one statement. The caller holds
// the rows' locks (lockUnits) and has checked their leases, so every row
// exists and the INSERT part never applies: the statement is a multi-row
// UPDATE by primary key. A unit moving on keeps its resume_at (meaningless
// while RUNNING) and, unless extended, its lease_until: unchanged indexed
// columns cost the database no secondary-index writes.
func (r *Runner[D]) upsertUnits(ctx context.Context, tx *sql.Tx, units []unitRow[D], now time.Time) error {
	owner := r.cfg.Owner
	if len(units) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO fulfillments (unit_id, order_id, parent_id, child_seq, open_children, stage, state, resume_at,
		lease_owner, lease_token, lease_until, attempts, fail_code, fail_reason, doc, created_at, updated_at) VALUES `)
	args := make([]any, 0, 17*len(units))
	epoch := time.Unix(0, 0).UTC()
	for i, x := range units {
		u := x.u
		doc, err := r.hooks.Encode(&u.Doc)
		if err != nil {
			return fmt.Errorf("encode unit %s: %w", u.ID, err)
		}
		leaseUntil := u.LeaseUntil
		if x.state != StateRunning {
			leaseUntil = epoch
		}
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, u.ID, u.Key, u.ParentID, u.Seq, x.open, r.stages[u.stage].Name, string(x.state), x.resume,
			owner, u.Token, leaseUntil, u.Attempts, x.code, truncate(x.reason, 500), doc, now, now)
	}
	q.WriteString(` ON DUPLICATE KEY UPDATE stage = VALUES(stage), state = VALUES(state),
		resume_at = IF(VALUES(state) = 'RUNNING', resume_at, VALUES(resume_at)), lease_until = VALUES(lease_until),
		lease_owner = IF(VALUES(state) = 'RUNNING', lease_owner, ''), attempts = VALUES(attempts), fail_code = VALUES(fail_code),
		fail_reason = VALUES(fail_reason), doc = VALUES(doc), open_children = VALUES(open_children), updated_at = VALUES(updated_at)`)
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("save units %s…: %w", units[0].u.ID, err)
	}
	return nil
}

// parentCount is an order unit's new count of open delivery orders and
// its state (DONE when the last one was dispatched).
type parentCount struct {
	id    string
	open  int
	state State
}

// countOffChildren writes order units' counts of open delivery orders and
// states in one statement; the caller holds their rows' locks.
func countOffChildren(ctx context.Context, tx *sql.Tx, counts []parentCount, now time.Time) error {
	if len(counts) == 0 {
		return nil
	}
	var open, state strings.Builder
	args := make([]any, 0, 5*len(counts)+1)
	for _, c := range counts {
		open.WriteString(" WHEN ? THEN ?")
		args = append(args, c.id, c.open)
	}
	for _, c := range counts {
		state.WriteString(" WHEN ? THEN ?")
		args = append(args, c.id, string(c.state))
	}
	args = append(args, now)
	for _, c := range counts {
		args = append(args, c.id)
	}
	q := `UPDATE fulfillments SET open_children = CASE unit_id` + open.String() + ` END, state = CASE unit_id` + state.String() +
		` END, updated_at = ? WHERE unit_id IN (` + sqltx.Tuples("?", len(counts)) + `)`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("count off delivery orders of %s…: %w", counts[0].id, err)
	}
	return nil
}

// readCommitted is the isolation of the engine's own transactions: they
// lock exactly the rows they read by primary key (FOR UPDATE) and need no
// snapshot, and under REPEATABLE READ a locking read that ends on a page's
// supremum also locks the gap after it, where the next new unit (ids grow
// with time) is inserted: commits and starts then queued and deadlocked
// on gaps rather than rows.
var readCommitted = &sql.TxOptions{Isolation: sql.LevelReadCommitted}

// RunTx runs fn in a READ COMMITTED transaction, retrying deadlock victims
// and lock wait timeouts like sqltx.Run.
func RunTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	return sqltx.RunWith(ctx, db, readCommitted, fn)
}

// step is one timeline row.
type step struct {
	stage   int // index in the pipeline
	outcome string
	note    string
	started time.Time
	dur     time.Duration
}

// stepRow is a timeline row of some unit.
type stepRow[D any] struct {
	u *Unit[D]
	step
}

// insertStepRows writes timeline rows, of any units, in one statement.
func (r *Runner[D]) insertStepRows(ctx context.Context, tx *sql.Tx, owner string, steps []stepRow[D]) error {
	if len(steps) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO fulfillment_steps (order_id, unit_id, stage, outcome, note, owner, started_at, duration_us) VALUES `)
	args := make([]any, 0, len(steps)*8)
	for i, s := range steps {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?)")
		args = append(args, s.u.Key, s.u.ID, r.stages[s.stage].Name, s.outcome, truncate(s.note, 500), owner, s.started, s.dur.Microseconds())
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert timeline steps: %w", err)
	}
	return nil
}

// claim leases up to limit units to owner under token: due READY/PAUSED
// units, or RUNNING units whose lease ran out (catch-up). It reads
// candidates without locking, then leases them by primary key with the
// condition repeated, so a unit another instance claimed in between no
// longer matches and each unit goes to exactly one instance; locking only
// the chosen rows (no range of the index) keeps claims from deadlocking
// with commits.
func (r *Runner[D]) claim(ctx context.Context, expired bool, token string, now, leaseUntil time.Time, limit int) ([]*Unit[D], error) {
	db, owner := r.db, r.cfg.Owner
	// One query per state, each reading the (state, time) index in order
	// and stopping at the limit: a single IN over both states would sort
	// every due row on each claim.
	picks := []string{
		`SELECT unit_id FROM fulfillments WHERE state = 'READY' AND resume_at <= ? ORDER BY resume_at LIMIT ?`,
		`SELECT unit_id FROM fulfillments WHERE state = 'PAUSED' AND resume_at <= ? ORDER BY resume_at LIMIT ?`,
	}
	cond := `state IN ('READY','PAUSED') AND resume_at <= ?`
	if expired {
		picks = []string{`SELECT unit_id FROM fulfillments WHERE state = 'RUNNING' AND lease_until < ? ORDER BY lease_until LIMIT ?`}
		cond = `state = 'RUNNING' AND lease_until < ?`
	}
	var idsIn []any
	for _, pick := range picks {
		if len(idsIn) >= limit {
			break
		}
		rows, err := db.QueryContext(ctx, pick, now, limit-len(idsIn))
		if err != nil {
			return nil, fmt.Errorf("pick units: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			idsIn = append(idsIn, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if len(idsIn) == 0 {
		return nil, nil
	}
	args := append([]any{owner, token, leaseUntil, now}, idsIn...)
	args = append(args, now)
	q := `UPDATE fulfillments SET state = 'RUNNING', lease_owner = ?, lease_token = ?, lease_until = ?, updated_at = ?
		WHERE unit_id IN (` + sqltx.Tuples("?", len(idsIn)) + `) AND ` + cond
	var n int64
	for attempt := 1; ; attempt++ {
		res, err := db.ExecContext(ctx, q, args...)
		if err == nil {
			n, _ = res.RowsAffected()
			break
		}
		if !sqltx.Retryable(err) || attempt == sqltx.MaxAttempts {
			return nil, fmt.Errorf("claim units: %w", err)
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT `+unitCols+` FROM fulfillments WHERE unit_id IN (`+
		sqltx.Tuples("?", len(idsIn))+`) AND lease_token = ? AND state = 'RUNNING'`, append(idsIn, token)...)
	if err != nil {
		return nil, fmt.Errorf("read claimed units: %w", err)
	}
	return r.scanUnits(rows)
}

// renew extends a unit's lease if it is still the holder's.
func renew(ctx context.Context, db *sql.DB, id, token string, until, now time.Time) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE fulfillments SET lease_until = ?, updated_at = ? WHERE unit_id = ? AND lease_token = ? AND state = 'RUNNING'`,
		until, now, id, token)
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// nextWake is the earliest time something becomes due: a paused or
// delayed unit's resume_at or a lease's expiry. Each MIN is one probe of
// an index, not a scan.
func nextWake(ctx context.Context, db *sql.DB) (time.Time, bool, error) {
	var best time.Time
	found := false
	for _, q := range []string{
		`SELECT MIN(resume_at) FROM fulfillments WHERE state = 'READY'`,
		`SELECT MIN(resume_at) FROM fulfillments WHERE state = 'PAUSED'`,
		`SELECT MIN(lease_until) FROM fulfillments WHERE state = 'RUNNING'`,
	} {
		var t sql.NullTime
		if err := db.QueryRowContext(ctx, q).Scan(&t); err != nil {
			return time.Time{}, false, fmt.Errorf("next due time: %w", err)
		}
		if t.Valid && (!found || t.Time.Before(best)) {
			best, found = t.Time.UTC(), true
		}
	}
	return best, found, nil
}

// releaseOwned hands back the units owner holds (a clean stop), so other
// instances take them at once rather than after their lease.
func releaseOwned(ctx context.Context, db *sql.DB, owner string, now time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE fulfillments SET state = 'READY', resume_at = ?, lease_owner = '', lease_until = ?, updated_at = ?
		WHERE state = 'RUNNING' AND lease_owner = ?`, now, time.Unix(0, 0).UTC(), now, owner)
	if err != nil {
		return 0, fmt.Errorf("release units of %s: %w", owner, err)
	}
	return res.RowsAffected()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
