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

// Deduct holds d and takes every item of it or none. Its coupons are held
// in the wallet under d's id already (coupons is the wallet's answer);
// the hold is recorded DEDUCTED first, which fails with ErrHoldVoid when
// the hold was declared void meanwhile. The accounts are taken by
// conditional updates checked by rows affected, so two deductions racing
// for the last fen have one winner. A key (the customer's own) already
// used returns the first deduction (same hash) or ErrKeyReused; concurrent
// duplicates meet at the unique key, and the loser returns the winner's
// deduction.
func (s *Store) Deduct(ctx context.Context, d domain.Deduction, coupons map[string]domain.Coupon, now time.Time) (domain.Deduction, error) {
	if prev, ok, err := s.DeductionByKey(ctx, d.CustomerID(), d.IdempotencyKey()); err != nil {
		return domain.Deduction{}, err
	} else if ok {
		return prev.SameRequest(d.RequestHash())
	}
	var out domain.Deduction
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		held := d
		if len(held.CouponIDs()) > 0 {
			_, err := tx.ExecContext(ctx, `INSERT INTO coupon_holds (hold_id, state, created_at) VALUES (?,?,?)`, held.ID(), domain.HoldDeducted, now)
			if sqltx.IsDuplicate(err) {
				return fmt.Errorf("deduction %s: %w", held.ID(), domain.ErrHoldVoid)
			}
			if err != nil {
				return fmt.Errorf("record coupon hold %s: %w", held.ID(), err)
			}
		}
		if err := held.Hold(coupons, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deductions (id, idempotency_key, request_hash, customer_id, total_fen, status, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?)`, held.ID(), held.IdempotencyKey(), held.RequestHash(), held.CustomerID(), held.TotalFen(),
			held.Status(), now, now); err != nil {
			if sqltx.IsDuplicate(err) {
				return err // answered below, after the rollback
			}
			return fmt.Errorf("write deduction %s: %w", held.ID(), err)
		}
		for i, it := range held.Items() {
			if err := take(ctx, tx, held, it, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deduction_items (deduction_id, seq, kind, amount_fen, coupon_id) VALUES (?,?,?,?,?)`,
				held.ID(), i, it.Kind(), it.AmountFen(), nullable(it.CouponID())); err != nil {
				return fmt.Errorf("write item %d of deduction %s: %w", i, held.ID(), err)
			}
		}
		if err := addPush(ctx, tx, now, held.DeductedPush()); err != nil {
			return err
		}
		out = held
		return nil
	})
	if sqltx.IsDuplicate(err) {
		prev, ok, err := s.DeductionByKey(ctx, d.CustomerID(), d.IdempotencyKey())
		if err != nil {
			return domain.Deduction{}, err
		}
		if ok {
			return prev.SameRequest(d.RequestHash())
		}
	}
	if err != nil {
		return domain.Deduction{}, err // domain errors as they are: the caller shows them
	}
	return out, nil
}

// take takes one item from the accounts, conditionally: a balance below
// the amount is InsufficientError. A coupon item takes nothing here: the
// wallet holds its coupon.
func take(ctx context.Context, tx *sql.Tx, d domain.Deduction, it domain.Item, now time.Time) error {
	if it.Kind() == domain.KindCoupon {
		return nil
	}
	col := it.Kind().Column()
	ok, err := execOne(ctx, tx, "take "+string(it.Kind()),
		`UPDATE accounts SET `+col+`=`+col+`-?, updated_at=? WHERE customer_id=? AND `+col+` >= ?`,
		it.AmountFen(), now, d.CustomerID(), it.AmountFen())
	if err != nil {
		return err
	}
	if !ok {
		return &domain.InsufficientError{Kind: it.Kind(), CouponID: it.CouponID()}
	}
	return nil
}

// DeductionByKey finds the customer's deduction made under key.
func (s *Store) DeductionByKey(ctx context.Context, customerID, key string) (domain.Deduction, bool, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM deductions WHERE customer_id=? AND idempotency_key=?`, customerID, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Deduction{}, false, nil
	}
	if err != nil {
		return domain.Deduction{}, false, fmt.Errorf("find deduction %s of %s: %w", key, customerID, err)
	}
	d, err := s.Deduction(ctx, id)
	return d, err == nil, err
}

// Deduction returns one deduction with its items.
func (s *Store) Deduction(ctx context.Context, id string) (domain.Deduction, error) {
	return deductionQ(ctx, s.db, id, false)
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func deductionQ(ctx context.Context, q querier, id string, lock bool) (domain.Deduction, error) {
	var d domain.DeductionSnapshot
	var order sql.NullString
	sqlText := `SELECT id, idempotency_key, request_hash, customer_id, total_fen, status, order_id, created_at FROM deductions WHERE id=?`
	if lock {
		sqlText += ` FOR UPDATE`
	}
	err := q.QueryRowContext(ctx, sqlText, id).Scan(&d.ID, &d.IdempotencyKey, &d.RequestHash, &d.CustomerID, &d.Total, &d.Status, &order, &d.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Deduction{}, fmt.Errorf("deduction %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Deduction{}, fmt.Errorf("read deduction %s: %w", id, err)
	}
	d.OrderID = order.String
	d.Items, err = sqltx.Collect[domain.Item](q.QueryContext(ctx, `SELECT kind, amount_fen, coupon_id FROM deduction_items WHERE deduction_id=? ORDER BY seq`, id))(
		func(row interface{ Scan(...any) error }) (domain.Item, error) {
			var k domain.Kind
			var amount money.Fen
			var c sql.NullString
			if err := row.Scan(&k, &amount, &c); err != nil {
				return domain.Item{}, err
			}
			return domain.NewItem(k, amount, c.String), nil
		})
	if err != nil {
		return domain.Deduction{}, fmt.Errorf("read items of deduction %s: %w", id, err)
	}
	return domain.RestoreDeduction(d), nil
}

// BindDeductions binds held deductions to an order (and their coupons to
// used), once per message. A deduction already used or reversed is left as
// it is and reported.
func (s *Store) BindDeductions(ctx context.Context, claim app.InboxClaim, orderID string, ids []string, now time.Time) ([]string, error) {
	var conflicts []string
	_, err := s.claimed(ctx, claim, func(tx *sql.Tx) error {
		conflicts = nil
		for _, id := range ids {
			ok, err := execOne(ctx, tx, "mark deduction "+id+" used",
				`UPDATE deductions SET status=?, order_id=?, updated_at=? WHERE id=? AND (status=? OR (status=? AND (order_id IS NULL OR order_id=?)))`,
				domain.DeductionUsed, orderID, now, id, domain.DeductionHeld, domain.DeductionUsed, orderID)
			if err != nil {
				return err
			}
			if !ok {
				var st string
				var o sql.NullString
				err := tx.QueryRowContext(ctx, `SELECT status, order_id FROM deductions WHERE id=?`, id).Scan(&st, &o)
				if err == nil && st == string(domain.DeductionUsed) && o.String == orderID {
					continue // already bound, same values
				}
				conflicts = append(conflicts, id)
				continue
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bind deductions to order %s: %w", orderID, err)
	}
	return conflicts, nil
}

// reverse gives a deduction back in full as d.Reverse decides (from HELD,
// or from USED when allowUsed); a second reverse finds nothing to do and
// returns false.
func reverse(ctx context.Context, tx *sql.Tx, id string, allowUsed bool, now time.Time) (domain.Deduction, bool, error) {
	d, err := deductionQ(ctx, tx, id, true)
	if err != nil {
		return d, false, err
	}
	back, err := d.Reverse(allowUsed)
	if errors.Is(err, domain.ErrNotReversible) {
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deductions SET status=?, updated_at=? WHERE id=?`, d.Status(), now, id); err != nil {
		return d, false, fmt.Errorf("reverse deduction %s: %w", id, err)
	}
	if len(d.CouponIDs()) > 0 {
		// The wallet gives the coupons back once it hears, from PAY itself,
		// that the deduction is reversed: the push worker asks it to check.
		if err := addPush(ctx, tx, now, domain.PushBody{Kind: domain.PushCouponRelease, RefID: id, CustomerID: d.CustomerID()}); err != nil {
			return d, false, err
		}
	}
	if err := creditTx(ctx, tx, back, now); err != nil {
		return d, false, err
	}
	if err := addPush(ctx, tx, now, d.ReversedPush()); err != nil {
		return d, false, err
	}
	return d, true, nil
}

// Reverse reverses one held deduction in its own transaction (the sweep).
func (s *Store) Reverse(ctx context.Context, id string, now time.Time) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		_, done, err = reverse(ctx, tx, id, false, now)
		return err
	})
	return done, err
}

// SettleCancelled gives back what a cancelled order took, once per message.
func (s *Store) SettleCancelled(ctx context.Context, claim app.InboxClaim, o app.CancelledOrder, now time.Time,
	reversed func(domain.Deduction) outbox.Event, unknown func(id string)) (bool, error) {
	orderID := o.ID
	fresh, err := s.claimed(ctx, claim, func(tx *sql.Tx) error {
		if err := rememberCancelled(ctx, tx, orderID, now); err != nil {
			return err
		}
		bound, err := sqltx.Strings(ctx, tx, `SELECT id FROM deductions WHERE order_id=?`, orderID)
		if err != nil {
			return fmt.Errorf("list deductions of %s: %w", orderID, err)
		}
		seen := map[string]bool{}
		for _, id := range append(append([]string{}, o.DeductionIDs...), bound...) {
			if seen[id] {
				continue
			}
			seen[id] = true
			d, done, err := reverse(ctx, tx, id, true, now)
			if errors.Is(err, domain.ErrNotFound) {
				unknown(id)
				continue
			}
			if err != nil {
				return err
			}
			if done {
				if err := addOutbox(ctx, tx, reversed(d)); err != nil {
					return err
				}
			}
		}
		// The trade OMS names is refunded only when it is the customer's
		// own: a wrong id must not give another customer's money away.
		trades, err := sqltx.Strings(ctx, tx, `SELECT id FROM trades WHERE (order_id=? OR id=? AND customer_id=?) AND status=? ORDER BY id FOR UPDATE`,
			orderID, o.TradeID, o.CustomerID, domain.TradeSucceeded)
		if err != nil {
			return fmt.Errorf("list trades of %s: %w", orderID, err)
		}
		for _, t := range trades {
			if _, _, err := fullRefund(ctx, tx, t, newRefundID(), domain.ReasonCancel, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("settle cancelled order %s: %w", orderID, err)
	}
	return fresh, nil
}

// MarkUsedWithoutOrder records that OMS has an order for a held deduction
// (the sweep's check-back said so); oms.order.placed fills the order id.
func (s *Store) MarkUsedWithoutOrder(ctx context.Context, id string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE deductions SET status=?, updated_at=? WHERE id=? AND status=?`,
		domain.DeductionUsed, now, id, domain.DeductionHeld); err != nil {
		return fmt.Errorf("mark deduction %s used: %w", id, err)
	}
	return nil
}

// HeldBefore lists held deductions created before t, oldest first.
func (s *Store) HeldBefore(ctx context.Context, t time.Time, limit int) ([]string, error) {
	ids, err := sqltx.Strings(ctx, s.db, `SELECT id FROM deductions WHERE status=? AND created_at < ? ORDER BY created_at LIMIT ?`,
		domain.DeductionHeld, t, limit)
	if err != nil {
		return nil, fmt.Errorf("list held deductions: %w", err)
	}
	return ids, nil
}

// HoldsFor reports whether PAY holds anything for an order: a deduction
// bound to it or a trade of it, in any state.
func (s *Store) HoldsFor(ctx context.Context, orderID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM trades WHERE order_id=?) + EXISTS(SELECT 1 FROM deductions WHERE order_id=?)`,
		orderID, orderID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read what PAY holds for %s: %w", orderID, err)
	}
	return n > 0, nil
}

// HoldState answers where a coupon hold stands. A hold no deduction took
// is first recorded VOID (INSERT IGNORE against the deduction's own
// DEDUCTED row, one primary key), so a deduction still committing under it
// fails instead of using coupons the wallet is about to give back.
func (s *Store) HoldState(ctx context.Context, holdID string, now time.Time) (app.HoldAnswer, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO coupon_holds (hold_id, state, created_at) VALUES (?,?,?)`,
		holdID, domain.HoldVoid, now); err != nil {
		return app.HoldAnswer{}, fmt.Errorf("claim coupon hold %s: %w", holdID, err)
	}
	var st domain.HoldRecord
	if err := s.db.QueryRowContext(ctx, `SELECT state FROM coupon_holds WHERE hold_id=?`, holdID).Scan(&st); err != nil {
		return app.HoldAnswer{}, fmt.Errorf("read coupon hold %s: %w", holdID, err)
	}
	if st == domain.HoldVoid {
		return app.HoldAnswer{Void: true}, nil
	}
	var ds domain.DeductionStatus
	if err := s.db.QueryRowContext(ctx, `SELECT status FROM deductions WHERE id=?`, holdID).Scan(&ds); err != nil {
		return app.HoldAnswer{}, fmt.Errorf("read deduction of coupon hold %s: %w", holdID, err)
	}
	return app.HoldAnswer{Deduction: ds}, nil
}
