package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

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
		// The order's own deductions and those the caller names for it
		// (a pull-back's order uses its original's, bound to the original).
		q, args := `SELECT id FROM deductions WHERE order_id=? AND status=? ORDER BY id FOR UPDATE`, []any{r.OrderID, domain.DeductionUsed}
		if len(r.DeductionIDs) > 0 {
			q = `SELECT id FROM deductions WHERE (order_id=? OR id IN (` + sqltx.Tuples("?", len(r.DeductionIDs)) + `)) AND status=? ORDER BY id FOR UPDATE`
			args = []any{r.OrderID}
			for _, id := range r.DeductionIDs {
				args = append(args, id)
			}
			args = append(args, domain.DeductionUsed)
		}
		ids, err := sqltx.Strings(ctx, tx, q, args...)
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
		orders := []any{r.OrderID}
		for i, id := range ids {
			d, err := deductionQ(ctx, tx, id, false)
			if err != nil {
				return err
			}
			if i > 0 && d.CustomerID() != r.CustomerID {
				return fmt.Errorf("%w: deductions of two customers named for order %s", domain.ErrValidation, r.OrderID)
			}
			r.CustomerID = d.CustomerID()
			items = append(items, d.Items()...)
			total += d.TotalFen()
			if o := d.OrderID(); o != "" && !slices.Contains(orders, any(o)) {
				orders = append(orders, o)
			}
		}
		// Earlier refunds of these deductions: under this order and the
		// orders they are bound to (a pull-back's original; only the last
		// order of a chain of pull-backs can be delivered and returned).
		var earlier money.Fen
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount_fen),0) FROM noncash_refunds WHERE order_id IN (`+sqltx.Tuples("?", len(orders))+`)`,
			orders...).Scan(&earlier); err != nil {
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
