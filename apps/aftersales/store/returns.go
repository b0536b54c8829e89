package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// CreateReturn stores a return or rejection decided under the order's
// ledger lock: the same customer's key answers its request
// (created=false); else decide builds the request from the units
// returned before, which is stored with its lines, pushes and event,
// its units counted returned and its refund added to the order's
// ledger, conditional on staying within caps (domain.ErrRefundAbovePaid
// otherwise, nothing written). Two returns of one order decide one after
// the other, the second seeing the first's units.
func (s *Store) CreateReturn(ctx context.Context, now time.Time, orderID, customerID, key string, caps app.ReturnCaps,
	decide func(returned map[string]int64) (*domain.Request, error), event func(r *domain.Request) outbox.Event) (*domain.Request, bool, error) {
	var out *domain.Request
	var prevID string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out, prevID = nil, ""
		if err := lockOrder(ctx, tx, orderID, now); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM requests WHERE customer_id=? AND idem_key=?`, customerID, key).Scan(&prevID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read request of key %s: %w", key, err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT sku, qty FROM returned_units WHERE order_id=?`, orderID)
		if err != nil {
			return fmt.Errorf("read returned units of %s: %w", orderID, err)
		}
		returned := map[string]int64{}
		for rows.Next() {
			var sku string
			var n int64
			if err := rows.Scan(&sku, &n); err != nil {
				rows.Close()
				return err
			}
			returned[sku] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		r, err := decide(returned)
		if err != nil {
			return err
		}
		if err := addToLedger(ctx, tx, orderID, r, caps); err != nil {
			return err
		}
		for _, l := range r.Lines() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO returned_units (order_id, sku, qty) VALUES (?,?,?) ON DUPLICATE KEY UPDATE qty=qty+VALUES(qty)`,
				orderID, l.SKU, l.Qty); err != nil {
				return fmt.Errorf("count returned units of %s: %w", orderID, err)
			}
		}
		if err := insertRequest(ctx, tx, r, nil); err != nil {
			return err
		}
		if _, err := outbox.Add(ctx, tx, event(r)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if prevID != "" {
		prev, err := s.Get(ctx, prevID)
		return prev, false, err
	}
	out.MarkStored()
	return out, true, nil
}

// addToLedger adds r's refund to its order's ledger, conditional on
// staying within caps (domain.ErrRefundAbovePaid otherwise). A request
// that refunds nothing (an exchange) cannot exceed them and leaves the
// row as it is (MariaDB would report an unchanged row as not affected).
func addToLedger(ctx context.Context, tx *sql.Tx, orderID string, r *domain.Request, caps app.ReturnCaps) error {
	if r.RefundCash() == 0 && r.RefundNonCash() == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE order_ledger SET refunded_cash_fen=refunded_cash_fen+?, refunded_noncash_fen=refunded_noncash_fen+?,
		updated_at=? WHERE order_id=? AND refunded_cash_fen+? <= ? AND refunded_noncash_fen+? <= ?`,
		r.RefundCash(), r.RefundNonCash(), r.UpdatedAt(), orderID, r.RefundCash(), caps.Cash, r.RefundNonCash(), caps.NonCash)
	if err != nil {
		return fmt.Errorf("add refund of %s to the ledger: %w", orderID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: order %s paid %s cash and %s non-cash", domain.ErrRefundAbovePaid, orderID, caps.Cash, caps.NonCash)
	}
	return nil
}

// Ledger is what an order's returns gave back so far.
func (s *Store) Ledger(ctx context.Context, orderID string) (cash, nonCash int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT refunded_cash_fen, refunded_noncash_fen FROM order_ledger WHERE order_id=?`, orderID).Scan(&cash, &nonCash)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return cash, nonCash, err
}
