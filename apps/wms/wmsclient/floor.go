package wmsclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Outbound and physical stock (DOMAIN 7.1, 7.3): what the warehouse
// console (through the gateway), TMS and OMS call. Every route under
// v1/warehouses/{warehouse} acts in that warehouse only: a document of
// another is refused with CodeWrongWarehouse.

// More error codes.
const (
	CodeKeyReused      = "IDEMPOTENCY_KEY_REUSED"
	CodeInvalidState   = "INVALID_STATE"
	CodeTaskTaken      = "TASK_TAKEN"
	CodeWrongWarehouse = "WRONG_WAREHOUSE"
	// Scan refusals carry Details "expected" and "got".
	CodeWrongBin  = "WRONG_BIN"
	CodeWrongItem = "WRONG_ITEM"
	CodeTooMany   = "QTY_ABOVE_REMAINING"
	CodeTaskDone  = "TASK_COMPLETE"
	// CodeWeight carries Details "box_no", "expected_g", "got_g", "allowed_g".
	CodeWeight = "WEIGHT_OUT_OF_TOLERANCE"

	// Receiving against ERP's purchase orders; OVER_RECEIPT carries
	// details ordered, received and remaining.
	CodeUnknownPO   = "UNKNOWN_PURCHASE_ORDER"
	CodePOElsewhere = "PURCHASE_ORDER_OF_ANOTHER_WAREHOUSE"
	CodeNotOnPO     = "NOT_ON_PURCHASE_ORDER"
	CodeOverReceipt = "OVER_RECEIPT"
)

// Parcel tracking states (Parcel.Tracking; "" until collected).
const (
	ParcelCollected = "COLLECTED"
	ParcelDelivered = "DELIVERED"
	ParcelRefused   = "REFUSED"
)

// Item is a SKU's item master row.
type Item struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Zone        string `json:"zone"`
	Handling    string `json:"handling"` // STANDARD, VEGETABLE, BAGGED, OWN_BOX
	UnitWeightG int64  `json:"unit_weight_g"`
	StoreMOQ    int64  `json:"store_moq,omitempty"` // a retail store's minimum order quantity
}

// Zone is a storage zone: a temperature zone in the PICK or RESERVE area.
type Zone struct {
	Code string `json:"code"`
	Temp string `json:"temp_zone"`
	Area string `json:"area"`
}

// Bin is a storage bin in a zone.
type Bin struct {
	Bin  string `json:"bin"`
	Zone string `json:"zone"`
}

// ReceiptRequest receives goods against a purchase order into a bin, or
// (Bin empty) at the dock, to be put away after.
type ReceiptRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	PurchaseOrder  string `json:"purchase_order"`
	Bin            string `json:"bin"`
	SKU            string `json:"sku"`
	Batch          string `json:"batch"`
	ProductionDate string `json:"production_date"` // YYYY-MM-DD
	ExpiryDate     string `json:"expiry_date"`
	Qty            int64  `json:"qty"`
	Operator       string `json:"operator"`
}

// GoodsReceipt is a recorded receipt.
type GoodsReceipt struct {
	ReceiptID string `json:"receipt_id"`
	Duplicate bool   `json:"duplicate"`
}

// BinStock is one batch of a SKU in a bin.
type BinStock struct {
	Bin            string `json:"bin"`
	Area           string `json:"area"`
	Zone           string `json:"zone"`
	SKU            string `json:"sku"`
	Batch          string `json:"batch"`
	ProductionDate string `json:"production_date"`
	ExpiryDate     string `json:"expiry_date"`
	OnHand         int64  `json:"on_hand"`
	Occupied       int64  `json:"occupied"`
}

// Movement is one stock movement.
type Movement struct {
	ID       string    `json:"id"`
	Bin      string    `json:"bin"`
	SKU      string    `json:"sku"`
	Batch    string    `json:"batch"`
	Kind     string    `json:"kind"`
	Qty      int64     `json:"qty"`
	Ref      string    `json:"ref"`
	At       time.Time `json:"at"`
	Uploaded bool      `json:"uploaded"`
}

// WorkLine is a work order line with what was picked and checked.
type WorkLine struct {
	LineNo int    `json:"line_no"`
	SKU    string `json:"sku"`
	Name   string `json:"name"`
	Qty    int64  `json:"qty"`
	Picked int64  `json:"picked"`
	QCed   int64  `json:"qced"`
}

// Pick is bin stock a work order holds.
type Pick struct {
	Bin    string `json:"bin"`
	SKU    string `json:"sku"`
	Batch  string `json:"batch"`
	Qty    int64  `json:"qty"`
	Picked int64  `json:"picked"`
}

// WorkOrder is a work order (sales_order) with its lines and picks.
type WorkOrder struct {
	ID         string     `json:"id"`
	WMSOrderID string     `json:"wms_order_id"`
	Carrier    string     `json:"carrier"`
	Zone       string     `json:"zone"`
	Handling   string     `json:"handling"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	PickListID string     `json:"pick_list_id,omitempty"`
	Slot       int        `json:"slot,omitempty"`
	Lines      []WorkLine `json:"lines"`
	Picks      []Pick     `json:"picks,omitempty"`
}

// PickListRequest puts work orders on a cart.
type PickListRequest struct {
	IdempotencyKey string   `json:"idempotency_key"`
	Operator       string   `json:"operator"`
	WorkOrderIDs   []string `json:"work_order_ids"`
}

// Step is one bin visit of a task.
type Step struct {
	StepNo      int    `json:"step_no"`
	WorkOrderID string `json:"work_order_id"`
	Slot        int    `json:"slot"`
	Bin         string `json:"bin"`
	SKU         string `json:"sku"`
	Batch       string `json:"batch"`
	Qty         int64  `json:"qty"`
	Picked      int64  `json:"picked"`
}

// Task is an RF pick task; Next is the step the picker goes to (0: done).
type Task struct {
	ID         string `json:"id"`
	PickListID string `json:"pick_list_id"`
	Zone       string `json:"zone"`
	Status     string `json:"status"`
	Picker     string `json:"picker,omitempty"`
	Next       int    `json:"next_step"`
	Steps      []Step `json:"steps"`
}

// PickList is a cart of work orders with its tasks.
type PickList struct {
	ID         string   `json:"id"`
	Carrier    string   `json:"carrier"`
	Status     string   `json:"status"`
	WorkOrders []string `json:"work_orders"`
	Tasks      []Task   `json:"tasks"`
}

// ClaimRequest claims a task for a picker.
type ClaimRequest struct {
	Picker string `json:"picker"`
}

// ScanRequest is one RF pick scan.
type ScanRequest struct {
	Picker         string `json:"picker"`
	IdempotencyKey string `json:"idempotency_key"`
	Bin            string `json:"bin"`
	SKU            string `json:"sku"`
	Qty            int64  `json:"qty"`
}

// ScanResult is the task after a scan.
type ScanResult struct {
	Task       Task `json:"task"`
	StepNo     int  `json:"step_no"`
	ListPicked bool `json:"list_picked"`
	Duplicate  bool `json:"duplicate"`
}

// QCView is a cart at the bench: its work orders in slot order.
type QCView struct {
	PickList   PickList    `json:"pick_list"`
	WorkOrders []WorkOrder `json:"work_orders"`
}

// QCScanRequest checks items off a cart.
type QCScanRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	SKU            string `json:"sku"`
	Qty            int64  `json:"qty"`
}

// QCResult says which work order and slot the items go to.
type QCResult struct {
	WorkOrderID string `json:"work_order_id"`
	Slot        int    `json:"slot"`
	Duplicate   bool   `json:"duplicate"`
}

// BoxLine is a SKU and quantity in a box.
type BoxLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// BoxInput is one box to pack: contents and weight (0: not weighed).
type BoxInput struct {
	Lines   []BoxLine `json:"lines"`
	WeightG int64     `json:"weight_g,omitempty"`
}

// PackRequest packs a work order.
type PackRequest struct {
	IdempotencyKey string     `json:"idempotency_key"`
	Boxes          []BoxInput `json:"boxes"`
}

// Box is a packed box.
type Box struct {
	ID        string    `json:"id"`
	BoxNo     int       `json:"box_no"`
	ExpectedG int64     `json:"expected_g"`
	WeightG   int64     `json:"weight_g"`
	Lines     []BoxLine `json:"lines"`
}

// HandoverRequest hands a courier's packed parcels over.
type HandoverRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	Carrier        string `json:"carrier"`
}

// Parcel is a box handed to a courier, with its tracking state.
type Parcel struct {
	ParcelID        string `json:"parcel_id"`
	BoxNo           int    `json:"box_no"`
	WorkOrderID     string `json:"work_order_id"`
	DeliveryOrderID string `json:"delivery_order_id"`
	OrderID         string `json:"order_id"`
	Carrier         string `json:"carrier"`
	WaybillNo       string `json:"waybill_no"`
	WeightG         int64  `json:"weight_g"`
	Tracking        string `json:"tracking"`
	// RefusedLines: a REFUSED parcel's units the customer refused (the
	// courier's report, or the whole parcel).
	RefusedLines []ParcelLine `json:"refused_lines,omitempty"`
}

// ParcelLine is units of one SKU in a parcel.
type ParcelLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// Handover is a handover batch.
type Handover struct {
	ID        string   `json:"id"`
	Carrier   string   `json:"carrier"`
	Parcels   []Parcel `json:"parcels"`
	Duplicate bool     `json:"duplicate"`
	// As listed or read back: how many parcels, when it was formed and
	// when TMS took them (nil until imported).
	ParcelCount int        `json:"parcel_count,omitempty"`
	At          *time.Time `json:"at,omitempty"`
	ImportedAt  *time.Time `json:"imported_at,omitempty"`
}

// HandoverBatches lists handover batches, newest first, without parcels.
func (c *Client) HandoverBatches(ctx context.Context, wh, carrier string, limit int) ([]Handover, error) {
	var out []Handover
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "handovers")+"?carrier="+url.QueryEscape(carrier)+"&limit="+strconv.Itoa(limit), nil, &out)
}

// HandoverBatch reads one handover batch with its parcels.
func (c *Client) HandoverBatch(ctx context.Context, wh, id string) (Handover, error) {
	var out Handover
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "handovers", url.PathEscape(id)), nil, &out)
}

// OrderParcels is what WMS has packed for an OMS order: its parcels and
// how many work orders are still to be packed.
type OrderParcels struct {
	OrderID  string   `json:"order_id"`
	Parcels  []Parcel `json:"parcels"`
	Unpacked int      `json:"unpacked"`
}

func whPath(wh string, parts ...string) string {
	p := "v1/warehouses/" + url.PathEscape(wh)
	for _, s := range parts {
		p += "/" + s
	}
	return p
}

// PutItem sets a SKU's item master row.
func (c *Client) PutItem(ctx context.Context, it Item) (Item, error) {
	var out Item
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/items", it, &out)
}

// PutZone creates a zone.
func (c *Client) PutZone(ctx context.Context, wh string, z Zone) (Zone, error) {
	var out Zone
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "zones"), z, &out)
}

// PutBin creates a bin.
func (c *Client) PutBin(ctx context.Context, wh string, b Bin) (Bin, error) {
	var out Bin
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "bins"), b, &out)
}

// ReceiveGoods receives goods into a bin.
func (c *Client) ReceiveGoods(ctx context.Context, wh string, r ReceiptRequest) (GoodsReceipt, error) {
	var out GoodsReceipt
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "receipts"), r, &out)
}

// ReceiptRecord is a goods receipt as recorded.
type ReceiptRecord struct {
	ReceiptID      string    `json:"receipt_id"`
	PurchaseOrder  string    `json:"purchase_order"`
	Bin            string    `json:"bin"`
	SKU            string    `json:"sku"`
	Batch          string    `json:"batch"`
	ProductionDate string    `json:"production_date"`
	ExpiryDate     string    `json:"expiry_date"`
	Qty            int64     `json:"qty"`
	PutAway        int64     `json:"put_away"` // in bins; the rest waits at the dock
	Operator       string    `json:"operator"`
	At             time.Time `json:"at"`
}

// PutAwayReceiptRequest puts part of a receipt waiting at the dock into a bin.
type PutAwayReceiptRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	Bin            string `json:"bin"`
	Qty            int64  `json:"qty"`
	Operator       string `json:"operator"`
}

// PutAwayReceipt puts part of a receipt waiting at the dock into a bin;
// it answers the receipt as it stands after.
func (c *Client) PutAwayReceipt(ctx context.Context, wh, receiptID string, r PutAwayReceiptRequest) (ReceiptRecord, error) {
	var out ReceiptRecord
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "receipts", url.PathEscape(receiptID), "put-aways"), r, &out)
}

// POLine is a purchase order line with what the warehouse received of it.
type POLine struct {
	SKU      string `json:"sku"`
	Ordered  int64  `json:"ordered"`
	Received int64  `json:"received"`
}

// PurchaseOrder is ERP's purchase order with the warehouse's receipts.
type PurchaseOrder struct {
	ID        string   `json:"id"`
	Warehouse string   `json:"warehouse"`
	Supplier  string   `json:"supplier"`
	Lines     []POLine `json:"lines"`
}

// Receipts lists goods receipts, newest first (of one purchase order, or all).
func (c *Client) Receipts(ctx context.Context, wh, po string, limit int) ([]ReceiptRecord, error) {
	var out []ReceiptRecord
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "receipts")+"?purchase_order="+url.QueryEscape(po)+"&limit="+strconv.Itoa(limit), nil, &out)
}

// PurchaseOrder reads ERP's purchase order with what the warehouse received.
func (c *Client) PurchaseOrder(ctx context.Context, wh, id string) (PurchaseOrder, error) {
	var out PurchaseOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "purchase-orders/"+url.PathEscape(id)), nil, &out)
}

// StockQuery narrows a bin-stock listing; empty fields select all.
type StockQuery struct {
	SKU, Bin, Batch string
	ExpiringBefore  string // YYYY-MM-DD
}

// BinStock lists batch stock per bin as q selects it.
func (c *Client) BinStock(ctx context.Context, wh string, q StockQuery) ([]BinStock, error) {
	var out []BinStock
	v := url.Values{}
	for k, s := range map[string]string{"sku": q.SKU, "bin": q.Bin, "batch": q.Batch, "expiring_before": q.ExpiringBefore} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "stock")+"?"+v.Encode(), nil, &out)
}

// Movements lists the latest stock movements.
func (c *Client) Movements(ctx context.Context, wh, sku string, limit int) ([]Movement, error) {
	var out []Movement
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "movements")+"?sku="+url.QueryEscape(sku)+"&limit="+strconv.Itoa(limit), nil, &out)
}

// WorkOrders lists work orders in a status, oldest first, after a cursor.
func (c *Client) WorkOrders(ctx context.Context, wh, status, after string, limit int) ([]WorkOrder, error) {
	var out []WorkOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "work-orders")+"?status="+url.QueryEscape(status)+
		"&after="+url.QueryEscape(after)+"&limit="+strconv.Itoa(limit), nil, &out)
}

// WorkOrder returns a work order with its picks.
func (c *Client) WorkOrder(ctx context.Context, wh, id string) (WorkOrder, error) {
	var out WorkOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "work-orders", url.PathEscape(id)), nil, &out)
}

// OrderWorkOrders lists the work orders a received order (WMS order id or
// delivery order id) was split into.
func (c *Client) OrderWorkOrders(ctx context.Context, wh, id string) ([]WorkOrder, error) {
	var out []WorkOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "orders", url.PathEscape(id), "work-orders"), nil, &out)
}

// CreatePickList puts work orders on a cart.
func (c *Client) CreatePickList(ctx context.Context, wh string, r PickListRequest) (PickList, error) {
	var out PickList
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "pick-lists"), r, &out)
}

// PickLists lists pick lists in a status, newest first.
func (c *Client) PickLists(ctx context.Context, wh, status string, limit int) ([]PickList, error) {
	var out []PickList
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "pick-lists")+"?status="+url.QueryEscape(status)+"&limit="+strconv.Itoa(limit), nil, &out)
}

// PickList returns a pick list.
func (c *Client) PickList(ctx context.Context, wh, id string) (PickList, error) {
	var out PickList
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "pick-lists", url.PathEscape(id)), nil, &out)
}

// Task returns an RF task.
func (c *Client) Task(ctx context.Context, wh, id string) (Task, error) {
	var out Task
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "tasks", url.PathEscape(id)), nil, &out)
}

// ClaimTask claims a task for a picker.
func (c *Client) ClaimTask(ctx context.Context, wh, id string, r ClaimRequest) (Task, error) {
	var out Task
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "tasks", url.PathEscape(id), "claim"), r, &out)
}

// Scan is one RF pick scan.
func (c *Client) Scan(ctx context.Context, wh, id string, r ScanRequest) (ScanResult, error) {
	var out ScanResult
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "tasks", url.PathEscape(id), "scans"), r, &out)
}

// QCView is a cart at the bench (the checker scanned its container).
func (c *Client) QCView(ctx context.Context, wh, pickListID string) (QCView, error) {
	var out QCView
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "pick-lists", url.PathEscape(pickListID), "qc"), nil, &out)
}

// QCScan checks items off a cart.
func (c *Client) QCScan(ctx context.Context, wh, pickListID string, r QCScanRequest) (QCResult, error) {
	var out QCResult
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "pick-lists", url.PathEscape(pickListID), "qc-scans"), r, &out)
}

// Pack packs a work order into boxes.
func (c *Client) Pack(ctx context.Context, wh, workOrderID string, r PackRequest) ([]Box, error) {
	var out []Box
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "work-orders", url.PathEscape(workOrderID), "pack"), r, &out)
}

// Boxes returns a work order's boxes.
func (c *Client) Boxes(ctx context.Context, wh, workOrderID string) ([]Box, error) {
	var out []Box
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "work-orders", url.PathEscape(workOrderID), "boxes"), nil, &out)
}

// Handover hands a courier's packed parcels over.
func (c *Client) Handover(ctx context.Context, wh string, r HandoverRequest) (Handover, error) {
	var out Handover
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "handovers"), r, &out)
}

// OrderParcels answers what WMS packed for an OMS order (OMS asks it
// before believing a parcel event).
func (c *Client) OrderParcels(ctx context.Context, orderID string) (OrderParcels, error) {
	var out OrderParcels
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/order-parcels/"+url.PathEscape(orderID), nil, &out)
}

// Partial outbound (DOMAIN 7.2).

// QCConfirmation lists the work orders a QC confirm found short.
type QCConfirmation struct {
	WithDifferences []string `json:"with_differences"`
}

// SecondQCRequest re-checks items of a work order by its number.
type SecondQCRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	SKU            string `json:"sku"`
	Qty            int64  `json:"qty"`
}

// ShortageRequest confirms a work order's shortage with the reasons by
// SKU (DAMAGED, MISSING; default DAMAGED).
type ShortageRequest struct {
	IdempotencyKey string            `json:"idempotency_key"`
	Reasons        map[string]string `json:"reasons,omitempty"`
}

// ShortLine is a line's outcome at a confirmed shortage.
type ShortLine struct {
	SKU      string `json:"sku"`
	Ordered  int64  `json:"ordered"`
	Short    int64  `json:"short"`
	Ship     int64  `json:"ship"`
	Withheld int64  `json:"withheld"`
	Reason   string `json:"reason,omitempty"`
}

// Shortage is a confirmed shortage: the work order after it and what the
// business type's chain decided.
type Shortage struct {
	WorkOrder WorkOrder   `json:"work_order"`
	Lines     []ShortLine `json:"lines"`
	Losses    int         `json:"losses"`
	PutAways  int         `json:"put_aways"`
}

// PutAwayTask is an RF put-away task.
type PutAwayTask struct {
	ID          string `json:"id"`
	WorkOrderID string `json:"work_order_id"`
	Bin         string `json:"bin"`
	SKU         string `json:"sku"`
	Batch       string `json:"batch"`
	Qty         int64  `json:"qty"`
	Status      string `json:"status"`
	Operator    string `json:"operator,omitempty"`
}

// PutAwayRequest confirms a put-away at the scanned bin.
type PutAwayRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	Operator       string `json:"operator"`
	Bin            string `json:"bin"`
}

// ConfirmQC confirms QC on a picked cart.
func (c *Client) ConfirmQC(ctx context.Context, wh, pickListID string) (QCConfirmation, error) {
	var out QCConfirmation
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "pick-lists", url.PathEscape(pickListID), "qc-confirm"), struct{}{}, &out)
}

// SecondQC re-checks items of a QC_SHORT work order.
func (c *Client) SecondQC(ctx context.Context, wh, workOrderID string, r SecondQCRequest) (WorkOrder, error) {
	var out WorkOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "work-orders", url.PathEscape(workOrderID), "second-qc"), r, &out)
}

// ConfirmShortage confirms a work order's shortage.
func (c *Client) ConfirmShortage(ctx context.Context, wh, workOrderID string, r ShortageRequest) (Shortage, error) {
	var out Shortage
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "work-orders", url.PathEscape(workOrderID), "shortage"), r, &out)
}

// PutAwayTasks lists put-away tasks in a status (OPEN, DONE).
func (c *Client) PutAwayTasks(ctx context.Context, wh, status string, limit int) ([]PutAwayTask, error) {
	var out []PutAwayTask
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, whPath(wh, "putaway-tasks")+"?status="+url.QueryEscape(status)+"&limit="+strconv.Itoa(limit), nil, &out)
}

// ConfirmPutAway puts a task's units back at the scanned bin.
func (c *Client) ConfirmPutAway(ctx context.Context, wh, id string, r PutAwayRequest) (PutAwayTask, error) {
	var out PutAwayTask
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, whPath(wh, "putaway-tasks", url.PathEscape(id), "confirm"), r, &out)
}

// StoreCustomer makes a customer a retail store whose orders take
// BusinessType's chain at a shortage (STORE_LOSS, STORE_LOSS_PUTAWAY,
// STORE_PUTAWAY; STANDARD undoes it).
type StoreCustomer struct {
	CustomerID   string `json:"customer_id"`
	BusinessType string `json:"business_type"`
}
