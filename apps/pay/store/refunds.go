package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

var newRefundID = ids.New

const refundCols = `id, trade_id, order_id, cause_key, request_hash, amount_fen, reason, status, created_at, updated_at`

func scanRefund(row interface{ Scan(...any) error }) (domain.Refund, error) {
	var r domain.RefundSnapshot
	if err := row.Scan(&r.ID, &r.TradeID, &r.OrderID, &r.CauseKey, &r.RequestHash, &r.Amount, &r.Reason, &r.Status, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return domain.Refund{}, err
	}
	return domain.RestoreRefund(r), nil
}

// Refund returns one refund.
func (s *Store) Refund(ctx context.Context, id string) (domain.Refund, error) {
	r, err := scanRefund(s.db.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("refund %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read refund %s: %w", id, err)
	}
	return r, nil
}

// RefundsOfTrade lists a trade's refunds, oldest first.
func (s *Store) RefundsOfTrade(ctx context.Context, tradeID string) ([]domain.Refund, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE trade_id=? ORDER BY created_at, id`, tradeID)
	out, err := sqltx.Collect[domain.Refund](rows, err)(scanRefund)
	if err != nil {
		return nil, fmt.Errorf("list refunds of trade %s: %w", tradeID, err)
	}
	return out, nil
}

// createRefund records a refund and takes its amount from what the trade
// may still give back, atomically: refunded_fen + amount <= paid_fen. A
// cause key the trade's customer already used returns that refund (same
// hash) or ErrKeyReused. Refunds that need an audit are pushed to finance
// in the same transaction.
func createRefund(ctx context.Context, tx *sql.Tx, r domain.Refund, now time.Time) (domain.Refund, bool, error) {
	firstCheck := now
	if r.Status() == domain.RefundPendingAudit {
		firstCheck = now.Add(5 * time.Second) // finance has not even received it yet
	}
	return createRefundDue(ctx, tx, r, now, firstCheck)
}

// createRefundDue is createRefund with the refund's first step due at
// firstCheck (a retry waits out its backoff).
func createRefundDue(ctx context.Context, tx *sql.Tx, r domain.Refund, now, firstCheck time.Time) (domain.Refund, bool, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO refunds (`+refundCols+`, customer_id, next_poll_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID(), r.TradeID(), r.OrderID(), r.CauseKey(), r.RequestHash(), r.AmountFen(), r.Reason(), r.Status(), now, now, r.CustomerID(), firstCheck)
	if sqltx.IsDuplicate(err) {
		prev, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE customer_id=? AND cause_key=?`,
			r.CustomerID(), r.CauseKey()))
		if err != nil {
			return r, false, fmt.Errorf("read refund %s of %s: %w", r.CauseKey(), r.CustomerID(), err)
		}
		prev, err = prev.SameRequest(r.RequestHash())
		return prev, false, err
	}
	if err != nil {
		return r, false, fmt.Errorf("insert refund: %w", err)
	}
	ok, err := execOne(ctx, tx, "take refund from trade "+r.TradeID(),
		`UPDATE trades SET refunded_fen=refunded_fen+? WHERE id=? AND status=? AND refunded_fen+? <= paid_fen`,
		r.AmountFen(), r.TradeID(), domain.TradeSucceeded, r.AmountFen())
	if err != nil {
		return r, false, err
	}
	if !ok {
		return r, false, domain.ErrRefundTooLarge
	}
	if r.Status() == domain.RefundPendingAudit {
		if err := addPush(ctx, tx, now, r.AuditPush()); err != nil {
			return r, false, err
		}
	}
	r.Recorded(now)
	return r, true, nil
}

// CreateRefund runs createRefund in its own transaction.
func (s *Store) CreateRefund(ctx context.Context, r domain.Refund, now time.Time) (domain.Refund, bool, error) {
	var out domain.Refund
	var created bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		out, created, err = createRefund(ctx, tx, r, now)
		return err
	})
	return out, created, err
}

// fullRefund refunds whatever a succeeded trade still holds, once per
// trade (domain.FullRefundKey): cancels and rejected payments both land
// here and the second finds the first. It returns the refund, or false when
// there was nothing to refund.
func fullRefund(ctx context.Context, tx *sql.Tx, tradeID, refundID, reason string, now time.Time) (domain.Refund, bool, error) {
	t, err := lockTrade(ctx, tx, tradeID)
	if err != nil {
		return domain.Refund{}, false, err
	}
	r, err := t.FullRefund(refundID, reason)
	if errors.Is(err, domain.ErrNothingToRefund) {
		return domain.Refund{}, false, nil
	}
	if err != nil {
		return domain.Refund{}, false, err
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refunds WHERE customer_id=? AND cause_key=?`, r.CustomerID(), r.CauseKey()).Scan(&exists); err != nil {
		return domain.Refund{}, false, fmt.Errorf("find full refund of trade %s: %w", tradeID, err)
	}
	if exists > 0 {
		return domain.Refund{}, false, nil
	}
	return createRefund(ctx, tx, r, now)
}

// RefundsDue lists refunds in SUBMITTING, PROCESSING or PENDING_AUDIT whose
// next check is due.
func (s *Store) RefundsDue(ctx context.Context, now time.Time, limit int) ([]domain.Refund, error) {
	rs, err := sqltx.Collect[domain.Refund](s.db.QueryContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE status IN (?,?,?) AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?`,
		domain.RefundSubmitting, domain.RefundProcessing, domain.RefundPendingAudit, now, limit))(scanRefund)
	if err != nil {
		return nil, fmt.Errorf("list refunds due: %w", err)
	}
	return rs, nil
}

// ClaimRefund pushes a due refund's next check to leaseUntil if it is
// still due and still in status (what the worker listed), in one
// conditional update: of two workers that listed it, one wins. The step
// that follows sets the next check itself; a worker that dies mid-step
// leaves the refund to be claimed again once the lease ends.
func (s *Store) ClaimRefund(ctx context.Context, id string, status domain.RefundStatus, now, leaseUntil time.Time) (bool, error) {
	return s.updateRefund(ctx, "claim refund "+id, `UPDATE refunds SET next_poll_at=? WHERE id=? AND status=? AND next_poll_at <= ?`,
		leaseUntil, id, status, now)
}

// updateRefund runs a one-row conditional update of a refund in its own
// READ COMMITTED transaction, run again when MariaDB makes it a deadlock
// victim: workers moving neighbouring entries of ix_refunds_poll (status,
// next_poll_at) at once deadlock now and then, and a refund whose move
// was lost would be stepped again (a submission repeated).
func (s *Store) updateRefund(ctx context.Context, what, q string, args ...any) (bool, error) {
	var ok bool
	err := sqltx.RunWith(ctx, s.db, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		var err error
		ok, err = execOne(ctx, tx, what, q, args...)
		return err
	})
	return ok, err
}

// MoveRefund changes a refund's status from one to another (false when it
// was no longer in from) and sets its next check.
func (s *Store) MoveRefund(ctx context.Context, id string, from, to domain.RefundStatus, next, now time.Time) (bool, error) {
	return s.updateRefund(ctx, fmt.Sprintf("move refund %s to %s", id, to),
		`UPDATE refunds SET status=?, next_poll_at=?, updated_at=? WHERE id=? AND status=?`, to, next, now, id, from)
}

// RefundLater pushes a refund's next check out.
func (s *Store) RefundLater(ctx context.Context, id string, next time.Time) error {
	_, err := s.updateRefund(ctx, "schedule check of refund "+id, `UPDATE refunds SET next_poll_at=? WHERE id=?`, next, id)
	return err
}

// RefundDone marks a refund SUCCEEDED once, with its event and finance push.
func (s *Store) RefundDone(ctx context.Context, r domain.Refund, channel string, now time.Time, ev outbox.Event) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		ok, err := execOne(ctx, tx, "mark refund succeeded", `UPDATE refunds SET status=?, updated_at=? WHERE id=? AND status IN (?,?)`,
			domain.RefundSucceeded, now, r.ID(), domain.RefundSubmitting, domain.RefundProcessing)
		if err != nil || !ok {
			return err
		}
		if err := addOutbox(ctx, tx, ev); err != nil {
			return err
		}
		if err := addPush(ctx, tx, now, r.RefundedPush(channel)); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("refund %s: %w", r.ID(), err)
	}
	return done, nil
}

// RefundGiveBack ends a refund without money moving (finance rejected it,
// or the channel failed it) and returns its amount to what the trade may
// still refund.
func (s *Store) RefundGiveBack(ctx context.Context, r domain.Refund, from []domain.RefundStatus, to domain.RefundStatus, now time.Time) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		q := `UPDATE refunds SET status=?, updated_at=? WHERE id=? AND status IN (?`
		args := []any{to, now, r.ID(), from[0]}
		for _, f := range from[1:] {
			q += `,?`
			args = append(args, f)
		}
		ok, err := execOne(ctx, tx, "end refund", q+`)`, args...)
		if err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE trades SET refunded_fen=refunded_fen-? WHERE id=?`, r.AmountFen(), r.TradeID()); err != nil {
			return fmt.Errorf("give refund back to trade %s: %w", r.TradeID(), err)
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("refund %s to %s: %w", r.ID(), to, err)
	}
	return done, nil
}

// lockTrade reads trade id FOR UPDATE.
func lockTrade(ctx context.Context, tx *sql.Tx, id string) (domain.Trade, error) {
	var t domain.TradeSnapshot
	err := tx.QueryRowContext(ctx, `SELECT id, order_id, customer_id, status, paid_fen, refunded_fen FROM trades WHERE id=? FOR UPDATE`, id).
		Scan(&t.ID, &t.OrderID, &t.CustomerID, &t.Status, &t.Paid, &t.Refunded)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Trade{}, fmt.Errorf("trade %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Trade{}, fmt.Errorf("lock trade %s: %w", id, err)
	}
	return domain.RestoreTrade(t), nil
}

// RefundFailed ends a refund the channel FAILED (from SUBMITTING or
// PROCESSING), gives its amount back to the trade and, in the same
// transaction, records the next automatic attempt when r is an automatic
// full refund with attempts left (domain.Trade.RetryFailed), due after
// its backoff. So no reader ever sees the failure without the retry that
// makes up for it, and the retry's cause key makes it once. ended is
// false when r was no longer in those statuses (nothing changed).
func (s *Store) RefundFailed(ctx context.Context, r domain.Refund, now time.Time) (ended bool, retry *domain.Refund, err error) {
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		ended, retry = false, nil
		ok, err := execOne(ctx, tx, "end refund", `UPDATE refunds SET status=?, updated_at=? WHERE id=? AND status IN (?,?)`,
			domain.RefundFailed, now, r.ID(), domain.RefundSubmitting, domain.RefundProcessing)
		if err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE trades SET refunded_fen=refunded_fen-? WHERE id=?`, r.AmountFen(), r.TradeID()); err != nil {
			return fmt.Errorf("give refund back to trade %s: %w", r.TradeID(), err)
		}
		ended = true
		t, err := lockTrade(ctx, tx, r.TradeID())
		if err != nil {
			return err
		}
		next, err := t.RetryFailed(r, newRefundID())
		if errors.Is(err, domain.ErrNothingToRefund) {
			return nil
		}
		if err != nil {
			return err
		}
		out, _, err := createRefundDue(ctx, tx, next, now, now.Add(domain.RetryBackoff(next.RefundAttempt())))
		if err != nil {
			return err
		}
		retry = &out
		return nil
	})
	if err != nil {
		return false, nil, fmt.Errorf("refund %s to FAILED: %w", r.ID(), err)
	}
	return ended, retry, nil
}

// RetryRefund records customer service's retry of failed refund failedID
// under the agent's key (domain.Trade.RetryByHand), in one transaction
// with the trade locked: the key used before answers its first retry
// (same refund) or domain.ErrKeyReused (another refund).
func (s *Store) RetryRefund(ctx context.Context, failedID, key string, now time.Time) (domain.Refund, bool, error) {
	var out domain.Refund
	var created bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		failed, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE id=?`, failedID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("refund %s: %w", failedID, domain.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read refund %s: %w", failedID, err)
		}
		t, err := lockTrade(ctx, tx, failed.TradeID())
		if err != nil {
			return err
		}
		prev, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE customer_id=? AND cause_key=?`,
			t.CustomerID(), domain.RetryKey(key)))
		switch {
		case err == nil:
			out, err = prev.SameRequest("retry:" + failedID)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read retry %s: %w", key, err)
		}
		r, err := t.RetryByHand(failed, newRefundID(), key)
		if err != nil {
			return err
		}
		out, created, err = createRefund(ctx, tx, r, now)
		return err
	})
	return out, created, err
}
