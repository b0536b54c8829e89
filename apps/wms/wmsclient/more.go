package wmsclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// More error codes WMS answers with.
const (
	CodeValidation = "VALIDATION_FAILED"
	CodeNotFound   = "NOT_FOUND"
	// CodeConflict: the delivery order id was used before with other content.
	CodeConflict = "DELIVERY_ORDER_CONFLICT"
)

// Occupation statuses.
const (
	OccupationOccupied = "OCCUPIED"
	OccupationReleased = "RELEASED"
)

// OccupationDetail is an occupation with its lines (GET).
type OccupationDetail struct {
	DeliveryOrderID string `json:"delivery_order_id"`
	Warehouse       string `json:"warehouse"`
	Status          string `json:"status"`
	Lines           []Line `json:"lines"`
}

// SetStockRequest sets a SKU's on-hand ERP stock in a warehouse, creating
// the row when missing (admin and seeding; never below what is occupied).
type SetStockRequest struct {
	Warehouse string `json:"warehouse"`
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
}

// Stock is ERP stock of one SKU in one warehouse.
type Stock struct {
	Warehouse string    `json:"warehouse"`
	SKU       string    `json:"sku"`
	OnHand    int64     `json:"on_hand"`
	Occupied  int64     `json:"occupied"`
	Free      int64     `json:"free"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Order is a received delivery order as WMS holds it: what was dispatched,
// with WMS's id, status and time of receipt (same JSON fields, flattened).
type Order struct {
	WMSOrderID string `json:"wms_order_id"`
	DispatchRequest
	Status     string    `json:"status"` // RECEIVED
	ReceivedAt time.Time `json:"received_at"`
}

// ReleaseStock gives a delivery order's ERP stock back. Idempotent;
// releasing an id never occupied leaves a tombstone, so an occupation that
// arrives later answers RELEASED and holds nothing.
func (c *Client) ReleaseStock(ctx context.Context, deliveryOrderID string) (Occupation, error) {
	var o Occupation
	return o, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/erp-stock/occupations/"+url.PathEscape(deliveryOrderID)+"/release", struct{}{}, &o)
}

// GetOccupation returns an occupation with its lines; CodeNotFound if none.
func (c *Client) GetOccupation(ctx context.Context, deliveryOrderID string) (OccupationDetail, error) {
	var o OccupationDetail
	return o, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/erp-stock/occupations/"+url.PathEscape(deliveryOrderID), nil, &o)
}

// SetStock sets on-hand ERP stock (admin endpoint).
func (c *Client) SetStock(ctx context.Context, r SetStockRequest) (Stock, error) {
	var s Stock
	return s, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/erp-stock", r, &s)
}

// GetStock returns a SKU's ERP stock in a warehouse; CodeNotFound if none.
func (c *Client) GetStock(ctx context.Context, warehouse, sku string) (Stock, error) {
	var s Stock
	return s, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/erp-stock/"+url.PathEscape(warehouse)+"/"+url.PathEscape(sku), nil, &s)
}

// GetOrder returns a received order by WMS order id or delivery order id.
func (c *Client) GetOrder(ctx context.Context, id string) (Order, error) {
	var o Order
	return o, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(id), nil, &o)
}

// Interception codes: a hand-over of an intercepted delivery order is
// refused with CodeIntercepted; an order past the point WMS can stop it
// answers CodeTooLate to an interception.
const (
	CodeIntercepted = "DELIVERY_ORDER_INTERCEPTED"
	CodeTooLate     = "TOO_LATE_TO_INTERCEPT"
)

// InterceptRequest asks WMS to stop a delivery order (the reverse flow).
type InterceptRequest struct {
	Reason string `json:"reason"`
}

// Interception is WMS's answer: the received order was stopped, or it had
// not arrived and its later hand-over will be refused (Tombstone).
type Interception struct {
	DeliveryOrderID string    `json:"delivery_order_id"`
	WMSOrderID      string    `json:"wms_order_id,omitempty"`
	Tombstone       bool      `json:"tombstone"`
	At              time.Time `json:"at"`
}

// Intercept stops a delivery order, received or not yet; idempotent;
// CodeTooLate once it moved past RECEIVED.
func (c *Client) Intercept(ctx context.Context, deliveryOrderID string, r InterceptRequest) (Interception, error) {
	var out Interception
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/orders/"+url.PathEscape(deliveryOrderID)+"/intercept", r, &out)
}

// InterceptAllRequest asks WMS to stop an order's delivery orders all or
// none.
type InterceptAllRequest struct {
	DeliveryOrderIDs []string `json:"delivery_order_ids"`
	Reason           string   `json:"reason"`
}

// Interceptions is WMS's answer to InterceptAll, one per delivery order.
type Interceptions struct {
	Interceptions []Interception `json:"interceptions"`
}

// InterceptAll stops delivery orders all or none, in one transaction:
// CodeTooLate (its message naming the one too late) and nothing stopped
// when one moved past RECEIVED; idempotent.
func (c *Client) InterceptAll(ctx context.Context, r InterceptAllRequest) (Interceptions, error) {
	var out Interceptions
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/interceptions", r, &out)
}

// ReturnLine is a SKU and the units coming back.
type ReturnLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// ReturnNotice tells WMS goods of an order come back (a return with
// pickup, or a rejection at the door), once per notice id.
type ReturnNotice struct {
	NoticeID  string       `json:"notice_id"`
	OrderID   string       `json:"order_id"`
	RequestID string       `json:"request_id"`
	Kind      string       `json:"kind"` // RETURN, REJECTION
	WaybillNo string       `json:"waybill_no,omitempty"`
	Lines     []ReturnLine `json:"lines"`
}

// ReturnReceipt is WMS's answer; Duplicate when the notice was known.
type ReturnReceipt struct {
	NoticeID  string    `json:"notice_id"`
	Status    string    `json:"status"`
	Duplicate bool      `json:"duplicate"`
	At        time.Time `json:"at"`
}

// NoticeReturn records goods coming back; a repeated notice id answers
// the first receipt.
func (c *Client) NoticeReturn(ctx context.Context, n ReturnNotice) (ReturnReceipt, error) {
	var out ReturnReceipt
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/returns", n, &out)
}
