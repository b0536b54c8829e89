// Package inventoryclient is the typed client other apps use to call
// inventory (product center and sellable stock) through Dapr service
// invocation, with the request and response types of its API.
package inventoryclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// AppID is inventory's Dapr app id.
const AppID = "inventory"

// BatchRoutes are the routes inventory serves in batches
// (runtime.AllowBatch) and a busy caller may send in batches
// (daprx.Invoker.Batch): reserving stock, idempotent by order id, and
// reading catalog entries (fulfillment's fill stage).
var BatchRoutes = []string{RouteReserve, RouteCatalogBatch}

// The batchable routes: placing reserves stock (a customer waits on it),
// fulfillment reads catalog entries (a pipeline waits on its throughput).
const (
	RouteReserve      = "POST v1/reservations"
	RouteCatalogBatch = "POST v1/products/batch"
)

// Categories are the product categories of the catalog, the published
// form of inventory's domain.Categories: what a coupon template may apply
// to besides SKUs (marketing validates templates against it), and what a
// Product's Category is one of.
var Categories = []string{"GRAIN_OIL", "SNACKS", "BEVERAGE", "DAIRY", "EGGS_TOFU", "VEGETABLE", "FRUIT", "MEAT", "SEAFOOD",
	"FROZEN_FOOD", "ICE_CREAM"}

// Zones are the warehouse temperature zones (DOMAIN 7.1).
const (
	ZoneAmbient     = "AMBIENT"      // 常温
	ZoneChilledHigh = "CHILLED_HIGH" // 高温冷藏
	ZoneChilledLow  = "CHILLED_LOW"  // 低温冷藏
	ZoneFrozenHigh  = "FROZEN_HIGH"  // 高温冷冻
	ZoneFrozenLow   = "FROZEN_LOW"   // 低温冷冻
)

// Error codes inventory answers with (httpapi.Problem.Code).
const (
	CodeOutOfStock = "OUT_OF_STOCK" // Details["skus"]: []string of short SKUs
	CodeUnknownSKU = "UNKNOWN_SKU"  // Details["skus"]
	// CodePriceChanged: a reservation's expected prices are not the
	// catalog's; Details["prices"] maps each such SKU to the catalog price.
	CodePriceChanged = "PRICE_CHANGED"
	CodeConflict     = "RESERVATION_CONFLICT" // same order id, different lines
	CodeNotReserved  = "NOT_RESERVED"
	// CodeValidation: a malformed request; Details["field"] names the field.
	CodeValidation = "VALIDATION_FAILED"
	// CodeUnavailable: a passing fault (hot stock being rebuilt); retry.
	CodeUnavailable = "UNAVAILABLE"
)

// Component is one SKU inside a virtual bundle.
type Component struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// Product is a SKU of the product center with its sellable stock.
type Product struct {
	SKU        string      `json:"sku"`
	Name       string      `json:"name"`
	PriceFen   money.Fen   `json:"price_fen"`
	Zone       string      `json:"zone"`
	Category   string      `json:"category,omitempty"` // one of Categories; empty: entered before categories
	TaxRateBP  int64       `json:"tax_rate_bp"`        // output VAT in basis points: 900 = 9%
	Warehouse  string      `json:"warehouse"`
	Supplier   string      `json:"supplier,omitempty"`
	DropShip   bool        `json:"drop_ship"`
	Presale    bool        `json:"presale"`
	Components []Component `json:"components,omitempty"` // non-empty for a virtual bundle
	Available  int64       `json:"available"`            // sellable now (not reserved)
	Hot        bool        `json:"hot"`                  // stock served from Redis (flash sale)
	OwnBox     bool        `json:"own_box"`              // ships in a box of its own
	Oversize   bool        `json:"oversize"`
	ShelfLife  int64       `json:"shelf_life_days"` // 0: not tracked
	Version    int64       `json:"version"`         // the catalog version these fields are of
	// NextPrice is the price change scheduled next, if any.
	NextPrice *ScheduledPrice `json:"next_price,omitempty"`
}

// ScheduledPrice is a price from a time on.
type ScheduledPrice struct {
	PriceFen  money.Fen `json:"price_fen"`
	ValidFrom time.Time `json:"valid_from"`
	By        string    `json:"by,omitempty"`
}

// ProductPage is one page of a product search, keyset-paginated by SKU.
type ProductPage struct {
	Items      []Product `json:"items"`
	EndCursor  string    `json:"end_cursor"`
	HasNext    bool      `json:"has_next"`
	TotalCount int64     `json:"total_count"`
}

// SearchRequest filters products; empty fields do not filter.
type SearchRequest struct {
	Query     string
	Zone      string
	Category  string
	Warehouse string
	InStock   bool
	First     int
	After     string
}

// Line asks for qty units of a SKU.
type Line struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// ReserveRequest holds stock for an order that is about to be committed.
type ReserveRequest struct {
	OrderID string        `json:"order_id"`
	Lines   []Line        `json:"lines"`
	TTL     time.Duration `json:"ttl"` // after it, check-back asks OMS whether the order exists
	// Prices, optional, are the unit prices the caller priced the lines at
	// (SKU → fen); any that is not the catalog's refuses the reservation
	// with CodePriceChanged and takes nothing.
	Prices map[string]money.Fen `json:"prices,omitempty"`
	// Slot, optional, takes one unit of the delivery slot at each
	// warehouse shipping the lines, with the stock and in the same
	// transaction; a full one refuses the reservation with CodeSlotFull
	// and takes nothing. Part of what makes a retry the same request.
	Slot *Slot `json:"slot,omitempty"`
}

// Reservation states.
const (
	ReservationHeld      = "HELD"
	ReservationConfirmed = "CONFIRMED"
	ReservationReleased  = "RELEASED"
)

// Reservation is the stock held for one order.
type Reservation struct {
	OrderID   string    `json:"order_id"`
	Status    string    `json:"status"`
	Lines     []Line    `json:"lines"`
	ExpiresAt time.Time `json:"expires_at"`
	// Products are the catalog entries of the requested SKUs, answered by
	// Reserve only, so the caller needs no catalog read of its own.
	Products []Product `json:"products,omitempty"`
}

// Client calls inventory.
type Client struct{ inv *daprx.Invoker }

// New returns a client that goes through the caller's sidecar.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv} }

// CatalogEntries is GetProducts without the stock levels (Available 0):
// what the products are, read without touching stock.
func (c *Client) CatalogEntries(ctx context.Context, skus []string) ([]Product, error) {
	var out struct {
		Items []Product `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/products/batch", map[string]any{"skus": skus, "stock": false}, &out)
	return out.Items, err
}

// CatalogEntriesAt is CatalogEntries priced as at t: fulfillment fills an
// order with the prices it was placed with (pass the order's placing
// time), even after a scheduled change took effect.
func (c *Client) CatalogEntriesAt(ctx context.Context, skus []string, t time.Time) ([]Product, error) {
	var out struct {
		Items []Product `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/products/batch", map[string]any{"skus": skus, "stock": false, "at": t}, &out)
	return out.Items, err
}

// GetProducts returns the products for skus, in the same order; an unknown
// SKU fails with CodeUnknownSKU naming it.
func (c *Client) GetProducts(ctx context.Context, skus []string) ([]Product, error) {
	var out struct {
		Items []Product `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/products/batch", map[string]any{"skus": skus}, &out)
	return out.Items, err
}

// GetProduct returns one product.
func (c *Client) GetProduct(ctx context.Context, sku string) (Product, error) {
	var p Product
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/products/"+url.PathEscape(sku), nil, &p)
	return p, err
}

// SearchProducts pages through the catalog.
func (c *Client) SearchProducts(ctx context.Context, r SearchRequest) (ProductPage, error) {
	q := url.Values{}
	q.Set("q", r.Query)
	q.Set("zone", r.Zone)
	q.Set("category", r.Category)
	q.Set("warehouse", r.Warehouse)
	q.Set("in_stock", strconv.FormatBool(r.InStock))
	q.Set("first", strconv.Itoa(r.First))
	q.Set("after", r.After)
	var p ProductPage
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/products?"+q.Encode(), nil, &p)
	return p, err
}

// Reserve holds stock for an order, all lines or none. Idempotent by order
// id: the same lines again return the same reservation; other lines fail
// with CodeConflict. Missing stock fails with CodeOutOfStock naming the SKUs.
func (c *Client) Reserve(ctx context.Context, r ReserveRequest) (Reservation, error) {
	var out Reservation
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/reservations", r, &out)
	return out, err
}

// Confirm turns a held reservation into a deduction (the order committed).
// Idempotent; confirming a released reservation fails with CodeNotReserved.
func (c *Client) Confirm(ctx context.Context, orderID string) (Reservation, error) {
	var out Reservation
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/reservations/"+url.PathEscape(orderID)+"/confirm", struct{}{}, &out)
	return out, err
}

// Release gives the stock of a reservation back (held or confirmed).
// Idempotent; releasing an unknown order records a tombstone so a late
// Reserve for it is refused.
func (c *Client) Release(ctx context.Context, orderID string) (Reservation, error) {
	var out Reservation
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/reservations/"+url.PathEscape(orderID)+"/release", struct{}{}, &out)
	return out, err
}

// GetReservation returns an order's reservation; CodeNotReserved when there
// is none.
func (c *Client) GetReservation(ctx context.Context, orderID string) (Reservation, error) {
	var out Reservation
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/reservations/"+url.PathEscape(orderID), nil, &out)
	return out, err
}

// Delivery slots and served areas.

// More error codes of the slot and served-area routes.
const (
	// CodeSlotFull: a delivery slot the reservation needs has no unit
	// left; Details["slots"]: []SlotRef. Nothing was taken.
	CodeSlotFull = "SLOT_FULL"
	// CodeCapacityBelowTaken: a capacity lower than the orders already
	// holding the slot; Details["taken"], Details["capacity"].
	CodeCapacityBelowTaken = "CAPACITY_BELOW_TAKEN"
	// CodeNotServed: no warehouse delivers to the address's area.
	CodeNotServed = "NOT_SERVED"
)

// Slot is the delivery slot a reservation takes a unit of at every
// warehouse shipping its parts (drop-ship lines take none).
type Slot struct {
	Type string `json:"type"` // SlotExpress or SlotNextDay
	Date string `json:"date"` // YYYY-MM-DD, Asia/Shanghai
}

// Slot types.
const (
	SlotExpress = "EXPRESS"
	SlotNextDay = "NEXT_DAY"
)

// SlotRef names one capacity: a warehouse's slot of a type on a day.
type SlotRef struct {
	Warehouse string `json:"warehouse"`
	Date      string `json:"date"`
	Type      string `json:"type"`
}

// SlotCapacity is one slot's capacity and use; Capacity nil: not limited.
type SlotCapacity struct {
	SlotRef
	Capacity  *int64    `json:"capacity"`
	Taken     int64     `json:"taken"`
	Open      bool      `json:"open"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// SetCapacityRequest sets (Capacity) or lifts (nil) a slot's capacity.
type SetCapacityRequest struct {
	SlotRef
	Capacity *int64 `json:"capacity"`
	By       string `json:"by"` // who, for the audit: "ROLE:subject"
}

// Area is where an address lies.
type Area struct {
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
}

// ServedArea is an entry of the served-area list: the warehouses
// delivering to a district (District "": the rest of the city).
type ServedArea struct {
	Area
	Warehouses []string `json:"warehouses"`
}

// SetServedAreaRequest replaces an entry's warehouses (none removes it).
type SetServedAreaRequest struct {
	ServedArea
	By string `json:"by"`
}

// Deliverability says which warehouses deliver to an address's area.
type Deliverability struct {
	Deliverable bool     `json:"deliverable"`
	Warehouses  []string `json:"warehouses"`
	// Restricted is false while operators have drawn no served area at
	// all: every warehouse then delivers everywhere.
	Restricted bool `json:"restricted"`
}

func areaQuery(a Area) url.Values {
	q := url.Values{}
	q.Set("province", a.Province)
	q.Set("city", a.City)
	q.Set("district", a.District)
	return q
}

// SlotCapacities lists the slots of warehouses (all when empty) for days
// days from from (default today), the ones nobody set included.
func (c *Client) SlotCapacities(ctx context.Context, warehouses []string, from string, days int) ([]SlotCapacity, error) {
	q := url.Values{}
	for _, w := range warehouses {
		q.Add("warehouse", w)
	}
	q.Set("from", from)
	q.Set("days", strconv.Itoa(days))
	var out struct {
		Items []SlotCapacity `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/slots?"+q.Encode(), nil, &out)
	return out.Items, err
}

// SetSlotCapacity sets a slot's capacity; below what is taken fails with
// CodeCapacityBelowTaken, a bad warehouse, day or number with
// CodeValidation. Setting the same value again changes nothing.
func (c *Client) SetSlotCapacity(ctx context.Context, r SetCapacityRequest) (SlotCapacity, error) {
	var out SlotCapacity
	err := c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/slots", r, &out)
	return out, err
}

// OpenSlots lists the slots still open for an address, days days from
// today; CodeNotServed when no warehouse delivers there.
func (c *Client) OpenSlots(ctx context.Context, a Area, days int) ([]SlotCapacity, error) {
	q := areaQuery(a)
	q.Set("days", strconv.Itoa(days))
	var out struct {
		Items []SlotCapacity `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/slots/open?"+q.Encode(), nil, &out)
	return out.Items, err
}

// ServedAreas lists the served-area entries (empty names do not filter).
func (c *Client) ServedAreas(ctx context.Context, province, city string) ([]ServedArea, error) {
	q := url.Values{}
	q.Set("province", province)
	q.Set("city", city)
	var out struct {
		Items []ServedArea `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/served-areas?"+q.Encode(), nil, &out)
	return out.Items, err
}

// SetServedArea replaces one served-area entry; audited.
func (c *Client) SetServedArea(ctx context.Context, r SetServedAreaRequest) (ServedArea, error) {
	var out ServedArea
	err := c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/served-areas", r, &out)
	return out, err
}

// Deliverable says whether, and from which warehouses, an address's area
// is served (fulfillment's deliverability check, stage 2).
func (c *Client) Deliverable(ctx context.Context, a Area) (Deliverability, error) {
	var out Deliverability
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/deliverability?"+areaQuery(a).Encode(), nil, &out)
	return out, err
}

// Catalog administration (ADMIN and CATALOG_MANAGER through the gateway).

// More error codes of the catalog routes.
const (
	// CodeProductExists: CreateProduct for a SKU already in the catalog.
	CodeProductExists = "PRODUCT_EXISTS"
	// CodeVersionConflict: the product changed since the version the
	// caller edited; Details["current_version"].
	CodeVersionConflict = "VERSION_CONFLICT"
)

// ProductInput is a product as an operator enters it. PriceFen is the
// first price (CreateProduct only; prices change by SchedulePrice).
type ProductInput struct {
	SKU        string      `json:"sku"`
	Name       string      `json:"name"`
	PriceFen   money.Fen   `json:"price_fen"`
	Zone       string      `json:"zone"`
	Category   string      `json:"category"` // one of Categories
	TaxRateBP  int64       `json:"tax_rate_bp"`
	Warehouse  string      `json:"warehouse"`
	Supplier   string      `json:"supplier,omitempty"`
	DropShip   bool        `json:"drop_ship"`
	Presale    bool        `json:"presale"`
	OwnBox     bool        `json:"own_box"`
	Oversize   bool        `json:"oversize"`
	ShelfLife  int64       `json:"shelf_life_days"`
	Components []Component `json:"components,omitempty"`
}

// CreateProductRequest adds a product; By names the operator (ROLE:subject).
type CreateProductRequest struct {
	Product ProductInput `json:"product"`
	By      string       `json:"by"`
}

// UpdateProductRequest replaces a product's description at the version
// the operator edited.
type UpdateProductRequest struct {
	Product         ProductInput `json:"product"`
	ExpectedVersion int64        `json:"expected_version"`
	By              string       `json:"by"`
}

// SchedulePriceRequest sets a SKU's price from ValidFrom (nil: now).
// ExpectedVersion 0 accepts any version.
type SchedulePriceRequest struct {
	PriceFen        money.Fen  `json:"price_fen"`
	ValidFrom       *time.Time `json:"valid_from,omitempty"`
	ExpectedVersion int64      `json:"expected_version"`
	By              string     `json:"by"`
}

// CatalogChange is one audited version of a product.
type CatalogChange struct {
	Version int64     `json:"version"`
	Action  string    `json:"action"` // CREATE, UPDATE, PRICE
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Before  string    `json:"before,omitempty"` // the product as JSON; empty for CREATE
	After   string    `json:"after"`
}

// CreateProduct adds a product (or a bundle of existing SKUs) at version 1.
func (c *Client) CreateProduct(ctx context.Context, r CreateProductRequest) (Product, error) {
	var out Product
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/catalog/products", r, &out)
	return out, err
}

// UpdateProduct changes a product; CodeVersionConflict when it changed
// since ExpectedVersion.
func (c *Client) UpdateProduct(ctx context.Context, sku string, r UpdateProductRequest) (Product, error) {
	var out Product
	err := c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/catalog/products/"+url.PathEscape(sku), r, &out)
	return out, err
}

// SchedulePrice records a price change (now or later) of a SKU.
func (c *Client) SchedulePrice(ctx context.Context, sku string, r SchedulePriceRequest) (Product, error) {
	var out Product
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/catalog/products/"+url.PathEscape(sku)+"/prices", r, &out)
	return out, err
}

// PriceHistory lists a SKU's prices, past and scheduled, oldest first.
func (c *Client) PriceHistory(ctx context.Context, sku string) ([]ScheduledPrice, error) {
	var out struct {
		Items []ScheduledPrice `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/catalog/products/"+url.PathEscape(sku)+"/prices", nil, &out)
	return out.Items, err
}

// CatalogChanges lists a SKU's audited versions, newest first.
func (c *Client) CatalogChanges(ctx context.Context, sku string) ([]CatalogChange, error) {
	var out struct {
		Items []CatalogChange `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/catalog/products/"+url.PathEscape(sku)+"/changes", nil, &out)
	return out.Items, err
}

// CodeHotRestore: returned units of a hot SKU are not restored here.
const CodeHotRestore = "HOT_SKU_RESTORE"

// RestoreLine is a SKU and the units that came back.
type RestoreLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// RestoreRequest gives returned units back to sellable stock, once per
// restore id (after-sales' push id).
type RestoreRequest struct {
	RestoreID string        `json:"restore_id"`
	OrderID   string        `json:"order_id"`
	Lines     []RestoreLine `json:"lines"`
}

// Restore is inventory's answer; Duplicate when the id was seen before.
type Restore struct {
	RestoreID string `json:"restore_id"`
	Duplicate bool   `json:"duplicate"`
}

// RestoreStock adds returned units back to sellable stock.
func (c *Client) RestoreStock(ctx context.Context, r RestoreRequest) (Restore, error) {
	var out Restore
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/stock/restores", r, &out)
	return out, err
}
