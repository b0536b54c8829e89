// Package wmsclient is the typed client for WMS, the warehouse system: ERP
// stock occupation (fulfillment stage 12) and receiving dispatched delivery
// orders (stage 16, DOMAIN 7.1 step 1).
package wmsclient

import (
	"context"
	"net/http"

	"github.com/harvest/harvest/apps/platform/daprx"
)

// AppID is WMS's Dapr app id.
const AppID = "wms"

// BatchRoutes are the routes WMS serves in batches (runtime.AllowBatch)
// and a busy caller may send in batches (daprx.Invoker.Batch): occupying
// ERP stock and receiving delivery orders, both idempotent by delivery
// order id (fulfillment's stages 12 and 16).
var BatchRoutes = []string{"POST v1/erp-stock/occupations", "POST v1/orders"}

// Error codes WMS answers with.
const (
	CodeStockShort = "ERP_STOCK_SHORT" // Details["skus"]
	CodeUnknownWH  = "UNKNOWN_WAREHOUSE"
)

// Line is one SKU of a delivery order.
type Line struct {
	SKU  string `json:"sku"`
	Name string `json:"name,omitempty"`
	Qty  int64  `json:"qty"`
	Zone string `json:"zone,omitempty"` // temperature zone, drives WMS's split
}

// OccupyRequest occupies ERP stock for one delivery order.
type OccupyRequest struct {
	DeliveryOrderID string `json:"delivery_order_id"`
	// OrderID is the order the delivery order belongs to: its
	// cancellation (oms.order.cancelled) releases the occupation.
	// Required (VALIDATION otherwise).
	OrderID   string `json:"order_id"`
	Warehouse string `json:"warehouse"`
	Lines     []Line `json:"lines"`
}

// Occupation is ERP stock held for a delivery order; idempotent by its id.
type Occupation struct {
	DeliveryOrderID string `json:"delivery_order_id"`
	Status          string `json:"status"` // OCCUPIED, RELEASED
}

// DispatchRequest hands a delivery order to WMS (order_header, order_detail,
// order_delivery, order_profiles).
type DispatchRequest struct {
	DeliveryOrderID string            `json:"delivery_order_id"`
	OrderID         string            `json:"order_id"`
	CustomerID      string            `json:"customer_id"`
	Warehouse       string            `json:"warehouse"`
	DeliveryDate    string            `json:"delivery_date"`
	Express         bool              `json:"express"`
	Carrier         string            `json:"carrier"`
	WaybillNo       string            `json:"waybill_no"`
	Name            string            `json:"name"`
	Phone           string            `json:"phone"`
	Address         string            `json:"address"`
	Lines           []Line            `json:"lines"`
	Profiles        map[string]string `json:"profiles,omitempty"` // invoice title, remarks, source ...
}

// Receipt is WMS's acknowledgement; Duplicate when the id was received before.
type Receipt struct {
	WMSOrderID string `json:"wms_order_id"`
	Duplicate  bool   `json:"duplicate"`
}

// Client calls WMS.
type Client struct{ inv *daprx.Invoker }

// New returns a client that goes through the caller's sidecar.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv} }

// OccupyStock occupies ERP stock for a delivery order, all lines or none.
func (c *Client) OccupyStock(ctx context.Context, r OccupyRequest) (Occupation, error) {
	var o Occupation
	return o, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/erp-stock/occupations", r, &o)
}

// Dispatch hands a delivery order to WMS.
func (c *Client) Dispatch(ctx context.Context, r DispatchRequest) (Receipt, error) {
	var out Receipt
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/orders", r, &out)
}
