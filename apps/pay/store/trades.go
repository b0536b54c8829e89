package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

const tradeCols = `t.id, t.idempotency_key, t.request_hash, t.order_id, t.customer_id, t.channel, t.amount_fen, t.paid_fen,
	t.refunded_fen, t.status, t.time_expire, t.created_at, t.paid_at, t.poll_count, c.channel_trade_no, c.cashier_url`

func scanTrade(row interface{ Scan(...any) error }) (domain.Trade, error) {
	var t domain.TradeSnapshot
	var paidAt sql.NullTime
	var ctn, url sql.NullString
	if err := row.Scan(&t.ID, &t.IdempotencyKey, &t.RequestHash, &t.OrderID, &t.CustomerID, &t.Channel, &t.Amount, &t.Paid,
		&t.Refunded, &t.Status, &t.TimeExpire, &t.CreatedAt, &paidAt, &t.PollCount, &ctn, &url); err != nil {
		return domain.Trade{}, err
	}
	t.PaidAt, t.ChannelTradeNo, t.CashierURL = paidAt.Time, ctn.String, url.String
	return domain.RestoreTrade(t), nil
}

func (s *Store) tradeWhere(ctx context.Context, what, where string, args ...any) (domain.Trade, error) {
	t, err := scanTrade(s.db.QueryRowContext(ctx, `SELECT `+tradeCols+` FROM trades t JOIN channel_records c ON c.trade_id=t.id WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("trade: %w", domain.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("read trade %s: %w", what, err)
	}
	return t, nil
}

// Trade returns one trade with its channel record.
func (s *Store) Trade(ctx context.Context, id string) (domain.Trade, error) {
	return s.tradeWhere(ctx, id, `t.id=?`, id)
}

// TradeByKey returns the trade a customer created under an idempotency key.
func (s *Store) TradeByKey(ctx context.Context, customerID, key string) (domain.Trade, error) {
	return s.tradeWhere(ctx, key+" of "+customerID, `t.customer_id=? AND t.idempotency_key=?`, customerID, key)
}

// TradesOfOrder lists an order's trades, oldest first.
func (s *Store) TradesOfOrder(ctx context.Context, orderID string) ([]domain.Trade, error) {
	ts, err := s.trades(ctx, `t.order_id=? ORDER BY t.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list trades of %s: %w", orderID, err)
	}
	return ts, nil
}

func (s *Store) trades(ctx context.Context, where string, args ...any) ([]domain.Trade, error) {
	return sqltx.Collect[domain.Trade](s.db.QueryContext(ctx, `SELECT `+tradeCols+` FROM trades t JOIN channel_records c ON c.trade_id=t.id WHERE `+where, args...))(scanTrade)
}

// CreateTrade writes the trade record and its channel record;
// app.ErrDuplicateKey when the idempotency key is taken.
func (s *Store) CreateTrade(ctx context.Context, t domain.Trade, firstPoll time.Time) error {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trades (id, idempotency_key, request_hash, order_id, customer_id, channel, amount_fen,
			status, time_expire, created_at, next_poll_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			t.ID(), t.IdempotencyKey(), t.RequestHash(), t.OrderID(), t.CustomerID(), t.Channel(), t.AmountFen(), t.Status(),
			t.TimeExpire(), t.CreatedAt(), firstPoll); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO channel_records (trade_id, channel, channel_status, created_at, updated_at) VALUES (?,?,?,?,?)`,
			t.ID(), t.Channel(), "CREATING", t.CreatedAt(), t.CreatedAt())
		return err
	})
	if sqltx.IsDuplicate(err) {
		return app.ErrDuplicateKey
	}
	if err != nil {
		return fmt.Errorf("create trade: %w", err)
	}
	return nil
}

// SetCashier records the channel's answer to create.
func (s *Store) SetCashier(ctx context.Context, t domain.Trade, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE channel_records SET channel_trade_no=?, cashier_url=?, channel_status='CREATED', updated_at=? WHERE trade_id=?`,
		t.ChannelTradeNo(), t.CashierURL(), now, t.ID()); err != nil {
		return fmt.Errorf("record cashier of trade %s: %w", t.ID(), err)
	}
	return nil
}

// MarkSucceeded moves a trade to SUCCEEDED once: PENDING or CLOSED →
// SUCCEEDED is a conditional update, so duplicate callbacks and polls find
// nothing to do (false). The event, the finance push and, for an order
// already cancelled, the full refund are written in the same transaction.
func (s *Store) MarkSucceeded(ctx context.Context, t domain.Trade, paid money.Fen, channelTradeNo string, paidAt, now time.Time, ev outbox.Event) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		done = false
		ok, err := execOne(ctx, tx, "mark trade succeeded", `UPDATE trades SET status=?, paid_fen=?, paid_at=? WHERE id=? AND status IN (?,?)`,
			domain.TradeSucceeded, paid, paidAt, t.ID(), domain.TradePending, domain.TradeClosed)
		if err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channel_records SET channel_trade_no=COALESCE(?, channel_trade_no), channel_status='PAID', updated_at=? WHERE trade_id=?`,
			nullable(channelTradeNo), now, t.ID()); err != nil {
			return fmt.Errorf("mark channel record paid: %w", err)
		}
		if err := addOutbox(ctx, tx, ev); err != nil {
			return err
		}
		if err := addPush(ctx, tx, now, t.ReceivedPush(paid)); err != nil {
			return err
		}
		// A locking read: a cancel committing concurrently is either seen
		// here or sees this trade SUCCEEDED (its read of trades locks too);
		// a deadlock between the two is retried by sqltx.Run.
		var cancelled int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cancelled_orders WHERE order_id=? FOR UPDATE`, t.OrderID()).Scan(&cancelled); err != nil {
			return fmt.Errorf("read whether %s is cancelled: %w", t.OrderID(), err)
		}
		if cancelled > 0 {
			// Money for an order already cancelled goes back in full; OMS's
			// rejection, when it comes, finds this refund (same cause key).
			if _, _, err := fullRefund(ctx, tx, t.ID(), newRefundID(), domain.ReasonCancel, now); err != nil {
				return err
			}
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("trade %s: %w", t.ID(), err)
	}
	return done, nil
}

// MarkClosed records that the channel closed an unpaid trade.
func (s *Store) MarkClosed(ctx context.Context, id string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE trades t JOIN channel_records c ON c.trade_id=t.id SET t.status=?, c.channel_status='CLOSED', c.updated_at=?
		WHERE t.id=? AND t.status=?`, domain.TradeClosed, now, id, domain.TradePending); err != nil {
		return fmt.Errorf("close trade %s: %w", id, err)
	}
	return nil
}

// DuePolls lists pending trades whose next poll is due.
func (s *Store) DuePolls(ctx context.Context, now time.Time, limit int) ([]domain.Trade, error) {
	ts, err := s.trades(ctx, `t.status=? AND t.next_poll_at <= ? ORDER BY t.next_poll_at LIMIT ?`, domain.TradePending, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list trades to poll: %w", err)
	}
	return ts, nil
}

// PollLater pushes a trade's next poll out.
func (s *Store) PollLater(ctx context.Context, id string, next time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE trades SET next_poll_at=?, poll_count=poll_count+1 WHERE id=?`, next, id); err != nil {
		return fmt.Errorf("schedule poll of trade %s: %w", id, err)
	}
	return nil
}

// RefundRejected refunds a trade in full for a rejected payment, once per
// message. An unknown trade commits the claim (nothing can ever be
// refunded for it) and answers domain.ErrNotFound.
func (s *Store) RefundRejected(ctx context.Context, claim app.InboxClaim, tradeID, refundID string, now time.Time) (bool, error) {
	var unknown bool
	fresh, err := s.claimed(ctx, claim, func(tx *sql.Tx) error {
		_, _, err := fullRefund(ctx, tx, tradeID, refundID, domain.ReasonRejected, now)
		unknown = errors.Is(err, domain.ErrNotFound)
		if unknown {
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("refund rejected trade %s: %w", tradeID, err)
	}
	if unknown {
		return fresh, fmt.Errorf("trade %s: %w", tradeID, domain.ErrNotFound)
	}
	return fresh, nil
}
