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

// Outbound topics (DOMAIN 7.1): each starts the next step or tells the
// consoles and other contexts where a work order stands.
const (
	// TopicWorkOrderCreated: the split made a work order; it starts its
	// allocation.
	TopicWorkOrderCreated = "wms.workorder.created"
	TypeWorkOrderCreated  = "wms.workorder.created.v1"
	// TopicWorkOrderAllocated: bin stock is occupied; the work order can go
	// on a pick list.
	TopicWorkOrderAllocated = "wms.workorder.allocated"
	TypeWorkOrderAllocated  = "wms.workorder.allocated.v1"
	// TopicWorkOrderSuspended: the pick and reserve areas are short; the
	// work order waits for stock with a reason (a pull-back candidate for
	// customer service) until a receipt of its SKUs releases it.
	TopicWorkOrderSuspended = "wms.workorder.suspended"
	TypeWorkOrderSuspended  = "wms.workorder.suspended.v1"
	// TopicStockReceived: goods were put away into a bin; waiting work
	// orders of the SKU are allocated again.
	TopicStockReceived = "wms.stock.received"
	TypeStockReceived  = "wms.stock.received.v1"
	// TopicPickListCreated and TopicPickListPicked follow a pick list.
	TopicPickListCreated = "wms.picklist.created"
	TypePickListCreated  = "wms.picklist.created.v1"
	TopicPickListPicked  = "wms.picklist.picked"
	TypePickListPicked   = "wms.picklist.picked.v1"
	// TopicHandoverCompleted: a courier's parcels left in a handover
	// batch; outbound is complete and the parcels are imported into TMS.
	TopicHandoverCompleted = "wms.handover.completed"
	TypeHandoverCompleted  = "wms.handover.completed.v1"
	// TopicParcelTracked: TMS reported a parcel collected, delivered or
	// refused (checked with TMS before it was recorded).
	TopicParcelTracked = "wms.parcel.tracked"
	TypeParcelTracked  = "wms.parcel.tracked.v1"
)

// WorkOrder is a work order's header as events carry it.
type WorkOrder struct {
	WorkOrderID string `json:"work_order_id"`
	WMSOrderID  string `json:"wms_order_id"`
	Warehouse   string `json:"warehouse"`
	Zone        string `json:"zone"`
	Handling    string `json:"handling"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	Carrier     string `json:"carrier"`
}

// StockReceived is goods put away into a bin.
type StockReceived struct {
	ReceiptID string `json:"receipt_id"`
	Warehouse string `json:"warehouse"`
	Bin       string `json:"bin"`
	SKU       string `json:"sku"`
	Batch     string `json:"batch"`
	Qty       int64  `json:"qty"`
	// PurchaseOrder is the receipt's; empty for units put back on the
	// shelf (a put-away task: ReceiptID is the task's id).
	PurchaseOrder string `json:"purchase_order,omitempty"`
}

// PickList is a pick list's header as events carry it.
type PickList struct {
	PickListID string   `json:"pick_list_id"`
	Warehouse  string   `json:"warehouse"`
	Carrier    string   `json:"carrier,omitempty"`
	Status     string   `json:"status"`
	WorkOrders []string `json:"work_orders,omitempty"`
	Tasks      []string `json:"tasks,omitempty"`
}

// Parcel is one box handed to a courier.
type Parcel struct {
	ParcelID        string `json:"parcel_id"`
	BoxNo           int    `json:"box_no"`
	WorkOrderID     string `json:"work_order_id"`
	DeliveryOrderID string `json:"delivery_order_id"`
	OrderID         string `json:"order_id"`
	Carrier         string `json:"carrier"`
	WaybillNo       string `json:"waybill_no"`
	WeightG         int64  `json:"weight_g"`
	State           string `json:"state,omitempty"` // TopicParcelTracked: COLLECTED, DELIVERED, REFUSED
	// Lines is what was packed in the parcel (its manifest for TMS);
	// Refused, once REFUSED, the units the customer refused.
	Lines   []ParcelLine `json:"lines,omitempty"`
	Refused []ParcelLine `json:"refused,omitempty"`
}

// ParcelLine is units of one SKU in a parcel.
type ParcelLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// HandoverCompleted is a handover batch.
type HandoverCompleted struct {
	BatchID   string   `json:"batch_id"`
	Warehouse string   `json:"warehouse"`
	Carrier   string   `json:"carrier"`
	Parcels   []Parcel `json:"parcels"`
}

// Partial outbound (DOMAIN 7.2).
const (
	// TopicShortageReported: a shortage was confirmed at the second QC of a
	// store order and what ships was decided; customer service hears of it.
	TopicShortageReported = "wms.shortage.reported"
	TypeShortageReported  = "wms.shortage.reported.v1"
)

// ShortLine is one line of a confirmed shortage.
type ShortLine struct {
	SKU      string `json:"sku"`
	Ordered  int64  `json:"ordered"`
	Short    int64  `json:"short"`
	Ship     int64  `json:"ship"`
	Withheld int64  `json:"withheld"` // under the minimum order quantity: back on the shelf
	Reason   string `json:"reason,omitempty"`
}

// ShortageReported is a confirmed shortage of a work order.
type ShortageReported struct {
	WorkOrderID  string      `json:"work_order_id"`
	WMSOrderID   string      `json:"wms_order_id"`
	OrderID      string      `json:"order_id"`
	Warehouse    string      `json:"warehouse"`
	BusinessType string      `json:"business_type"`
	Status       string      `json:"status"` // PICKED (what ships is packed) or SHORT_CLOSED
	Lines        []ShortLine `json:"lines"`
}

// TopicTaskProgressed: an RF scan picked a step of a task (the console's
// live view of a task).
const (
	TopicTaskProgressed = "wms.task.progressed"
	TypeTaskProgressed  = "wms.task.progressed.v1"
)

// TaskProgressed is a task after a pick scan.
type TaskProgressed struct {
	TaskID     string `json:"task_id"`
	PickListID string `json:"pick_list_id"`
	Warehouse  string `json:"warehouse"`
	Status     string `json:"status"`
	StepNo     int    `json:"step_no"`
	StepsDone  int    `json:"steps_done"`
	Steps      int    `json:"steps"`
}
