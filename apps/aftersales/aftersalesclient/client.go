// Package aftersalesclient is the typed client of after-sales, the
// reverse flow (DOMAIN 4, 5): customers' cancels of paid orders and
// returns of delivered ones, their requests, steps and pushes, customer
// service's documents and audits; and CancelFilter, the Bloom filter of
// order ids with requests (of any kind) that guards order detail's lookup.
//
// Why the filter is one copy in Redis whose bits after-sales sets before
// it answers. DOMAIN 5 forbids a wrong "no" on any gateway instance from
// the moment a request is accepted. A filter in each gateway's memory fed
// by events is wrong on every replica the event has not reached yet; a
// local filter plus a watermark still costs a round trip per lookup to
// read the watermark. One filter in Redis, written by after-sales (the
// k positions of bloom.Locations reduced modulo m, exactly as the
// library's Test reduces them, set in one BITFIELD) before the request is
// stored and answered, and read by every gateway with one pipelined
// BITFIELD_RO, is right on every replica at once: there is no other copy
// to be stale. A "no" is believed only while the ready mark exists, which
// a complete rebuild from after-sales' database sets (the filter missing
// after a flush or a new Redis: every lookup asks after-sales until then).
// Sized for 10 M orders at 1 %: m = 95,850,584 bits (11.4 MiB), k = 7;
// measured 1.006 % false positives at 10 M ids (BenchmarkFilterFalsePositives).
// bloom.go has the details.
package aftersalesclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// AppID is after-sales' Dapr app id.
const AppID = "aftersales"

// Error codes after-sales answers with.
const (
	CodeValidation       = "VALIDATION_FAILED"
	CodeNotFound         = "NOT_FOUND" // no such request, or no such order for the customer
	CodeNotCancellable   = "ORDER_NOT_CANCELLABLE"
	CodeIdempotencyReuse = "IDEMPOTENCY_KEY_REUSED"
	// Returns: a SKU not on the order; more units than delivered,
	// counting earlier returns; an order not delivered (or refused at the
	// door, whose rejection is made by itself); a refund above what was
	// paid, counting earlier refunds.
	CodeLineNotOnOrder    = "LINE_NOT_ON_ORDER"
	CodeQtyAboveDelivered = "QTY_ABOVE_DELIVERED"
	CodeNotReturnable     = "ORDER_NOT_RETURNABLE"
	CodeRefundAbovePaid   = "REFUND_EXCEEDS_PAID"
	// Documents: the auditor made the document; it was audited already.
	CodeSelfAudit        = "AUDITOR_IS_AUTHOR"
	CodeNotAwaitingAudit = "NOT_AWAITING_AUDIT"
)

// Request kinds, statuses and steps (wire values).
const (
	KindCancel    = "CANCEL"
	KindReturn    = "RETURN"
	KindRejection = "REJECTION"

	ModeRefundOnly = "REFUND_ONLY"
	ModePickup     = "PICKUP"

	StatusReturning     = "RETURNING"
	StatusRefunding     = "REFUNDING"
	StatusAwaitingAudit = "AWAITING_AUDIT"
	StatusRejected      = "REJECTED"

	StatusAccepted  = "ACCEPTED"
	StatusPaused    = "PAUSED"
	StatusCancelled = "CANCELLED"
	StatusRefunded  = "REFUNDED"
	StatusRefused   = "REFUSED"
)

// Refusal codes of a REFUSED request: the goods could not be stopped; the
// customer may ask for a return once they are delivered.
const (
	RefusedAtWarehouse = "WAREHOUSE_TOO_LATE"
	RefusedAtSupplier  = "SUPPLIER_SHIPPED"
	RefusedShipped     = "ORDER_SHIPPED"
)

// CancelRequest is a customer's cancel of a paid order.
type CancelRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	CustomerID     string `json:"customer_id"`
	OrderID        string `json:"order_id"`
	Reason         string `json:"reason"`
}

// ReturnLine is a SKU and the units returned.
type ReturnLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// ReturnRequest is a customer's return of delivered lines: refund only,
// or with a pickup courier at the door.
type ReturnRequest struct {
	IdempotencyKey string       `json:"idempotency_key"`
	CustomerID     string       `json:"customer_id"`
	OrderID        string       `json:"order_id"`
	Reason         string       `json:"reason"`
	Mode           string       `json:"mode"`
	Lines          []ReturnLine `json:"lines"`
	PhotoURLs      []string     `json:"photo_urls,omitempty"`
}

// RequestLine is a returned line with its refund.
type RequestLine struct {
	SKU        string    `json:"sku"`
	Qty        int64     `json:"qty"`
	CashFen    money.Fen `json:"cash_fen"`
	NonCashFen money.Fen `json:"non_cash_fen"`
	FreightFen money.Fen `json:"freight_fen"`
}

// Push is one of a request's pushes to another system, as customer
// service sees it.
type Push struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	Result    string    `json:"result,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Step is one step of a request, with its time.
type Step struct {
	Step string    `json:"step"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// Request is an after-sales request as after-sales shows it.
type Request struct {
	ID          string    `json:"id"`
	OrderID     string    `json:"order_id"`
	CustomerID  string    `json:"customer_id"`
	Kind        string    `json:"kind"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason"`
	RefusalCode string    `json:"refusal_code,omitempty"`
	RefusalNote string    `json:"refusal_note,omitempty"`
	RefundedFen money.Fen `json:"refunded_fen"`
	Intercepted []string  `json:"intercepted,omitempty"`
	// Returns and rejections.
	Mode             string        `json:"mode,omitempty"`
	PhotoURLs        []string      `json:"photo_urls,omitempty"`
	Lines            []RequestLine `json:"lines,omitempty"`
	RefundCashFen    money.Fen     `json:"refund_cash_fen"`
	RefundNonCashFen money.Fen     `json:"refund_non_cash_fen"`
	RefundFreightFen money.Fen     `json:"refund_freight_fen"`
	Pushes           []Push        `json:"pushes,omitempty"` // one request read by id
	// Customer service's documents: author, auditor and the audit's note.
	CreatedBy string `json:"created_by,omitempty"`
	AuditedBy string `json:"audited_by,omitempty"`
	AuditNote string `json:"audit_note,omitempty"`
	// Forward documents (reissue, exchange, pull-back): forward.go.
	Forward   *ForwardDocument `json:"forward,omitempty"`
	Steps     []Step           `json:"steps"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// Requests is a list of requests, newest first.
type Requests struct {
	Items []Request `json:"items"`
}

// Client calls after-sales.
type Client struct{ inv *daprx.Invoker }

// New returns a client that goes through the caller's sidecar.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv} }

// Cancel asks for a paid order's cancel. The answer comes once the
// request is stored and the cancel filter holds the order; the reverse
// flow runs after it (follow its steps). Same key and input: the same
// request; another key for an order with a cancel: that cancel.
func (c *Client) Cancel(ctx context.Context, r CancelRequest) (Request, error) {
	var out Request
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/cancels", r, &out)
}

// Return asks for a return of delivered lines; answered once the
// request is stored with its refund computed and its first pushes
// (follow its steps). Same key and input: the same request.
func (c *Client) Return(ctx context.Context, r ReturnRequest) (Request, error) {
	var out Request
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/returns", r, &out)
}

// OfOrder lists an order's requests, newest first (customerID "" for
// staff, who see every customer's).
func (c *Client) OfOrder(ctx context.Context, customerID, orderID string) ([]Request, error) {
	var out Requests
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(orderID)+"/requests?customer="+url.QueryEscape(customerID), nil, &out)
	return out.Items, err
}

// DocumentRequest is a CS agent's return or rejection document for an
// order of any customer; it waits for a supervisor's audit.
type DocumentRequest struct {
	IdempotencyKey string       `json:"idempotency_key"`
	Author         string       `json:"author"`
	OrderID        string       `json:"order_id"`
	Kind           string       `json:"kind"` // RETURN or REJECTION
	Reason         string       `json:"reason"`
	Mode           string       `json:"mode,omitempty"` // returns: REFUND_ONLY or PICKUP
	Lines          []ReturnLine `json:"lines"`
	PhotoURLs      []string     `json:"photo_urls,omitempty"`
}

// AuditRequest approves or rejects a document.
type AuditRequest struct {
	Auditor string `json:"auditor"`
	Approve bool   `json:"approve"`
	Note    string `json:"note"`
}

// CreateDocument stores a document awaiting audit (its units held).
func (c *Client) CreateDocument(ctx context.Context, r DocumentRequest) (Request, error) {
	var out Request
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/documents", r, &out)
}

// AuditDocument approves (it runs) or rejects (its units go back) a
// document; CodeSelfAudit for its author, CodeNotAwaitingAudit once audited.
func (c *Client) AuditDocument(ctx context.Context, id string, r AuditRequest) (Request, error) {
	var out Request
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/documents/"+url.PathEscape(id)+"/audit", r, &out)
}

// AwaitingAudit lists the documents waiting for a supervisor, oldest first.
func (c *Client) AwaitingAudit(ctx context.Context, first int) ([]Request, error) {
	var out Requests
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/documents?first="+strconv.Itoa(first), nil, &out)
	return out.Items, err
}

// Get returns one request of the customer (CodeNotFound for another's).
func (c *Client) Get(ctx context.Context, customerID, id string) (Request, error) {
	var out Request
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/requests/"+url.PathEscape(id)+"?customer="+url.QueryEscape(customerID), nil, &out)
}

// OfCustomer lists a customer's requests, newest first (at most first).
func (c *Client) OfCustomer(ctx context.Context, customerID string, first int) ([]Request, error) {
	var out Requests
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/requests?customer="+url.QueryEscape(customerID)+"&first="+strconv.Itoa(first), nil, &out)
	return out.Items, err
}

// CancelOfOrder returns the order's cancel request, or nil when it has
// none (customerID "" for staff, who see every customer's).
func (c *Client) CancelOfOrder(ctx context.Context, customerID, orderID string) (*Request, error) {
	var out Requests
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(orderID)+"/requests?customer="+url.QueryEscape(customerID), nil, &out)
	if err != nil {
		return nil, err
	}
	for i := range out.Items {
		if out.Items[i].Kind == KindCancel {
			return &out.Items[i], nil
		}
	}
	return nil, nil
}
