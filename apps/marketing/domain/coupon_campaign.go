package domain

// Coupon campaigns issued by staff (DOMAIN 3.2): conditions BI selects
// users by, excluded users, a coupon gift (a template and a stock), and
// the issuing's state and progress.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors of coupon campaigns.
var (
	// ErrCampaignState: the campaign cannot do that in its status.
	ErrCampaignState = errors.New("campaign cannot do that now")
)

// CampaignStatus is where a coupon campaign stands.
type CampaignStatus string

// Campaign statuses. DRAFT → RUNNING (launch) ⇄ PAUSED; RUNNING or PAUSED
// → CANCELLED; RUNNING → COMPLETED when BI has listed every user and each
// listed user was answered.
const (
	CampaignDraft     CampaignStatus = "DRAFT"
	CampaignRunning   CampaignStatus = "RUNNING"
	CampaignPaused    CampaignStatus = "PAUSED"
	CampaignCancelled CampaignStatus = "CANCELLED"
	CampaignCompleted CampaignStatus = "COMPLETED"
)

// MaxCampaignStock bounds a campaign's coupons.
const MaxCampaignStock = 10_000_000

// Audience is what BI selects a campaign's users by.
type Audience struct {
	MinOrders int
	Cities    []string
}

// CouponCampaignSpec is what staff ask for.
type CouponCampaignSpec struct {
	Name       string
	Audience   Audience
	Excluded   []string
	TemplateID string // the coupon gift; a campaign without one is refused
	Stock      int64
	NotifySMS  bool
	SMSText    string // the SMS template code, when NotifySMS
}

// Normalize trims and drops blank or repeated values.
func (s *CouponCampaignSpec) Normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.TemplateID = strings.TrimSpace(s.TemplateID)
	s.SMSText = strings.TrimSpace(s.SMSText)
	s.Excluded = uniq(s.Excluded)
	s.Audience.Cities = uniq(s.Audience.Cities)
	slices.Sort(s.Audience.Cities)
}

// Validate checks a campaign (after Normalize).
func (s CouponCampaignSpec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrValidation, fmt.Sprintf(format, args...))
	}
	switch {
	case s.Name == "" || len(s.Name) > 128:
		return bad("name is required (at most 128 bytes)")
	case s.TemplateID == "":
		return bad("gift.template_id is required: a coupon campaign gives a coupon")
	case s.Stock <= 0 || s.Stock > MaxCampaignStock:
		return bad("gift.stock must be 1..%d", MaxCampaignStock)
	case s.Audience.MinOrders < 0:
		return bad("conditions.min_orders must not be negative")
	case len(s.Audience.Cities) > 50:
		return bad("at most 50 cities")
	case len(s.Excluded) > MaxExcluded:
		return bad("at most %d excluded customers", MaxExcluded)
	case s.NotifySMS && s.SMSText == "":
		return bad("sms_template is required when notify_sms is set")
	case len(s.SMSText) > 64:
		return bad("sms_template is at most 64 bytes")
	}
	for _, u := range s.Excluded {
		if !ValidCustomerID(u) {
			return bad("excluded customer %q is not a customer id", u)
		}
	}
	return nil
}

// Progress counts what issuing did. Matched = Granted + every Skipped +
// Failed once every matched user was answered.
type Progress struct {
	Matched         int64
	Granted         int64
	SkippedExcluded int64
	SkippedAlready  int64 // bound before (another message of the same user)
	SkippedNoStock  int64
	Failed          int64 // the template ended or was retired under the campaign
	SMSSent         int64
}

// Answered is how many matched users have an outcome.
func (p Progress) Answered() int64 {
	return p.Granted + p.SkippedExcluded + p.SkippedAlready + p.SkippedNoStock + p.Failed
}

// CouponCampaign is a coupon campaign.
type CouponCampaign struct {
	id        string
	spec      CouponCampaignSpec
	status    CampaignStatus
	stockLeft int64
	cursor    string
	biDone    bool
	progress  Progress
	createdAt time.Time
	launched  time.Time
	updatedAt time.Time
}

// NewCouponCampaign is a DRAFT campaign of spec with all its stock.
func NewCouponCampaign(id string, spec CouponCampaignSpec, now time.Time) (CouponCampaign, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return CouponCampaign{}, err
	}
	return CouponCampaign{id: id, spec: spec, status: CampaignDraft, stockLeft: spec.Stock, createdAt: now, updatedAt: now}, nil
}

// CouponCampaignSnapshot is a campaign as the store keeps it.
type CouponCampaignSnapshot struct {
	ID         string
	Spec       CouponCampaignSpec
	Status     CampaignStatus
	StockLeft  int64
	Cursor     string
	BIDone     bool
	Progress   Progress
	CreatedAt  time.Time
	LaunchedAt time.Time
	UpdatedAt  time.Time
}

// RestoreCouponCampaign rebuilds a campaign the store read.
func RestoreCouponCampaign(s CouponCampaignSnapshot) CouponCampaign {
	return CouponCampaign{id: s.ID, spec: s.Spec, status: s.Status, stockLeft: s.StockLeft, cursor: s.Cursor, biDone: s.BIDone,
		progress: s.Progress, createdAt: s.CreatedAt, launched: s.LaunchedAt, updatedAt: s.UpdatedAt}
}

// ID is the campaign's id.
func (c CouponCampaign) ID() string { return c.id }

// Spec is what staff asked for.
func (c CouponCampaign) Spec() CouponCampaignSpec {
	s := c.spec
	s.Excluded, s.Audience.Cities = slices.Clone(s.Excluded), slices.Clone(s.Audience.Cities)
	return s
}

// Status is where it stands.
func (c CouponCampaign) Status() CampaignStatus { return c.status }

// StockLeft is the coupons it may still bind.
func (c CouponCampaign) StockLeft() int64 { return c.stockLeft }

// Cursor is where BI's export goes on from.
func (c CouponCampaign) Cursor() string { return c.cursor }

// BIDone says BI has listed every matching user.
func (c CouponCampaign) BIDone() bool { return c.biDone }

// Progress is what issuing did so far.
func (c CouponCampaign) Progress() Progress { return c.progress }

// CreatedAt is when staff created it.
func (c CouponCampaign) CreatedAt() time.Time { return c.createdAt }

// LaunchedAt is when it was launched (zero before).
func (c CouponCampaign) LaunchedAt() time.Time { return c.launched }

// UpdatedAt is when it last changed.
func (c CouponCampaign) UpdatedAt() time.Time { return c.updatedAt }

func (c *CouponCampaign) move(to CampaignStatus, now time.Time, from ...CampaignStatus) error {
	if !slices.Contains(from, c.status) {
		return fmt.Errorf("campaign %s is %s, cannot become %s: %w", c.id, c.status, to, ErrCampaignState)
	}
	c.status, c.updatedAt = to, now
	return nil
}

// Launch starts issuing.
func (c *CouponCampaign) Launch(now time.Time) error {
	if err := c.move(CampaignRunning, now, CampaignDraft); err != nil {
		return err
	}
	c.launched = now
	return nil
}

// Pause stops issuing where it stands.
func (c *CouponCampaign) Pause(now time.Time) error {
	return c.move(CampaignPaused, now, CampaignRunning)
}

// Resume goes on from where it was paused.
func (c *CouponCampaign) Resume(now time.Time) error {
	return c.move(CampaignRunning, now, CampaignPaused)
}

// Cancel stops issuing for good; coupons bound stay bound.
func (c *CouponCampaign) Cancel(now time.Time) error {
	return c.move(CampaignCancelled, now, CampaignDraft, CampaignRunning, CampaignPaused)
}

// Issuing says whether users are being granted now.
func (c CouponCampaign) Issuing() bool { return c.status == CampaignRunning }
