package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// ReceiveStock applies stock WMS received into a warehouse (or put back on
// a shelf), once per receipt id: the received_stock row and the rise of
// the SKU's on-hand and sellable stock commit together. The stock row is
// locked FOR UPDATE, so a hot SKU's counter rebuild (which reads on_hand
// under the same lock) sees the rise entirely or not at all; the epoch
// read here tells the caller whether Redis's counter still needs it.
func (s *Store) ReceiveStock(ctx context.Context, r app.StockReceipt) (app.StockRise, error) {
	var out app.StockRise
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = app.StockRise{}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM received_stock WHERE receipt_id=?`, r.ReceiptID).Scan(&one)
		if err == nil {
			out.Duplicate = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read receipt %s: %w", r.ReceiptID, err)
		}
		var warehouse string
		var bundle bool
		err = tx.QueryRowContext(ctx, `SELECT p.warehouse, p.is_bundle, p.hot, s.hot_epoch FROM stock s JOIN products p ON p.sku=s.sku
			WHERE s.sku=? FOR UPDATE`, r.SKU).Scan(&warehouse, &bundle, &out.Hot, &out.Epoch)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out.Why = "no stock row for the SKU"
		case err != nil:
			return fmt.Errorf("lock stock of %s: %w", r.SKU, err)
		case bundle:
			out.Why = "a bundle carries no stock"
		case warehouse != r.Warehouse:
			out.Why = "the catalog ships it from " + warehouse
		default:
			out.Raised = true
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO received_stock (receipt_id, warehouse, sku, qty, raised, created_at) VALUES (?,?,?,?,?,?)`,
			r.ReceiptID, r.Warehouse, r.SKU, r.Qty, out.Raised, s.now()); err != nil {
			return fmt.Errorf("record receipt %s: %w", r.ReceiptID, err)
		}
		if !out.Raised {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stock SET on_hand=on_hand+?, available=available+?, updated_at=? WHERE sku=?`,
			r.Qty, r.Qty, s.now(), r.SKU); err != nil {
			return fmt.Errorf("raise stock of %s: %w", r.SKU, err)
		}
		return nil
	})
	// Two deliveries of one receipt racing both miss the row; the loser's
	// INSERT fails on the key and its transaction rolls back.
	if sqltx.IsDuplicate(err) {
		return app.StockRise{Duplicate: true}, nil
	}
	return out, err
}
