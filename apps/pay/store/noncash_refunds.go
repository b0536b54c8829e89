package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// RefundNonCash gives part of an order's non-cash deductions back, once
// per key: the order's used deductions are locked, what they may still
// give back (their total less earlier non-cash refunds) is read under the
// lock, spread decides the parts, and the refund row and the accounts'
// credit are written together. A replayed key answers the first refund
// (domain.ErrKeyReused for another input).
func (s *Store) RefundNonCash(ctx context.Context, r domain.NonCashRefund,
	spread func(customerID string, items []domain.Item, left money.Fen) (domain.Account, money.Fen, error)) (domain.NonCashRefund, error) {
	var out domain.NonCashRefund
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		ids, err := sqltx.Strings(ctx, tx, `SELECT id FROM deductions WHERE order_id=? AND status=? ORDER BY id FOR UPDATE`, r.OrderID, domain.DeductionUsed)
		if err != nil {
			return fmt.Errorf("lock deductions of %s: %w", r.OrderID, err)
		}
		// Read after the lock (the transaction's first consistent read):
		// it sees every refund committed before.
		prev, err := noncashByKey(ctx, tx, r.Key)
		if err == nil {
			if prev.RequestHash != r.RequestHash {
				return domain.ErrKeyReused
			}
			out = prev
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("no used deduction of order %s: %w", r.OrderID, domain.ErrNotFound)
		}
		var items []domain.Item
		var total money.Fen
		for _, id := range ids {
			d, err := deductionQ(ctx, tx, id, false)
			if err != nil {
				return err
			}
			r.CustomerID = d.CustomerID()
			items = append(items, d.Items()...)
			total += d.TotalFen()
		}
		var earlier money.Fen
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount_fen),0) FROM noncash_refunds WHERE order_id=?`, r.OrderID).Scan(&earlier); err != nil {
			return fmt.Errorf("sum non-cash refunds of %s: %w", r.OrderID, err)
		}
		back, coupon, err := spread(r.CustomerID, items, total-earlier)
		if err != nil {
			return err
		}
		r.Back, r.Coupon = back, coupon
		if _, err := tx.ExecContext(ctx, `INSERT INTO noncash_refunds (id, idempotency_key, request_hash, order_id, customer_id, amount_fen,
			balance_fen, gift_card_fen, goods_card_fen, points, coupon_fen, reason, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			r.ID, r.Key, r.RequestHash, r.OrderID, r.CustomerID, r.Amount, back.BalanceFen(), back.GiftCardFen(), back.GoodsCardFen(),
			back.Points(), coupon, r.Reason, r.CreatedAt); err != nil {
			return fmt.Errorf("record non-cash refund of %s: %w", r.OrderID, err)
		}
		if err := creditTx(ctx, tx, back, r.CreatedAt); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

func noncashByKey(ctx context.Context, q querier, key string) (domain.NonCashRefund, error) {
	var r domain.NonCashRefund
	var balance, gift, goods money.Fen
	var points int64
	err := q.QueryRowContext(ctx, `SELECT id, idempotency_key, request_hash, order_id, customer_id, amount_fen, balance_fen, gift_card_fen,
		goods_card_fen, points, coupon_fen, reason, created_at FROM noncash_refunds WHERE idempotency_key=?`, key).Scan(&r.ID, &r.Key,
		&r.RequestHash, &r.OrderID, &r.CustomerID, &r.Amount, &balance, &gift, &goods, &points, &r.Coupon, &r.Reason, &r.CreatedAt)
	if err != nil {
		return r, err
	}
	r.Back = domain.RestoreAccount(r.CustomerID, balance, gift, points, goods)
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}
