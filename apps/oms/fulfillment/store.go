package fulfillment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// This file is the engine's SQL: the fulfillments rows, their leases, the
// steps of the timeline and the warehouse capacity.

const unitCols = `unit_id, order_id, parent_id, child_seq, stage, attempts, lease_token, lease_until, doc`

func scanUnits(rows *sql.Rows) ([]*Unit, error) {
	defer rows.Close()
	var out []*Unit
	for rows.Next() {
		u := &Unit{}
		var doc []byte
		var stage int
		if err := rows.Scan(&u.ID, &u.OrderID, &u.ParentID, &u.Seq, &stage, &u.Attempts, &u.Token, &u.LeaseUntil, &doc); err != nil {
			return nil, fmt.Errorf("read unit: %w", err)
		}
		u.Stage = Stage(stage)
		u.LeaseUntil = u.LeaseUntil.UTC()
		if err := json.Unmarshal(doc, &u.Doc); err != nil {
			return nil, fmt.Errorf("unit %s document: %w", u.ID, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// insertUnit writes a new unit in tx; state RUNNING rows are leased to
// owner/token until leaseUntil.
func insertUnit(ctx context.Context, tx *sql.Tx, u *Unit, state State, resumeAt time.Time, owner string, now time.Time) error {
	doc, err := json.Marshal(u.Doc)
	if err != nil {
		return fmt.Errorf("encode unit %s: %w", u.ID, err)
	}
	if state != StateRunning {
		owner = ""
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO fulfillments (unit_id, order_id, parent_id, child_seq, stage, state, resume_at,
		lease_owner, lease_token, lease_until, doc, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		u.ID, u.OrderID, u.ParentID, u.Seq, int(u.Stage), string(state), resumeAt, owner, u.Token, u.LeaseUntil, doc, now, now)
	if err != nil {
		return fmt.Errorf("insert unit %s: %w", u.ID, err)
	}
	return nil
}

// errLeaseLost: the unit's lease was taken over; its copy must be dropped.
var errLeaseLost = errors.New("lease lost")

// saveUnit writes a unit's stage, state and document, fenced by its lease
// token: when another claim took the unit, nothing is written and
// errLeaseLost is returned.
func saveUnit(ctx context.Context, tx *sql.Tx, u *Unit, state State, resumeAt time.Time, code, reason string, now time.Time) error {
	doc, err := json.Marshal(u.Doc)
	if err != nil {
		return fmt.Errorf("encode unit %s: %w", u.ID, err)
	}
	leaseUntil := u.LeaseUntil
	token := u.Token
	if state != StateRunning {
		leaseUntil = time.Unix(0, 0).UTC()
	}
	// A unit moving on keeps its resume_at (meaningless while RUNNING) and,
	// unless extended, its lease_until: unchanged indexed columns cost the
	// database no secondary-index writes.
	res, err := tx.ExecContext(ctx, `UPDATE fulfillments SET stage = ?, state = ?, resume_at = IF(? = 'RUNNING', resume_at, ?),
		lease_until = ?, lease_owner = IF(? = 'RUNNING', lease_owner, ''), attempts = ?, fail_code = ?, fail_reason = ?, doc = ?, updated_at = ?
		WHERE unit_id = ? AND lease_token = ? AND state = 'RUNNING'`,
		int(u.Stage), string(state), string(state), resumeAt, leaseUntil, string(state), u.Attempts, code, truncate(reason, 500), doc, now, u.ID, token)
	if err != nil {
		return fmt.Errorf("save unit %s: %w", u.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errLeaseLost
	}
	return nil
}

// step is one timeline row.
type step struct {
	stage   Stage
	outcome string
	note    string
	started time.Time
	dur     time.Duration
}

func insertSteps(ctx context.Context, tx *sql.Tx, u *Unit, owner string, steps []step) error {
	rows := make([]stepRow, len(steps))
	for i, st := range steps {
		rows[i] = stepRow{u: u, step: st}
	}
	return insertStepRows(ctx, tx, owner, rows)
}

// stepRow is a timeline row of some unit.
type stepRow struct {
	u *Unit
	step
}

// insertStepRows writes timeline rows, of any units, in one statement.
func insertStepRows(ctx context.Context, tx *sql.Tx, owner string, steps []stepRow) error {
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
		args = append(args, s.u.OrderID, s.u.ID, int(s.stage), s.outcome, truncate(s.note, 500), owner, s.started, s.dur.Microseconds())
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
func claim(ctx context.Context, db *sql.DB, expired bool, owner, token string, now, leaseUntil time.Time, limit int) ([]*Unit, error) {
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
		WHERE unit_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(idsIn)), ",") + `) AND ` + cond
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
		strings.TrimSuffix(strings.Repeat("?,", len(idsIn)), ",")+`) AND lease_token = ? AND state = 'RUNNING'`, append(idsIn, token)...)
	if err != nil {
		return nil, fmt.Errorf("read claimed units: %w", err)
	}
	return scanUnits(rows)
}

// renew extends a unit's lease if it is still the holder's.
func renew(ctx context.Context, db *sql.DB, u *Unit, until, now time.Time) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE fulfillments SET lease_until = ?, updated_at = ? WHERE unit_id = ? AND lease_token = ? AND state = 'RUNNING'`,
		until, now, u.ID, u.Token)
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", u.ID, err)
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

// takeCapacity takes one unit of a warehouse's capacity for day on behalf
// of a delivery order: the grant row and the conditional increment commit
// together, so a re-run finds the grant (true, no second unit) and a full
// day answers false without a change.
func takeCapacity(ctx context.Context, tx *sql.Tx, unitID, warehouse, day string, def int, now time.Time) (bool, error) {
	var granted string
	err := tx.QueryRowContext(ctx, `SELECT day FROM warehouse_capacity_grants WHERE unit_id = ?`, unitID).Scan(&granted)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read capacity grant of %s: %w", unitID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO warehouse_capacity (warehouse, day, capacity, used) VALUES (?,?,?,0)`,
		warehouse, day, def); err != nil {
		return false, fmt.Errorf("capacity of %s on %s: %w", warehouse, day, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE warehouse_capacity SET used = used + 1 WHERE warehouse = ? AND day = ? AND used < capacity`,
		warehouse, day)
	if err != nil {
		return false, fmt.Errorf("take capacity of %s on %s: %w", warehouse, day, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO warehouse_capacity_grants (unit_id, warehouse, day, granted_at) VALUES (?,?,?,?)`,
		unitID, warehouse, day, now); err != nil {
		return false, fmt.Errorf("record capacity grant of %s: %w", unitID, err)
	}
	return true, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
