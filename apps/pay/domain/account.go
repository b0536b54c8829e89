package domain

import (
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Account is a customer's money-like non-cash balances (points 1 = 1 fen).
type Account struct {
	customerID string
	balance    money.Fen
	giftCard   money.Fen
	points     int64
	goodsCard  money.Fen
}

// NewCredit returns amounts to add to a customer's accounts; none may be
// negative.
func NewCredit(customerID string, balance, giftCard money.Fen, points int64, goodsCard money.Fen) (Account, error) {
	if customerID == "" {
		return Account{}, fmt.Errorf("%w: customer is required", ErrValidation)
	}
	if balance < 0 || giftCard < 0 || points < 0 || goodsCard < 0 {
		return Account{}, fmt.Errorf("%w: credits must not be negative", ErrValidation)
	}
	return Account{customerID: customerID, balance: balance, giftCard: giftCard, points: points, goodsCard: goodsCard}, nil
}

// RestoreAccount rebuilds an account the store read.
func RestoreAccount(customerID string, balance, giftCard money.Fen, points int64, goodsCard money.Fen) Account {
	return Account{customerID: customerID, balance: balance, giftCard: giftCard, points: points, goodsCard: goodsCard}
}

// CustomerID is the account's owner.
func (a Account) CustomerID() string { return a.customerID }

// BalanceFen is the stored-value balance.
func (a Account) BalanceFen() money.Fen { return a.balance }

// GiftCardFen is the gift card balance.
func (a Account) GiftCardFen() money.Fen { return a.giftCard }

// Points is the points balance (1 point = 1 fen).
func (a Account) Points() int64 { return a.points }

// GoodsCardFen is the goods card balance.
func (a Account) GoodsCardFen() money.Fen { return a.goodsCard }

// add adds amount to the balance of kind k (coupons have none).
func (a *Account) add(k Kind, amount money.Fen) {
	switch k {
	case KindBalance:
		a.balance += amount
	case KindGiftCard:
		a.giftCard += amount
	case KindPoints:
		a.points += int64(amount)
	case KindGoodsCard:
		a.goodsCard += amount
	}
}

// Coupon is a coupon as the coupon wallet answered a hold of it: its
// value and the end of its window. The wallet owns the coupon; PAY only
// prices the deduction item with it.
type Coupon struct {
	id        string
	title     string
	value     money.Fen
	expiresAt time.Time
}

// HeldCoupon is the wallet's answer for a coupon it holds for a deduction.
func HeldCoupon(id, title string, value money.Fen, expiresAt time.Time) Coupon {
	return Coupon{id: id, title: title, value: value, expiresAt: expiresAt}
}

// ID is the coupon's id.
func (c Coupon) ID() string { return c.id }

// Title is what the customer sees.
func (c Coupon) Title() string { return c.title }

// ValueFen is what the coupon is worth.
func (c Coupon) ValueFen() money.Fen { return c.value }

// ExpiresAt is when the coupon stops being usable.
func (c Coupon) ExpiresAt() time.Time { return c.expiresAt }
