package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// UnbindPointsCoupons unbinds, once per unbind id, every AVAILABLE coupon
// the customer bought with the order's points (source POINTS, ref
// "<order>/<n>"), each recorded in coupon_unbindings like customer
// service's; the others are answered as kept. The coupons are locked
// first, so a hold racing the unbind is decided one way or the other; a
// repeat answers the stored result.
func (s *Store) UnbindPointsCoupons(ctx context.Context, u app.PointsUnbind, agent, reason string) (app.PointsUnbind, error) {
	var out app.PointsUnbind
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = u
		out.Unbound, out.Kept = []string{}, []app.KeptCoupon{}
		cs, err := coupons(ctx, tx, `c.customer_id=? AND c.source=? AND c.source_ref LIKE ? ORDER BY c.id FOR UPDATE`,
			u.CustomerID, app.SourcePoints, u.OrderID+"/%")
		if err != nil {
			return err
		}
		var unbound, kept []byte
		err = tx.QueryRowContext(ctx, `SELECT unbound, kept, created_at FROM points_coupon_unbinds WHERE unbind_id=?`, u.UnbindID).
			Scan(&unbound, &kept, &out.CreatedAt)
		if err == nil {
			out.Duplicate = true
			if err := json.Unmarshal(unbound, &out.Unbound); err != nil {
				return err
			}
			return json.Unmarshal(kept, &out.Kept)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read unbind %s: %w", u.UnbindID, err)
		}
		for _, c := range cs {
			if c.Status != domain.CouponAvailable {
				out.Kept = append(out.Kept, app.KeptCoupon{ID: c.ID, Status: c.Status})
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE coupons SET status=?, updated_at=? WHERE id=? AND status=?`,
				domain.CouponUnbound, u.CreatedAt, c.ID, domain.CouponAvailable); err != nil {
				return fmt.Errorf("unbind coupon %s: %w", c.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO coupon_unbindings (coupon_id, agent, reason, created_at) VALUES (?,?,?,?)`,
				c.ID, agent, reason, u.CreatedAt); err != nil {
				return fmt.Errorf("record unbinding of %s: %w", c.ID, err)
			}
			out.Unbound = append(out.Unbound, c.ID)
		}
		ub, _ := json.Marshal(out.Unbound)
		kb, _ := json.Marshal(out.Kept)
		_, err = tx.ExecContext(ctx, `INSERT INTO points_coupon_unbinds (unbind_id, order_id, customer_id, unbound, kept, created_at) VALUES (?,?,?,?,?,?)`,
			u.UnbindID, u.OrderID, u.CustomerID, ub, kb, u.CreatedAt)
		return err
	})
	return out, err
}
