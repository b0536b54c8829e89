package domain

import (
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Finance push kinds (what FMS receives).
const (
	PushNonCashReceived = "NONCASH_RECEIVED"
	PushNonCashReversed = "NONCASH_REVERSED"
	PushCashReceived    = "CASH_RECEIVED"
	PushCashRefunded    = "CASH_REFUNDED"
	PushRefundAudit     = "REFUND_AUDIT"
	// PushCouponRelease is not for finance: it asks the coupon wallet to
	// settle a reversed deduction's hold (RefID, the deduction id), sent by
	// the same worker with the same retries.
	PushCouponRelease = "COUPON_RELEASE"
)

// Push is one message to finance, as the store keeps it until sent.
type Push struct {
	ID       string
	Kind     string
	RefID    string
	Payload  []byte
	Attempts int
}

// Path is FMS's method that receives the push.
func (p Push) Path() string {
	if p.Kind == PushRefundAudit {
		return "fms/v1/refund-audits"
	}
	return "fms/v1/receipts"
}

// PushBody is what finance receives for every push kind (its wire format).
type PushBody struct {
	PushID     string    `json:"push_id"`
	Kind       string    `json:"kind"`
	RefID      string    `json:"ref_id"`
	OrderID    string    `json:"order_id,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	Channel    string    `json:"channel,omitempty"`
	TradeID    string    `json:"trade_id,omitempty"`
	AmountFen  money.Fen `json:"amount_fen"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// Pushes finance receives for a deduction, a trade and a refund.

// DeductedPush is the receipt of a held deduction.
func (d Deduction) DeductedPush() PushBody {
	return PushBody{Kind: PushNonCashReceived, RefID: d.id, CustomerID: d.customerID, AmountFen: d.total}
}

// ReversedPush is the receipt of a reversed deduction.
func (d Deduction) ReversedPush() PushBody {
	return PushBody{Kind: PushNonCashReversed, RefID: d.id, OrderID: d.orderID, CustomerID: d.customerID, AmountFen: d.total}
}

// ReceivedPush is the receipt of a trade's money.
func (t Trade) ReceivedPush(paid money.Fen) PushBody {
	return PushBody{Kind: PushCashReceived, RefID: t.id, TradeID: t.id, OrderID: t.orderID, CustomerID: t.customerID,
		Channel: t.channel, AmountFen: paid}
}

// AuditPush asks finance to audit a refund.
func (r Refund) AuditPush() PushBody {
	return PushBody{Kind: PushRefundAudit, RefID: r.id, TradeID: r.tradeID, OrderID: r.orderID, AmountFen: r.amount, Reason: r.reason}
}

// RefundedPush is the receipt of a refund the channel confirmed.
func (r Refund) RefundedPush(channel string) PushBody {
	return PushBody{Kind: PushCashRefunded, RefID: r.id, TradeID: r.tradeID, OrderID: r.orderID, Channel: channel,
		AmountFen: r.amount, Reason: r.reason}
}
