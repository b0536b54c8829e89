package payclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// CreditRequest adds to a customer's non-cash accounts (dev/ops endpoint);
// idempotent by key.
type CreditRequest struct {
	IdempotencyKey string    `json:"idempotency_key"`
	BalanceFen     money.Fen `json:"balance_fen,omitempty"`
	GiftCardFen    money.Fen `json:"gift_card_fen,omitempty"`
	Points         int64     `json:"points,omitempty"`
	GoodsCardFen   money.Fen `json:"goods_card_fen,omitempty"`
}

// Credit adds to a customer's accounts and returns them afterwards.
func (c *Client) Credit(ctx context.Context, customerID string, r CreditRequest) (Accounts, error) {
	var a Accounts
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/accounts/"+url.PathEscape(customerID)+"/credit", r, &a)
	return a, err
}

// Trade statuses.
const (
	TradePending   = "PENDING"
	TradeSucceeded = "SUCCEEDED"
	TradeClosed    = "CLOSED"
)

// Trade is a cash payment (交易流水) as PAY shows it.
type Trade struct {
	ID          string     `json:"id"`
	OrderID     string     `json:"order_id"`
	CustomerID  string     `json:"customer_id"`
	Channel     string     `json:"channel"`
	AmountFen   money.Fen  `json:"amount_fen"`
	PaidFen     money.Fen  `json:"paid_fen"`
	RefundedFen money.Fen  `json:"refunded_fen"`
	Status      string     `json:"status"`
	ExpiresAt   time.Time  `json:"expires_at"`
	CashierURL  string     `json:"cashier_url,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
}

// GetTrade returns one trade.
func (c *Client) GetTrade(ctx context.Context, id string) (Trade, error) {
	var t Trade
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/trades/"+url.PathEscape(id), nil, &t)
	return t, err
}

// TradesPaying lists an order's trades and the trade OMS says paid it
// (omsclient.Order.TradeID: a pull-back's order is paid by the trade of
// the order it replaced), which PAY adds when it is not the order's own.
func (c *Client) TradesPaying(ctx context.Context, orderID, tradeID string) ([]Trade, error) {
	if tradeID == "" {
		return c.TradesOfOrder(ctx, orderID)
	}
	var ts []Trade
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/trades?order="+url.QueryEscape(orderID)+"&paid_by="+url.QueryEscape(tradeID), nil, &ts)
	return ts, err
}

// TradesOfOrder lists an order's trades.
func (c *Client) TradesOfOrder(ctx context.Context, orderID string) ([]Trade, error) {
	var ts []Trade
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/trades?order="+url.QueryEscape(orderID), nil, &ts)
	return ts, err
}

// Refund statuses.
const (
	RefundPendingAudit = "PENDING_AUDIT" // waits for finance
	RefundSubmitting   = "SUBMITTING"
	RefundProcessing   = "PROCESSING"
	RefundSucceeded    = "SUCCEEDED"
	RefundRejected     = "REJECTED"
	RefundFailed       = "FAILED"
)

// RefundRequest asks for cash back on a trade (customer service,
// aftersales); finance approves it before it goes to the channel.
type RefundRequest struct {
	IdempotencyKey string    `json:"idempotency_key"`
	TradeID        string    `json:"trade_id"`
	AmountFen      money.Fen `json:"amount_fen"`
	Reason         string    `json:"reason"`
}

// Refund is a cash refund.
type Refund struct {
	ID        string    `json:"id"`
	TradeID   string    `json:"trade_id"`
	OrderID   string    `json:"order_id"`
	AmountFen money.Fen `json:"amount_fen"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RequestRefund records a refund; CodeRefundTooLarge when it would exceed
// what was paid, counting earlier refunds.
func (c *Client) RequestRefund(ctx context.Context, r RefundRequest) (Refund, error) {
	var out Refund
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/refunds", r, &out)
	return out, err
}

// RetryRefundRequest is customer service's retry of a failed automatic
// refund, once per key.
type RetryRefundRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
}

// RetryRefund sends whatever the failed refund's trade still holds back
// through the channel again (CodeNothingToRetry when there is nothing).
func (c *Client) RetryRefund(ctx context.Context, failedID string, r RetryRefundRequest) (Refund, error) {
	var out Refund
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/refunds/"+url.PathEscape(failedID)+"/retry", r, &out)
	return out, err
}

// RefundsOfTrade lists a trade's refunds, oldest first.
func (c *Client) RefundsOfTrade(ctx context.Context, tradeID string) ([]Refund, error) {
	var out []Refund
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/refunds?trade="+url.QueryEscape(tradeID), nil, &out)
	return out, err
}

// GetRefund returns one refund.
func (c *Client) GetRefund(ctx context.Context, id string) (Refund, error) {
	var out Refund
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/refunds/"+url.PathEscape(id), nil, &out)
	return out, err
}

// NonCashRefundRequest gives part of an order's non-cash deductions back
// to the accounts they came from (a return's non-cash share), idempotent
// by key; never more than the deductions took, counting earlier refunds.
type NonCashRefundRequest struct {
	IdempotencyKey string    `json:"idempotency_key"`
	OrderID        string    `json:"order_id"`
	AmountFen      money.Fen `json:"amount_fen"`
	Reason         string    `json:"reason"`
	// DeductionIDs are the deductions OMS says the order uses (its
	// allocation's), beside those PAY bound to it: a pull-back's order
	// uses its original's.
	DeductionIDs []string `json:"deduction_ids,omitempty"`
}

// NonCashRefund is what went back, per account.
type NonCashRefund struct {
	ID           string    `json:"id"`
	OrderID      string    `json:"order_id"`
	CustomerID   string    `json:"customer_id"`
	AmountFen    money.Fen `json:"amount_fen"`
	BalanceFen   money.Fen `json:"balance_fen"`
	GiftCardFen  money.Fen `json:"gift_card_fen"`
	GoodsCardFen money.Fen `json:"goods_card_fen"`
	Points       int64     `json:"points"`
	// CouponFen is the coupons' share, credited to the balance at its
	// value (BalanceFen includes it): a coupon spent on the order cannot
	// be given back for part of it.
	CouponFen money.Fen `json:"coupon_fen"`
	CreatedAt time.Time `json:"created_at"`
}

// RefundNonCash gives a return's non-cash share back to its accounts.
func (c *Client) RefundNonCash(ctx context.Context, r NonCashRefundRequest) (NonCashRefund, error) {
	var out NonCashRefund
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/noncash-refunds", r, &out)
	return out, err
}
