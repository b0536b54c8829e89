// Package partnersclient is the typed client for the systems outside the
// company that fulfillment calls: SMS, official-account and mini-program
// push, finance vouchers, fraud scoring, presale/purchasing, TMS waybills,
// invoicing and drop-ship suppliers. Locally apps/partners stands in for all
// of them; in production the target app id names Dapr HTTPEndpoint
// resources for the real systems, so only configuration changes.
//
// Every call carries the caller's idempotency id (message, voucher, order or
// delivery-order id) and the partner answers a repeated id with its first
// result, as the real systems do: a stage run twice sends no second SMS and
// asks for no second waybill.
package partnersclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// DefaultAppID is the partners stand-in's Dapr app id.
const DefaultAppID = "partners"

// Push channels.
const (
	PushOfficialAccount = "OFFICIAL_ACCOUNT"
	PushMiniProgram     = "MINI_PROGRAM"
)

// Fraud decisions.
const (
	FraudAccept = "ACCEPT"
	FraudReview = "REVIEW"
	FraudReject = "REJECT"
)

// Error codes partners answer with.
const (
	CodeRejected = "REJECTED" // a business refusal that retrying will not change
	// A refusal at the door whose lines do not match the parcel's
	// manifest: a SKU it does not hold, or more units than it holds.
	CodeLineNotInParcel = "LINE_NOT_IN_PARCEL"
	CodeQtyAboveParcel  = "QTY_ABOVE_PARCEL"
	CodeUnavailable     = "UNAVAILABLE" // switched-on failure; retry later
)

// SMS is one text message to one recipient (the SMS API takes one at a time).
type SMS struct {
	MessageID string            `json:"message_id"`
	Phone     string            `json:"phone"`
	Template  string            `json:"template"` // ORDER_PAID, REISSUE_CREATED, EXCHANGE_CREATED, COUPON_GRANTED ...
	Params    map[string]string `json:"params,omitempty"`
}

// Push is one notification to a customer's official account or mini-program.
type Push struct {
	MessageID  string            `json:"message_id"`
	CustomerID string            `json:"customer_id"`
	Channel    string            `json:"channel"`
	Template   string            `json:"template"`
	Params     map[string]string `json:"params,omitempty"`
}

// Receipt acknowledges a message or document; Duplicate tells that the id had
// been received before and nothing new happened.
type Receipt struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// VoucherLine is one line of a payment voucher.
type VoucherLine struct {
	SKU       string    `json:"sku"`
	AmountFen money.Fen `json:"amount_fen"`
	TaxRateBP int64     `json:"tax_rate_bp"`
}

// Voucher is the payment voucher pushed to finance (FMS) in stage 6.
type Voucher struct {
	VoucherID  string        `json:"voucher_id"`
	OrderID    string        `json:"order_id"`
	CustomerID string        `json:"customer_id"`
	CashFen    money.Fen     `json:"cash_fen"`
	NonCashFen money.Fen     `json:"non_cash_fen"`
	TotalFen   money.Fen     `json:"total_fen"`
	Lines      []VoucherLine `json:"lines"`
}

// FraudRequest asks the risk service (Tongdun-like) to score an order.
type FraudRequest struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	AmountFen  money.Fen `json:"amount_fen"`
	Phone      string    `json:"phone"`
	Address    string    `json:"address"`
}

// FraudVerdict is the risk service's answer.
type FraudVerdict struct {
	Score    int    `json:"score"` // 0..100
	Decision string `json:"decision"`
}

// GoodsLine is a SKU and quantity sent to an outside system.
type GoodsLine struct {
	SKU  string `json:"sku"`
	Name string `json:"name,omitempty"`
	Qty  int64  `json:"qty"`
}

// PresaleOrder pushes an order's presale lines to purchasing.
type PresaleOrder struct {
	OrderID string      `json:"order_id"`
	Lines   []GoodsLine `json:"lines"`
}

// WaybillRequest asks TMS for a courier and waybill for one delivery order.
type WaybillRequest struct {
	DeliveryOrderID string `json:"delivery_order_id"`
	Warehouse       string `json:"warehouse"`
	Address         string `json:"address"`
	Phone           string `json:"phone"`
	DeliveryDate    string `json:"delivery_date"`
	Express         bool   `json:"express"`
}

// Waybill is TMS's answer.
type Waybill struct {
	Carrier   string `json:"carrier"`
	WaybillNo string `json:"waybill_no"`
	Duplicate bool   `json:"duplicate"`
}

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	SKU       string    `json:"sku"`
	Name      string    `json:"name"`
	Qty       int64     `json:"qty"`
	AmountFen money.Fen `json:"amount_fen"`
	TaxRateBP int64     `json:"tax_rate_bp"`
}

// InvoiceRequest pushes invoice data to the invoicing system.
type InvoiceRequest struct {
	InvoiceID string        `json:"invoice_id"`
	OrderID   string        `json:"order_id"`
	Title     string        `json:"title"`
	Lines     []InvoiceLine `json:"lines"`
}

// SupplierOrder sends drop-ship lines (产地直发) to the supplier who ships them.
type SupplierOrder struct {
	DeliveryOrderID string      `json:"delivery_order_id"`
	Supplier        string      `json:"supplier"`
	Lines           []GoodsLine `json:"lines"`
	Name            string      `json:"name"`
	Phone           string      `json:"phone"`
	Address         string      `json:"address"`
	DeliveryDate    string      `json:"delivery_date"`
}

// Client calls the outside systems through the caller's sidecar.
type Client struct {
	inv   Invoker
	appID string
}

// Invoker is service invocation as the client uses it (*daprx.Invoker;
// tests pass an in-process one).
type Invoker interface {
	Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error
}

var _ Invoker = (*daprx.Invoker)(nil)

// New returns a client; appID is DefaultAppID locally.
func New(inv Invoker, appID string) *Client {
	if appID == "" {
		appID = DefaultAppID
	}
	return &Client{inv: inv, appID: appID}
}

func (c *Client) post(ctx context.Context, method string, in, out any) error {
	return c.inv.Invoke(ctx, c.appID, http.MethodPost, method, in, out)
}

// receipt posts in to an outside system whose answer is a Receipt.
func (c *Client) receipt(ctx context.Context, method string, in any) (Receipt, error) {
	var r Receipt
	err := c.post(ctx, method, in, &r)
	return r, err
}

// SendSMS sends one SMS.
func (c *Client) SendSMS(ctx context.Context, m SMS) (Receipt, error) {
	return c.receipt(ctx, "sms/v1/messages", m)
}

// SendPush sends one push notification.
func (c *Client) SendPush(ctx context.Context, p Push) (Receipt, error) {
	return c.receipt(ctx, "push/v1/messages", p)
}

// PushVoucher sends a payment voucher to finance.
func (c *Client) PushVoucher(ctx context.Context, v Voucher) (Receipt, error) {
	return c.receipt(ctx, "fms/v1/payment-vouchers", v)
}

// ScoreFraud asks for a fraud verdict; repeated order ids get the same verdict.
func (c *Client) ScoreFraud(ctx context.Context, f FraudRequest) (FraudVerdict, error) {
	var v FraudVerdict
	return v, c.post(ctx, "risk/v1/scores", f, &v)
}

// PushPresale sends presale lines to purchasing.
func (c *Client) PushPresale(ctx context.Context, p PresaleOrder) (Receipt, error) {
	return c.receipt(ctx, "presale/v1/orders", p)
}

// RequestWaybill asks TMS for a waybill; a repeated delivery order id gets
// the same waybill.
func (c *Client) RequestWaybill(ctx context.Context, w WaybillRequest) (Waybill, error) {
	var out Waybill
	return out, c.post(ctx, "tms/v1/waybills", w, &out)
}

// IssueInvoice pushes invoice data.
func (c *Client) IssueInvoice(ctx context.Context, i InvoiceRequest) (Receipt, error) {
	return c.receipt(ctx, "invoice/v1/invoices", i)
}

// SendToSupplier dispatches drop-ship lines to their supplier.
func (c *Client) SendToSupplier(ctx context.Context, s SupplierOrder) (Receipt, error) {
	return c.receipt(ctx, "suppliers/v1/orders", s)
}

// Parcel states TMS reports.
const (
	ParcelImported  = "IMPORTED"
	ParcelCollected = "COLLECTED"
	ParcelDelivered = "DELIVERED"
	ParcelRefused   = "REFUSED"
)

// ParcelImport is a handover batch's parcels, imported into TMS once per
// batch id (DOMAIN 7.1 step 8).
type ParcelImport struct {
	BatchID string           `json:"batch_id"`
	Carrier string           `json:"carrier"`
	Parcels []ImportedParcel `json:"parcels"`
}

// ImportedParcel is one parcel of an import.
type ImportedParcel struct {
	ParcelID        string `json:"parcel_id"`
	WaybillNo       string `json:"waybill_no"`
	OrderID         string `json:"order_id"`
	DeliveryOrderID string `json:"delivery_order_id"`
	WeightG         int64  `json:"weight_g"`
	// Lines is the parcel's manifest, what the courier checks a refusal
	// at the door against (one line per SKU).
	Lines []ParcelLine `json:"lines,omitempty"`
}

// ParcelLine is units of one SKU in a parcel: its manifest, or what the
// customer refused of it at the door.
type ParcelLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// ParcelState is where TMS has a parcel, and since when.
type ParcelState struct {
	ParcelID string    `json:"parcel_id"`
	State    string    `json:"state"`
	At       time.Time `json:"at"`
	// RefusedLines is the courier's report of a REFUSED parcel: the units
	// the customer refused; none means the whole parcel.
	RefusedLines []ParcelLine `json:"refused_lines,omitempty"`
}

// ImportParcels imports a handover batch's parcels into TMS.
func (c *Client) ImportParcels(ctx context.Context, in ParcelImport) (Receipt, error) {
	return c.receipt(ctx, "tms/v1/parcel-imports", in)
}

// GetParcel asks TMS where a parcel stands.
func (c *Client) GetParcel(ctx context.Context, parcelID string) (ParcelState, error) {
	var p ParcelState
	return p, c.inv.Invoke(ctx, c.appID, http.MethodGet, "tms/v1/parcels/"+url.PathEscape(parcelID), nil, &p)
}

// StockMovement is one WMS stock movement uploaded to ERP, once by its id.
type StockMovement struct {
	ID        string    `json:"id"`
	Warehouse string    `json:"warehouse"`
	Bin       string    `json:"bin"`
	SKU       string    `json:"sku"`
	Batch     string    `json:"batch"`
	Kind      string    `json:"kind"`
	Qty       int64     `json:"qty"`
	Ref       string    `json:"ref"`
	At        time.Time `json:"at"`
}

// MovementUpload is a batch of movements.
type MovementUpload struct {
	Movements []StockMovement `json:"movements"`
}

// UploadReceipt says how many movements were new and how many ERP had.
type UploadReceipt struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// UploadMovements uploads stock movements to ERP (idempotent by id).
func (c *Client) UploadMovements(ctx context.Context, in MovementUpload) (UploadReceipt, error) {
	var r UploadReceipt
	return r, c.post(ctx, "erp/v1/stock-movements", in, &r)
}

// AudienceConditions select users in BI's audience export (DOMAIN 3.2): a
// minimum number of orders, and (when set) one of the cities.
type AudienceConditions struct {
	MinOrders int      `json:"min_orders"`
	Cities    []string `json:"cities,omitempty"`
}

// AudienceRequest asks for one page of the users matching Conditions from
// Cursor ("" for the first page).
type AudienceRequest struct {
	Conditions AudienceConditions `json:"conditions"`
	Cursor     string             `json:"cursor,omitempty"`
	Limit      int                `json:"limit,omitempty"`
}

// AudienceUser is one matching user and the mobile BI holds for them.
type AudienceUser struct {
	CustomerID string `json:"customer_id"`
	Phone      string `json:"phone"`
}

// AudiencePage is one page; Done means no user is left after NextCursor.
type AudiencePage struct {
	Users      []AudienceUser `json:"users"`
	NextCursor string         `json:"next_cursor"`
	Done       bool           `json:"done"`
}

// ExportAudience reads one page of BI's audience export.
func (c *Client) ExportAudience(ctx context.Context, r AudienceRequest) (AudiencePage, error) {
	var p AudiencePage
	return p, c.post(ctx, "bi/v1/audiences/export", r, &p)
}

// CodePONotFound is ERP's answer for a purchase order it does not have.
const CodePONotFound = "PO_NOT_FOUND"

// PurchaseOrderLine is a SKU and the quantity the supplier is to deliver.
type PurchaseOrderLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// PurchaseOrder is what a supplier is to deliver to a warehouse; WMS
// receives goods against its lines.
type PurchaseOrder struct {
	ID        string              `json:"id"`
	Warehouse string              `json:"warehouse"`
	Supplier  string              `json:"supplier"`
	Lines     []PurchaseOrderLine `json:"lines"`
}

// PurchaseOrder reads a purchase order from ERP (CodePONotFound when it
// has none by that id).
func (c *Client) PurchaseOrder(ctx context.Context, id string) (PurchaseOrder, error) {
	var p PurchaseOrder
	return p, c.inv.Invoke(ctx, c.appID, http.MethodGet, "erp/v1/purchase-orders/"+url.PathEscape(id), nil, &p)
}

// PickupRequest asks TMS for a courier to collect returned goods at the
// customer's door (the reverse flow's return with pickup), once per
// pickup id.
type PickupRequest struct {
	PickupID string      `json:"pickup_id"`
	OrderID  string      `json:"order_id"`
	Name     string      `json:"name"`
	Phone    string      `json:"phone"`
	Address  string      `json:"address"`
	Lines    []GoodsLine `json:"lines"`
}

// RequestPickup books a pickup courier; the answer's ID is the return
// waybill number, the same on every repeat.
func (c *Client) RequestPickup(ctx context.Context, p PickupRequest) (Receipt, error) {
	return c.receipt(ctx, "tms/v1/pickups", p)
}

// RefundVoucher books a refund at finance (FMS), once per voucher id.
type RefundVoucher struct {
	VoucherID  string    `json:"voucher_id"`
	OrderID    string    `json:"order_id"`
	RequestID  string    `json:"request_id"`
	Kind       string    `json:"kind"` // RETURN, REJECTION
	CashFen    money.Fen `json:"cash_fen"`
	NonCashFen money.Fen `json:"non_cash_fen"`
	RefundID   string    `json:"refund_id,omitempty"` // PAY's cash refund
}

// PushRefundVoucher sends a refund voucher to finance.
func (c *Client) PushRefundVoucher(ctx context.Context, v RefundVoucher) (Receipt, error) {
	return c.receipt(ctx, "fms/v1/refund-vouchers", v)
}
