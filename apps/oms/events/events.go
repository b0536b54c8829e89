// Package events is OMS's published contract: the topics it writes through
// its outbox and their payloads. Payload types carry a version in their
// CloudEvent type (e.g. oms.order.paid.v1); new fields are added, never
// renamed.
package events

import (
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Topics OMS publishes.
const (
	TopicOrderPlaced     = "oms.order.placed"
	TopicOrderPaid       = "oms.order.paid"
	TopicOrderCancelled  = "oms.order.cancelled"
	TopicPaymentRejected = "oms.payment.rejected"
	// TopicDeductionsUsed carries the OrderPlaced of an order that uses
	// non-cash deductions, on a topic of its own, so PAY (which binds
	// the deductions to the order) receives only those instead of
	// filtering every order placed.
	TopicDeductionsUsed = "oms.order.deductions-used"
	// TopicOrderShipped and TopicOrderCompleted follow the delivery leg:
	// the last parcel collected, every parcel delivered.
	TopicOrderShipped   = "oms.order.shipped"
	TopicOrderCompleted = "oms.order.completed"
	// TopicOrderRefused: the customer refused parcels at the door; the
	// reverse flow handles the rejection (DOMAIN 4.3, 5).
	TopicOrderRefused = "oms.order.refused"
)

// OrderDelivery is an order's delivery leg as TopicOrderShipped,
// TopicOrderCompleted and TopicOrderRefused carry it.
type OrderDelivery struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Status     string    `json:"status"`
	ParcelIDs  []string  `json:"parcel_ids"` // refused: the refused parcels
	At         time.Time `json:"at"`
	// RefusedLines (refused) are the units refused, per SKU, of every
	// refused parcel: the courier's report, or the whole parcel.
	RefusedLines []Line `json:"refused_lines,omitempty"`
}

// Line is an order line as events carry it.
type Line struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// OrderPlaced follows the commit of a new order: inventory confirms the
// reservation. When the order uses non-cash deductions it is published on
// TopicDeductionsUsed too, where PAY binds them to the order.
type OrderPlaced struct {
	OrderID      string    `json:"order_id"`
	CustomerID   string    `json:"customer_id"`
	Source       string    `json:"source"`
	Status       string    `json:"status"`
	TotalFen     money.Fen `json:"total_fen"`
	CashDueFen   money.Fen `json:"cash_due_fen"`
	DeductionIDs []string  `json:"deduction_ids,omitempty"`
	Lines        []Line    `json:"lines"`
	PayBy        time.Time `json:"pay_by,omitzero"`
	PlacedAt     time.Time `json:"placed_at"`
}

// OrderPaid starts fulfillment. Orders that need no cash publish it at
// creation, right after OrderPlaced.
type OrderPaid struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	PaidFen    money.Fen `json:"paid_fen"`
	TradeID    string    `json:"trade_id,omitempty"`
	PaidAt     time.Time `json:"paid_at"`
}

// Cancel reasons.
const (
	ReasonCustomer = "CUSTOMER"
	ReasonExpired  = "PAYMENT_EXPIRED"
	ReasonFraud    = "FRAUD"
	ReasonService  = "CUSTOMER_SERVICE"
)

// OrderCancelled releases what the order held: inventory releases stock,
// PAY reverses non-cash deductions and refunds any cash, marketing returns
// coupons.
type OrderCancelled struct {
	OrderID      string    `json:"order_id"`
	CustomerID   string    `json:"customer_id"`
	Reason       string    `json:"reason"`
	DeductionIDs []string  `json:"deduction_ids,omitempty"`
	CouponIDs    []string  `json:"coupon_ids,omitempty"`
	PaidFen      money.Fen `json:"paid_fen"`
	// TradeID is the trade that paid it (a pull-back's order: its
	// original's, which PAY holds under the original's id).
	TradeID string `json:"trade_id,omitempty"`
	// StockOrderID is the order inventory holds the stock under when that
	// is another order (a pull-back's order: the first of its chain);
	// empty: OrderID.
	StockOrderID string    `json:"stock_order_id,omitempty"`
	Lines        []Line    `json:"lines"`
	CancelledAt  time.Time `json:"cancelled_at"`
}

// PaymentRejected says cash arrived for an order that can no longer take it
// (cancelled, DOMAIN 1.4 case 4): PAY refunds the trade in full.
type PaymentRejected struct {
	OrderID   string    `json:"order_id"`
	TradeID   string    `json:"trade_id"`
	AmountFen money.Fen `json:"amount_fen"`
	Status    string    `json:"status"`
}
