package domain

import (
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Refund is money going back through a trade's channel.
type Refund struct {
	id          string
	tradeID     string
	orderID     string
	customerID  string // the trade's customer, whose key causeKey is (not read back)
	causeKey    string
	requestHash string
	amount      money.Fen
	reason      string
	status      RefundStatus
	createdAt   time.Time
	updatedAt   time.Time
}

// NewRequestedRefund is a refund someone asked for (customer service,
// aftersales): positive, within what the trade took, for a reason other
// than the automatic ones, and waiting for finance's audit. The key is
// scoped by the trade's customer, as every idempotency key in PAY is.
func NewRequestedRefund(id string, t Trade, key, requestHash string, amount money.Fen, reason string) (Refund, error) {
	// Over what was paid is left to the store's atomic check, which
	// answers after a replay of the key is found (a retry sees its first
	// answer).
	if err := CanRefund(t.paid, 0, amount); errors.Is(err, ErrValidation) {
		return Refund{}, err
	}
	if !NeedsAudit(reason) {
		// Refunds caused by a cancel or a rejected payment come only from
		// OMS's events; a request naming those reasons would skip the audit.
		return Refund{}, fmt.Errorf("%w: reason %s is reserved for automatic refunds", ErrValidation, reason)
	}
	return Refund{id: id, tradeID: t.id, orderID: t.orderID, customerID: t.customerID, causeKey: "key:" + key,
		requestHash: requestHash, amount: amount, reason: reason, status: RefundPendingAudit}, nil
}

// RefundSnapshot is a refund's state as the store persists it.
type RefundSnapshot struct {
	ID, TradeID, OrderID, CustomerID, CauseKey, RequestHash string
	Amount                                                  money.Fen
	Reason                                                  string
	Status                                                  RefundStatus
	CreatedAt, UpdatedAt                                    time.Time
}

// RestoreRefund rebuilds a refund the store read.
func RestoreRefund(s RefundSnapshot) Refund {
	return Refund{id: s.ID, tradeID: s.TradeID, orderID: s.OrderID, customerID: s.CustomerID, causeKey: s.CauseKey,
		requestHash: s.RequestHash, amount: s.Amount, reason: s.Reason, status: s.Status, createdAt: s.CreatedAt, updatedAt: s.UpdatedAt}
}

// ID is the refund's id (the channel's out_refund_no).
func (r Refund) ID() string { return r.id }

// TradeID is the trade it gives back from.
func (r Refund) TradeID() string { return r.tradeID }

// OrderID is the trade's order.
func (r Refund) OrderID() string { return r.orderID }

// CustomerID is the trade's customer.
func (r Refund) CustomerID() string { return r.customerID }

// CauseKey is what makes it once: the caller's key, or auto:<trade>.
func (r Refund) CauseKey() string { return r.causeKey }

// RequestHash fingerprints the request it was made from.
func (r Refund) RequestHash() string { return r.requestHash }

// AmountFen is what goes back.
func (r Refund) AmountFen() money.Fen { return r.amount }

// Reason says why.
func (r Refund) Reason() string { return r.reason }

// Status is where it stands.
func (r Refund) Status() RefundStatus { return r.status }

// CreatedAt is when it was recorded.
func (r Refund) CreatedAt() time.Time { return r.createdAt }

// UpdatedAt is its last change.
func (r Refund) UpdatedAt() time.Time { return r.updatedAt }

// SameRequest answers a repeated cause key: this refund when the request
// is the same, else ErrKeyReused.
func (r Refund) SameRequest(requestHash string) (Refund, error) {
	if r.requestHash != requestHash {
		return Refund{}, ErrKeyReused
	}
	return r, nil
}

// Recorded stamps the refund as written at now.
func (r *Refund) Recorded(now time.Time) { r.createdAt, r.updatedAt = now, now }

// Confirmable reports whether a channel query may settle the refund.
func (r Refund) Confirmable() bool {
	return r.status == RefundProcessing || r.status == RefundSubmitting
}
