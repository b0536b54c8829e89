package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Accounts returns a customer's balances; a customer without a row has
// zeros.
func (s *Store) Accounts(ctx context.Context, customerID string) (domain.Account, error) {
	var bal, gift, goods money.Fen
	var points int64
	err := s.db.QueryRowContext(ctx, `SELECT balance_fen, gift_card_fen, points, goods_card_fen FROM accounts WHERE customer_id=?`,
		customerID).Scan(&bal, &gift, &points, &goods)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return domain.Account{}, fmt.Errorf("read accounts of %s: %w", customerID, err)
	}
	return domain.RestoreAccount(customerID, bal, gift, points, goods), nil
}

// Credit adds to a customer's accounts, once per key.
func (s *Store) Credit(ctx context.Context, key, hash string, a domain.Account, now time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO account_credits (idempotency_key, request_hash, customer_id, created_at) VALUES (?,?,?,?)`,
			key, hash, a.CustomerID(), now)
		if sqltx.IsDuplicate(err) {
			var h string
			if err := tx.QueryRowContext(ctx, `SELECT request_hash FROM account_credits WHERE customer_id=? AND idempotency_key=?`,
				a.CustomerID(), key).Scan(&h); err != nil {
				return fmt.Errorf("read credit %s of %s: %w", key, a.CustomerID(), err)
			}
			if h != hash {
				return domain.ErrKeyReused
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("record credit: %w", err)
		}
		if err := creditTx(ctx, tx, a, now); err != nil {
			return err
		}
		return nil
	})
}

func creditTx(ctx context.Context, tx *sql.Tx, a domain.Account, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts (customer_id, balance_fen, gift_card_fen, points, goods_card_fen, updated_at)
		VALUES (?,?,?,?,?,?) ON DUPLICATE KEY UPDATE balance_fen=balance_fen+VALUES(balance_fen),
		gift_card_fen=gift_card_fen+VALUES(gift_card_fen), points=points+VALUES(points),
		goods_card_fen=goods_card_fen+VALUES(goods_card_fen), updated_at=VALUES(updated_at)`,
		a.CustomerID(), a.BalanceFen(), a.GiftCardFen(), a.Points(), a.GoodsCardFen(), now)
	if err != nil {
		return fmt.Errorf("credit accounts of %s: %w", a.CustomerID(), err)
	}
	return nil
}

// CountAccounts tells the seeder whether the database is empty.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// rememberCancelled records that an order was cancelled.
func rememberCancelled(ctx context.Context, tx *sql.Tx, orderID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO cancelled_orders (order_id, cancelled_at) VALUES (?,?)`, orderID, now); err != nil {
		return fmt.Errorf("remember %s cancelled: %w", orderID, err)
	}
	return nil
}
