package aftersalesclient

import (
	"context"
	"net/http"
)

// Customer service's forward documents (DOMAIN 4.1, 4.4, 4.5): kinds,
// pull-back outcomes, the status and steps they add.
const (
	KindPullBack = "PULL_BACK"
	KindExchange = "EXCHANGE"
	KindReissue  = "REISSUE"

	OutcomeNewOrder = "NEW_ORDER"
	OutcomeWait     = "WAIT_FOR_STOCK"
	OutcomeCancel   = "CANCEL"

	// StatusCompleted: the document's new order is made, or its decision
	// to wait for stock applied.
	StatusCompleted = "COMPLETED"

	StepNewOrderPlaced  = "NEW_ORDER_PLACED"
	StepWaitingForStock = "WAITING_FOR_STOCK"
)

// Error codes of forward documents.
const (
	// CodeNotShipped: a reissue of an order not shipped yet.
	CodeNotShipped = "ORDER_NOT_SHIPPED"
	// CodeNoShortage: a pull-back of an order none of whose work orders
	// waits for stock at its warehouse (or not split there yet).
	CodeNoShortage = "ORDER_NOT_SHORT"
	// CodePullBackOpen: the order has a pull-back not finished yet.
	CodePullBackOpen = "PULL_BACK_OPEN"
	// CodeLockTimeout: the order's pull-back lock stayed held by another
	// decision for the whole wait; nothing was written; try again.
	CodeLockTimeout = "LOCK_TIMEOUT"
	// CodeAlreadyReissued: a reissue of more units of a line than the
	// order has left to reissue, counting its earlier reissues.
	CodeAlreadyReissued = "ALREADY_REISSUED"
)

// Slot is a delivery slot: EXPRESS or NEXT_DAY on a YYYY-MM-DD date (Shanghai).
type Slot struct {
	Type string `json:"type"`
	Date string `json:"date"`
}

// ForwardDocumentRequest is a reissue, exchange or pull-back document a
// CS agent (Author) makes for an order.
type ForwardDocumentRequest struct {
	IdempotencyKey string       `json:"idempotency_key"`
	Author         string       `json:"author"`
	OrderID        string       `json:"order_id"`
	Kind           string       `json:"kind"` // REISSUE, EXCHANGE, PULL_BACK
	Reason         string       `json:"reason"`
	Lines          []ReturnLine `json:"lines,omitempty"`   // reissues and exchanges
	Outcome        string       `json:"outcome,omitempty"` // pull-backs
	Address        *Address     `json:"address,omitempty"` // a pull-back's new order
	Slot           *Slot        `json:"slot,omitempty"`    // the new order's slot
}

// ForwardDocument is what a forward document carries beside a request's fields.
type ForwardDocument struct {
	Outcome    string   `json:"outcome,omitempty"`
	Address    *Address `json:"address,omitempty"`
	Slot       *Slot    `json:"slot,omitempty"`
	NewOrderID string   `json:"new_order_id,omitempty"`
}

// CreateForwardDocument makes a reissue, exchange or pull-back document,
// awaiting a supervisor other than its author (AuditDocument).
func (c *Client) CreateForwardDocument(ctx context.Context, r ForwardDocumentRequest) (Request, error) {
	var out Request
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/forward-documents", r, &out)
}
