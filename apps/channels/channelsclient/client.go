// Package channelsclient is the typed client of channels, third-party
// orders (DOMAIN 6): marketplace orders as staged, with their steps and
// the statuses told back to their platforms; sales plans; the operators'
// retries and SKU mappings. The marketplaces themselves reach channels on
// its public listener, in their own formats (package platforms).
package channelsclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// AppID is channels' Dapr app id.
const AppID = "channels"

// Error codes channels answers with.
const (
	CodeValidation       = "VALIDATION_FAILED"
	CodeNotFound         = "NOT_FOUND"
	CodeNotRetryable     = "NOT_RETRYABLE"
	CodeIdempotencyReuse = "IDEMPOTENCY_KEY_REUSED"
)

// Address is a delivery address.
type Address struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
	Detail   string `json:"detail"`
}

// Slot is the promised delivery slot.
type Slot struct {
	Type string `json:"type"`
	Date string `json:"date"`
}

// Step is one step a staged order took.
type Step struct {
	Step string    `json:"step"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// StagedLine is a line as the platform sent it.
type StagedLine struct {
	PlatformSKU  string    `json:"platform_sku"`
	Qty          int64     `json:"qty"`
	UnitPriceFen money.Fen `json:"unit_price_fen"`
}

// StatusUpdate is a status owed to the platform.
type StatusUpdate struct {
	Status   string     `json:"status"`
	Attempts int        `json:"attempts"`
	SentAt   *time.Time `json:"sent_at,omitempty"`
}

// StagedOrder is a marketplace order as staged, and where it stands.
type StagedOrder struct {
	ID              string         `json:"id"`
	Platform        string         `json:"platform"`
	PlatformOrderID string         `json:"platform_order_id"`
	Way             string         `json:"way"`
	Status          string         `json:"status"` // RECEIVED, PLANNED, ORDERED, PARKED, FAILED
	ReasonCode      string         `json:"reason_code,omitempty"`
	ReasonNote      string         `json:"reason_note,omitempty"`
	PlanID          string         `json:"plan_id,omitempty"`
	OrderID         string         `json:"order_id,omitempty"`
	ShopID          string         `json:"shop_id"`
	Address         Address        `json:"address"`
	Slot            Slot           `json:"slot"`
	TotalFen        money.Fen      `json:"total_fen"`
	Lines           []StagedLine   `json:"lines"`
	Steps           []Step         `json:"steps,omitempty"`
	StatusUpdates   []StatusUpdate `json:"status_updates,omitempty"`
	ReceivedAt      time.Time      `json:"received_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

// PlanLine is a plan's line at the agreed price.
type PlanLine struct {
	SKU            string    `json:"sku"`
	Qty            int64     `json:"qty"`
	AgreedPriceFen money.Fen `json:"agreed_price_fen"`
}

// Plan is a sales plan.
type Plan struct {
	ID               string     `json:"id"`
	CustomerID       string     `json:"customer_id"`
	Source           string     `json:"source"` // MARKETPLACE, STAFF
	ProcessID        string     `json:"process_id,omitempty"`
	Status           string     `json:"status"` // PLANNED, ORDERED, FAILED
	ReasonCode       string     `json:"reason_code,omitempty"`
	ReasonNote       string     `json:"reason_note,omitempty"`
	Address          Address    `json:"address"`
	Slot             Slot       `json:"slot"`
	SettlementPeriod string     `json:"settlement_period"`
	AgreedFen        money.Fen  `json:"agreed_fen"`
	OrderID          string     `json:"order_id,omitempty"`
	CreatedBy        string     `json:"created_by"`
	CreatedAt        time.Time  `json:"created_at"`
	Lines            []PlanLine `json:"lines"`
}

// CreatePlanRequest is a plan entered by sales staff.
type CreatePlanRequest struct {
	IdempotencyKey   string     `json:"idempotency_key"`
	By               string     `json:"by"`
	CustomerID       string     `json:"customer_id"`
	Address          Address    `json:"address"`
	Slot             Slot       `json:"slot"`
	SettlementPeriod string     `json:"settlement_period"`
	Lines            []PlanLine `json:"lines"`
}

// MappingRequest maps a platform's SKU to Harvest's.
type MappingRequest struct {
	Platform    string `json:"platform"`
	PlatformSKU string `json:"platform_sku"`
	SKU         string `json:"sku"`
	By          string `json:"by"`
}

// RetryRequest names who retries.
type RetryRequest struct {
	By string `json:"by"`
}

// Client calls channels.
type Client struct{ inv *daprx.Invoker }

// New returns a client that goes through the caller's sidecar.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv} }

// StagedOrders lists staged orders, newest first (platform and status
// filter when not empty).
func (c *Client) StagedOrders(ctx context.Context, platform, status string, first int) ([]StagedOrder, error) {
	q := url.Values{}
	q.Set("platform", platform)
	q.Set("status", status)
	q.Set("first", strconv.Itoa(first))
	var out struct {
		Items []StagedOrder `json:"items"`
	}
	return out.Items, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/staged?"+q.Encode(), nil, &out)
}

// StagedOrder returns one staged order with its steps and statuses.
func (c *Client) StagedOrder(ctx context.Context, id string) (StagedOrder, error) {
	var out StagedOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/staged/"+url.PathEscape(id), nil, &out)
}

// StagedByPlatform finds a platform's order by the platform's id.
func (c *Client) StagedByPlatform(ctx context.Context, platform, platformOrderID string) (StagedOrder, error) {
	var out StagedOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/platforms/"+url.PathEscape(platform)+"/orders/"+url.PathEscape(platformOrderID), nil, &out)
}

// RetryStaged puts a PARKED or FAILED staged order back on its way
// (CodeNotRetryable otherwise).
func (c *Client) RetryStaged(ctx context.Context, id string, r RetryRequest) (StagedOrder, error) {
	var out StagedOrder
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/staged/"+url.PathEscape(id)+"/retry", r, &out)
}

// SetMapping maps a platform SKU to a Harvest SKU.
func (c *Client) SetMapping(ctx context.Context, r MappingRequest) error {
	return c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/sku-mappings", r, nil)
}

// CreatePlan stores a staff plan; it is ordered from the broker.
func (c *Client) CreatePlan(ctx context.Context, r CreatePlanRequest) (Plan, error) {
	var out Plan
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/plans", r, &out)
}

// GetPlan returns one plan.
func (c *Client) GetPlan(ctx context.Context, id string) (Plan, error) {
	var out Plan
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/plans/"+url.PathEscape(id), nil, &out)
}

// Plans lists plans, newest first (one customer's when not empty).
func (c *Client) Plans(ctx context.Context, customerID string, first int) ([]Plan, error) {
	var out struct {
		Items []Plan `json:"items"`
	}
	return out.Items, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/plans?customer="+url.QueryEscape(customerID)+"&first="+strconv.Itoa(first), nil, &out)
}

// RetryPlan orders a FAILED staff plan again.
func (c *Client) RetryPlan(ctx context.Context, id string) (Plan, error) {
	var out Plan
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/plans/"+url.PathEscape(id)+"/retry", struct{}{}, &out)
}

// StatementLine is one plan a statement settles.
type StatementLine struct {
	PlanID       string    `json:"plan_id"`
	OrderID      string    `json:"order_id"`
	DeliveredFen money.Fen `json:"delivered_fen"`
	ReturnedFen  money.Fen `json:"returned_fen"`
}

// Statement is a business customer's settlement statement of one period:
// CLOSED (never changes) or OPEN (the current period, as it stands).
type Statement struct {
	ID           string          `json:"id,omitempty"`
	CustomerID   string          `json:"customer_id"`
	Period       string          `json:"period"`
	Start        string          `json:"start"` // YYYY-MM-DD, Asia/Shanghai
	End          string          `json:"end"`   // exclusive
	Status       string          `json:"status"`
	Plans        int             `json:"plans"`
	DeliveredFen money.Fen       `json:"delivered_fen"`
	ReturnedFen  money.Fen       `json:"returned_fen"`
	OwedFen      money.Fen       `json:"owed_fen"`
	ClosedAt     *time.Time      `json:"closed_at,omitempty"`
	Lines        []StatementLine `json:"lines"`
}

// Statements lists a business customer's statements: the open ones, then
// the closed ones newest first.
func (c *Client) Statements(ctx context.Context, customerID string) ([]Statement, error) {
	var out struct {
		Items []Statement `json:"items"`
	}
	return out.Items, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/customers/"+url.PathEscape(customerID)+"/statements", nil, &out)
}
