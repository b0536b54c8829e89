// Package store is PAY's MySQL persistence: accounts, coupons, deductions,
// trades and their channel records, refunds and finance pushes. Every money
// movement is a conditional UPDATE checked by rows affected inside a local
// transaction, together with the outbox rows and finance pushes it causes.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is PAY's database.
type Store struct{ db *sql.DB }

// New returns a Store over db.
func New(db *sql.DB) *Store { return &Store{db: db} }

// DB returns the pool (tests and the seeder count rows with it).
func (s *Store) DB() *sql.DB { return s.db }

func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// addPush writes a finance push; a push of the same kind for the same ref
// already there is left alone (one push per fact).
func addPush(ctx context.Context, tx *sql.Tx, now time.Time, b domain.PushBody) error {
	b.PushID = ids.New()
	b.At = now
	payload, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT IGNORE INTO finance_pushes
		(id, kind, ref_id, payload, status, next_attempt_at, created_at) VALUES (?,?,?,?,'PENDING',?,?)`,
		b.PushID, b.Kind, b.RefID, payload, now, now)
	if err != nil {
		return fmt.Errorf("add finance push %s/%s: %w", b.Kind, b.RefID, err)
	}
	return nil
}

// Claim runs fn in a transaction that first claims msgID for consumer in
// the inbox; a message already handled commits nothing and returns false.
func (s *Store) Claim(ctx context.Context, consumer, msgID string, fn func(tx *sql.Tx) error) (bool, error) {
	var fresh bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		ok, err := inbox.Claim(ctx, tx, consumer, msgID)
		if err != nil || !ok {
			fresh = false
			return err
		}
		fresh = true
		return fn(tx)
	})
	return fresh, err
}

// ---------------------------------------------------------------- accounts

// Accounts returns a customer's balances and coupons; a customer without a
// row has zeros.
func (s *Store) Accounts(ctx context.Context, customerID string) (domain.Account, []domain.Coupon, error) {
	a := domain.Account{CustomerID: customerID}
	err := s.db.QueryRowContext(ctx, `SELECT balance_fen, gift_card_fen, points, goods_card_fen FROM accounts WHERE customer_id=?`,
		customerID).Scan(&a.BalanceFen, &a.GiftCardFen, &a.Points, &a.GoodsCardFen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return a, nil, fmt.Errorf("read accounts of %s: %w", customerID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, value_fen, status, expires_at FROM coupons WHERE customer_id=? ORDER BY expires_at, id`, customerID)
	if err != nil {
		return a, nil, fmt.Errorf("read coupons of %s: %w", customerID, err)
	}
	defer rows.Close()
	var cs []domain.Coupon
	for rows.Next() {
		var c domain.Coupon
		if err := rows.Scan(&c.ID, &c.Title, &c.ValueFen, &c.Status, &c.ExpiresAt); err != nil {
			return a, nil, err
		}
		cs = append(cs, c)
	}
	return a, cs, rows.Err()
}

// Credit adds to a customer's accounts and coupons, once per key.
func (s *Store) Credit(ctx context.Context, key, hash string, a domain.Account, coupons []domain.Coupon, now time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO account_credits (idempotency_key, request_hash, customer_id, created_at) VALUES (?,?,?,?)`,
			key, hash, a.CustomerID, now)
		if sqltx.IsDuplicate(err) {
			var h string
			if err := tx.QueryRowContext(ctx, `SELECT request_hash FROM account_credits WHERE customer_id=? AND idempotency_key=?`, a.CustomerID, key).Scan(&h); err != nil {
				return err
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
		for _, c := range coupons {
			if _, err := tx.ExecContext(ctx, `INSERT INTO coupons (id, customer_id, title, value_fen, status, expires_at, created_at) VALUES (?,?,?,?,?,?,?)`,
				c.ID, a.CustomerID, c.Title, c.ValueFen, domain.CouponAvailable, c.ExpiresAt, now); err != nil {
				if sqltx.IsDuplicate(err) {
					return fmt.Errorf("%w: coupon %s exists", domain.ErrValidation, c.ID)
				}
				return fmt.Errorf("add coupon: %w", err)
			}
		}
		return nil
	})
}

func creditTx(ctx context.Context, tx *sql.Tx, a domain.Account, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts (customer_id, balance_fen, gift_card_fen, points, goods_card_fen, updated_at)
		VALUES (?,?,?,?,?,?) ON DUPLICATE KEY UPDATE balance_fen=balance_fen+VALUES(balance_fen),
		gift_card_fen=gift_card_fen+VALUES(gift_card_fen), points=points+VALUES(points),
		goods_card_fen=goods_card_fen+VALUES(goods_card_fen), updated_at=VALUES(updated_at)`,
		a.CustomerID, a.BalanceFen, a.GiftCardFen, a.Points, a.GoodsCardFen, now)
	if err != nil {
		return fmt.Errorf("credit accounts of %s: %w", a.CustomerID, err)
	}
	return nil
}

// CountAccounts tells the seeder whether the database is empty.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
	return n, err
}

// -------------------------------------------------------------- deductions

// Deduct takes every item of d or none. A key (the customer's own) already
// used returns the first deduction (same hash) or ErrKeyReused; concurrent
// duplicates meet at the unique key, and the loser returns the winner's
// deduction.
func (s *Store) Deduct(ctx context.Context, d domain.Deduction, now time.Time) (domain.Deduction, error) {
	if prev, ok, err := s.deductionByKey(ctx, d.CustomerID, d.IdempotencyKey); err != nil {
		return prev, err
	} else if ok {
		return sameDeduction(prev, d.RequestHash)
	}
	var out domain.Deduction
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO deductions (id, idempotency_key, request_hash, customer_id, total_fen, status, created_at, updated_at)
			VALUES (?,?,?,?,0,?,?,?)`, d.ID, d.IdempotencyKey, d.RequestHash, d.CustomerID, domain.DeductionHeld, now, now)
		if err != nil {
			return err // duplicate handled below, after rollback
		}
		var total int64
		items := make([]domain.Item, len(d.Items))
		copy(items, d.Items)
		for i, it := range items {
			if it.Kind == domain.KindCoupon {
				var value int64
				err := tx.QueryRowContext(ctx, `SELECT value_fen FROM coupons WHERE id=? AND customer_id=?`, it.CouponID, d.CustomerID).Scan(&value)
				if errors.Is(err, sql.ErrNoRows) {
					return &domain.InsufficientError{Kind: domain.KindCoupon, CouponID: it.CouponID}
				}
				if err != nil {
					return err
				}
				if it.AmountFen == 0 {
					items[i].AmountFen, it.AmountFen = value, value
				}
				if it.AmountFen > value {
					return fmt.Errorf("%w: items[%d] takes %d from coupon %s worth %d", domain.ErrValidation, i, it.AmountFen, it.CouponID, value)
				}
				res, err := tx.ExecContext(ctx, `UPDATE coupons SET status=?, deduction_id=? WHERE id=? AND customer_id=? AND status=? AND expires_at > ?`,
					domain.CouponHeld, d.ID, it.CouponID, d.CustomerID, domain.CouponAvailable, now)
				if err != nil {
					return err
				}
				if n, err := affected(res); err != nil || n != 1 {
					if err != nil {
						return err
					}
					return &domain.InsufficientError{Kind: domain.KindCoupon, CouponID: it.CouponID}
				}
			} else {
				col := it.Kind.Column()
				res, err := tx.ExecContext(ctx, `UPDATE accounts SET `+col+`=`+col+`-?, updated_at=? WHERE customer_id=? AND `+col+` >= ?`,
					it.AmountFen, now, d.CustomerID, it.AmountFen)
				if err != nil {
					return err
				}
				if n, err := affected(res); err != nil || n != 1 {
					if err != nil {
						return err
					}
					return &domain.InsufficientError{Kind: it.Kind}
				}
			}
			var coupon any
			if it.CouponID != "" {
				coupon = it.CouponID
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deduction_items (deduction_id, seq, kind, amount_fen, coupon_id) VALUES (?,?,?,?,?)`,
				d.ID, i, it.Kind, it.AmountFen, coupon); err != nil {
				return err
			}
			total += it.AmountFen
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deductions SET total_fen=? WHERE id=?`, total, d.ID); err != nil {
			return err
		}
		if err := addPush(ctx, tx, now, domain.PushBody{Kind: domain.PushNonCashReceived, RefID: d.ID, CustomerID: d.CustomerID, AmountFen: total}); err != nil {
			return err
		}
		out = d
		out.Items, out.TotalFen, out.Status, out.CreatedAt = items, total, domain.DeductionHeld, now
		return nil
	})
	if sqltx.IsDuplicate(err) {
		prev, ok, err := s.deductionByKey(ctx, d.CustomerID, d.IdempotencyKey)
		if err != nil {
			return prev, err
		}
		if ok {
			return sameDeduction(prev, d.RequestHash)
		}
	}
	if err != nil {
		return domain.Deduction{}, err
	}
	return out, nil
}

func sameDeduction(prev domain.Deduction, hash string) (domain.Deduction, error) {
	if prev.RequestHash != hash {
		return domain.Deduction{}, domain.ErrKeyReused
	}
	return prev, nil
}

func (s *Store) deductionByKey(ctx context.Context, customerID, key string) (domain.Deduction, bool, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM deductions WHERE customer_id=? AND idempotency_key=?`, customerID, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Deduction{}, false, nil
	}
	if err != nil {
		return domain.Deduction{}, false, err
	}
	d, err := s.Deduction(ctx, id)
	return d, err == nil, err
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Deduction returns one deduction with its items.
func (s *Store) Deduction(ctx context.Context, id string) (domain.Deduction, error) {
	return deductionQ(ctx, s.db, id, false)
}

func deductionQ(ctx context.Context, q querier, id string, lock bool) (domain.Deduction, error) {
	var d domain.Deduction
	var order sql.NullString
	sqlText := `SELECT id, idempotency_key, request_hash, customer_id, total_fen, status, order_id, created_at FROM deductions WHERE id=?`
	if lock {
		sqlText += ` FOR UPDATE`
	}
	err := q.QueryRowContext(ctx, sqlText, id).Scan(&d.ID, &d.IdempotencyKey, &d.RequestHash, &d.CustomerID, &d.TotalFen, &d.Status, &order, &d.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("deduction %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("read deduction %s: %w", id, err)
	}
	d.OrderID = order.String
	rows, err := q.QueryContext(ctx, `SELECT kind, amount_fen, coupon_id FROM deduction_items WHERE deduction_id=? ORDER BY seq`, id)
	if err != nil {
		return d, err
	}
	defer rows.Close()
	for rows.Next() {
		var it domain.Item
		var c sql.NullString
		if err := rows.Scan(&it.Kind, &it.AmountFen, &c); err != nil {
			return d, err
		}
		it.CouponID = c.String
		d.Items = append(d.Items, it)
	}
	return d, rows.Err()
}

// MarkUsedTx binds held deductions to an order (and their coupons to used).
// A deduction already used or reversed is left as it is and reported.
func MarkUsedTx(ctx context.Context, tx *sql.Tx, orderID string, deductionIDs []string, now time.Time) (conflicts []string, err error) {
	for _, id := range deductionIDs {
		res, err := tx.ExecContext(ctx, `UPDATE deductions SET status=?, order_id=?, updated_at=? WHERE id=? AND (status=? OR (status=? AND (order_id IS NULL OR order_id=?)))`,
			domain.DeductionUsed, orderID, now, id, domain.DeductionHeld, domain.DeductionUsed, orderID)
		if err != nil {
			return nil, fmt.Errorf("mark deduction %s used: %w", id, err)
		}
		n, err := affected(res)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			var st string
			var o sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT status, order_id FROM deductions WHERE id=?`, id).Scan(&st, &o)
			if err == nil && st == string(domain.DeductionUsed) && o.String == orderID {
				continue // already bound, same values
			}
			conflicts = append(conflicts, id)
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE coupons SET status=? WHERE deduction_id=? AND status=?`, domain.CouponUsed, id, domain.CouponHeld); err != nil {
			return nil, err
		}
	}
	return conflicts, nil
}

// ReverseTx gives a deduction back in full: the status moves to REVERSED
// only from HELD (or from USED when allowUsed, for a cancelled order), so a
// second reverse finds nothing to do and returns false.
func ReverseTx(ctx context.Context, tx *sql.Tx, id string, allowUsed bool, now time.Time) (domain.Deduction, bool, error) {
	d, err := deductionQ(ctx, tx, id, true)
	if err != nil {
		return d, false, err
	}
	if d.Status != domain.DeductionHeld && !(allowUsed && d.Status == domain.DeductionUsed) {
		return d, false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deductions SET status=?, updated_at=? WHERE id=?`, domain.DeductionReversed, now, id); err != nil {
		return d, false, err
	}
	var back domain.Account
	back.CustomerID = d.CustomerID
	for _, it := range d.Items {
		switch it.Kind {
		case domain.KindBalance:
			back.BalanceFen += it.AmountFen
		case domain.KindGiftCard:
			back.GiftCardFen += it.AmountFen
		case domain.KindPoints:
			back.Points += it.AmountFen
		case domain.KindGoodsCard:
			back.GoodsCardFen += it.AmountFen
		case domain.KindCoupon:
			if _, err := tx.ExecContext(ctx, `UPDATE coupons SET status=?, deduction_id=NULL WHERE id=? AND deduction_id=?`,
				domain.CouponAvailable, it.CouponID, id); err != nil {
				return d, false, err
			}
		}
	}
	if err := creditTx(ctx, tx, back, now); err != nil {
		return d, false, err
	}
	if err := addPush(ctx, tx, now, domain.PushBody{Kind: domain.PushNonCashReversed, RefID: id, OrderID: d.OrderID,
		CustomerID: d.CustomerID, AmountFen: d.TotalFen}); err != nil {
		return d, false, err
	}
	d.Status = domain.DeductionReversed
	return d, true, nil
}

// Reverse reverses one held deduction in its own transaction (the sweep).
func (s *Store) Reverse(ctx context.Context, id string, now time.Time) (bool, error) {
	var done bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		_, done, err = ReverseTx(ctx, tx, id, false, now)
		return err
	})
	return done, err
}

// MarkUsedWithoutOrder records that OMS has an order for a held deduction
// (the sweep's check-back said so); oms.order.placed fills the order id.
func (s *Store) MarkUsedWithoutOrder(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE deductions SET status=?, updated_at=? WHERE id=? AND status=?`,
		domain.DeductionUsed, now, id, domain.DeductionHeld)
	return err
}

// HeldBefore lists held deductions created before t, oldest first.
func (s *Store) HeldBefore(ctx context.Context, t time.Time, limit int) ([]string, error) {
	return sqltx.Strings(ctx, s.db, `SELECT id FROM deductions WHERE status=? AND created_at < ? ORDER BY created_at LIMIT ?`,
		domain.DeductionHeld, t, limit)
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

// DeductionsOfOrderTx lists the deductions bound to an order.
func DeductionsOfOrderTx(ctx context.Context, tx *sql.Tx, orderID string) ([]string, error) {
	return sqltx.Strings(ctx, tx, `SELECT id FROM deductions WHERE order_id=?`, orderID)
}

// AddOutboxTx writes events (exported so the app layer's consumer
// transactions can add theirs).
func AddOutboxTx(ctx context.Context, tx *sql.Tx, evs ...outbox.Event) error {
	_, err := outbox.Add(ctx, tx, evs...)
	return err
}
