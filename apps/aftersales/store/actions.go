package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// The action log, the malicious marks and the reviews (app/actions.go,
// app/reviews.go).

var _ app.ActionStore = (*Store)(nil)

const actionCols = `id, kind, order_id, customer_id, input, request_hash, idem_key, actor, actor_role, reason, status, result, created_at, done_at`

// BeginAction stores a PENDING action; the author's key used before
// returns that action with created=false.
func (s *Store) BeginAction(ctx context.Context, a *domain.Action) (*domain.Action, bool, error) {
	in, err := json.Marshal(a.Input)
	if err != nil {
		return nil, false, err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO actions (`+actionCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)`,
		a.ID, a.Input.Kind, a.Input.OrderID, a.CustomerID, in, a.Hash, a.Input.IdempotencyKey, a.Input.Actor, a.Input.ActorRole,
		a.Input.Reason, a.Status, a.Result, a.CreatedAt)
	if sqltx.IsDuplicate(err) {
		prev, err := scanAction(s.db.QueryRowContext(ctx, `SELECT `+actionCols+` FROM actions WHERE actor=? AND idem_key=?`,
			a.Input.Actor, a.Input.IdempotencyKey))
		if err != nil {
			return nil, false, fmt.Errorf("read the action key %q names: %w", a.Input.IdempotencyKey, err)
		}
		return prev, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store action %s: %w", a.ID, err)
	}
	return a, true, nil
}

// FinishAction marks a PENDING action DONE with its event, and the
// order's mark for MARK_MALICIOUS, in one transaction. A concurrent
// finisher that came first leaves nothing to do: the action is read back
// and no second event is written.
func (s *Store) FinishAction(ctx context.Context, a *domain.Action, ev outbox.Event) (*domain.Action, error) {
	done := false
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE actions SET status=?, result=?, customer_id=?, done_at=? WHERE id=? AND status=?`,
			domain.ActionDone, a.Result, a.CustomerID, a.DoneAt, a.ID, domain.ActionPending)
		if err != nil {
			return fmt.Errorf("finish action %s: %w", a.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		if a.Input.Kind == domain.ActionMarkMalicious {
			if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO malicious_orders (order_id, action_id, marked_by, reason, marked_at) VALUES (?,?,?,?,?)`,
				a.Input.OrderID, a.ID, a.Input.Actor, a.Input.Reason, a.DoneAt); err != nil {
				return fmt.Errorf("mark order %s malicious: %w", a.Input.OrderID, err)
			}
		}
		if _, err := outbox.Add(ctx, tx, ev); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if done {
		return a, nil
	}
	return s.GetAction(ctx, a.ID)
}

// DropAction deletes a PENDING action its owner refused.
func (s *Store) DropAction(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM actions WHERE id=? AND status=?`, id, domain.ActionPending); err != nil {
		return fmt.Errorf("drop action %s: %w", id, err)
	}
	return nil
}

// GetAction returns one action.
func (s *Store) GetAction(ctx context.Context, id string) (*domain.Action, error) {
	a, err := scanAction(s.db.QueryRowContext(ctx, `SELECT `+actionCols+` FROM actions WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", domain.ErrActionNotFound, id)
	}
	return a, err
}

// Actions lists an order's or a customer's actions, newest first.
func (s *Store) Actions(ctx context.Context, q app.ActionQuery) ([]*domain.Action, error) {
	where, arg := `order_id=?`, q.OrderID
	if q.OrderID == "" {
		where, arg = `customer_id=?`, q.CustomerID
	}
	return s.actions(ctx, `SELECT `+actionCols+` FROM actions WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`, arg, q.Limit)
}

// PendingActions lists the actions PENDING since before, oldest first.
func (s *Store) PendingActions(ctx context.Context, before time.Time, limit int) ([]*domain.Action, error) {
	return s.actions(ctx, `SELECT `+actionCols+` FROM actions WHERE status=? AND created_at < ? ORDER BY created_at LIMIT ?`,
		domain.ActionPending, before, limit)
}

func (s *Store) actions(ctx context.Context, q string, args ...any) ([]*domain.Action, error) {
	out, err := sqltx.Collect[*domain.Action](s.db.QueryContext(ctx, q, args...))(func(row interface{ Scan(...any) error }) (*domain.Action, error) {
		return scanAction(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	return out, nil
}

func scanAction(row interface{ Scan(...any) error }) (*domain.Action, error) {
	var a domain.Action
	var kind, order, status, key, actor, role, reason string
	var in []byte
	var done sql.NullTime
	if err := row.Scan(&a.ID, &kind, &order, &a.CustomerID, &in, &a.Hash, &key, &actor, &role, &reason, &status, &a.Result,
		&a.CreatedAt, &done); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(in, &a.Input); err != nil {
		return nil, fmt.Errorf("input of action %s: %w", a.ID, err)
	}
	a.Input.IdempotencyKey, a.Input.Actor, a.Input.ActorRole = key, actor, role
	a.Status, a.CreatedAt = domain.ActionStatus(status), a.CreatedAt.UTC()
	if done.Valid {
		a.DoneAt = done.Time.UTC()
	}
	return &a, nil
}

// Malicious returns the order's mark, or nil.
func (s *Store) Malicious(ctx context.Context, orderID string) (*app.MaliciousMark, error) {
	m := app.MaliciousMark{OrderID: orderID}
	err := s.db.QueryRowContext(ctx, `SELECT action_id, marked_by, reason, marked_at FROM malicious_orders WHERE order_id=?`, orderID).
		Scan(&m.ActionID, &m.By, &m.Reason, &m.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the mark of %s: %w", orderID, err)
	}
	m.At = m.At.UTC()
	return &m, nil
}

// CreateReview stores r; the order's existing review is returned with
// created=false (one review per order: the primary key).
func (s *Store) CreateReview(ctx context.Context, r domain.Review) (domain.Review, bool, error) {
	_, err := s.db.ExecContext(ctx, `INSERT INTO reviews (order_id, customer_id, rating, text, created_at) VALUES (?,?,?,?,?)`,
		r.OrderID, r.CustomerID, r.Rating, r.Text, r.CreatedAt)
	if sqltx.IsDuplicate(err) {
		rs, err := s.Reviews(ctx, app.ReviewQuery{OrderID: r.OrderID, Limit: 1})
		if err != nil || len(rs) == 0 {
			return domain.Review{}, false, fmt.Errorf("read the review of %s: %v", r.OrderID, err)
		}
		return rs[0], false, nil
	}
	if err != nil {
		return domain.Review{}, false, fmt.Errorf("store the review of %s: %w", r.OrderID, err)
	}
	return r, true, nil
}

// Reviews lists reviews, newest first: an order's, a customer's or all.
func (s *Store) Reviews(ctx context.Context, q app.ReviewQuery) ([]domain.Review, error) {
	where, args := `1=1`, []any{}
	switch {
	case q.OrderID != "":
		where, args = `order_id=?`, []any{q.OrderID}
	case q.CustomerID != "":
		where, args = `customer_id=?`, []any{q.CustomerID}
	}
	out, err := sqltx.Collect[domain.Review](s.db.QueryContext(ctx, `SELECT order_id, customer_id, rating, text, created_at FROM reviews WHERE `+
		where+` ORDER BY created_at DESC, order_id DESC LIMIT ?`, append(args, q.Limit)...))(func(row interface{ Scan(...any) error }) (domain.Review, error) {
		var r domain.Review
		err := row.Scan(&r.OrderID, &r.CustomerID, &r.Rating, &r.Text, &r.CreatedAt)
		r.CreatedAt = r.CreatedAt.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return out, nil
}
