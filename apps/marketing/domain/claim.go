package domain

// Pop-up claims (DOMAIN 3.3): a claim campaign gives coupons of one
// template to the customers who tap "claim", at most PerUserLimit each,
// while its stock lasts and inside its window. A claim is recorded and
// answered at once (PENDING), then bound (BOUND) or refused (REFUSED) by
// the issuing queues.

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors of claims; api maps each to one marketingclient code.
var (
	ErrClaimCampaignEnded      = errors.New("claim campaign has ended")
	ErrClaimCampaignNotStarted = errors.New("claim campaign has not started")
	ErrClaimLimitReached       = errors.New("claim limit reached")
	ErrClaimOutOfStock         = errors.New("claim campaign out of stock")
	// ErrStaleStock: the Redis counter a unit was taken from was rebuilt
	// since; the take is made again on the current counter.
	ErrStaleStock = errors.New("stock counter rebuilt since the take")
)

// MaxPerUserLimit bounds a claim campaign's per-user limit.
const MaxPerUserLimit = 20

// ClaimCampaignSpec is what staff define.
type ClaimCampaignSpec struct {
	Name         string
	TemplateID   string
	Stock        int64
	PerUserLimit int
	StartsAt     time.Time
	EndsAt       time.Time
}

// Normalize trims and brings times to what DATETIME(6) keeps.
func (s *ClaimCampaignSpec) Normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.TemplateID = strings.TrimSpace(s.TemplateID)
	s.StartsAt = s.StartsAt.UTC().Truncate(time.Microsecond)
	s.EndsAt = s.EndsAt.UTC().Truncate(time.Microsecond)
}

// Validate checks a claim campaign (after Normalize).
func (s ClaimCampaignSpec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrValidation, fmt.Sprintf(format, args...))
	}
	switch {
	case s.Name == "" || len(s.Name) > 128:
		return bad("name is required (at most 128 bytes)")
	case s.TemplateID == "" || len(s.TemplateID) > 26:
		return bad("template_id is required: a claim campaign gives a coupon")
	case s.Stock <= 0 || s.Stock > MaxCampaignStock:
		return bad("stock must be 1..%d", MaxCampaignStock)
	case s.PerUserLimit < 1 || s.PerUserLimit > MaxPerUserLimit:
		return bad("per_user_limit must be 1..%d", MaxPerUserLimit)
	case s.StartsAt.IsZero() || s.EndsAt.IsZero():
		return bad("starts_at and ends_at are required")
	case !s.EndsAt.After(s.StartsAt):
		return bad("ends_at must be after starts_at")
	}
	return nil
}

// ClaimCampaign is a pop-up claim campaign.
type ClaimCampaign struct {
	ID        string
	Spec      ClaimCampaignSpec
	Epoch     int64 // the Redis counter's epoch bindings must have taken from
	CreatedAt time.Time
}

// CanClaim says whether a claim may be recorded at now.
func (c ClaimCampaign) CanClaim(now time.Time) error {
	switch {
	case now.Before(c.Spec.StartsAt):
		return fmt.Errorf("campaign %s starts at %s: %w", c.ID, c.Spec.StartsAt.Format(time.RFC3339), ErrClaimCampaignNotStarted)
	case !now.Before(c.Spec.EndsAt):
		return fmt.Errorf("campaign %s ended at %s: %w", c.ID, c.Spec.EndsAt.Format(time.RFC3339), ErrClaimCampaignEnded)
	}
	return nil
}

// ClaimStatus is where a claim stands.
type ClaimStatus string

// Claim statuses.
const (
	ClaimPending ClaimStatus = "PENDING"
	ClaimBound   ClaimStatus = "BOUND"
	ClaimRefused ClaimStatus = "REFUSED"
)

// Reasons a recorded claim is refused.
const (
	RefusedOutOfStock      = "OUT_OF_STOCK"
	RefusedTemplateEnded   = "TEMPLATE_ENDED"
	RefusedTemplateRetired = "TEMPLATE_RETIRED"
	RefusedCampaignGone    = "CAMPAIGN_NOT_FOUND"
)

// Claim is one customer's claim on a campaign.
type Claim struct {
	ID         string
	CampaignID string
	CustomerID string
	Slot       int
	Key        string
	Status     ClaimStatus
	Reason     string
	CouponID   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ClaimCounts is what a campaign's claims came to.
type ClaimCounts struct {
	Claims, Pending, Bound, Refused int64
	// GivebacksOwed counts units taken for refused claims whose give-back
	// to Redis has not run yet (a crash between the two; the reconciler
	// runs it).
	GivebacksOwed int64
	// StockLeft is the Redis counter (-1 when Redis holds none now).
	StockLeft int64
}

// ClaimIDs answers the ids of cs, in their order.
func ClaimIDs(cs []Claim) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
