// Package omsclient is the typed client other apps (the gateway, pay,
// inventory) use to call OMS, the order service, through Dapr service
// invocation, with the request and response types of its API.
package omsclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// AppID is OMS's Dapr app id.
const AppID = "oms"

// BatchRoutes are the routes OMS serves in batches (runtime.AllowBatch) and
// a busy caller may send in batches (daprx.Invoker.Batch): placing an
// order, idempotent by its key.
var BatchRoutes = []string{"POST v1/orders"}

// Sources of orders (DOMAIN 1.1).
const (
	SourceApp          = "APP"
	SourceWeb          = "WEB"
	SourceMiniProgram  = "MINI_PROGRAM"
	SourceGiftExchange = "GIFT_EXCHANGE"
	SourceSalesPlan    = "SALES_PLAN"
	SourceThirdParty   = "THIRD_PARTY"
	SourceReissue      = "REISSUE"
	SourceExchange     = "EXCHANGE"
)

// Order statuses.
const (
	StatusPendingPayment = "PENDING_PAYMENT"
	StatusPaid           = "PAID"      // paid (or needs no payment): fulfillment may start
	StatusCancelled      = "CANCELLED" // by the customer, by expiry, or by fraud audit
	StatusFulfilling     = "FULFILLING"
	StatusShipped        = "SHIPPED"
	StatusCompleted      = "COMPLETED"
)

// Delivery slot types.
const (
	SlotExpress = "EXPRESS"  // 极速达
	SlotNextDay = "NEXT_DAY" // 次日达
)

// Error codes OMS answers with (httpapi.Problem.Code).
const (
	CodeValidation = "VALIDATION_FAILED" // Details["violations"]: []Violation
	CodeOutOfStock = "OUT_OF_STOCK"      // Details["skus"]
	// CodeSlotFull: the delivery slot has no capacity left at a warehouse
	// the order ships from; Details["slots"]: []inventoryclient.SlotRef
	// (warehouse, date, type). Nothing was written.
	CodeSlotFull         = "SLOT_FULL"
	CodeIdempotencyReuse = "IDEMPOTENCY_KEY_REUSED"
	CodeNotFound         = "ORDER_NOT_FOUND"
	CodeNotCancellable   = "ORDER_NOT_CANCELLABLE"
	CodeDeductionInvalid = "DEDUCTION_INVALID"
	// CodePlacementExpired: the placement outlasted its stock reservation,
	// which inventory's check-back released; nothing was written, and a
	// new placement (a new idempotency key) may succeed.
	CodePlacementExpired = "PLACEMENT_EXPIRED"
)

// Violation names one offending field of a placement.
type Violation struct {
	Field   string `json:"field"` // e.g. lines[2].qty, address.phone
	Code    string `json:"code"`  // e.g. UNKNOWN_SKU, NON_POSITIVE_QTY, PRICE_MISMATCH, SLOT_IN_PAST
	Message string `json:"message"`
}

// Address is a delivery address.
type Address struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
	Detail   string `json:"detail"`
}

// Slot is the promised delivery slot.
type Slot struct {
	Type string `json:"type"` // SlotExpress or SlotNextDay
	Date string `json:"date"` // YYYY-MM-DD in Asia/Shanghai
}

// LineInput is one line the customer asks for.
type LineInput struct {
	SKU          string    `json:"sku"`
	Qty          int64     `json:"qty"`
	UnitPriceFen money.Fen `json:"unit_price_fen"` // must match the catalog
}

// PlaceOrderRequest is the accept-order call (接单).
type PlaceOrderRequest struct {
	IdempotencyKey string      `json:"idempotency_key"`
	Source         string      `json:"source"`
	Channel        string      `json:"channel,omitempty"` // payment channel hint, picks the deadline
	CustomerID     string      `json:"customer_id"`
	Lines          []LineInput `json:"lines"`
	Address        Address     `json:"address"`
	Slot           Slot        `json:"slot"`
	DeductionIDs   []string    `json:"deduction_ids,omitempty"` // non-cash taken beforehand by PAY
	CouponIDs      []string    `json:"coupon_ids,omitempty"`
	FreightFen     money.Fen   `json:"freight_fen"`
	InvoiceTitle   string      `json:"invoice_title,omitempty"`
	OriginalOrder  string      `json:"original_order,omitempty"` // reissue / exchange
}

// Line is an order line.
type Line struct {
	SKU          string    `json:"sku"`
	Name         string    `json:"name"`
	Qty          int64     `json:"qty"`
	UnitPriceFen money.Fen `json:"unit_price_fen"`
	AmountFen    money.Fen `json:"amount_fen"`
}

// Event is one entry of an order's timeline.
type Event struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"` // PLACED, PAID, CANCELLED, EXPIRED, ...
	Note string    `json:"note,omitempty"`
}

// Order is an order as OMS shows it.
type Order struct {
	ID           string     `json:"id"`
	CustomerID   string     `json:"customer_id"`
	Source       string     `json:"source"`
	ToB          bool       `json:"to_b"`
	Status       string     `json:"status"`
	Lines        []Line     `json:"lines"`
	GoodsFen     money.Fen  `json:"goods_fen"`
	FreightFen   money.Fen  `json:"freight_fen"`
	TotalFen     money.Fen  `json:"total_fen"`
	NonCashFen   money.Fen  `json:"non_cash_fen"`
	CashDueFen   money.Fen  `json:"cash_due_fen"`
	PaidFen      money.Fen  `json:"paid_fen"`
	TradeID      string     `json:"trade_id,omitempty"` // the cash trade that paid it
	Address      Address    `json:"address"`
	Slot         Slot       `json:"slot"`
	DeductionIDs []string   `json:"deduction_ids,omitempty"`
	CouponIDs    []string   `json:"coupon_ids,omitempty"`
	PayBy        *time.Time `json:"pay_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	Timeline     []Event    `json:"timeline,omitempty"`
	// InvoiceTitle is the invoice asked for at placement ("" for none).
	InvoiceTitle string `json:"invoice_title,omitempty"`
	// SMSRecipients are the phones customer service set for the order's
	// SMS (empty: the address's phone).
	SMSRecipients []string `json:"sms_recipients,omitempty"`
}

// OrderPage is one page of a customer's orders, newest first.
type OrderPage struct {
	Items      []Order `json:"items"`
	EndCursor  string  `json:"end_cursor"`
	HasNext    bool    `json:"has_next"`
	TotalCount int64   `json:"total_count"`
}

// ListRequest filters a customer's orders.
type ListRequest struct {
	CustomerID string
	// Phone lists the orders delivered to this phone instead of a
	// customer's (customer service only; the gateway checks the role).
	Phone  string
	Status string
	First  int
	After  string
}

// Payability is OMS's answer to "may this order be paid now?" (DOMAIN 1.4).
type Payability struct {
	Payable    bool      `json:"payable"`
	Reason     string    `json:"reason,omitempty"` // CANCEL_PENDING, DEADLINE_PASSED, NOT_PENDING, ...
	PayBy      time.Time `json:"pay_by"`
	CashDueFen money.Fen `json:"cash_due_fen"`
	CustomerID string    `json:"customer_id"`
}

// Limits of OMS's API, for callers that check before calling (the gateway
// answers a precise error without a round trip); OMS refuses beyond them.
const (
	// MaxBatchOrders bounds the ids of one GetOrders call.
	MaxBatchOrders = 100
	// MaxLines bounds the lines of one order.
	MaxLines = 100
	// MaxDeductions and MaxCoupons bound an order's deduction and coupon ids.
	MaxDeductions = 10
	MaxCoupons    = 10
	// MaxCancelReason bounds a cancel reason, in characters.
	MaxCancelReason = 500
)

// CodeReasonTooLong is the violation code of a cancel reason longer than
// MaxCancelReason (field "reason").
const CodeReasonTooLong = "REASON_TOO_LONG"

// CancelRequest cancels an unpaid order on the customer's behalf.
type CancelRequest struct {
	CustomerID string `json:"customer_id"`
	Reason     string `json:"reason"`
}

// Existence answers inventory's and PAY's check-backs.
type Existence struct {
	Exists bool   `json:"exists"`
	Status string `json:"status,omitempty"`
}

// Client calls OMS.
type Client struct {
	inv    *daprx.Invoker
	orders string // where the order routes this caller may use live
}

// Where OMS serves orders: to every caller, and to after-sales alone.
// After-sales' routes live under a prefix of their own, so its grant in
// OMS's access control list (daprd matches prefixes: a grant on a path
// reaches everything below it) reaches only what is mounted there: place
// an order (a reissue's, an exchange's), read one, its allocation and its
// fulfillment; not the unpaid cancel, the order list or the batch read.
const (
	OrdersPath           = "v1/orders"
	AfterSalesOrdersPath = "v1/aftersales/orders"
)

// New returns a client that goes through the caller's sidecar.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv, orders: OrdersPath} }

// NewForAfterSales returns after-sales' client: PlaceOrder, GetOrder,
// GetAllocation and FulfillmentTimeline go to AfterSalesOrdersPath.
func NewForAfterSales(inv *daprx.Invoker) *Client {
	return &Client{inv: inv, orders: AfterSalesOrdersPath}
}

// PlaceOrder accepts an order. Same idempotency key and input: the first
// order again; same key, other input: CodeIdempotencyReuse.
func (c *Client) PlaceOrder(ctx context.Context, r PlaceOrderRequest) (Order, error) {
	var o Order
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, c.orders, r, &o)
	return o, err
}

// GetOrder returns an order with its timeline.
func (c *Client) GetOrder(ctx context.Context, id string) (Order, error) {
	var o Order
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, c.orders+"/"+url.PathEscape(id), nil, &o)
	return o, err
}

// GetOrders returns the orders of ids (at most MaxBatchOrders) with their
// timelines, in one call; ids that name no order are left out.
func (c *Client) GetOrders(ctx context.Context, ids []string) ([]Order, error) {
	var out struct {
		Items []Order `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/orders/batch", map[string]any{"ids": ids}, &out)
	return out.Items, err
}

// ListOrders pages through one customer's orders, or one phone's.
func (c *Client) ListOrders(ctx context.Context, r ListRequest) (OrderPage, error) {
	q := url.Values{}
	q.Set("customer", r.CustomerID)
	if r.Phone != "" {
		q.Set("phone", r.Phone)
	}
	q.Set("status", r.Status)
	q.Set("first", strconv.Itoa(r.First))
	q.Set("after", r.After)
	var p OrderPage
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders?"+q.Encode(), nil, &p)
	return p, err
}

// CancelUnpaid cancels an order still waiting for payment.
func (c *Client) CancelUnpaid(ctx context.Context, id string, r CancelRequest) (Order, error) {
	var o Order
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/orders/"+url.PathEscape(id)+"/cancel", r, &o)
	return o, err
}

// Payable asks whether the order may be paid now, judged by OMS's clock.
func (c *Client) Payable(ctx context.Context, id string) (Payability, error) {
	var p Payability
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(id)+"/payable", nil, &p)
	return p, err
}

// Exists answers a check-back for an order id.
func (c *Client) Exists(ctx context.Context, id string) (Existence, error) {
	var e Existence
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(id)+"/existence", nil, &e)
	return e, err
}

// ExistsForDeduction answers PAY's check-back: is there an order that uses
// this non-cash deduction?
func (c *Client) ExistsForDeduction(ctx context.Context, deductionID string) (Existence, error) {
	var e Existence
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/deductions/"+url.PathEscape(deductionID)+"/order", nil, &e)
	return e, err
}

// CodeIdempotencyInFlight: a call with the same idempotency key is still
// running (its lock was not free in time); retry the call.
const CodeIdempotencyInFlight = "IDEMPOTENCY_KEY_IN_FLIGHT"

// Customers' saved addresses (address book).

// CodeAddressNotFound: no saved address with that id for the customer.
const CodeAddressNotFound = "ADDRESS_NOT_FOUND"

// SavedAddress is one entry of a customer's address book.
type SavedAddress struct {
	ID        string    `json:"id"`
	Address   Address   `json:"address"`
	Label     string    `json:"label,omitempty"`
	IsDefault bool      `json:"is_default"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SaveAddressRequest adds or replaces a saved address. An address outside
// every served area fails with CodeValidation, violation address.district
// NOT_SERVED; a malformed one names its fields.
type SaveAddressRequest struct {
	Address     Address `json:"address"`
	Label       string  `json:"label,omitempty"`
	MakeDefault bool    `json:"make_default"`
}

// AddressBook is what the address routes answer: the entry acted on (if
// any) and the whole book, the default first.
type AddressBook struct {
	Address   *SavedAddress  `json:"address,omitempty"`
	Addresses []SavedAddress `json:"addresses"`
}

func addressesPath(customerID string) string {
	return "v1/customers/" + url.PathEscape(customerID) + "/addresses"
}

// Addresses lists a customer's saved addresses.
func (c *Client) Addresses(ctx context.Context, customerID string) (AddressBook, error) {
	var out AddressBook
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, addressesPath(customerID), nil, &out)
	return out, err
}

// AddAddress saves a new address for a customer.
func (c *Client) AddAddress(ctx context.Context, customerID string, r SaveAddressRequest) (AddressBook, error) {
	var out AddressBook
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, addressesPath(customerID), r, &out)
	return out, err
}

// UpdateAddress replaces a saved address.
func (c *Client) UpdateAddress(ctx context.Context, customerID, id string, r SaveAddressRequest) (AddressBook, error) {
	var out AddressBook
	err := c.inv.Invoke(ctx, AppID, http.MethodPut, addressesPath(customerID)+"/"+url.PathEscape(id), r, &out)
	return out, err
}

// RemoveAddress deletes a saved address.
func (c *Client) RemoveAddress(ctx context.Context, customerID, id string) (AddressBook, error) {
	var out AddressBook
	err := c.inv.Invoke(ctx, AppID, http.MethodDelete, addressesPath(customerID)+"/"+url.PathEscape(id), nil, &out)
	return out, err
}

// SetDefaultAddress makes a saved address the customer's default.
func (c *Client) SetDefaultAddress(ctx context.Context, customerID, id string) (AddressBook, error) {
	var out AddressBook
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, addressesPath(customerID)+"/"+url.PathEscape(id)+"/default", struct{}{}, &out)
	return out, err
}

// CodeNotAllocatable: the order's amounts cannot be spread over its lines.
const CodeNotAllocatable = "NOT_ALLOCATABLE"

// AllocatedLine is an order line with its share of the order-level
// amounts as fulfillment's allocation (stage 5) spreads them: Cash =
// Amount + Freight - NonCash.
type AllocatedLine struct {
	SKU        string    `json:"sku"`
	Name       string    `json:"name"`
	Qty        int64     `json:"qty"`
	AmountFen  money.Fen `json:"amount_fen"`
	FreightFen money.Fen `json:"freight_fen"`
	NonCashFen money.Fen `json:"non_cash_fen"`
	CashFen    money.Fen `json:"cash_fen"`
}

// Allocation is an order with its lines allocated, what after-sales
// spreads a return's refund with.
type Allocation struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	Status     string `json:"status"`
	Refused    bool   `json:"refused"` // parcels were refused at the door
	// RefusedLines are the units refused at the door, per SKU (empty with
	// Refused: an older refusal that named no units, the whole order).
	RefusedLines []RefusedLine   `json:"refused_lines,omitempty"`
	FreightFen   money.Fen       `json:"freight_fen"`
	NonCashFen   money.Fen       `json:"non_cash_fen"`
	PaidFen      money.Fen       `json:"paid_fen"`
	TradeID      string          `json:"trade_id,omitempty"`
	DeductionIDs []string        `json:"deduction_ids,omitempty"`
	Address      Address         `json:"address"`
	Lines        []AllocatedLine `json:"lines"`
}

// RefusedLine is units of one SKU the customer refused at the door.
type RefusedLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// GetAllocation returns an order's lines with stage 5's allocation.
func (c *Client) GetAllocation(ctx context.Context, id string) (Allocation, error) {
	var out Allocation
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, c.orders+"/"+url.PathEscape(id)+"/allocation", nil, &out)
	return out, err
}
