package domain

import (
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Deduction is a non-cash deduction (扣减流水 header) and its items.
type Deduction struct {
	id          string
	key         string
	requestHash string
	customerID  string
	items       []Item
	total       money.Fen
	status      DeductionStatus
	orderID     string
	createdAt   time.Time
}

// NewDeduction validates a deduction request: the caller's key, at least
// one item, known kinds, positive amounts (a coupon's may be zero: its
// value is used), each coupon once. It is not held yet (see Hold).
func NewDeduction(id, key, requestHash, customerID string, items []Item) (Deduction, error) {
	if err := CheckKey(key, customerID); err != nil {
		return Deduction{}, err
	}
	if err := ValidateItems(customerID, items); err != nil {
		return Deduction{}, err
	}
	return Deduction{id: id, key: key, requestHash: requestHash, customerID: customerID, items: slices.Clone(items)}, nil
}

// DeductionSnapshot is a deduction's state as the store persists it.
type DeductionSnapshot struct {
	ID, IdempotencyKey, RequestHash, CustomerID string
	Items                                       []Item
	Total                                       money.Fen
	Status                                      DeductionStatus
	OrderID                                     string
	CreatedAt                                   time.Time
}

// RestoreDeduction rebuilds a deduction the store read.
func RestoreDeduction(s DeductionSnapshot) Deduction {
	return Deduction{id: s.ID, key: s.IdempotencyKey, requestHash: s.RequestHash, customerID: s.CustomerID,
		items: slices.Clone(s.Items), total: s.Total, status: s.Status, orderID: s.OrderID, createdAt: s.CreatedAt}
}

// ID is the deduction's id.
func (d Deduction) ID() string { return d.id }

// IdempotencyKey is the customer's key it was made under.
func (d Deduction) IdempotencyKey() string { return d.key }

// RequestHash fingerprints the request it was made from.
func (d Deduction) RequestHash() string { return d.requestHash }

// CustomerID is whose accounts it takes from.
func (d Deduction) CustomerID() string { return d.customerID }

// Items are what it takes, in request order.
func (d Deduction) Items() []Item { return slices.Clone(d.items) }

// TotalFen is the sum of its items.
func (d Deduction) TotalFen() money.Fen { return d.total }

// Status is where it stands.
func (d Deduction) Status() DeductionStatus { return d.status }

// OrderID is the order it is bound to, once used.
func (d Deduction) OrderID() string { return d.orderID }

// CreatedAt is when it was held.
func (d Deduction) CreatedAt() time.Time { return d.createdAt }

// SameRequest answers a repeated key: this deduction when the request is
// the same, else ErrKeyReused.
func (d Deduction) SameRequest(requestHash string) (Deduction, error) {
	if d.requestHash != requestHash {
		return Deduction{}, ErrKeyReused
	}
	return d, nil
}

// CouponIDs lists the coupons the deduction's items name.
func (d Deduction) CouponIDs() []string {
	var ids []string
	for _, it := range d.items {
		if it.kind == KindCoupon {
			ids = append(ids, it.couponID)
		}
	}
	return ids
}

// Hold prices the coupon items and makes the deduction HELD at now: every
// coupon must be among those the wallet holds for this deduction (coupons,
// the wallet's answer) and not expired; an item of amount zero takes the
// coupon's value, and no item takes more than its coupon is worth. The
// accounts are taken by the store's conditional updates, item by item.
func (d *Deduction) Hold(coupons map[string]Coupon, now time.Time) error {
	var total money.Fen
	items := slices.Clone(d.items)
	for i, it := range items {
		if it.kind == KindCoupon {
			c, ok := coupons[it.couponID]
			if !ok || !c.expiresAt.After(now) {
				return &InsufficientError{Kind: KindCoupon, CouponID: it.couponID}
			}
			if it.amount == 0 {
				items[i].amount = c.value
			}
			if items[i].amount > c.value {
				return fmt.Errorf("%w: items[%d] takes %d from coupon %s worth %d", ErrValidation, i, int64(it.amount), it.couponID, int64(c.value))
			}
		}
		total += items[i].amount
	}
	d.items, d.total, d.status, d.createdAt = items, total, DeductionHeld, now
	return nil
}

// Reverse gives the deduction back: only a HELD one, or a USED one when
// allowUsed (its order was cancelled); else ErrNotReversible (reversed
// before). It returns what goes back to the accounts; the wallet gives its
// coupons back when PAY, asked, says it is reversed.
func (d *Deduction) Reverse(allowUsed bool) (Account, error) {
	if d.status != DeductionHeld && !(allowUsed && d.status == DeductionUsed) {
		return Account{}, fmt.Errorf("deduction %s is %s: %w", d.id, d.status, ErrNotReversible)
	}
	back := Account{customerID: d.customerID}
	for _, it := range d.items {
		back.add(it.kind, it.amount)
	}
	d.status = DeductionReversed
	return back, nil
}
