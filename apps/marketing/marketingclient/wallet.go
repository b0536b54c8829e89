package marketingclient

// The coupon wallet: coupon templates, coupons bound to customers, and the
// holds PAY's COUPON deduction takes on them. The wallet is a bounded part
// of marketing; every coupon row in Harvest is here.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Wallet error codes (httpapi.Problem.Code).
const (
	CodeTemplateInUse    = "TEMPLATE_IN_USE"
	CodeTemplateRetired  = "TEMPLATE_RETIRED"
	CodeTemplateEnded    = "TEMPLATE_ENDED"
	CodeCouponNotFound   = "COUPON_NOT_FOUND" // also another customer's coupon
	CodeCouponExpired    = "COUPON_EXPIRED"
	CodeCouponNotStarted = "COUPON_NOT_STARTED"
	CodeCouponNotUsable  = "COUPON_NOT_AVAILABLE" // held, used or unbound
	CodeThresholdNotMet  = "COUPON_THRESHOLD_NOT_MET"
	CodeNotApplicable    = "COUPON_NOT_APPLICABLE"
)

// Coupon statuses as the wallet shows them.
const (
	CouponAvailable = "AVAILABLE"
	CouponHeld      = "HELD"
	CouponUsed      = "USED"
	CouponUnbound   = "UNBOUND"
	CouponExpired   = "EXPIRED"
)

// Hold states PAY answers about a hold (GET v1/coupon-holds/{id} on PAY).
const (
	HoldHeld     = "HELD"
	HoldUsed     = "USED"
	HoldReversed = "REVERSED"
	HoldVoid     = "VOID"
)

// TemplateSpec is a coupon template's rules.
type TemplateSpec struct {
	Title        string    `json:"title"`
	ValueFen     money.Fen `json:"value_fen"`
	ThresholdFen money.Fen `json:"threshold_fen"`
	SKUs         []string  `json:"skus,omitempty"`
	// Categories are product categories (inventoryclient.Categories) it
	// applies to besides its SKUs; another is CodeValidation with
	// Details field "categories[i]" and reason ReasonUnknownCategory.
	Categories []string  `json:"categories,omitempty"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidTo    time.Time `json:"valid_to"`
}

// ReasonUnknownCategory: a template named a category the catalog does not
// have (Details["reason"] of CodeValidation).
const ReasonUnknownCategory = "UNKNOWN_CATEGORY"

// CreateTemplateRequest defines a template (idempotent by key when set).
type CreateTemplateRequest struct {
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	TemplateSpec
}

// Template is a coupon template.
type Template struct {
	ID string `json:"id"`
	TemplateSpec
	Status    string    `json:"status"` // ACTIVE, RETIRED
	Bound     int64     `json:"bound"`  // coupons bound from it
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TemplatePage is one page of templates, newest first.
type TemplatePage struct {
	Items      []Template `json:"items"`
	NextBefore string     `json:"next_before,omitempty"`
}

// Coupon is a coupon bound to a customer, with its template's rules.
type Coupon struct {
	ID           string    `json:"id"`
	TemplateID   string    `json:"template_id"`
	CustomerID   string    `json:"customer_id"`
	Title        string    `json:"title"`
	ValueFen     money.Fen `json:"value_fen"`
	ThresholdFen money.Fen `json:"threshold_fen"`
	SKUs         []string  `json:"skus,omitempty"`
	Categories   []string  `json:"categories,omitempty"`
	ValidFrom    time.Time `json:"valid_from"`
	ValidTo      time.Time `json:"valid_to"`
	Status       string    `json:"status"`
	Source       string    `json:"source"`
	BoundAt      time.Time `json:"bound_at"`
}

// GrantRequest binds a coupon of a template to a customer, once per key.
type GrantRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	TemplateID     string `json:"template_id"`
	CustomerID     string `json:"customer_id"`
}

// UnbindRequest takes an available coupon off its customer.
type UnbindRequest struct {
	CustomerID string `json:"customer_id,omitempty"` // when set, the coupon must be theirs
	Agent      string `json:"agent"`
	Reason     string `json:"reason"`
}

// HoldRequest takes coupons into PAY's deduction HoldID (its id).
type HoldRequest struct {
	HoldID     string   `json:"hold_id"`
	CustomerID string   `json:"customer_id"`
	CouponIDs  []string `json:"coupon_ids"`
}

// HoldState is PAY's word on a hold.
type HoldState struct {
	HoldID string `json:"hold_id"`
	State  string `json:"state"`
}

// UseCheckRequest asks whether an order's coupons apply to its lines.
type UseCheckRequest struct {
	CustomerID string      `json:"customer_id"`
	CouponIDs  []string    `json:"coupon_ids"`
	Lines      []OrderLine `json:"lines"`
}

// UseCheck is one coupon's answer; Code empty: it applies.
type UseCheck struct {
	CouponID string `json:"coupon_id"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message,omitempty"`
}

// CreateTemplate defines a coupon template.
func (c *Client) CreateTemplate(ctx context.Context, r CreateTemplateRequest) (Template, error) {
	var out Template
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-templates", r, &out)
}

// UpdateTemplate replaces a template's rules.
func (c *Client) UpdateTemplate(ctx context.Context, id string, r TemplateSpec) (Template, error) {
	var out Template
	return out, c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/coupon-templates/"+url.PathEscape(id), r, &out)
}

// RetireTemplate stops a template binding new coupons.
func (c *Client) RetireTemplate(ctx context.Context, id string) (Template, error) {
	var out Template
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-templates/"+url.PathEscape(id)+"/retire", struct{}{}, &out)
}

// DeleteTemplate deletes a template no coupon was bound from.
func (c *Client) DeleteTemplate(ctx context.Context, id string) error {
	return c.inv.Invoke(ctx, AppID, http.MethodDelete, "v1/coupon-templates/"+url.PathEscape(id), nil, nil)
}

// Template returns one template.
func (c *Client) Template(ctx context.Context, id string) (Template, error) {
	var out Template
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/coupon-templates/"+url.PathEscape(id), nil, &out)
}

// Templates lists templates newest first; before is TemplatePage.NextBefore.
func (c *Client) Templates(ctx context.Context, before string, limit int) (TemplatePage, error) {
	q := url.Values{}
	q.Set("before", before)
	q.Set("limit", strconv.Itoa(limit))
	var out TemplatePage
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/coupon-templates?"+q.Encode(), nil, &out)
}

// GrantCoupon binds a coupon to a customer (staff, customer service).
func (c *Client) GrantCoupon(ctx context.Context, r GrantRequest) (Coupon, error) {
	var out Coupon
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupons", r, &out)
}

// AfterSalesCouponsPath is where marketing serves the unbind, customer
// service's action carried out by after-sales' action log: a prefix of
// its own, so after-sales' grant there (daprd matches prefixes) reaches
// nothing else of the wallet.
const AfterSalesCouponsPath = "v1/aftersales/coupons"

// UnbindCoupon takes an available coupon off its customer (after-sales'
// CS action).
func (c *Client) UnbindCoupon(ctx context.Context, couponID string, r UnbindRequest) (Coupon, error) {
	var out Coupon
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, AfterSalesCouponsPath+"/"+url.PathEscape(couponID)+"/unbind", r, &out)
}

// Coupons lists a customer's coupons, newest first.
func (c *Client) Coupons(ctx context.Context, customerID string) ([]Coupon, error) {
	var out struct {
		Items []Coupon `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/customers/"+url.PathEscape(customerID)+"/coupons", nil, &out)
	return out.Items, err
}

// HoldCoupons takes coupons into a deduction (PAY), all or none;
// idempotent by HoldID.
func (c *Client) HoldCoupons(ctx context.Context, r HoldRequest) ([]Coupon, error) {
	var out struct {
		Items []Coupon `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-holds", r, &out)
	return out.Items, err
}

// RecheckHold asks the wallet to settle a hold by PAY's word now (PAY
// calls it after reversing a deduction or voiding a hold): the wallet asks
// PAY back and gives the coupons back only if PAY says so. Idempotent.
func (c *Client) RecheckHold(ctx context.Context, holdID string) (HoldState, error) {
	var out HoldState
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-holds/"+url.PathEscape(holdID)+"/recheck", struct{}{}, &out)
}

// CheckCouponUse judges an order's coupons against its lines (OMS at
// placement).
func (c *Client) CheckCouponUse(ctx context.Context, r UseCheckRequest) ([]UseCheck, error) {
	var out struct {
		Items []UseCheck `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-checks", r, &out)
	return out.Items, err
}
