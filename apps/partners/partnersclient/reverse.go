package partnersclient

import (
	"context"

	"github.com/harvest/harvest/apps/platform/money"
)

// The outside systems the reverse flow (DOMAIN 5) pushes to beside TMS's
// pickups and finance's refund vouchers: finance's settlement data,
// purchasing's presale sellable stock, drop-ship suppliers' purchase
// returns and interceptions. Each takes its caller's id once, like every
// other outside API.

// CodeSupplierShipped: the drop-ship supplier shipped the delivery order
// already; it cannot be intercepted (409).
const CodeSupplierShipped = "SUPPLIER_SHIPPED"

// CodeIntercepted: the supplier refuses a delivery order it intercepted
// before it arrived (400: sending it again will not change that).
const CodeIntercepted = "INTERCEPTED"

// SettlementLine is one line's part of a settlement.
type SettlementLine struct {
	SKU        string    `json:"sku"`
	Qty        int64     `json:"qty"`
	CashFen    money.Fen `json:"cash_fen"`
	NonCashFen money.Fen `json:"non_cash_fen"`
	FreightFen money.Fen `json:"freight_fen"`
}

// Settlement is the settlement data finance books for an after-sales
// request (推送数据给FMS，结算): what of the order's sale is undone, per
// line, once per settlement id.
type Settlement struct {
	SettlementID string           `json:"settlement_id"`
	OrderID      string           `json:"order_id"`
	RequestID    string           `json:"request_id"`
	Kind         string           `json:"kind"` // CANCEL, RETURN, REJECTION
	CashFen      money.Fen        `json:"cash_fen"`
	NonCashFen   money.Fen        `json:"non_cash_fen"`
	FreightFen   money.Fen        `json:"freight_fen"`
	Lines        []SettlementLine `json:"lines"`
}

// PushSettlement sends settlement data to finance.
func (c *Client) PushSettlement(ctx context.Context, s Settlement) (Receipt, error) {
	return c.receipt(ctx, "fms/v1/settlements", s)
}

// PresaleStockUpdate gives presale units back to purchasing's presale
// sellable count (预售可卖数), once per update id: the units of a
// cancelled or refused order's presale lines may be sold again.
type PresaleStockUpdate struct {
	UpdateID string      `json:"update_id"`
	OrderID  string      `json:"order_id"`
	Kind     string      `json:"kind"` // CANCEL, REJECTION
	Lines    []GoodsLine `json:"lines"`
}

// UpdatePresaleStock sends a presale sellable-stock update to purchasing.
func (c *Client) UpdatePresaleStock(ctx context.Context, u PresaleStockUpdate) (Receipt, error) {
	return c.receipt(ctx, "presale/v1/sellable-stock", u)
}

// PurchaseReturn is a drop-ship supplier's purchase return with a virtual
// outbound (产地直发采退单虚出): the units a customer returned or refused
// are charged back to the supplier, whose goods never passed a warehouse
// of ours; once per return id. The answer's ID is the supplier's number.
type PurchaseReturn struct {
	ReturnID  string      `json:"return_id"`
	Supplier  string      `json:"supplier"`
	OrderID   string      `json:"order_id"`
	RequestID string      `json:"request_id"`
	Kind      string      `json:"kind"` // RETURN, REJECTION
	Lines     []GoodsLine `json:"lines"`
}

// ReturnToSupplier sends a purchase return to a drop-ship supplier.
func (c *Client) ReturnToSupplier(ctx context.Context, p PurchaseReturn) (Receipt, error) {
	return c.receipt(ctx, "suppliers/v1/purchase-returns", p)
}

// SupplierInterception asks a drop-ship supplier to stop a delivery order
// (the reverse flow's cancel). A delivery order the supplier has not
// received yet is stopped too: it is refused when it arrives
// (CodeIntercepted). One it shipped answers CodeSupplierShipped.
type SupplierInterception struct {
	DeliveryOrderID string `json:"delivery_order_id"`
	Supplier        string `json:"supplier"`
	Reason          string `json:"reason"`
}

// ReleaseAtSupplier lifts an interception at a drop-ship supplier (the
// cancel it was for was refused): a received delivery order ships again,
// a tombstone is dropped; repeating it answers the same.
func (c *Client) ReleaseAtSupplier(ctx context.Context, i SupplierInterception) (Receipt, error) {
	return c.receipt(ctx, "suppliers/v1/interception-releases", i)
}

// InterceptAtSupplier stops a drop-ship delivery order at its supplier;
// repeating it answers the same.
func (c *Client) InterceptAtSupplier(ctx context.Context, i SupplierInterception) (Receipt, error) {
	return c.receipt(ctx, "suppliers/v1/interceptions", i)
}
