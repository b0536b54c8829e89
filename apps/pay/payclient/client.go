// Package payclient is the typed client other apps (the gateway, OMS) use
// to call PAY through Dapr service invocation, with its request and
// response types.
package payclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// AppID is PAY's Dapr app id.
const AppID = "pay"

// Non-cash account kinds (DOMAIN 2.1).
const (
	KindBalance   = "BALANCE"    // 余额
	KindGiftCard  = "GIFT_CARD"  // 春播卡
	KindPoints    = "POINTS"     // 积分, 1 point = 1 fen
	KindCoupon    = "COUPON"     // 春播券
	KindGoodsCard = "GOODS_CARD" // 商品卡
)

// Cash channels.
const (
	ChannelWechat = "WECHAT"
	ChannelAlipay = "ALIPAY"
)

// Error codes PAY answers with.
const (
	CodeInsufficient     = "INSUFFICIENT_FUNDS" // Details["kind"]
	CodeIdempotencyReuse = "IDEMPOTENCY_KEY_REUSED"
	CodeNotPayable       = "ORDER_NOT_PAYABLE" // Details["reason"] from OMS
	CodeUnknownChannel   = "UNKNOWN_CHANNEL"
	CodeRefundTooLarge   = "REFUND_EXCEEDS_PAID"
	CodeNotFound         = "NOT_FOUND"
	// CodeNothingToRetry: the refund named is not a failed automatic
	// refund, or its trade holds nothing more to give back.
	CodeNothingToRetry = "NOTHING_TO_RETRY"
	// CodeHoldVoid: the deduction's coupon hold was given back before it
	// committed (a stalled request); nothing was taken, retry with a new key.
	CodeHoldVoid   = "COUPON_HOLD_VOID"
	CodeValidation = "VALIDATION_FAILED"
	// CodeTooMany: a list input is over its bound (Details["field"],
	// Details["max"]); nothing was done.
	CodeTooMany = "TOO_MANY_ITEMS"
)

// Accounts are a customer's money-like non-cash balances. Coupons are in
// the coupon wallet (marketingclient), which PAY's COUPON deduction holds.
type Accounts struct {
	CustomerID   string    `json:"customer_id"`
	BalanceFen   money.Fen `json:"balance_fen"`
	GiftCardFen  money.Fen `json:"gift_card_fen"`
	Points       int64     `json:"points"`
	GoodsCardFen money.Fen `json:"goods_card_fen"`
}

// DeductItem takes an amount from one account kind (CouponID for coupons).
type DeductItem struct {
	Kind      string    `json:"kind"`
	AmountFen money.Fen `json:"amount_fen"`
	CouponID  string    `json:"coupon_id,omitempty"`
}

// DeductRequest takes the non-cash part before the order is created.
type DeductRequest struct {
	IdempotencyKey string       `json:"idempotency_key"`
	CustomerID     string       `json:"customer_id"`
	Items          []DeductItem `json:"items"`
}

// Deduction statuses.
const (
	DeductionHeld     = "HELD"     // taken, no order yet
	DeductionUsed     = "USED"     // bound to an order
	DeductionReversed = "REVERSED" // given back
)

// Deduction is one non-cash deduction record (扣减流水).
type Deduction struct {
	ID         string       `json:"id"`
	CustomerID string       `json:"customer_id"`
	Items      []DeductItem `json:"items"`
	TotalFen   money.Fen    `json:"total_fen"`
	Status     string       `json:"status"`
	OrderID    string       `json:"order_id,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
}

// StartPaymentRequest opens a cash payment at a channel.
type StartPaymentRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	OrderID        string `json:"order_id"`
	CustomerID     string `json:"customer_id"`
	Channel        string `json:"channel"`
}

// CashierRedirect is what the front-end needs to send the customer on.
type CashierRedirect struct {
	TradeID    string    `json:"trade_id"`
	Channel    string    `json:"channel"`
	CashierURL string    `json:"cashier_url"`
	AmountFen  money.Fen `json:"amount_fen"`
	ExpiresAt  time.Time `json:"expires_at"` // the channel's time_expire = the order's pay-by
}

// Client calls PAY.
type Client struct{ inv *daprx.Invoker }

// New returns a client that goes through the caller's sidecar.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv} }

// Accounts returns a customer's non-cash balances.
func (c *Client) Accounts(ctx context.Context, customerID string) (Accounts, error) {
	var a Accounts
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/accounts/"+url.PathEscape(customerID), nil, &a)
	return a, err
}

// Deduct takes non-cash amounts, all items or none; idempotent by key.
func (c *Client) Deduct(ctx context.Context, r DeductRequest) (Deduction, error) {
	var d Deduction
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/deductions", r, &d)
	return d, err
}

// GetDeduction returns one deduction (OMS checks it at placement).
func (c *Client) GetDeduction(ctx context.Context, id string) (Deduction, error) {
	var d Deduction
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/deductions/"+url.PathEscape(id), nil, &d)
	return d, err
}

// StartCashPayment asks OMS whether the order may be paid, then opens a
// trade at the channel with the order's pay-by as time_expire.
func (c *Client) StartCashPayment(ctx context.Context, r StartPaymentRequest) (CashierRedirect, error) {
	var out CashierRedirect
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/payments", r, &out)
	return out, err
}

// Coupon hold states (HoldState.State).
const (
	HoldHeld     = "HELD"
	HoldUsed     = "USED"
	HoldReversed = "REVERSED"
	HoldVoid     = "VOID"
)

// HoldState is PAY's word on a coupon hold, which is a deduction's id:
// HELD or USED while the deduction holds its coupons, REVERSED once it gave
// them back, VOID when no deduction took the hold (asking makes that
// final: a deduction still committing under it fails).
type HoldState struct {
	HoldID string `json:"hold_id"`
	State  string `json:"state"`
}

// CouponHoldState asks PAY where a coupon hold stands (the wallet's
// check-back).
func (c *Client) CouponHoldState(ctx context.Context, holdID string) (HoldState, error) {
	var out HoldState
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/coupon-holds/"+url.PathEscape(holdID), nil, &out)
}
