package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// unleased is the lease_until of a push no worker holds.
var unleased = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// lockOrder takes the order's ledger row for the rest of tx (creating
// it): refunds of one order are decided one after another, and pushes of
// one order are inserted one transaction after another, so their ids
// follow commit order.
func lockOrder(ctx context.Context, tx *sql.Tx, orderID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO order_ledger (order_id, updated_at) VALUES (?,?) ON DUPLICATE KEY UPDATE updated_at=updated_at`,
		orderID, now); err != nil {
		return fmt.Errorf("lock order %s: %w", orderID, err)
	}
	return nil
}

// addPushes writes pushes in tx, each order's ledger row locked first.
func addPushes(ctx context.Context, tx *sql.Tx, now time.Time, ps []domain.NewPush) error {
	if len(ps) == 0 {
		return nil
	}
	var orders []string
	for _, p := range ps {
		if p.ID == "" || p.Type == "" || p.OrderID == "" || p.RequestID == "" || len(p.Payload) == 0 {
			return fmt.Errorf("push %+v lacks an id, type, order, request or payload", p)
		}
		if !slices.Contains(orders, p.OrderID) {
			orders = append(orders, p.OrderID)
		}
	}
	slices.Sort(orders) // one lock order for every transaction: no deadlock between two orders' writers
	for _, o := range orders {
		if err := lockOrder(ctx, tx, o, now); err != nil {
			return err
		}
	}
	args := make([]any, 0, 9*len(ps))
	for _, p := range ps {
		args = append(args, p.ID, p.Type, p.OrderID, p.RequestID, []byte(p.Payload), domain.PushPending, now, unleased, now)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pushes (push_id, type, order_id, request_id, payload, status, due_at, lease_until, created_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,?,?,?,?)", len(ps))+
		// A push's id is "<request>:<TYPE>", the receiver's own key: a step
		// carried out twice at once (its push's DONE and a redelivered
		// request, as an exchange's NEW_ORDER met under load) writes the
		// same push again, which is the same push, not an error.
		` ON DUPLICATE KEY UPDATE push_id=push_id`, args...); err != nil {
		return fmt.Errorf("write pushes: %w", err)
	}
	return nil
}

// AddPushes writes pushes on their own (tests, operators' re-sends).
func (s *Store) AddPushes(ctx context.Context, now time.Time, ps ...domain.NewPush) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error { return addPushes(ctx, tx, now, ps) })
}

const pushColumns = `id, push_id, type, order_id, request_id, payload, status, attempts, result, last_error, created_at`

func scanPush(row interface{ Scan(...any) error }) (domain.Push, error) {
	var p domain.Push
	var payload []byte
	err := row.Scan(&p.Seq, &p.ID, &p.Type, &p.OrderID, &p.RequestID, &payload, &p.Status, &p.Attempts, &p.Result, &p.LastError, &p.CreatedAt)
	p.Payload, p.CreatedAt = payload, p.CreatedAt.UTC()
	return p, err
}

// DuePushes lists pushes of type t ready to go: due, not leased, and
// each the first pending push of its order and type, so a worker never
// has two pushes of one order in hand and delivers them in commit order.
func (s *Store) DuePushes(ctx context.Context, t domain.PushType, now time.Time, limit int) ([]domain.Push, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+pushColumns+` FROM pushes p
		WHERE p.type=? AND p.status=? AND p.due_at<=? AND p.lease_until<=?
		  AND NOT EXISTS (SELECT 1 FROM pushes q WHERE q.order_id=p.order_id AND q.type=p.type AND q.status=? AND q.id<p.id)
		ORDER BY p.id LIMIT ?`, t, domain.PushPending, now, now, domain.PushPending, limit)
	out, err := sqltx.Collect[domain.Push](rows, err)(scanPush)
	if err != nil {
		return nil, fmt.Errorf("list due %s pushes: %w", t, err)
	}
	return out, nil
}

// ClaimPush leases a pending push until now+lease; false when another
// worker holds it or it is no longer pending.
func (s *Store) ClaimPush(ctx context.Context, seq int64, now time.Time, lease time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE pushes SET lease_until=?, attempts=attempts+1 WHERE id=? AND status=? AND lease_until<=?`,
		now.Add(lease), seq, domain.PushPending, now)
	if err != nil {
		return false, fmt.Errorf("claim push %d: %w", seq, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FinishPush marks a delivered push DONE with the receiver's result and
// writes the pushes it calls for, in one transaction; false (nothing
// written) when it was finished already.
func (s *Store) FinishPush(ctx context.Context, p domain.Push, result string, follow []domain.NewPush, now time.Time) (bool, error) {
	done := false
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		if err := lockOrder(ctx, tx, p.OrderID, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE pushes SET status=?, result=?, last_error='', done_at=? WHERE id=? AND status=?`,
			domain.PushDone, truncate(result, 255), now, p.Seq, domain.PushPending)
		if err != nil {
			return fmt.Errorf("finish push %d: %w", p.Seq, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		done = true
		return addPushes(ctx, tx, now, follow)
	})
	return done, err
}

// RetryPush gives a failed attempt back: due again at due, unleased.
func (s *Store) RetryPush(ctx context.Context, seq int64, why string, due time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE pushes SET due_at=?, lease_until=?, last_error=? WHERE id=? AND status=?`,
		due, unleased, truncate(why, 500), seq, domain.PushPending)
	if err != nil {
		return fmt.Errorf("retry push %d: %w", seq, err)
	}
	return nil
}

// KillPush ends a push the receiver refused for good (DEAD, with why).
// The order's later pushes of the type go on.
func (s *Store) KillPush(ctx context.Context, seq int64, why string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE pushes SET status=?, last_error=?, done_at=? WHERE id=? AND status=?`,
		domain.PushDead, truncate(why, 500), now, seq, domain.PushPending)
	if err != nil {
		return fmt.Errorf("end push %d: %w", seq, err)
	}
	return nil
}

// PushesOf lists a request's pushes in commit order.
func (s *Store) PushesOf(ctx context.Context, requestID string) ([]domain.Push, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+pushColumns+` FROM pushes WHERE request_id=? ORDER BY id`, requestID)
	out, err := sqltx.Collect[domain.Push](rows, err)(scanPush)
	if err != nil {
		return nil, fmt.Errorf("list pushes of %s: %w", requestID, err)
	}
	return out, nil
}

// GetPush reads one push by its push id.
func (s *Store) GetPush(ctx context.Context, pushID string) (domain.Push, error) {
	p, err := scanPush(s.db.QueryRowContext(ctx, `SELECT `+pushColumns+` FROM pushes WHERE push_id=?`, pushID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("%w: push %s", domain.ErrNotFound, pushID)
	}
	return p, err
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
