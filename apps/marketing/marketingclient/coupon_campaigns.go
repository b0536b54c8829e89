package marketingclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// CodeCampaignState: the campaign cannot do that in its status.
const CodeCampaignState = "CAMPAIGN_STATE"

// Coupon campaign statuses.
const (
	CampaignDraft     = "DRAFT"
	CampaignRunning   = "RUNNING"
	CampaignPaused    = "PAUSED"
	CampaignCancelled = "CANCELLED"
	CampaignCompleted = "COMPLETED"
)

// Audience is what BI selects a campaign's users by.
type Audience struct {
	MinOrders int      `json:"min_orders"`
	Cities    []string `json:"cities,omitempty"`
}

// CreateCouponCampaignRequest creates a coupon campaign: conditions,
// excluded users and the coupon gift, stored together.
type CreateCouponCampaignRequest struct {
	IdempotencyKey    string   `json:"idempotency_key,omitempty"`
	Name              string   `json:"name"`
	Conditions        Audience `json:"conditions"`
	ExcludedCustomers []string `json:"excluded_customers,omitempty"`
	TemplateID        string   `json:"template_id"`
	Stock             int64    `json:"stock"`
	NotifySMS         bool     `json:"notify_sms"`
	SMSTemplate       string   `json:"sms_template,omitempty"`
}

// CampaignProgress counts what issuing did.
type CampaignProgress struct {
	Matched         int64 `json:"matched"`
	Granted         int64 `json:"granted"`
	SkippedExcluded int64 `json:"skipped_excluded"`
	SkippedAlready  int64 `json:"skipped_already"`
	SkippedNoStock  int64 `json:"skipped_no_stock"`
	Failed          int64 `json:"failed"`
	SMSSent         int64 `json:"sms_sent"`
}

// CouponCampaign is a coupon campaign with its progress.
type CouponCampaign struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	Status            string           `json:"status"`
	Conditions        Audience         `json:"conditions"`
	ExcludedCustomers []string         `json:"excluded_customers,omitempty"`
	TemplateID        string           `json:"template_id"`
	Stock             int64            `json:"stock"`
	StockLeft         int64            `json:"stock_left"`
	NotifySMS         bool             `json:"notify_sms"`
	SMSTemplate       string           `json:"sms_template,omitempty"`
	BIDone            bool             `json:"bi_done"`
	Progress          CampaignProgress `json:"progress"`
	CreatedAt         time.Time        `json:"created_at"`
	LaunchedAt        *time.Time       `json:"launched_at,omitempty"`
	UpdatedAt         time.Time        `json:"updated_at"`
}

// CouponCampaignPage is one page of campaigns, newest first.
type CouponCampaignPage struct {
	Items      []CouponCampaign `json:"items"`
	NextBefore string           `json:"next_before,omitempty"`
}

// CreateCouponCampaign creates a coupon campaign (DRAFT).
func (c *Client) CreateCouponCampaign(ctx context.Context, r CreateCouponCampaignRequest) (CouponCampaign, error) {
	var out CouponCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-campaigns", r, &out)
}

// CouponCampaign returns one campaign with its progress.
func (c *Client) CouponCampaign(ctx context.Context, id string) (CouponCampaign, error) {
	var out CouponCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/coupon-campaigns/"+url.PathEscape(id), nil, &out)
}

// CouponCampaigns lists campaigns newest first.
func (c *Client) CouponCampaigns(ctx context.Context, before string, limit int) (CouponCampaignPage, error) {
	q := url.Values{}
	q.Set("before", before)
	q.Set("limit", strconv.Itoa(limit))
	var out CouponCampaignPage
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/coupon-campaigns?"+q.Encode(), nil, &out)
}

// MoveCouponCampaign launches, pauses, resumes or cancels a campaign
// (action: launch, pause, resume, cancel).
func (c *Client) MoveCouponCampaign(ctx context.Context, id, action string) (CouponCampaign, error) {
	var out CouponCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-campaigns/"+url.PathEscape(id)+"/"+url.PathEscape(action), struct{}{}, &out)
}
