package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// RestoreStock adds returned units back to sellable stock once per
// restore id, all lines or none: a repeat answers dup true and adds
// nothing; an unknown SKU is domain.ErrNotFound and a hot one
// domain.ErrHotRestore (its truth is the Redis counter), both writing
// nothing.
func (s *Store) RestoreStock(ctx context.Context, restoreID, orderID string, parts []domain.Part, now time.Time) (bool, error) {
	body, err := json.Marshal(parts)
	if err != nil {
		return false, err
	}
	dup := false
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		dup = false
		n, err := affectedRows(tx.ExecContext(ctx, `INSERT IGNORE INTO stock_restores (restore_id, order_id, goods, created_at) VALUES (?,?,?,?)`,
			restoreID, orderID, body, now))
		if err != nil {
			return fmt.Errorf("record restore %s: %w", restoreID, err)
		}
		if n == 0 {
			dup = true
			return nil
		}
		for _, p := range parts {
			var hot bool
			err := tx.QueryRowContext(ctx, `SELECT p.hot FROM stock s JOIN products p ON p.sku = s.sku WHERE s.sku = ? FOR UPDATE`, p.SKU).Scan(&hot)
			if err == sql.ErrNoRows {
				return fmt.Errorf("%w: sku %s", domain.ErrNotFound, p.SKU)
			}
			if err != nil {
				return fmt.Errorf("lock stock of %s: %w", p.SKU, err)
			}
			if hot {
				return fmt.Errorf("%w: %s", domain.ErrHotRestore, p.SKU)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE stock SET on_hand = on_hand + ?, available = available + ?, updated_at = ? WHERE sku = ?`,
				p.Qty, p.Qty, now, p.SKU); err != nil {
				return fmt.Errorf("restore %s: %w", p.SKU, err)
			}
		}
		return nil
	})
	return dup, err
}

func affectedRows(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
