package aftersalesclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Customer service's actions not tied to a document (DOMAIN 4), the
// reviews, and an order's story as after-sales tells it.

// Action kinds.
const (
	ActionUnbindCoupon     = "UNBIND_COUPON"
	ActionSetSMSRecipients = "SET_SMS_RECIPIENTS"
	ActionChangeAddress    = "CHANGE_ADDRESS"
	ActionReissueInvoice   = "REISSUE_INVOICE"
	ActionMarkMalicious    = "MARK_MALICIOUS"
	ActionRetryRefund      = "RETRY_REFUND"
)

// Codes of actions and reviews. An owner's refusal passes its own code
// on (marketing's COUPON_NOT_AVAILABLE for a used coupon, OMS's
// ORDER_DISPATCHED, ADDRESS_LOCKED, CONTACT_LOCKED, VALIDATION_FAILED …)
// with Details["owner_code"] = true.
const (
	CodeNoInvoiceTitle  = "NO_INVOICE_TITLE"
	CodeNotInvoiceable  = "ORDER_NOT_INVOICEABLE"
	CodeNotReviewable   = "ORDER_NOT_REVIEWABLE"
	CodeAlreadyReviewed = "ALREADY_REVIEWED"
	CodeMarkedMalicious = "ORDER_MARKED_MALICIOUS"
	// CodeNothingToRetry: RETRY_REFUND found no failed refund of the
	// order whose trade still holds money (or PAY's own retry is under
	// way).
	CodeNothingToRetry = "NOTHING_TO_RETRY"
	DetailOwnerCode    = "owner_code"
)

// Action statuses: PENDING while its owner is being asked (repeat the
// key, or wait for the sweep), DONE once recorded.
const (
	ActionStatusPending = "PENDING"
	ActionStatusDone    = "DONE"
)

// Address is a delivery address.
type Address struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
	Detail   string `json:"detail"`
}

// ActionRequest is one action of customer service.
type ActionRequest struct {
	IdempotencyKey string   `json:"idempotency_key"`
	Kind           string   `json:"kind"`
	Actor          string   `json:"actor"`
	ActorRole      string   `json:"actor_role"`
	Reason         string   `json:"reason"`
	OrderID        string   `json:"order_id,omitempty"`
	CouponID       string   `json:"coupon_id,omitempty"`
	CustomerID     string   `json:"customer_id,omitempty"`
	Address        *Address `json:"address,omitempty"`
	SMSRecipients  []string `json:"sms_recipients,omitempty"`
	InvoiceTitle   string   `json:"invoice_title,omitempty"`
}

// Action is an entry of the action log.
type Action struct {
	ID            string     `json:"id"`
	Kind          string     `json:"kind"`
	Status        string     `json:"status"`
	OrderID       string     `json:"order_id,omitempty"`
	CustomerID    string     `json:"customer_id,omitempty"`
	CouponID      string     `json:"coupon_id,omitempty"`
	Actor         string     `json:"actor"`
	ActorRole     string     `json:"actor_role"`
	Reason        string     `json:"reason"`
	Result        string     `json:"result,omitempty"`
	Address       *Address   `json:"address,omitempty"`
	SMSRecipients []string   `json:"sms_recipients,omitempty"`
	InvoiceTitle  string     `json:"invoice_title,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DoneAt        *time.Time `json:"done_at,omitempty"`
}

// Actions is a list of actions, newest first.
type Actions struct {
	Items []Action `json:"items"`
}

// ReviewRequest is a customer's review of their delivered order.
type ReviewRequest struct {
	CustomerID string `json:"customer_id"`
	OrderID    string `json:"order_id"`
	Rating     int    `json:"rating"`
	Text       string `json:"text"`
}

// Review is a customer's review.
type Review struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Rating     int       `json:"rating"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
}

// Reviews is a list of reviews, newest first.
type Reviews struct {
	Items []Review `json:"items"`
}

// Payment is a cash trade of an order (PAY's), for customer service.
type Payment struct {
	ID          string     `json:"id"`
	Channel     string     `json:"channel"`
	AmountFen   money.Fen  `json:"amount_fen"`
	PaidFen     money.Fen  `json:"paid_fen"`
	RefundedFen money.Fen  `json:"refunded_fen"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
}

// Refund is a cash refund of an order (PAY's).
type Refund struct {
	ID        string    `json:"id"`
	TradeID   string    `json:"trade_id"`
	AmountFen money.Fen `json:"amount_fen"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Malicious is customer service's mark on an order.
type Malicious struct {
	ActionID string    `json:"action_id"`
	By       string    `json:"by"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Story is what after-sales tells of an order: PAY's payments and
// refunds, customer service's actions, the review and the mark.
type Story struct {
	OrderID   string     `json:"order_id"`
	Payments  []Payment  `json:"payments"`
	Refunds   []Refund   `json:"refunds"`
	Actions   []Action   `json:"actions"`
	Review    *Review    `json:"review,omitempty"`
	Malicious *Malicious `json:"malicious,omitempty"`
}

// Act runs an action; refused with the owner's code and nothing kept,
// or recorded DONE. Same key and input: the same action.
func (c *Client) Act(ctx context.Context, r ActionRequest) (Action, error) {
	var out Action
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/actions", r, &out)
}

// ActionsOf lists an order's actions (or, orderID "", a customer's), newest first.
func (c *Client) ActionsOf(ctx context.Context, orderID, customerID string, first int) ([]Action, error) {
	q := url.Values{}
	q.Set("order", orderID)
	q.Set("customer", customerID)
	q.Set("first", strconv.Itoa(first))
	var out Actions
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/actions?"+q.Encode(), nil, &out)
	return out.Items, err
}

// Review stores a customer's review of their delivered order.
func (c *Client) Review(ctx context.Context, r ReviewRequest) (Review, error) {
	var out Review
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/reviews", r, &out)
}

// Reviews lists reviews newest first: an order's, a customer's, or all.
func (c *Client) Reviews(ctx context.Context, orderID, customerID string, first int) ([]Review, error) {
	q := url.Values{}
	q.Set("order", orderID)
	q.Set("customer", customerID)
	q.Set("first", strconv.Itoa(first))
	var out Reviews
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/reviews?"+q.Encode(), nil, &out)
	return out.Items, err
}

// Story returns what after-sales tells of an order (customer service).
func (c *Client) Story(ctx context.Context, orderID string) (Story, error) {
	var out Story
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(orderID)+"/story", nil, &out)
}
