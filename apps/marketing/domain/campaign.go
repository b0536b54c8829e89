// Package domain holds marketing's rules for goods-gift campaigns (DOMAIN
// 3.2) without I/O: what a valid campaign is, when it is active, which orders
// meet its conditions, who may be a candidate, and the sentinel errors the
// other layers map to marketingclient's codes.
package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/harvest/harvest/apps/platform/money"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Sentinel errors; api maps each to one code of marketingclient.
var (
	ErrValidation = errors.New("validation failed")
	ErrNotFound   = errors.New("not found")
	// ErrKeyReused: the same idempotency key (or order id) came with other input.
	ErrKeyReused = errors.New("idempotency key reused with other input")
	// ErrMalformedFile: a candidate file that cannot be read as a list at all
	// (not an .xlsx, no sheet, no header with a customer id column).
	ErrMalformedFile = errors.New("malformed candidate file")
	// ErrFileTooLarge: a candidate file past a size limit (its upload, what it
	// unzips to, its rows); nothing of it is imported.
	ErrFileTooLarge = errors.New("candidate file too large")
)

// Limits that keep one campaign's rows small enough to write in one transaction.
const (
	MaxRequiredSKUs = 50
	MaxExcluded     = 100_000
)

var customerID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// ValidCustomerID reports whether s can be a customer id: the ids the
// platform hands out are short ASCII tokens, so anything else in a candidate
// file is a typing slip, not a customer.
func ValidCustomerID(s string) bool { return customerID.MatchString(s) }

// Phase is where a campaign stands at a moment.
type Phase string

// Phases. A campaign's window is [StartsAt, EndsAt).
const (
	PhaseScheduled Phase = "SCHEDULED"
	PhaseActive    Phase = "ACTIVE"
	PhaseEnded     Phase = "ENDED"
)

// Gift is the goods a qualifying order receives.
type Gift struct {
	SKU         string
	QtyPerOrder int64
	Stock       int64 // total units the campaign may give away
}

// Conditions are what an order must meet besides its customer being a
// candidate who is not excluded.
type Conditions struct {
	MinGoodsFen  money.Fen // the order's goods amount must reach it (0: no minimum)
	RequiredSKUs []string  // every one must be among the order's lines
}

// CampaignSpec is what staff ask for when they create a campaign: its
// name, window, conditions, exclusions and gift.
type CampaignSpec struct {
	Name       string
	StartsAt   time.Time
	EndsAt     time.Time
	Conditions Conditions
	Excluded   []string
	Gift       Gift
}

// Campaign is a goods-gift campaign with its conditions, exclusions and
// gift, and what is left of its gift stock.
type Campaign struct {
	id         string
	spec       CampaignSpec
	stockLeft  int64
	candidates int64
	createdAt  time.Time
}

// NewCampaign is a campaign of spec (normalized, then validated), with all
// of its gift stock left.
func NewCampaign(id string, spec CampaignSpec, createdAt time.Time) (Campaign, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return Campaign{}, err
	}
	return Campaign{id: id, spec: spec, stockLeft: spec.Gift.Stock, createdAt: createdAt}, nil
}

// CampaignSnapshot is a campaign's state as the store persists it.
type CampaignSnapshot struct {
	ID         string
	Spec       CampaignSpec
	StockLeft  int64
	Candidates int64
	CreatedAt  time.Time
}

// RestoreCampaign rebuilds a campaign the store read.
func RestoreCampaign(s CampaignSnapshot) Campaign {
	return Campaign{id: s.ID, spec: s.Spec, stockLeft: s.StockLeft, candidates: s.Candidates, createdAt: s.CreatedAt}
}

// ID is the campaign's id.
func (c Campaign) ID() string { return c.id }

// Name is what staff call it.
func (c Campaign) Name() string { return c.spec.Name }

// StartsAt opens its window [StartsAt, EndsAt).
func (c Campaign) StartsAt() time.Time { return c.spec.StartsAt }

// EndsAt closes its window.
func (c Campaign) EndsAt() time.Time { return c.spec.EndsAt }

// Conditions are what a qualifying order meets.
func (c Campaign) Conditions() Conditions {
	cond := c.spec.Conditions
	cond.RequiredSKUs = slices.Clone(cond.RequiredSKUs)
	return cond
}

// Excluded are the customers it never grants to.
func (c Campaign) Excluded() []string { return slices.Clone(c.spec.Excluded) }

// Gift is what a qualifying order receives.
func (c Campaign) Gift() Gift { return c.spec.Gift }

// StockLeft is the gift units it may still give away.
func (c Campaign) StockLeft() int64 { return c.stockLeft }

// Candidates is the size of its candidate list.
func (c Campaign) Candidates() int64 { return c.candidates }

// CreatedAt is when it was created.
func (c Campaign) CreatedAt() time.Time { return c.createdAt }

// Normalize trims names, drops blank and repeated SKUs and customers, and
// brings times to UTC microseconds (what DATETIME(6) keeps), so two requests
// meaning the same campaign hash the same and read back as sent.
func (c *CampaignSpec) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	c.Gift.SKU = strings.TrimSpace(c.Gift.SKU)
	c.StartsAt = c.StartsAt.UTC().Truncate(time.Microsecond)
	c.EndsAt = c.EndsAt.UTC().Truncate(time.Microsecond)
	c.Conditions.RequiredSKUs = uniq(c.Conditions.RequiredSKUs)
	c.Excluded = uniq(c.Excluded)
}

func uniq(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// Validate checks a new campaign (after Normalize).
func (c CampaignSpec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrValidation, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Name == "" || len(c.Name) > 128:
		return bad("name is required (at most 128 bytes)")
	case c.StartsAt.IsZero() || c.EndsAt.IsZero():
		return bad("starts_at and ends_at are required")
	case !c.EndsAt.After(c.StartsAt):
		return bad("ends_at must be after starts_at")
	case c.Conditions.MinGoodsFen < 0:
		return bad("conditions.min_goods_fen must not be negative")
	case len(c.Conditions.RequiredSKUs) > MaxRequiredSKUs:
		return bad("at most %d required SKUs", MaxRequiredSKUs)
	case len(c.Excluded) > MaxExcluded:
		return bad("at most %d excluded customers", MaxExcluded)
	case c.Gift.SKU == "" || len(c.Gift.SKU) > 64:
		return bad("gift.sku is required (at most 64 bytes)")
	case c.Gift.QtyPerOrder <= 0:
		return bad("gift.qty_per_order must be positive")
	case c.Gift.Stock < 0:
		return bad("gift.stock must not be negative")
	}
	for _, s := range c.Conditions.RequiredSKUs {
		if len(s) > 64 {
			return bad("required SKU %q is longer than 64 bytes", s)
		}
	}
	for _, u := range c.Excluded {
		if !ValidCustomerID(u) {
			return bad("excluded customer %q is not a customer id", u)
		}
	}
	return nil
}

// PhaseAt tells where the campaign stands at t.
func (c Campaign) PhaseAt(t time.Time) Phase {
	switch {
	case t.Before(c.spec.StartsAt):
		return PhaseScheduled
	case t.Before(c.spec.EndsAt):
		return PhaseActive
	}
	return PhaseEnded
}

// Line is one line of an order being evaluated.
type Line struct {
	SKU       string
	Qty       int64
	AmountFen money.Fen
	// Category is the SKU's product category as inventory's catalog
	// says; filled in only where a rule asks (Coupon.Applies of a coupon
	// naming categories).
	Category string
}

// Order is what fulfillment asks about.
type Order struct {
	ID         string
	CustomerID string
	GoodsFen   money.Fen
	Lines      []Line
	PlacedAt   time.Time
}

// Validate checks an order query.
func (o Order) Validate() error {
	switch {
	case o.ID == "" || len(o.ID) > 64:
		return fmt.Errorf("%w: order_id is required (at most 64 bytes)", ErrValidation)
	case o.CustomerID == "" || len(o.CustomerID) > 64:
		return fmt.Errorf("%w: customer_id is required (at most 64 bytes)", ErrValidation)
	case o.GoodsFen < 0:
		return fmt.Errorf("%w: goods_fen must not be negative", ErrValidation)
	case o.PlacedAt.IsZero():
		return fmt.Errorf("%w: placed_at is required", ErrValidation)
	}
	for i, l := range o.Lines {
		if l.SKU == "" || l.Qty <= 0 {
			return fmt.Errorf("%w: lines[%d] needs sku and positive qty", ErrValidation, i)
		}
	}
	return nil
}

// Met reports whether the order meets the conditions.
func (c Conditions) Met(o Order) bool {
	if o.GoodsFen < c.MinGoodsFen {
		return false
	}
	have := make(map[string]bool, len(o.Lines))
	for _, l := range o.Lines {
		if l.Qty > 0 {
			have[l.SKU] = true
		}
	}
	for _, s := range c.RequiredSKUs {
		if !have[s] {
			return false
		}
	}
	return true
}

// Verdict is the answer of one campaign to one order.
type Verdict string

// Verdicts. Only VerdictEligible takes gift stock; whether a unit is left is
// decided by the store's conditional update, not here.
const (
	VerdictEligible     Verdict = "ELIGIBLE"
	VerdictNotCandidate Verdict = "NOT_CANDIDATE"
	VerdictExcluded     Verdict = "EXCLUDED"
	VerdictOutside      Verdict = "OUTSIDE_WINDOW"
	VerdictUnmet        Verdict = "CONDITIONS_UNMET"
)

// Evaluate decides whether the campaign grants its gift to the order: the
// customer must be a candidate, not excluded, the order placed inside the
// window, and the conditions met.
func (c Campaign) Evaluate(o Order, candidate, excluded bool) Verdict {
	switch {
	case !candidate:
		return VerdictNotCandidate
	case excluded:
		return VerdictExcluded
	case c.PhaseAt(o.PlacedAt) != PhaseActive:
		return VerdictOutside
	case !c.spec.Conditions.Met(o):
		return VerdictUnmet
	}
	return VerdictEligible
}

// Grant is a gift given to an order by a campaign.
type Grant struct {
	CampaignID string
	OrderID    string
	CustomerID string
	SKU        string
	Qty        int64
	CreatedAt  time.Time
}

// RequestHash is a stable digest of v, to tell a retry from a reuse of a key.
func RequestHash(v any) string {
	b, _ := json.Marshal(v) // only plain data is hashed; it always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
