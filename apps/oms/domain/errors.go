package domain

import "errors"

// Sentinel errors of the order model; the API maps them to Problem codes.
var (
	ErrUnknownSource  = errors.New("unknown order source")
	ErrUnknownStatus  = errors.New("unknown order status")
	ErrInvalidOrder   = errors.New("order is invalid")
	ErrNotFound       = errors.New("order not found")
	ErrNotOwner       = errors.New("order belongs to another customer")
	ErrNotPayable     = errors.New("order cannot be paid")
	ErrAlreadyPaid    = errors.New("order already paid by this trade")
	ErrAmountMismatch = errors.New("paid amount differs from the cash due")
	ErrNotCancellable = errors.New("order cannot be cancelled")
	// ErrAlreadyCancelled: the order is cancelled already (a repeated
	// cancel changes nothing).
	ErrAlreadyCancelled = errors.New("order already cancelled")
	ErrNotExpired       = errors.New("payment deadline has not passed")
	ErrBadTransition    = errors.New("order cannot move to that status")
	ErrConcurrentChange = errors.New("order changed concurrently")
	// ErrUnverifiedTrade: PAY does not confirm the trade of a
	// pay.trade.succeeded (unknown, not succeeded, or for another order,
	// customer or amount); the event changes nothing and is dropped.
	ErrUnverifiedTrade = errors.New("trade not confirmed by PAY")
)
