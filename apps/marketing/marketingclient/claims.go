package marketingclient

// Pop-up claims (DOMAIN 3.3): claim campaigns staff define, and the
// claims customers make on them, answered at once and bound shortly after
// (or when the customer next views their coupons).

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Claim error codes (httpapi.Problem.Code).
const (
	CodeClaimCampaignEnded      = "CAMPAIGN_ENDED"
	CodeClaimCampaignNotStarted = "CAMPAIGN_NOT_STARTED"
	CodeClaimLimitReached       = "CLAIM_LIMIT_REACHED"
	CodeClaimOutOfStock         = "OUT_OF_STOCK"
)

// Claim statuses.
const (
	ClaimPending = "PENDING"
	ClaimBound   = "BOUND"
	ClaimRefused = "REFUSED"
)

// ClaimRoutes are the claim routes a busy gateway sends in batches.
var ClaimRoutes = []string{"POST v1/coupon-claims"}

// CreateClaimCampaignRequest defines a pop-up claim campaign.
type CreateClaimCampaignRequest struct {
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Name           string    `json:"name"`
	TemplateID     string    `json:"template_id"`
	Stock          int64     `json:"stock"`
	PerUserLimit   int       `json:"per_user_limit"`
	StartsAt       time.Time `json:"starts_at"`
	EndsAt         time.Time `json:"ends_at"`
}

// ClaimCampaign is a claim campaign with what its claims came to.
type ClaimCampaign struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	TemplateID   string    `json:"template_id"`
	Stock        int64     `json:"stock"`
	PerUserLimit int       `json:"per_user_limit"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	CreatedAt    time.Time `json:"created_at"`
	Claims       int64     `json:"claims"`
	Pending      int64     `json:"pending"`
	Bound        int64     `json:"bound"`
	Refused      int64     `json:"refused"`
	// GivebacksOwed counts units of refused claims not yet back in Redis.
	GivebacksOwed int64 `json:"givebacks_owed"`
	// StockLeft is Redis's count (-1: no counter now; rebuilt at the next claim).
	StockLeft int64 `json:"stock_left"`
}

// ClaimRequest is a customer's tap on "claim".
type ClaimRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	CampaignID     string `json:"campaign_id"`
	CustomerID     string `json:"customer_id"`
}

// Claim is one claim and where it stands.
type Claim struct {
	ID         string    `json:"id"`
	CampaignID string    `json:"campaign_id"`
	CustomerID string    `json:"customer_id"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"` // why REFUSED
	CouponID   string    `json:"coupon_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// CreateClaimCampaign defines a claim campaign.
func (c *Client) CreateClaimCampaign(ctx context.Context, r CreateClaimCampaignRequest) (ClaimCampaign, error) {
	var out ClaimCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/claim-campaigns", r, &out)
}

// ClaimCampaign returns a claim campaign with its counts.
func (c *Client) ClaimCampaign(ctx context.Context, id string) (ClaimCampaign, error) {
	var out ClaimCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/claim-campaigns/"+url.PathEscape(id), nil, &out)
}

// ClaimCoupon records a claim and answers at once (PENDING), or refuses it.
func (c *Client) ClaimCoupon(ctx context.Context, r ClaimRequest) (Claim, error) {
	var out Claim
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-claims", r, &out)
}

// CouponClaim returns one of a customer's claims.
func (c *Client) CouponClaim(ctx context.Context, customerID, id string) (Claim, error) {
	var out Claim
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/customers/"+url.PathEscape(customerID)+"/coupon-claims/"+url.PathEscape(id), nil, &out)
}
