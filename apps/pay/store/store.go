// Package store is PAY's MySQL persistence: accounts, coupons, deductions,
// trades and their channel records, refunds and finance pushes. It
// implements app.Repository. Every money movement is a conditional UPDATE
// checked by rows affected inside a local transaction, together with the
// outbox rows and finance pushes it causes; the rules deciding what moves
// are the domain's. Driver errors are wrapped with what was being done,
// and those with a domain meaning (no row, duplicate key) become domain
// or app errors.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is PAY's database.
type Store struct{ db *sql.DB }

var _ app.Repository = (*Store)(nil)

// New returns a Store over db.
func New(db *sql.DB) *Store { return &Store{db: db} }

// DB returns the pool (tests and the seeder count rows with it).
func (s *Store) DB() *sql.DB { return s.db }

func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// execOne runs a conditional update and reports whether it changed one row.
func execOne(ctx context.Context, tx *sql.Tx, what, q string, args ...any) (bool, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	n, err := affected(res)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n == 1, nil
}

// addPush writes a finance push; a push of the same kind for the same ref
// already there is left alone (one push per fact).
func addPush(ctx context.Context, tx *sql.Tx, now time.Time, b domain.PushBody) error {
	b.PushID = ids.New()
	b.At = now
	payload, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode finance push %s/%s: %w", b.Kind, b.RefID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT IGNORE INTO finance_pushes
		(id, kind, ref_id, payload, status, next_attempt_at, created_at) VALUES (?,?,?,?,'PENDING',?,?)`,
		b.PushID, b.Kind, b.RefID, payload, now, now)
	if err != nil {
		return fmt.Errorf("add finance push %s/%s: %w", b.Kind, b.RefID, err)
	}
	return nil
}

func addOutbox(ctx context.Context, tx *sql.Tx, evs ...outbox.Event) error {
	if _, err := outbox.Add(ctx, tx, evs...); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	return nil
}

// claimed runs fn in a transaction that first claims the message in the
// inbox; a message handled before commits nothing and returns false.
func (s *Store) claimed(ctx context.Context, c app.InboxClaim, fn func(tx *sql.Tx) error) (bool, error) {
	var fresh bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		ok, err := inbox.Claim(ctx, tx, c.Consumer, c.MsgID)
		if err != nil {
			return fmt.Errorf("claim %s/%s: %w", c.Consumer, c.MsgID, err)
		}
		if fresh = ok; !ok {
			return nil
		}
		return fn(tx)
	})
	return fresh, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
