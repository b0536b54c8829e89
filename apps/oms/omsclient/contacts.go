package omsclient

import (
	"context"
	"net/http"
	"net/url"
)

// Codes of a contact change's refusal.
const (
	// CodeOrderDispatched: a delivery order reached its warehouse or
	// supplier (Details["delivery_orders"]); the address stays.
	CodeOrderDispatched = "ORDER_DISPATCHED"
	// CodeAddressLocked: the order is cancelled, shipped or completed.
	CodeAddressLocked = "ADDRESS_LOCKED"
	// CodeContactLocked: a cancelled or completed order's SMS recipients stay.
	CodeContactLocked = "CONTACT_LOCKED"
)

// ContactChangeRequest is customer service's change of an order's address
// or SMS recipients (at least one), asked for by after-sales' action
// ChangeID: a repeat of it changes nothing and answers the order.
type ContactChangeRequest struct {
	ChangeID      string   `json:"change_id"`
	By            string   `json:"by"`
	Note          string   `json:"note"`
	Address       *Address `json:"address,omitempty"`
	SMSRecipients []string `json:"sms_recipients,omitempty"`
}

// ContactChange is the order after the change.
type ContactChange struct {
	Order   Order `json:"order"`
	Already bool  `json:"already"` // applied before (a repeat)
	Units   int   `json:"units"`   // fulfillment units whose document took it
}

// ChangeContact changes an order's address (refused with
// CodeOrderDispatched once a delivery order reached its warehouse) or SMS
// recipients (stage 14's SMS go to them).
func (c *Client) ChangeContact(ctx context.Context, orderID string, r ContactChangeRequest) (ContactChange, error) {
	var out ContactChange
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/cs/orders/"+url.PathEscape(orderID)+"/contacts", r, &out)
}
