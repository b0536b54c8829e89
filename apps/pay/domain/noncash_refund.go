package domain

import (
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// NonCashRefund is part of an order's non-cash deductions given back to
// the accounts they came from (a return's non-cash share, DOMAIN 2.3).
type NonCashRefund struct {
	ID, Key, RequestHash, OrderID, CustomerID, Reason string
	Amount                                            money.Fen
	// DeductionIDs are deductions the caller names for the order beside
	// those bound to it (a pull-back's order uses its original's).
	DeductionIDs []string
	// Back is what each account gets; Coupon is the coupons' share, which
	// Back's balance includes: a coupon spent on an order cannot be given
	// back for part of the order (nor whole for a part: that would give
	// back more than the share), so its share comes back as its value in
	// the customer's balance, and the parts still sum to Amount.
	Back      Account
	Coupon    money.Fen
	CreatedAt time.Time
}

// SpreadNonCashRefund spreads amount over the items of an order's
// deductions in proportion to what each took (money.Allocate, the
// remainder rule), so the parts sum to amount and a full return of every
// line gives each account back exactly what it gave; the coupons' share
// is credited to the balance at its value (see NonCashRefund.Coupon) and
// answered apart as well. left is what the
// deductions may still give back (their total less earlier non-cash
// refunds): more is ErrRefundTooLarge.
func SpreadNonCashRefund(customerID string, items []Item, amount, left money.Fen) (Account, money.Fen, error) {
	if amount <= 0 {
		return Account{}, 0, fmt.Errorf("%w: amount must be positive", ErrValidation)
	}
	if amount > left {
		return Account{}, 0, fmt.Errorf("%w: non-cash refund %s, %s left to give back", ErrRefundTooLarge, amount, left)
	}
	w := make([]int64, len(items))
	for i, it := range items {
		w[i] = int64(it.AmountFen())
	}
	parts, err := money.Allocate(amount, w)
	if err != nil {
		return Account{}, 0, fmt.Errorf("%w: %v", ErrValidation, err)
	}
	back := Account{customerID: customerID}
	var coupon money.Fen
	for i, it := range items {
		if it.Kind() == KindCoupon {
			coupon += parts[i]
			back.add(KindBalance, parts[i])
			continue
		}
		back.add(it.Kind(), parts[i])
	}
	return back, coupon, nil
}
