package sim

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

// Channel trade and refund statuses (WeChat's words; Alipay's handler
// translates them).
const (
	stNotPay    = "NOTPAY"
	stSuccess   = "SUCCESS"
	stClosed    = "CLOSED"
	rfProcess   = "PROCESSING"
	rfSuccess   = "SUCCESS"
	kindPayment = "PAYMENT"
	kindRefund  = "REFUND"
	kindAudit   = "AUDIT"
)

var (
	errNoTrade      = errors.New("trade does not exist")
	errTradeNoUsed  = errors.New("out_trade_no already used with other parameters")
	errExpireInPast = errors.New("time_expire is in the past")
	errExpired      = errors.New("trade expired: payment refused after time_expire")
	errPaid         = errors.New("trade already paid")
	errClosed       = errors.New("trade closed")
	errNotPaid      = errors.New("trade not paid")
	errNotEnough    = errors.New("refund exceeds the trade's remaining amount")
	errRefundNoUsed = errors.New("out_refund_no already used with other parameters")
	errNoRefund     = errors.New("refund does not exist")
)

type ctrade struct {
	Channel        string     `json:"channel"`
	OutTradeNo     string     `json:"out_trade_no"`
	ChannelTradeNo string     `json:"channel_trade_no"`
	Merchant       string     `json:"merchant"`
	AmountFen      int64      `json:"amount_fen"`
	RefundedFen    int64      `json:"refunded_fen"`
	Subject        string     `json:"subject"`
	Status         string     `json:"status"`
	TimeExpire     time.Time  `json:"time_expire"`
	NotifyTarget   string     `json:"notify_target"`
	CreatedAt      time.Time  `json:"created_at"`
	PaidAt         *time.Time `json:"paid_at,omitempty"`
}

type crefund struct {
	Channel     string     `json:"channel"`
	OutRefundNo string     `json:"out_refund_no"`
	OutTradeNo  string     `json:"out_trade_no"`
	RefundID    string     `json:"refund_id"`
	AmountFen   int64      `json:"amount_fen"`
	Status      string     `json:"status"`
	CompleteAt  time.Time  `json:"complete_at"`
	CreatedAt   time.Time  `json:"created_at"`
	SucceededAt *time.Time `json:"succeeded_at,omitempty"`
}

const tradeCols = `channel, out_trade_no, channel_trade_no, merchant, amount_fen, refunded_fen, subject, status, time_expire, notify_target, created_at, paid_at`

type rowScanner interface{ Scan(...any) error }

func scanCTrade(r rowScanner) (ctrade, error) {
	var t ctrade
	var paid sql.NullTime
	err := r.Scan(&t.Channel, &t.OutTradeNo, &t.ChannelTradeNo, &t.Merchant, &t.AmountFen, &t.RefundedFen, &t.Subject, &t.Status,
		&t.TimeExpire, &t.NotifyTarget, &t.CreatedAt, &paid)
	if paid.Valid {
		p := paid.Time
		t.PaidAt = &p
	}
	return t, err
}

// createTrade opens a trade. Creating the same out_trade_no again with the
// same parameters answers the first trade, as real channels do.
func (s *Server) createTrade(ctx context.Context, t ctrade) (ctrade, error) {
	now := s.now()
	if !t.TimeExpire.After(now) {
		return ctrade{}, errExpireInPast
	}
	t.ChannelTradeNo = strings.ToLower(t.Channel[:2]) + ids.New()
	t.Status, t.CreatedAt = stNotPay, now
	_, err := s.db.ExecContext(ctx, `INSERT INTO channel_trades (`+tradeCols+`) VALUES (?,?,?,?,?,0,?,?,?,?,?,NULL)`,
		t.Channel, t.OutTradeNo, t.ChannelTradeNo, t.Merchant, t.AmountFen, t.Subject, t.Status, t.TimeExpire, t.NotifyTarget, now)
	if sqltx.IsDuplicate(err) {
		prev, err := s.getTrade(ctx, t.Channel, t.OutTradeNo)
		if err != nil {
			return ctrade{}, err
		}
		if prev.AmountFen != t.AmountFen || !prev.TimeExpire.Equal(t.TimeExpire) {
			return ctrade{}, errTradeNoUsed
		}
		return prev, nil
	}
	if err != nil {
		return ctrade{}, fmt.Errorf("insert trade: %w", err)
	}
	return t, nil
}

// getTrade reads a trade, closing it first when it expired unpaid.
func (s *Server) getTrade(ctx context.Context, channel, no string) (ctrade, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE channel_trades SET status=? WHERE channel=? AND out_trade_no=? AND status=? AND time_expire < ?`,
		stClosed, channel, no, stNotPay, s.now()); err != nil {
		return ctrade{}, err
	}
	t, err := scanCTrade(s.db.QueryRowContext(ctx, `SELECT `+tradeCols+` FROM channel_trades WHERE channel=? AND out_trade_no=?`, channel, no))
	if errors.Is(err, sql.ErrNoRows) {
		return t, errNoTrade
	}
	return t, err
}

// payTrade is the customer paying at the cashier: NOTPAY → SUCCESS before
// time_expire (or regardless, for a channel that ignores it), with the
// payment callback queued in the same transaction.
func (s *Server) payTrade(ctx context.Context, channel, no string, ignoreExpire bool) (ctrade, error) {
	now := s.now()
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		t, err := scanCTrade(tx.QueryRowContext(ctx, `SELECT `+tradeCols+` FROM channel_trades WHERE channel=? AND out_trade_no=? FOR UPDATE`, channel, no))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoTrade
		}
		if err != nil {
			return err
		}
		switch {
		case t.Status == stSuccess:
			return errPaid
		case t.Status == stClosed && !ignoreExpire:
			return errClosed
		case now.After(t.TimeExpire) && !ignoreExpire:
			return errExpired
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channel_trades SET status=?, paid_at=? WHERE channel=? AND out_trade_no=?`, stSuccess, now, channel, no); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, kindPayment, channel, no, no, t.NotifyTarget)
	})
	if errors.Is(err, errExpired) {
		// The transaction rolled back with the refusal; record the close.
		if _, cerr := s.db.ExecContext(ctx, `UPDATE channel_trades SET status=? WHERE channel=? AND out_trade_no=? AND status=?`,
			stClosed, channel, no, stNotPay); cerr != nil {
			return ctrade{}, cerr
		}
		return ctrade{}, err
	}
	if err != nil {
		return ctrade{}, err
	}
	return s.getTrade(ctx, channel, no)
}

// enqueue queues one callback (once per kind and reference).
func (s *Server) enqueue(ctx context.Context, tx *sql.Tx, kind, channel, ref, tradeNo, target string) error {
	now := s.now()
	_, err := tx.ExecContext(ctx, `INSERT IGNORE INTO notifications (id, kind, channel, ref_no, out_trade_no, target, status, next_at, created_at)
		VALUES (?,?,?,?,?,?,'PENDING',?,?)`, ids.New(), kind, channel, ref, tradeNo, target, now.Add(s.cfg.CallbackDelay), now)
	return err
}

const refundCols = `channel, out_refund_no, out_trade_no, refund_id, amount_fen, status, complete_at, created_at, succeeded_at`

func scanCRefund(r rowScanner) (crefund, error) {
	var f crefund
	var ok sql.NullTime
	err := r.Scan(&f.Channel, &f.OutRefundNo, &f.OutTradeNo, &f.RefundID, &f.AmountFen, &f.Status, &f.CompleteAt, &f.CreatedAt, &ok)
	if ok.Valid {
		t := ok.Time
		f.SucceededAt = &t
	}
	return f, err
}

// createRefund accepts a refund (idempotent by out_refund_no); it never
// lets refunds exceed the trade's amount and completes later.
func (s *Server) createRefund(ctx context.Context, channel, tradeNo, refundNo string, amount int64) (crefund, error) {
	now := s.now()
	f := crefund{Channel: channel, OutRefundNo: refundNo, OutTradeNo: tradeNo, RefundID: "rf" + ids.New(), AmountFen: amount,
		Status: rfProcess, CompleteAt: now.Add(s.cfg.RefundDelay), CreatedAt: now}
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		prev, err := scanCRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM channel_refunds WHERE channel=? AND out_refund_no=?`, channel, refundNo))
		if err == nil {
			if prev.OutTradeNo != tradeNo || prev.AmountFen != amount {
				return errRefundNoUsed
			}
			f = prev
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var status string
		err = tx.QueryRowContext(ctx, `SELECT status FROM channel_trades WHERE channel=? AND out_trade_no=? FOR UPDATE`, channel, tradeNo).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoTrade
		}
		if err != nil {
			return err
		}
		if status != stSuccess {
			return errNotPaid
		}
		res, err := tx.ExecContext(ctx, `UPDATE channel_trades SET refunded_fen=refunded_fen+? WHERE channel=? AND out_trade_no=? AND refunded_fen+? <= amount_fen`,
			amount, channel, tradeNo, amount)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 || amount <= 0 {
			return errNotEnough
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO channel_refunds (`+refundCols+`) VALUES (?,?,?,?,?,?,?,?,NULL)`,
			channel, refundNo, tradeNo, f.RefundID, amount, f.Status, f.CompleteAt, now)
		return err
	})
	return f, err
}

// getRefund reads a refund, completing it first when its time has come.
func (s *Server) getRefund(ctx context.Context, channel, refundNo string) (crefund, error) {
	if err := s.completeRefunds(ctx); err != nil {
		return crefund{}, err
	}
	f, err := scanCRefund(s.db.QueryRowContext(ctx, `SELECT `+refundCols+` FROM channel_refunds WHERE channel=? AND out_refund_no=?`, channel, refundNo))
	if errors.Is(err, sql.ErrNoRows) {
		return f, errNoRefund
	}
	return f, err
}

// completeRefunds finishes due refunds and queues their callbacks.
func (s *Server) completeRefunds(ctx context.Context) error {
	now := s.now()
	rows, err := s.db.QueryContext(ctx, `SELECT r.channel, r.out_refund_no, r.out_trade_no, t.notify_target FROM channel_refunds r
		JOIN channel_trades t ON t.channel=r.channel AND t.out_trade_no=r.out_trade_no
		WHERE r.status=? AND r.complete_at <= ? LIMIT 200`, rfProcess, now)
	if err != nil {
		return err
	}
	type due struct{ ch, no, trade, target string }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.ch, &d.no, &d.trade, &d.target); err != nil {
			rows.Close()
			return err
		}
		list = append(list, d)
	}
	rows.Close()
	for _, d := range list {
		err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE channel_refunds SET status=?, succeeded_at=? WHERE channel=? AND out_refund_no=? AND status=?`,
				rfSuccess, now, d.ch, d.no, rfProcess)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil
			}
			return s.enqueue(ctx, tx, kindRefund, d.ch, d.no, d.trade, d.target)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
