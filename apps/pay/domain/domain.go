// Package domain holds PAY's rules without I/O: accounts, coupons,
// deductions, trades and refunds as types with unexported fields, built by
// validating constructors (or restored from storage) and changed by methods
// that return the sentinel errors every other layer maps to codes: the
// coupon rules of a deduction (Hold), its reversal, the refund ceiling and
// the automatic full refund.
package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/platform/money"
)

// Kind is a non-cash account kind.
type Kind string

// Account kinds (DOMAIN 2.1); the values are payclient's wire values.
const (
	KindBalance   Kind = "BALANCE"
	KindGiftCard  Kind = "GIFT_CARD"
	KindPoints    Kind = "POINTS"
	KindCoupon    Kind = "COUPON"
	KindGoodsCard Kind = "GOODS_CARD"
)

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindBalance, KindGiftCard, KindPoints, KindCoupon, KindGoodsCard:
		return k, nil
	}
	return "", fmt.Errorf("%w: unknown account kind %q", ErrValidation, s)
}

// Column is the accounts column a money kind lives in. Coupons have none.
func (k Kind) Column() string {
	switch k {
	case KindBalance:
		return "balance_fen"
	case KindGiftCard:
		return "gift_card_fen"
	case KindPoints:
		return "points"
	case KindGoodsCard:
		return "goods_card_fen"
	}
	return ""
}

// DeductionStatus is where a deduction stands.
type DeductionStatus string

// Deduction statuses.
const (
	DeductionHeld     DeductionStatus = "HELD"
	DeductionUsed     DeductionStatus = "USED"
	DeductionReversed DeductionStatus = "REVERSED"
)

// HoldRecord is PAY's record of a coupon hold (coupon_holds.state).
type HoldRecord string

// Hold records: DEDUCTED, written with the deduction that took the hold;
// VOID, written when a hold is asked about that no deduction took, which
// makes the deduction that would take it fail (ErrHoldVoid).
const (
	HoldDeducted HoldRecord = "DEDUCTED"
	HoldVoid     HoldRecord = "VOID"
)

// TradeStatus is where a cash trade stands.
type TradeStatus string

// Trade statuses. A CLOSED trade may still turn SUCCEEDED when a channel
// reports money after all (DOMAIN 1.4 case 4): money is never ignored.
const (
	TradePending   TradeStatus = "PENDING"
	TradeSucceeded TradeStatus = "SUCCEEDED"
	TradeClosed    TradeStatus = "CLOSED"
)

// RefundStatus is where a cash refund stands.
type RefundStatus string

// Refund statuses: PENDING_AUDIT waits for finance; SUBMITTING is approved
// (or needs no audit) and not yet accepted by the channel; PROCESSING is
// accepted by the channel; SUCCEEDED is confirmed by a channel query.
const (
	RefundPendingAudit RefundStatus = "PENDING_AUDIT"
	RefundSubmitting   RefundStatus = "SUBMITTING"
	RefundProcessing   RefundStatus = "PROCESSING"
	RefundSucceeded    RefundStatus = "SUCCEEDED"
	RefundRejected     RefundStatus = "REJECTED" // finance said no
	RefundFailed       RefundStatus = "FAILED"   // the channel said no
)

// Refund reasons. Those caused by a cancel or a rejected payment skip the
// finance audit (DOMAIN 2.3); all others wait for it.
const (
	ReasonCancel   = "ORDER_CANCELLED"
	ReasonRejected = "PAYMENT_REJECTED"
)

// NeedsAudit reports whether a refund with reason waits for finance.
func NeedsAudit(reason string) bool { return reason != ReasonCancel && reason != ReasonRejected }

// Sentinel errors.
var (
	ErrValidation     = errors.New("validation failed")
	ErrInsufficient   = errors.New("insufficient funds")
	ErrKeyReused      = errors.New("idempotency key reused with other input")
	ErrNotFound       = errors.New("not found")
	ErrUnknownChannel = errors.New("unknown channel")
	ErrNotPayable     = errors.New("order not payable")
	ErrRefundTooLarge = errors.New("refund exceeds what was paid")
	ErrBadSignature   = errors.New("bad signature")
	// ErrNotReversible: the deduction is no longer held (or used, where
	// a cancel may reverse it): it was reversed before, nothing to do.
	ErrNotReversible = errors.New("deduction not reversible")
	// ErrNothingToRefund: the trade holds no money to give back (not
	// succeeded, or refunded in full).
	ErrNothingToRefund = errors.New("nothing to refund")
	// ErrNothingToRetry: customer service asked to retry a refund that is
	// not a failed automatic one, or whose trade holds nothing more (a
	// retry is under way or done).
	ErrNothingToRetry = errors.New("nothing to retry")
	// ErrUnconfirmed: an event that would move money was not confirmed by
	// its owner (OMS does not say the order is cancelled); its subscriber
	// drops it.
	ErrUnconfirmed = errors.New("event not confirmed by its owner")
	// ErrHoldVoid: the deduction's coupon hold was declared void (asked
	// about before the deduction committed); nothing was taken.
	ErrHoldVoid = errors.New("coupon hold void")
	// ErrCouponRefused: the coupon wallet refused a coupon (see CouponRefusedError).
	ErrCouponRefused = errors.New("coupon refused")
)

// InsufficientError names the account kind (and coupon) that could not cover an item.
type InsufficientError struct {
	Kind     Kind
	CouponID string
}

func (e *InsufficientError) Error() string {
	if e.CouponID != "" {
		return fmt.Sprintf("coupon %s is not available", e.CouponID)
	}
	return fmt.Sprintf("not enough %s", e.Kind)
}

// Unwrap makes errors.Is(err, ErrInsufficient) hold.
func (e *InsufficientError) Unwrap() error { return ErrInsufficient }

// CouponRefusedError is the wallet's refusal of a coupon in a deduction,
// with the wallet's code (COUPON_EXPIRED, COUPON_NOT_FOUND…), shown to the
// caller as it is.
type CouponRefusedError struct {
	Code    string
	Message string
}

func (e *CouponRefusedError) Error() string { return e.Code + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrCouponRefused) hold.
func (e *CouponRefusedError) Unwrap() error { return ErrCouponRefused }

// NotPayableError carries OMS's reason.
type NotPayableError struct{ Reason string }

func (e *NotPayableError) Error() string { return "order not payable: " + e.Reason }

// Unwrap makes errors.Is(err, ErrNotPayable) hold.
func (e *NotPayableError) Unwrap() error { return ErrNotPayable }

// Bounds of a request's inputs. A deduction's items are taken under one
// account lock, two statements each, so their number is what a caller
// could otherwise make PAY hold that lock for (a 30,000-item request
// would be ~60 k statements); a real order's non-cash part has a handful.
const (
	MaxItems  = 50  // items per deduction, coupons per credit
	MaxKeyLen = 128 // an idempotency key (the columns' width)
	MaxIDLen  = 64  // a customer, order or trade id
	keyField  = "idempotency_key"
)

// LimitError says which input is over its bound; it is a validation error.
type LimitError struct {
	Field    string
	Max, Got int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %d entries, at most %d", e.Field, e.Got, e.Max)
}

// Unwrap makes errors.Is(err, ErrValidation) hold.
func (e *LimitError) Unwrap() error { return ErrValidation }

// CheckList bounds a list input.
func CheckList(field string, n, max int) error {
	if n > max {
		return &LimitError{Field: field, Max: max, Got: n}
	}
	return nil
}

// CheckKey validates an idempotency key and the caller it belongs to.
func CheckKey(key, customerID string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: %s is required", ErrValidation, keyField)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %s longer than %d bytes", ErrValidation, keyField, MaxKeyLen)
	case len(customerID) > MaxIDLen:
		return fmt.Errorf("%w: customer_id longer than %d bytes", ErrValidation, MaxIDLen)
	}
	return nil
}

// Item is one item of a deduction: an amount from one account kind, or a
// coupon (whose amount, when zero, is the coupon's value once held).
type Item struct {
	kind     Kind
	amount   money.Fen
	couponID string
}

// NewItem returns an item; NewDeduction validates a deduction's items.
func NewItem(kind Kind, amount money.Fen, couponID string) Item {
	return Item{kind: kind, amount: amount, couponID: couponID}
}

// Kind is the account kind the item takes from.
func (it Item) Kind() Kind { return it.kind }

// AmountFen is what the item takes.
func (it Item) AmountFen() money.Fen { return it.amount }

// CouponID is the coupon a KindCoupon item holds.
func (it Item) CouponID() string { return it.couponID }

// ValidateItems checks a deduction request's items: at least one, known
// kinds, positive amounts (a coupon's may be zero: its value is used), each
// coupon once.
func ValidateItems(customerID string, items []Item) error {
	if customerID == "" {
		return fmt.Errorf("%w: customer_id is required", ErrValidation)
	}
	if len(items) == 0 {
		return fmt.Errorf("%w: at least one item is required", ErrValidation)
	}
	if err := CheckList("items", len(items), MaxItems); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, it := range items {
		if it.kind == KindCoupon {
			if it.couponID == "" {
				return fmt.Errorf("%w: items[%d].coupon_id is required", ErrValidation, i)
			}
			if seen[it.couponID] {
				return fmt.Errorf("%w: coupon %s appears twice", ErrValidation, it.couponID)
			}
			seen[it.couponID] = true
			if it.amount < 0 {
				return fmt.Errorf("%w: items[%d].amount_fen is negative", ErrValidation, i)
			}
			continue
		}
		if it.kind.Column() == "" {
			return fmt.Errorf("%w: items[%d].kind %q unknown", ErrValidation, i, it.kind)
		}
		if it.amount <= 0 {
			return fmt.Errorf("%w: items[%d].amount_fen must be positive", ErrValidation, i)
		}
	}
	return nil
}

// CanRefund reports whether amount may be refunded from a trade that took
// paid and has already given back refunded. The store enforces the same
// rule atomically; this is the rule's statement.
func CanRefund(paid, refunded, amount money.Fen) error {
	if amount <= 0 {
		return fmt.Errorf("%w: refund amount must be positive", ErrValidation)
	}
	if refunded+amount > paid {
		return fmt.Errorf("%w: paid %d, refunded %d, asked %d", ErrRefundTooLarge, int64(paid), int64(refunded), int64(amount))
	}
	return nil
}

// RequestHash fingerprints a request so a reused idempotency key with
// other input can be told apart from a retry.
func RequestHash(v any) string {
	b, _ := json.Marshal(v)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
