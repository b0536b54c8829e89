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

// ErrDuplicate is returned when a row with the same idempotency key exists.
var ErrDuplicate = errors.New("duplicate key")

const tradeCols = `t.id, t.idempotency_key, t.request_hash, t.order_id, t.customer_id, t.channel, t.amount_fen, t.paid_fen,
	t.refunded_fen, t.status, t.time_expire, t.created_at, t.paid_at, t.poll_count, c.channel_trade_no, c.cashier_url`

func scanTrade(row interface{ Scan(...any) error }) (domain.Trade, error) {
	var t domain.Trade
	var paidAt sql.NullTime
	var ctn, url sql.NullString
	err := row.Scan(&t.ID, &t.IdempotencyKey, &t.RequestHash, &t.OrderID, &t.CustomerID, &t.Channel, &t.AmountFen, &t.PaidFen,
		&t.RefundedFen, &t.Status, &t.TimeExpire, &t.CreatedAt, &paidAt, &t.PollCount, &ctn, &url)
	t.PaidAt, t.ChannelTradeNo, t.CashierURL = paidAt.Time, ctn.String, url.String
	return t, err
}

func (s *Store) tradeWhere(ctx context.Context, where string, args ...any) (domain.Trade, error) {
	t, err := scanTrade(s.db.QueryRowContext(ctx, `SELECT `+tradeCols+` FROM trades t JOIN channel_records c ON c.trade_id=t.id WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("trade: %w", domain.ErrNotFound)
	}
	return t, err
}

// Trade returns one trade with its channel record.
func (s *Store) Trade(ctx context.Context, id string) (domain.Trade, error) {
	return s.tradeWhere(ctx, `t.id=?`, id)
}

// TradeByKey returns the trade a customer created under an idempotency key.
func (s *Store) TradeByKey(ctx context.Context, customerID, key string) (domain.Trade, error) {
	return s.tradeWhere(ctx, `t.customer_id=? AND t.idempotency_key=?`, customerID, key)
}

// TradesOfOrder lists an order's trades, oldest first.
func (s *Store) TradesOfOrder(ctx context.Context, orderID string) ([]domain.Trade, error) {
	return s.trades(ctx, `t.order_id=? ORDER BY t.id`, orderID)
}

func (s *Store) trades(ctx context.Context, where string, args ...any) ([]domain.Trade, error) {
	return sqltx.Collect[domain.Trade](s.db.QueryContext(ctx, `SELECT `+tradeCols+` FROM trades t JOIN channel_records c ON c.trade_id=t.id WHERE `+where, args...))(scanTrade)
}

// CreateTrade writes the trade record and its channel record; ErrDuplicate
// when the idempotency key is taken.
func (s *Store) CreateTrade(ctx context.Context, t domain.Trade, firstPoll time.Time) error {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trades (id, idempotency_key, request_hash, order_id, customer_id, channel, amount_fen,
			status, time_expire, created_at, next_poll_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			t.ID, t.IdempotencyKey, t.RequestHash, t.OrderID, t.CustomerID, t.Channel, t.AmountFen, t.Status, t.TimeExpire, t.CreatedAt, firstPoll); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO channel_records (trade_id, channel, channel_status, created_at, updated_at) VALUES (?,?,?,?,?)`,
			t.ID, t.Channel, "CREATING", t.CreatedAt, t.CreatedAt)
		return err
	})
	if sqltx.IsDuplicate(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("create trade: %w", err)
	}
	return nil
}

// SetCashier records the channel's answer to create.
func (s *Store) SetCashier(ctx context.Context, tradeID, channelTradeNo, url string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE channel_records SET channel_trade_no=?, cashier_url=?, channel_status='CREATED', updated_at=? WHERE trade_id=?`,
		channelTradeNo, url, now, tradeID)
	return err
}

// MarkSucceeded moves a trade to SUCCEEDED once: PENDING or CLOSED →
// SUCCEEDED is a conditional update, so duplicate callbacks and polls find
// nothing to do (false). The event, the finance push and, for an order
// already cancelled, the full refund are written in the same transaction.
func (s *Store) MarkSucceeded(ctx context.Context, t domain.Trade, paidFen int64, channelTradeNo string, paidAt, now time.Time, ev outbox.Event) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		res, err := tx.ExecContext(ctx, `UPDATE trades SET status=?, paid_fen=?, paid_at=? WHERE id=? AND status IN (?,?)`,
			domain.TradeSucceeded, paidFen, paidAt, t.ID, domain.TradePending, domain.TradeClosed)
		if err != nil {
			return err
		}
		if n, err := affected(res); err != nil || n != 1 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channel_records SET channel_trade_no=COALESCE(?, channel_trade_no), channel_status='PAID', updated_at=? WHERE trade_id=?`,
			nullable(channelTradeNo), now, t.ID); err != nil {
			return err
		}
		if err := AddOutboxTx(ctx, tx, ev); err != nil {
			return err
		}
		if err := addPush(ctx, tx, now, domain.PushBody{Kind: domain.PushCashReceived, RefID: t.ID, TradeID: t.ID, OrderID: t.OrderID,
			CustomerID: t.CustomerID, Channel: t.Channel, AmountFen: paidFen}); err != nil {
			return err
		}
		// A locking read: a cancel committing concurrently is either seen
		// here or sees this trade SUCCEEDED (its read of trades locks too);
		// a deadlock between the two is retried by sqltx.Run.
		var cancelled int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cancelled_orders WHERE order_id=? FOR UPDATE`, t.OrderID).Scan(&cancelled); err != nil {
			return err
		}
		if cancelled > 0 {
			// Money for an order already cancelled goes back in full; OMS's
			// rejection, when it comes, finds this refund (same cause key).
			if _, _, err := FullRefundTx(ctx, tx, t.ID, ids.New(), domain.ReasonCancel, now); err != nil {
				return err
			}
		}
		done = true
		return nil
	})
	return done, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MarkClosed records that the channel closed an unpaid trade.
func (s *Store) MarkClosed(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE trades t JOIN channel_records c ON c.trade_id=t.id SET t.status=?, c.channel_status='CLOSED', c.updated_at=?
		WHERE t.id=? AND t.status=?`, domain.TradeClosed, now, id, domain.TradePending)
	return err
}

// DuePolls lists pending trades whose next poll is due.
func (s *Store) DuePolls(ctx context.Context, now time.Time, limit int) ([]domain.Trade, error) {
	return s.trades(ctx, `t.status=? AND t.next_poll_at <= ? ORDER BY t.next_poll_at LIMIT ?`, domain.TradePending, now, limit)
}

// PollLater pushes a trade's next poll out.
func (s *Store) PollLater(ctx context.Context, id string, next time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE trades SET next_poll_at=?, poll_count=poll_count+1 WHERE id=?`, next, id)
	return err
}

// ----------------------------------------------------------------- refunds

const refundCols = `id, trade_id, order_id, cause_key, request_hash, amount_fen, reason, status, created_at, updated_at`

func scanRefund(row interface{ Scan(...any) error }) (domain.Refund, error) {
	var r domain.Refund
	err := row.Scan(&r.ID, &r.TradeID, &r.OrderID, &r.CauseKey, &r.RequestHash, &r.AmountFen, &r.Reason, &r.Status, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// Refund returns one refund.
func (s *Store) Refund(ctx context.Context, id string) (domain.Refund, error) {
	r, err := scanRefund(s.db.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("refund %s: %w", id, domain.ErrNotFound)
	}
	return r, err
}

// RefundsOfTrade lists a trade's refunds.
func (s *Store) RefundsOfTrade(ctx context.Context, tradeID string) ([]domain.Refund, error) {
	return sqltx.Collect[domain.Refund](s.db.QueryContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE trade_id=? ORDER BY id`, tradeID))(scanRefund)
}

// CreateRefundTx records a refund and takes its amount from what the trade
// may still give back, atomically: refunded_fen + amount <= paid_fen. A
// cause key the trade's customer already used returns that refund (same
// hash) or ErrKeyReused.
// Refunds that need an audit are pushed to finance in the same transaction.
func CreateRefundTx(ctx context.Context, tx *sql.Tx, r domain.Refund, now time.Time) (domain.Refund, bool, error) {
	firstCheck := now
	if r.Status == domain.RefundPendingAudit {
		firstCheck = now.Add(5 * time.Second) // finance has not even received it yet
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO refunds (`+refundCols+`, customer_id, next_poll_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.TradeID, r.OrderID, r.CauseKey, r.RequestHash, r.AmountFen, r.Reason, r.Status, now, now, r.CustomerID, firstCheck)
	if sqltx.IsDuplicate(err) {
		prev, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE customer_id=? AND cause_key=?`,
			r.CustomerID, r.CauseKey))
		if err != nil {
			return r, false, err
		}
		if prev.RequestHash != r.RequestHash {
			return r, false, domain.ErrKeyReused
		}
		return prev, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("insert refund: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE trades SET refunded_fen=refunded_fen+? WHERE id=? AND status=? AND refunded_fen+? <= paid_fen`,
		r.AmountFen, r.TradeID, domain.TradeSucceeded, r.AmountFen)
	if err != nil {
		return r, false, err
	}
	if n, err := affected(res); err != nil {
		return r, false, err
	} else if n != 1 {
		return r, false, domain.ErrRefundTooLarge
	}
	if r.Status == domain.RefundPendingAudit {
		if err := addPush(ctx, tx, now, domain.PushBody{Kind: domain.PushRefundAudit, RefID: r.ID, TradeID: r.TradeID, OrderID: r.OrderID,
			AmountFen: r.AmountFen, Reason: r.Reason}); err != nil {
			return r, false, err
		}
	}
	r.CreatedAt, r.UpdatedAt = now, now
	return r, true, nil
}

// CreateRefund runs CreateRefundTx in its own transaction.
func (s *Store) CreateRefund(ctx context.Context, r domain.Refund, now time.Time) (domain.Refund, bool, error) {
	var out domain.Refund
	var created bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		out, created, err = CreateRefundTx(ctx, tx, r, now)
		return err
	})
	return out, created, err
}

// FullRefundTx refunds whatever a succeeded trade still holds, once per
// trade (cause key auto:<trade>): cancels and rejected payments both land
// here and the second finds the first. It returns the refund, or false when
// there was nothing to refund.
func FullRefundTx(ctx context.Context, tx *sql.Tx, tradeID, refundID, reason string, now time.Time) (domain.Refund, bool, error) {
	var orderID, customerID string
	var status domain.TradeStatus
	var paid, refunded int64
	err := tx.QueryRowContext(ctx, `SELECT order_id, customer_id, status, paid_fen, refunded_fen FROM trades WHERE id=? FOR UPDATE`, tradeID).
		Scan(&orderID, &customerID, &status, &paid, &refunded)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Refund{}, false, fmt.Errorf("trade %s: %w", tradeID, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Refund{}, false, err
	}
	if status != domain.TradeSucceeded || paid-refunded <= 0 {
		return domain.Refund{}, false, nil
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refunds WHERE customer_id=? AND cause_key=?`, customerID, "auto:"+tradeID).Scan(&exists); err != nil {
		return domain.Refund{}, false, err
	}
	if exists > 0 {
		return domain.Refund{}, false, nil
	}
	r := domain.Refund{ID: refundID, TradeID: tradeID, OrderID: orderID, CustomerID: customerID, CauseKey: "auto:" + tradeID, RequestHash: "auto",
		AmountFen: paid - refunded, Reason: reason, Status: domain.RefundSubmitting}
	r, created, err := CreateRefundTx(ctx, tx, r, now)
	return r, created, err
}

// RefundsDue lists refunds in SUBMITTING, PROCESSING or PENDING_AUDIT whose
// next check is due.
func (s *Store) RefundsDue(ctx context.Context, now time.Time, limit int) ([]domain.Refund, error) {
	return sqltx.Collect[domain.Refund](s.db.QueryContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE status IN (?,?,?) AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?`,
		domain.RefundSubmitting, domain.RefundProcessing, domain.RefundPendingAudit, now, limit))(scanRefund)
}

// MoveRefund changes a refund's status from one to another (false when it
// was no longer in from) and sets its next check.
func (s *Store) MoveRefund(ctx context.Context, id string, from, to domain.RefundStatus, next, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE refunds SET status=?, next_poll_at=?, updated_at=? WHERE id=? AND status=?`, to, next, now, id, from)
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

// RefundLater pushes a refund's next check out.
func (s *Store) RefundLater(ctx context.Context, id string, next time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE refunds SET next_poll_at=? WHERE id=?`, next, id)
	return err
}

// RefundDone marks a refund SUCCEEDED once, with its event and finance push.
func (s *Store) RefundDone(ctx context.Context, r domain.Refund, channel string, now time.Time, ev outbox.Event) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		res, err := tx.ExecContext(ctx, `UPDATE refunds SET status=?, updated_at=? WHERE id=? AND status IN (?,?)`,
			domain.RefundSucceeded, now, r.ID, domain.RefundSubmitting, domain.RefundProcessing)
		if err != nil {
			return err
		}
		if n, err := affected(res); err != nil || n != 1 {
			return err
		}
		if err := AddOutboxTx(ctx, tx, ev); err != nil {
			return err
		}
		if err := addPush(ctx, tx, now, domain.PushBody{Kind: domain.PushCashRefunded, RefID: r.ID, TradeID: r.TradeID, OrderID: r.OrderID,
			Channel: channel, AmountFen: r.AmountFen, Reason: r.Reason}); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}

// RefundGiveBack ends a refund without money moving (finance rejected it,
// or the channel failed it) and returns its amount to what the trade may
// still refund.
func (s *Store) RefundGiveBack(ctx context.Context, r domain.Refund, from []domain.RefundStatus, to domain.RefundStatus, now time.Time) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		q := `UPDATE refunds SET status=?, updated_at=? WHERE id=? AND status IN (?`
		args := []any{to, now, r.ID, from[0]}
		for _, f := range from[1:] {
			q += `,?`
			args = append(args, f)
		}
		res, err := tx.ExecContext(ctx, q+`)`, args...)
		if err != nil {
			return err
		}
		if n, err := affected(res); err != nil || n != 1 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE trades SET refunded_fen=refunded_fen-? WHERE id=?`, r.AmountFen, r.TradeID); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}

// ----------------------------------------------------------------- pushes

// DuePushes lists finance pushes waiting to be sent.
func (s *Store) DuePushes(ctx context.Context, now time.Time, limit int) ([]domain.Push, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, ref_id, payload, attempts FROM finance_pushes WHERE status='PENDING' AND next_attempt_at <= ?
		ORDER BY next_attempt_at LIMIT ?`, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Push
	for rows.Next() {
		var p domain.Push
		if err := rows.Scan(&p.ID, &p.Kind, &p.RefID, &p.Payload, &p.Attempts); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PushSent marks a push delivered.
func (s *Store) PushSent(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE finance_pushes SET status='SENT', sent_at=?, attempts=attempts+1 WHERE id=?`, now, id)
	return err
}

// PushFailed schedules a push's retry.
func (s *Store) PushFailed(ctx context.Context, id string, next time.Time, cause string) error {
	if len(cause) > 500 {
		cause = cause[:500]
	}
	_, err := s.db.ExecContext(ctx, `UPDATE finance_pushes SET attempts=attempts+1, next_attempt_at=?, last_error=? WHERE id=?`, next, cause, id)
	return err
}

// RememberCancelledTx records that an order was cancelled.
func RememberCancelledTx(ctx context.Context, tx *sql.Tx, orderID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT IGNORE INTO cancelled_orders (order_id, cancelled_at) VALUES (?,?)`, orderID, now)
	return err
}
