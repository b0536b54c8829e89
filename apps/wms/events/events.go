// Package events is WMS's published contract: topics and payloads.
package events

import "time"

// Topics WMS publishes.
const (
	// TopicOrderReceived: a delivery order was stored (DOMAIN 7.1 step 1);
	// it starts the split by temperature zone (step 2).
	TopicOrderReceived = "wms.order.received"
	// TypeOrderReceived is the payload type and version of TopicOrderReceived.
	TypeOrderReceived = "wms.order.received.v1"
)

// Line is one SKU of a received order.
type Line struct {
	SKU  string `json:"sku"`
	Qty  int64  `json:"qty"`
	Zone string `json:"zone,omitempty"`
}

// OrderReceived is a delivery order WMS has taken on.
type OrderReceived struct {
	WMSOrderID      string    `json:"wms_order_id"`
	DeliveryOrderID string    `json:"delivery_order_id"`
	OrderID         string    `json:"order_id"`
	Warehouse       string    `json:"warehouse"`
	DeliveryDate    string    `json:"delivery_date"`
	Express         bool      `json:"express"`
	Lines           []Line    `json:"lines"`
	ReceivedAt      time.Time `json:"received_at"`
}
