// Package events is PAY's side of pub/sub: the topics and payloads it
// publishes (its contract, events.go) and its subscribers to OMS's events
// (subscribers.go).
package events

import (
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Topics PAY publishes.
const (
	// TopicTradeSucceeded: cash for an order arrived and was verified with
	// the channel. OMS consumes it to mark the order paid (or reject it).
	TopicTradeSucceeded  = "pay.trade.succeeded"
	TopicRefundSucceeded = "pay.refund.succeeded"
)

// TradeSucceeded is a verified cash payment.
type TradeSucceeded struct {
	TradeID    string    `json:"trade_id"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Channel    string    `json:"channel"`
	AmountFen  money.Fen `json:"amount_fen"`
	PaidAt     time.Time `json:"paid_at"`
}

// RefundSucceeded is money returned to a customer, cash or non-cash.
type RefundSucceeded struct {
	RefundID  string    `json:"refund_id"`
	OrderID   string    `json:"order_id"`
	TradeID   string    `json:"trade_id,omitempty"`
	AmountFen money.Fen `json:"amount_fen"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}
