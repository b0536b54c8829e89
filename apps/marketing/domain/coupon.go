package domain

// The coupon wallet (DOMAIN 3.1, 3.3's user-assets service): coupon
// templates staff define, the coupons bound to customers from them, and the
// rules PAY's COUPON deduction and OMS's placement ask about. Nothing else
// in Harvest keeps coupon rows.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Sentinel errors of the wallet; api maps each to one marketingclient code.
var (
	ErrTemplateInUse    = errors.New("coupon template has bound coupons")
	ErrTemplateRetired  = errors.New("coupon template is retired")
	ErrTemplateEnded    = errors.New("coupon template's validity has ended")
	ErrCouponNotFound   = errors.New("coupon not found")
	ErrCouponExpired    = errors.New("coupon expired")
	ErrCouponNotStarted = errors.New("coupon not valid yet")
	ErrCouponNotUsable  = errors.New("coupon not available")
	ErrThresholdNotMet  = errors.New("order below the coupon's threshold")
	ErrNotApplicable    = errors.New("coupon applies to none of the order's goods")
)

// MaxTemplateSKUs bounds the SKUs a template may be limited to.
const MaxTemplateSKUs = 50

// ProductCategories are the catalog's product categories a template may
// apply to: inventory's, as inventoryclient.Categories publishes them
// (TestTemplateCategoriesAreTheCatalogs holds the two equal). The list is
// fixed, so a category a coupon was bound with never changes meaning.
var ProductCategories = []string{"GRAIN_OIL", "SNACKS", "BEVERAGE", "DAIRY", "EGGS_TOFU", "VEGETABLE", "FRUIT", "MEAT", "SEAFOOD",
	"FROZEN_FOOD", "ICE_CREAM"}

// ReasonUnknownCategory names the rule a template naming a category not
// in ProductCategories breaks (FieldError.Reason).
const ReasonUnknownCategory = "UNKNOWN_CATEGORY"

// FieldError is a validation failure of one named field, with the rule it
// breaks where the rule has a name; it is an ErrValidation.
type FieldError struct {
	Field, Reason, Msg string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s: %s", ErrValidation, e.Field, e.Msg) }

// Unwrap makes a FieldError an ErrValidation.
func (e *FieldError) Unwrap() error { return ErrValidation }

// TemplateStatus says whether a template still binds new coupons.
type TemplateStatus string

// Template statuses. A retired template binds no new coupon; coupons bound
// before keep their rules.
const (
	TemplateActive  TemplateStatus = "ACTIVE"
	TemplateRetired TemplateStatus = "RETIRED"
)

// TemplateSpec is what staff define: the coupon's value, the goods amount
// an order must reach (0: none), the SKUs and the product categories it
// applies to (a line is eligible when its SKU or its category is named;
// neither named: all goods) and the window in which a bound coupon may be
// used.
type TemplateSpec struct {
	Title        string
	ValueFen     money.Fen
	ThresholdFen money.Fen
	SKUs         []string
	Categories   []string // of ProductCategories, sorted
	ValidFrom    time.Time
	ValidTo      time.Time
}

// Normalize trims, drops blank and repeated SKUs, and brings the times to
// UTC microseconds (what DATETIME(6) keeps).
func (s *TemplateSpec) Normalize() {
	s.Title = strings.TrimSpace(s.Title)
	s.SKUs = uniq(s.SKUs)
	s.Categories = uniq(s.Categories)
	slices.Sort(s.Categories)
	s.ValidFrom = s.ValidFrom.UTC().Truncate(time.Microsecond)
	s.ValidTo = s.ValidTo.UTC().Truncate(time.Microsecond)
}

// Validate checks a template (after Normalize).
func (s TemplateSpec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrValidation, fmt.Sprintf(format, args...))
	}
	switch {
	case s.Title == "" || len(s.Title) > 128:
		return bad("title is required (at most 128 bytes)")
	case s.ValueFen <= 0:
		return bad("value_fen must be positive")
	case s.ThresholdFen < 0:
		return bad("threshold_fen must not be negative")
	case s.ThresholdFen > 0 && s.ThresholdFen < s.ValueFen:
		return bad("threshold_fen must be 0 or at least value_fen")
	case s.ValidFrom.IsZero() || s.ValidTo.IsZero():
		return bad("valid_from and valid_to are required")
	case !s.ValidTo.After(s.ValidFrom):
		return bad("valid_to must be after valid_from")
	case len(s.SKUs) > MaxTemplateSKUs:
		return bad("at most %d SKUs", MaxTemplateSKUs)
	}
	for _, sku := range s.SKUs {
		if len(sku) > 64 {
			return bad("SKU %q is longer than 64 bytes", sku)
		}
	}
	for i, c := range s.Categories {
		if !slices.Contains(ProductCategories, c) {
			return &FieldError{Field: fmt.Sprintf("categories[%d]", i), Reason: ReasonUnknownCategory,
				Msg: fmt.Sprintf("%q is not a product category (%s)", c, strings.Join(ProductCategories, ", "))}
		}
	}
	return nil
}

// NamesCategories says whether the spec limits its goods by category (an
// order's lines must then be judged with their categories).
func (s TemplateSpec) NamesCategories() bool { return len(s.Categories) > 0 }

// eligible says whether a line counts for the coupon: every line when the
// spec names neither SKUs nor categories, else one whose SKU or category
// it names.
func (s TemplateSpec) eligible(l Line) bool {
	if len(s.SKUs) == 0 && len(s.Categories) == 0 {
		return true
	}
	return slices.Contains(s.SKUs, l.SKU) || (l.Category != "" && slices.Contains(s.Categories, l.Category))
}

// goods describes what the spec applies to, for a refusal's message.
func (s TemplateSpec) goods() string {
	var parts []string
	if len(s.SKUs) > 0 {
		parts = append(parts, "SKUs "+strings.Join(s.SKUs, ", "))
	}
	if len(s.Categories) > 0 {
		parts = append(parts, "categories "+strings.Join(s.Categories, ", "))
	}
	return strings.Join(parts, " and ")
}

// Template is a coupon template.
type Template struct {
	id        string
	spec      TemplateSpec
	status    TemplateStatus
	bound     int64
	createdAt time.Time
	updatedAt time.Time
}

// NewTemplate is an active template of spec (normalized, then validated).
func NewTemplate(id string, spec TemplateSpec, now time.Time) (Template, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return Template{}, err
	}
	return Template{id: id, spec: spec, status: TemplateActive, createdAt: now, updatedAt: now}, nil
}

// TemplateSnapshot is a template as the store keeps it.
type TemplateSnapshot struct {
	ID        string
	Spec      TemplateSpec
	Status    TemplateStatus
	Bound     int64 // coupons ever bound from it
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RestoreTemplate rebuilds a template the store read.
func RestoreTemplate(s TemplateSnapshot) Template {
	return Template{id: s.ID, spec: s.Spec, status: s.Status, bound: s.Bound, createdAt: s.CreatedAt, updatedAt: s.UpdatedAt}
}

// ID is the template's id.
func (t Template) ID() string { return t.id }

// Spec is what it defines.
func (t Template) Spec() TemplateSpec {
	s := t.spec
	s.SKUs = slices.Clone(s.SKUs)
	s.Categories = slices.Clone(s.Categories)
	return s
}

// Status says whether it binds new coupons.
func (t Template) Status() TemplateStatus { return t.status }

// Bound counts the coupons bound from it.
func (t Template) Bound() int64 { return t.bound }

// CreatedAt is when it was defined.
func (t Template) CreatedAt() time.Time { return t.createdAt }

// UpdatedAt is when it last changed.
func (t Template) UpdatedAt() time.Time { return t.updatedAt }

// Update replaces the template's rules. Once a coupon is bound from it the
// rules a customer was given stay as they were: only the title may change
// and the window may grow (ErrTemplateInUse otherwise). The goods it
// applies to are rules too: its SKUs and its categories stay.
func (t *Template) Update(spec TemplateSpec, now time.Time) error {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return err
	}
	if t.status == TemplateRetired {
		return fmt.Errorf("template %s: %w", t.id, ErrTemplateRetired)
	}
	if t.bound > 0 {
		o := t.spec
		grows := !spec.ValidFrom.After(o.ValidFrom) && !spec.ValidTo.Before(o.ValidTo)
		if spec.ValueFen != o.ValueFen || spec.ThresholdFen != o.ThresholdFen || !sameSet(spec.SKUs, o.SKUs) ||
			!slices.Equal(spec.Categories, o.Categories) || !grows {
			return fmt.Errorf("template %s has %d bound coupons: only its title may change and its window grow: %w", t.id, t.bound, ErrTemplateInUse)
		}
	}
	t.spec, t.updatedAt = spec, now
	return nil
}

// sameSet says whether a and b hold the same strings (the store reads a
// template's SKUs sorted; an edit may list them in any order).
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Retire stops the template binding new coupons.
func (t *Template) Retire(now time.Time) {
	t.status, t.updatedAt = TemplateRetired, now
}

// CanBind says whether a coupon may be bound from the template at now.
func (t Template) CanBind(now time.Time) error {
	switch {
	case t.status == TemplateRetired:
		return fmt.Errorf("template %s: %w", t.id, ErrTemplateRetired)
	case !now.Before(t.spec.ValidTo):
		return fmt.Errorf("template %s ended at %s: %w", t.id, t.spec.ValidTo.Format(time.RFC3339), ErrTemplateEnded)
	}
	return nil
}

// CouponStatus is where a bound coupon stands in the wallet.
type CouponStatus string

// Coupon statuses. HELD: taken by a PAY deduction not yet bound to an
// order; USED: its deduction is bound to an order (a cancel still gives it
// back); UNBOUND: removed by customer service. An AVAILABLE coupon past its
// window shows as EXPIRED (StatusAt), without a write.
const (
	CouponAvailable CouponStatus = "AVAILABLE"
	CouponHeld      CouponStatus = "HELD"
	CouponUsed      CouponStatus = "USED"
	CouponUnbound   CouponStatus = "UNBOUND"
	CouponExpired   CouponStatus = "EXPIRED"
)

// Coupon is a coupon bound to a customer, with the rules of its template.
type Coupon struct {
	ID         string
	TemplateID string
	CustomerID string
	Status     CouponStatus
	HoldID     string
	Rules      TemplateSpec
	Source     string // CAMPAIGN, CLAIM or GRANT
	SourceRef  string
	BoundAt    time.Time
}

// StatusAt is what the customer sees at now: EXPIRED for an available
// coupon past its window.
func (c Coupon) StatusAt(now time.Time) CouponStatus {
	if c.Status == CouponAvailable && !now.Before(c.Rules.ValidTo) {
		return CouponExpired
	}
	return c.Status
}

// CanHold says whether the customer may take the coupon into a deduction
// (hold) at now. A coupon of someone else is said not to exist.
func (c Coupon) CanHold(customerID, holdID string, now time.Time) error {
	switch {
	case c.CustomerID != customerID:
		return fmt.Errorf("coupon %s: %w", c.ID, ErrCouponNotFound)
	case (c.Status == CouponHeld || c.Status == CouponUsed) && c.HoldID == holdID:
		return nil // this hold again
	case c.Status != CouponAvailable:
		return fmt.Errorf("coupon %s is %s: %w", c.ID, c.Status, ErrCouponNotUsable)
	case !now.Before(c.Rules.ValidTo):
		return fmt.Errorf("coupon %s expired at %s: %w", c.ID, c.Rules.ValidTo.Format(time.RFC3339), ErrCouponExpired)
	case now.Before(c.Rules.ValidFrom):
		return fmt.Errorf("coupon %s is valid from %s: %w", c.ID, c.Rules.ValidFrom.Format(time.RFC3339), ErrCouponNotStarted)
	}
	return nil
}

// Applies says whether an order of lines meets the coupon's rules: it
// must contain goods the coupon applies to (by SKU or category; any, when
// it names neither), and those goods alone must reach the threshold. A
// coupon naming categories needs each line's Category filled in.
func (c Coupon) Applies(lines []Line) error {
	var eligible money.Fen
	any := false
	for _, l := range lines {
		if c.Rules.eligible(l) {
			eligible += l.AmountFen
			any = true
		}
	}
	switch {
	case !any:
		return fmt.Errorf("coupon %s applies to %s only: %w", c.ID, c.Rules.goods(), ErrNotApplicable)
	case eligible < c.Rules.ThresholdFen:
		return fmt.Errorf("coupon %s needs %d fen of eligible goods, the order has %d: %w", c.ID,
			int64(c.Rules.ThresholdFen), int64(eligible), ErrThresholdNotMet)
	}
	return nil
}

// HoldState is what PAY says of a hold (a deduction taking coupons).
type HoldState string

// Hold states. VOID: no deduction took the hold and none can any more.
const (
	HoldHeld     HoldState = "HELD"
	HoldUsed     HoldState = "USED"
	HoldReversed HoldState = "REVERSED"
	HoldVoid     HoldState = "VOID"
)

// Gives reports whether the hold's coupons go back to the wallet.
func (s HoldState) Gives() bool { return s == HoldReversed || s == HoldVoid }
