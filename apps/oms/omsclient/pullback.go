package omsclient

import (
	"context"
	"net/http"
	"net/url"
)

// PullBackRequest ends a paused paid order and makes its new order
// directly (customer service's pull-back, DOMAIN 4.1a).
type PullBackRequest struct {
	IdempotencyKey string `json:"idempotency_key"` // required: one new order per key
	Reason         string `json:"reason"`          // required
	By             string `json:"by,omitempty"`
	// Intercepted are the delivery orders WMS intercepted: every one that
	// reached a warehouse must be among them.
	Intercepted []string `json:"intercepted,omitempty"`
	// Address and Slot change the new order's; nil keeps the old.
	Address *Address `json:"address,omitempty"`
	Slot    *Slot    `json:"slot,omitempty"`
}

// PullBack is OMS's answer: the order ended and its new one.
type PullBack struct {
	OrderID    string `json:"order_id"`
	NewOrderID string `json:"new_order_id"`
	Already    bool   `json:"already"` // a repeat with the same key
}

// SourcePullBack is a pull-back's new order, made directly by OMS; the
// accept-order API refuses it (violation SOURCE_NOT_ACCEPTED).
const SourcePullBack = "PULL_BACK"

// PullBackOrder ends a paused order (CANCELLED, reason PULLED_BACK, no
// refund: the payment and stock go over) and makes its new order, PAID,
// in one transaction; CodeNotPaused, CodeReachedWarehouse and
// CodeNotCancellable as CancelPaused, CodeValidation for a bad address or
// slot. Repeating the key answers the same new order.
func (c *Client) PullBackOrder(ctx context.Context, orderID string, r PullBackRequest) (PullBack, error) {
	var out PullBack
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/fulfillment/orders/"+url.PathEscape(orderID)+"/pull-back", r, &out)
	return out, err
}
