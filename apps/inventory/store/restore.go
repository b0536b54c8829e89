package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// RestoreStock adds returned units back to sellable stock once per
// restore id, all lines or none: a repeat answers dup true and adds
// nothing; an unknown SKU is domain.ErrNotFound, writing nothing. A hot
// SKU's on_hand and mirror rise here like any other's, under the stock
// row's lock (so a counter rebuild sees the rise entirely or not at
// all), and the restore keeps its hot lines with the counter epoch read
// under that lock, flagged pending until the Redis counter has them
// (app.Service.RestoreStock). Pending answers the hot lines whose Redis
// side is still to do: this restore's, or a repeat's whose first
// delivery did not finish it.
func (s *Store) RestoreStock(ctx context.Context, restoreID, orderID string, parts []domain.Part, now time.Time) (app.RestoreResult, error) {
	body, err := json.Marshal(parts)
	if err != nil {
		return app.RestoreResult{}, err
	}
	var out app.RestoreResult
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = app.RestoreResult{}
		n, err := affectedRows(tx.ExecContext(ctx, `INSERT IGNORE INTO stock_restores (restore_id, order_id, goods, created_at) VALUES (?,?,?,?)`,
			restoreID, orderID, body, now))
		if err != nil {
			return fmt.Errorf("record restore %s: %w", restoreID, err)
		}
		if n == 0 {
			out.Duplicate = true
			var pending bool
			var hot []byte
			err := tx.QueryRowContext(ctx, `SELECT hot_pending, hot_parts FROM stock_restores WHERE restore_id=?`, restoreID).Scan(&pending, &hot)
			if err != nil {
				return fmt.Errorf("read restore %s: %w", restoreID, err)
			}
			if pending && len(hot) > 0 {
				return json.Unmarshal(hot, &out.Hot)
			}
			return nil
		}
		for _, p := range parts {
			var hot bool
			var epoch int64
			err := tx.QueryRowContext(ctx, `SELECT p.hot, s.hot_epoch FROM stock s JOIN products p ON p.sku = s.sku WHERE s.sku = ? FOR UPDATE`, p.SKU).
				Scan(&hot, &epoch)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: sku %s", domain.ErrNotFound, p.SKU)
			}
			if err != nil {
				return fmt.Errorf("lock stock of %s: %w", p.SKU, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE stock SET on_hand = on_hand + ?, available = available + ?, updated_at = ? WHERE sku = ?`,
				p.Qty, p.Qty, now, p.SKU); err != nil {
				return fmt.Errorf("restore %s: %w", p.SKU, err)
			}
			if hot {
				out.Hot = append(out.Hot, app.HotRestore{SKU: p.SKU, Qty: p.Qty, Epoch: epoch})
			}
		}
		if len(out.Hot) == 0 {
			return nil
		}
		hb, err := json.Marshal(out.Hot)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE stock_restores SET hot_parts=?, hot_pending=1 WHERE restore_id=?`, hb, restoreID)
		return err
	})
	return out, err
}

// ClearRestorePending records that a restore's hot lines reached Redis.
func (s *Store) ClearRestorePending(ctx context.Context, restoreID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE stock_restores SET hot_pending=0 WHERE restore_id=?`, restoreID)
	return err
}

func affectedRows(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
