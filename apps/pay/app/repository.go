package app

import (
	"context"
	"errors"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// ErrDuplicateKey: a row with the same idempotency key exists (a
// concurrent call committed first).
var ErrDuplicateKey = errors.New("idempotency key already used")

// InboxClaim names a consumed message whose effect must happen once.
type InboxClaim struct {
	Consumer string
	MsgID    string
}

// Inbox names of PAY's consumers.
const (
	consumerOrderPlaced     = "pay.order-placed"
	consumerOrderCancelled  = "pay.order-cancelled"
	consumerPaymentRejected = "pay.payment-rejected"
)

// Repository is what PAY's use cases need persisted; apps/pay/store
// implements it over MySQL. Every money movement in it is a conditional
// update checked by rows affected, in one local transaction with the
// outbox rows and finance pushes it causes. A method with an InboxClaim
// first claims the message and returns fresh=false, changing nothing, when
// it was handled before.
type Repository interface {
	Accounts
	Deductions
	Trades
	Refunds
	Pushes
}

// Accounts stores balances.
type Accounts interface {
	// Accounts returns a customer's balances; a customer without a row
	// has zeros.
	Accounts(ctx context.Context, customerID string) (domain.Account, error)
	// Credit adds a, once per (customer, key): a key used with another
	// hash is domain.ErrKeyReused.
	Credit(ctx context.Context, key, hash string, a domain.Account, now time.Time) error
	CountAccounts(ctx context.Context) (int, error)
}

// Deductions stores non-cash deductions.
type Deductions interface {
	// DeductionByKey finds the customer's deduction made under key.
	DeductionByKey(ctx context.Context, customerID, key string) (domain.Deduction, bool, error)
	// Deduct holds d (domain.Deduction.Hold prices its coupons, which the
	// wallet holds under d's id) and takes every item or none, recording
	// the hold as DEDUCTED (domain.ErrHoldVoid when it was declared void).
	// A key already used answers the first deduction (same hash) or
	// domain.ErrKeyReused.
	Deduct(ctx context.Context, d domain.Deduction, coupons map[string]domain.Coupon, now time.Time) (domain.Deduction, error)
	// HoldState answers the wallet about a hold: a hold no deduction took
	// is recorded VOID first, so none can take it after the answer.
	HoldState(ctx context.Context, holdID string, now time.Time) (HoldAnswer, error)
	Deduction(ctx context.Context, id string) (domain.Deduction, error)
	// HeldBefore lists held deductions created before t, oldest first.
	HeldBefore(ctx context.Context, t time.Time, limit int) ([]string, error)
	// MarkUsedWithoutOrder records that OMS has an order for a held
	// deduction; oms.order.placed fills the order id.
	MarkUsedWithoutOrder(ctx context.Context, id string, now time.Time) error
	// Reverse gives a held deduction back in full (false: not held).
	Reverse(ctx context.Context, id string, now time.Time) (bool, error)
	// HoldsFor reports whether PAY holds anything for an order: a
	// deduction bound to it or a trade of it, in any state.
	HoldsFor(ctx context.Context, orderID string) (bool, error)
	// BindDeductions binds held deductions to an order (their coupons to
	// used) and lists those already used or reversed otherwise.
	BindDeductions(ctx context.Context, claim InboxClaim, orderID string, ids []string, now time.Time) (conflicts []string, err error)
	// SettleCancelled remembers the order as cancelled, reverses the named
	// deductions and those bound to it (an unknown one is reported through
	// unknown), writing the events reversed returns for each, and refunds
	// in full every succeeded trade of the order and the one OMS says
	// paid it (a pull-back's order is paid by its original's trade),
	// that trade only when it is the same customer's.
	SettleCancelled(ctx context.Context, claim InboxClaim, o CancelledOrder, now time.Time,
		reversed func(domain.Deduction) outbox.Event, unknown func(id string)) (fresh bool, err error)
}

// CancelledOrder is a cancelled order as OMS confirmed it.
type CancelledOrder struct {
	ID, CustomerID string
	// DeductionIDs are the non-cash deductions OMS names for it.
	DeductionIDs []string
	// TradeID is the trade OMS says paid it: usually one of its own; for a
	// pull-back's order, the trade of the order it replaced.
	TradeID string
}

// HoldAnswer is where a coupon hold stands: VOID, or the status of the
// deduction that took it.
type HoldAnswer struct {
	Void      bool
	Deduction domain.DeductionStatus
}

// Trades stores cash trades and their channel records.
type Trades interface {
	Trade(ctx context.Context, id string) (domain.Trade, error)
	TradeByKey(ctx context.Context, customerID, key string) (domain.Trade, error)
	TradesOfOrder(ctx context.Context, orderID string) ([]domain.Trade, error)
	// CreateTrade writes the trade and its channel record; ErrDuplicateKey
	// when the customer's key is taken.
	CreateTrade(ctx context.Context, t domain.Trade, firstPoll time.Time) error
	SetCashier(ctx context.Context, t domain.Trade, now time.Time) error
	// MarkSucceeded moves a trade PENDING or CLOSED → SUCCEEDED once
	// (false: nothing to do), with ev, the finance push and, for an order
	// already cancelled, the full refund, in one transaction.
	MarkSucceeded(ctx context.Context, t domain.Trade, paid money.Fen, channelTradeNo string, paidAt, now time.Time, ev outbox.Event) (bool, error)
	MarkClosed(ctx context.Context, id string, now time.Time) error
	DuePolls(ctx context.Context, now time.Time, limit int) ([]domain.Trade, error)
	PollLater(ctx context.Context, id string, next time.Time) error
	// RefundRejected refunds a trade in full for a payment OMS rejected;
	// domain.ErrNotFound for an unknown trade.
	RefundRejected(ctx context.Context, claim InboxClaim, tradeID, refundID string, now time.Time) (fresh bool, err error)
}

// Refunds stores cash refunds.
type Refunds interface {
	// RefundNonCash records r once by its key with the order's used
	// deductions locked; spread decides the accounts' parts from the
	// deductions' items and what they may still give back.
	RefundNonCash(ctx context.Context, r domain.NonCashRefund,
		spread func(customerID string, items []domain.Item, left money.Fen) (domain.Account, money.Fen, error)) (domain.NonCashRefund, error)
	Refund(ctx context.Context, id string) (domain.Refund, error)
	RefundsOfTrade(ctx context.Context, tradeID string) ([]domain.Refund, error)
	// CreateRefund records r and takes its amount from what the trade may
	// still give back, atomically (domain.ErrRefundTooLarge); a cause key
	// used before answers that refund (same hash) or domain.ErrKeyReused.
	// created is false for such a repeat.
	CreateRefund(ctx context.Context, r domain.Refund, now time.Time) (out domain.Refund, created bool, err error)
	RefundsDue(ctx context.Context, now time.Time, limit int) ([]domain.Refund, error)
	// ClaimRefund takes a refund listed due in status for one pass, until
	// leaseUntil: false when another worker (goroutine or replica) took it
	// or moved it since the listing, so no two submit it at once.
	ClaimRefund(ctx context.Context, id string, status domain.RefundStatus, now, leaseUntil time.Time) (bool, error)
	// MoveRefund changes a refund's status from one to another (false when
	// it was no longer in from) and sets its next check.
	MoveRefund(ctx context.Context, id string, from, to domain.RefundStatus, next, now time.Time) (bool, error)
	RefundLater(ctx context.Context, id string, next time.Time) error
	// RefundDone marks a refund SUCCEEDED once, with ev and its push.
	RefundDone(ctx context.Context, r domain.Refund, channel string, now time.Time, ev outbox.Event) (bool, error)
	// RefundGiveBack ends a refund in one of from without money moving and
	// returns its amount to what the trade may still refund.
	RefundGiveBack(ctx context.Context, r domain.Refund, from []domain.RefundStatus, to domain.RefundStatus, now time.Time) (bool, error)
	// RefundFailed ends r FAILED with its amount given back and, in the
	// same transaction, records its next automatic attempt when it has
	// one left (retry, due after its backoff); ended is false when r had
	// moved on.
	RefundFailed(ctx context.Context, r domain.Refund, now time.Time) (ended bool, retry *domain.Refund, err error)
	// RetryRefund records customer service's retry of the failed
	// automatic refund failedID under key, once (created=false: the key's
	// first retry).
	RetryRefund(ctx context.Context, failedID, key string, now time.Time) (domain.Refund, bool, error)
}

// Pushes stores the finance pushes waiting to be sent.
type Pushes interface {
	DuePushes(ctx context.Context, now time.Time, limit int) ([]domain.Push, error)
	PushSent(ctx context.Context, id string, now time.Time) error
	PushFailed(ctx context.Context, id string, next time.Time, cause string) error
}
