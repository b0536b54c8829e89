package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
)

// WalletRepository is what the coupon wallet needs persisted
// (apps/marketing/store implements it). It is the only port over coupon
// rows: campaigns bind through Bind, PAY holds through Hold.
type WalletRepository interface {
	// CreateTemplate stores t; a key used before returns that template's
	// id (same hash) or domain.ErrKeyReused.
	CreateTemplate(ctx context.Context, t domain.Template, key, hash string) (id string, err error)
	Template(ctx context.Context, id string) (domain.Template, error)
	Templates(ctx context.Context, before string, limit int) ([]domain.Template, error)
	// UpdateTemplate locks the template, calls fn and saves what it left.
	UpdateTemplate(ctx context.Context, id string, fn func(t *domain.Template) error) (domain.Template, error)
	// DeleteTemplate deletes a template no coupon was bound from
	// (domain.ErrTemplateInUse otherwise).
	DeleteTemplate(ctx context.Context, id string) error
	// Bind binds a coupon once per (customer, source, source ref): a
	// repeat returns the coupon bound first (created=false), or
	// domain.ErrKeyReused when it came from another template.
	Bind(ctx context.Context, b Binding) (c domain.Coupon, created bool, err error)
	// Unbind moves an AVAILABLE coupon of the customer to UNBOUND.
	Unbind(ctx context.Context, couponID, customerID, agent, reason string, now time.Time) (domain.Coupon, error)
	Coupon(ctx context.Context, id string) (domain.Coupon, error)
	// Coupons lists a customer's coupons, newest first.
	Coupons(ctx context.Context, customerID string, limit int) ([]domain.Coupon, error)
	// Hold locks the customer's coupons among ids, has check judge each,
	// and holds them all for holdID, or none.
	Hold(ctx context.Context, holdID, customerID string, couponIDs []string, now, nextCheck time.Time,
		check func(domain.Coupon) error) ([]domain.Coupon, error)
	// Settle applies PAY's word on a hold: its coupons go back, become
	// USED, or stay HELD until nextCheck. It returns the coupons changed.
	Settle(ctx context.Context, holdID string, state domain.HoldState, now, nextCheck time.Time) (int64, error)
	// DueHolds lists holds with HELD coupons due for a check-back.
	DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// Binding is one coupon to bind.
type Binding struct {
	CouponID   string
	TemplateID string
	CustomerID string
	Source     string
	SourceRef  string
	Now        time.Time
}

// Coupon sources.
const (
	SourceGrant    = "GRANT"    // customer service or staff, by idempotency key
	SourceCampaign = "CAMPAIGN" // a staff campaign, ref its id
	SourceClaim    = "CLAIM"    // a pop-up claim
)

// Holds is what the wallet asks PAY about a hold (payclient fits through
// a small adapter in main).
type Holds interface {
	HoldState(ctx context.Context, holdID string) (domain.HoldState, error)
}

// Wallet runs the coupon wallet's use cases.
type Wallet struct {
	store WalletRepository
	pay   Holds
	clock clock.Clock
	log   *slog.Logger
	// CheckAfter is how long a HELD coupon waits before the wallet asks
	// PAY about its hold (then again with the same spacing).
	CheckAfter time.Duration
	// Pending, when set, issues a customer's pending pop-up claims before
	// their coupons are listed (Claims.IssuePending): a customer looking
	// at their coupons sees what they claimed bound.
	Pending func(ctx context.Context, customerID string)
	// Catalog answers the order lines' categories when a coupon being
	// judged names categories (CheckUse).
	Catalog Catalog
}

// NewWallet returns the wallet over st, asking pay about holds.
func NewWallet(st WalletRepository, pay Holds, clk clock.Clock, log *slog.Logger) *Wallet {
	if log == nil {
		log = slog.Default()
	}
	return &Wallet{store: st, pay: pay, clock: clk, log: log, CheckAfter: 2 * time.Minute}
}

func (w *Wallet) now() time.Time { return w.clock.Now().UTC().Truncate(time.Microsecond) }

// Now is the wallet's time (what a coupon's shown status is judged at).
func (w *Wallet) Now() time.Time { return w.now() }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", domain.ErrValidation, fmt.Sprintf(format, args...))
}

func checkKey(key string, required bool) error {
	switch {
	case required && strings.TrimSpace(key) == "":
		return invalid("idempotency_key is required")
	case len(key) > 128:
		return invalid("idempotency_key is longer than 128 bytes")
	}
	return nil
}

// CreateTemplate defines a coupon template; a retry with the key returns
// the template created first.
func (w *Wallet) CreateTemplate(ctx context.Context, key string, spec domain.TemplateSpec) (domain.Template, error) {
	if err := checkKey(key, false); err != nil {
		return domain.Template{}, err
	}
	t, err := domain.NewTemplate(ids.New(), spec, w.now())
	if err != nil {
		return domain.Template{}, err
	}
	id, err := w.store.CreateTemplate(ctx, t, key, domain.RequestHash(t.Spec()))
	if err != nil {
		return domain.Template{}, err
	}
	return w.store.Template(ctx, id)
}

// Template returns one template.
func (w *Wallet) Template(ctx context.Context, id string) (domain.Template, error) {
	return w.store.Template(ctx, id)
}

// Templates lists templates newest first; before is the last id of the
// previous page.
func (w *Wallet) Templates(ctx context.Context, before string, limit int) ([]domain.Template, error) {
	if limit <= 0 || limit > 500 {
		return nil, invalid("limit must be 1..500")
	}
	return w.store.Templates(ctx, before, limit)
}

// UpdateTemplate replaces a template's rules (domain.Template.Update says
// what may change once coupons are bound).
func (w *Wallet) UpdateTemplate(ctx context.Context, id string, spec domain.TemplateSpec) (domain.Template, error) {
	now := w.now()
	return w.store.UpdateTemplate(ctx, id, func(t *domain.Template) error { return t.Update(spec, now) })
}

// RetireTemplate stops a template binding new coupons; bound ones stay.
func (w *Wallet) RetireTemplate(ctx context.Context, id string) (domain.Template, error) {
	now := w.now()
	return w.store.UpdateTemplate(ctx, id, func(t *domain.Template) error { t.Retire(now); return nil })
}

// DeleteTemplate deletes a template from which no coupon was bound.
func (w *Wallet) DeleteTemplate(ctx context.Context, id string) error {
	return w.store.DeleteTemplate(ctx, id)
}

// Grant binds a coupon of a template to a customer, once per key (staff
// or customer service).
func (w *Wallet) Grant(ctx context.Context, key, templateID, customerID string) (domain.Coupon, bool, error) {
	if err := checkKey(key, true); err != nil {
		return domain.Coupon{}, false, err
	}
	return w.Bind(ctx, Binding{TemplateID: templateID, CustomerID: customerID, Source: SourceGrant, SourceRef: key})
}

// Bind binds one coupon (campaigns and claims come here too).
func (w *Wallet) Bind(ctx context.Context, b Binding) (domain.Coupon, bool, error) {
	switch {
	case !domain.ValidCustomerID(b.CustomerID):
		return domain.Coupon{}, false, invalid("customer_id %q is not a customer id", b.CustomerID)
	case b.TemplateID == "" || len(b.TemplateID) > 26:
		return domain.Coupon{}, false, invalid("template_id is required")
	}
	if b.CouponID == "" {
		b.CouponID = ids.New()
	}
	if b.Now.IsZero() {
		b.Now = w.now()
	}
	return w.store.Bind(ctx, b)
}

// Unbind takes an available coupon off a customer (customer service).
func (w *Wallet) Unbind(ctx context.Context, couponID, customerID, agent, reason string) (domain.Coupon, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case couponID == "":
		return domain.Coupon{}, invalid("coupon_id is required")
	case reason == "" || len(reason) > 256:
		return domain.Coupon{}, invalid("reason is required (at most 256 bytes)")
	case agent == "" || len(agent) > 64:
		return domain.Coupon{}, invalid("agent is required")
	}
	return w.store.Unbind(ctx, couponID, customerID, agent, reason, w.now())
}

// Coupons lists a customer's coupons.
func (w *Wallet) Coupons(ctx context.Context, customerID string) ([]domain.Coupon, error) {
	if !domain.ValidCustomerID(customerID) {
		return nil, invalid("customer_id %q is not a customer id", customerID)
	}
	if w.Pending != nil {
		w.Pending(ctx, customerID)
	}
	return w.store.Coupons(ctx, customerID, 200)
}

// Hold takes coupons into PAY's deduction holdID: each must be the
// customer's, available and inside its window; all are held or none. A
// repeat for the same hold answers the same coupons.
func (w *Wallet) Hold(ctx context.Context, holdID, customerID string, couponIDs []string) ([]domain.Coupon, error) {
	switch {
	case holdID == "" || len(holdID) > 26:
		return nil, invalid("hold_id is required (at most 26 bytes)")
	case customerID == "":
		return nil, invalid("customer_id is required")
	case len(couponIDs) == 0 || len(couponIDs) > 10:
		return nil, invalid("coupon_ids must hold 1..10 ids")
	}
	seen := map[string]bool{}
	for _, id := range couponIDs {
		if seen[id] {
			return nil, invalid("coupon %s is named twice", id)
		}
		seen[id] = true
	}
	now := w.now()
	return w.store.Hold(ctx, holdID, customerID, couponIDs, now, now.Add(w.CheckAfter), func(c domain.Coupon) error {
		return c.CanHold(customerID, holdID, now)
	})
}

// Recheck asks PAY where a hold stands and settles its coupons by the
// answer: a reversed or void deduction gives them back. PAY calls it after
// reversing a deduction; the check-back calls it for every hold left HELD.
// Nothing is given back on the caller's word alone.
func (w *Wallet) Recheck(ctx context.Context, holdID string) (domain.HoldState, error) {
	st, err := w.pay.HoldState(ctx, holdID)
	if err != nil {
		return "", fmt.Errorf("ask pay about hold %s: %w", holdID, err)
	}
	now := w.now()
	if _, err := w.store.Settle(ctx, holdID, st, now, now.Add(w.CheckAfter)); err != nil {
		return "", err
	}
	return st, nil
}

// CheckHolds is the check-back: every hold whose coupons stayed HELD past
// CheckAfter is asked about again. An unreachable PAY leaves them for the
// next pass.
func (w *Wallet) CheckHolds(ctx context.Context) (int, error) {
	due, err := w.store.DueHolds(ctx, w.now(), 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range due {
		if _, err := w.Recheck(ctx, h); err != nil {
			w.log.Warn("coupon hold check-back failed; retry next pass", "hold", h, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// RunChecks runs the check-back every interval until ctx ends.
func (w *Wallet) RunChecks(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := w.CheckHolds(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("coupon hold check-back", "err", err)
			}
		}
	}
}

// UseCheck is one coupon's answer for an order being placed.
type UseCheck struct {
	CouponID string
	Err      error // nil: the coupon applies
}

// CheckUse judges the coupons an order names against its lines (OMS asks
// at placement): each must be the customer's, taken by a deduction, inside
// its window, applicable to the order's goods and reached by them.
func (w *Wallet) CheckUse(ctx context.Context, customerID string, couponIDs []string, lines []domain.Line) ([]UseCheck, error) {
	if len(couponIDs) > 10 {
		return nil, invalid("at most 10 coupons")
	}
	now := w.now()
	out := make([]UseCheck, 0, len(couponIDs))
	categorised := false // lines given their categories
	for _, id := range couponIDs {
		c, err := w.store.Coupon(ctx, id)
		switch {
		case err != nil && !isNotFound(err):
			return nil, err
		case err != nil || c.CustomerID != customerID:
			err = fmt.Errorf("coupon %s: %w", id, domain.ErrCouponNotFound)
		case c.Status != domain.CouponHeld && c.Status != domain.CouponUsed:
			err = fmt.Errorf("coupon %s is %s, not taken by a deduction: %w", id, c.StatusAt(now), domain.ErrCouponNotUsable)
		case !now.Before(c.Rules.ValidTo):
			err = fmt.Errorf("coupon %s expired at %s: %w", id, c.Rules.ValidTo.Format(time.RFC3339), domain.ErrCouponExpired)
		case now.Before(c.Rules.ValidFrom):
			err = fmt.Errorf("coupon %s is valid from %s: %w", id, c.Rules.ValidFrom.Format(time.RFC3339), domain.ErrCouponNotStarted)
		default:
			if c.Rules.NamesCategories() && !categorised {
				if lines, err = w.categorise(ctx, lines); err != nil {
					return nil, err
				}
				categorised = true
			}
			err = c.Applies(lines)
		}
		out = append(out, UseCheck{CouponID: id, Err: err})
	}
	return out, nil
}

// categorise fills in the lines' categories from inventory's catalog.
//
// The wallet asks the catalog itself rather than taking categories from
// its caller: the rule is the wallet's, so the fact it judges by comes
// from its owner, not from whichever service asks (OMS today, any other
// tomorrow, each of which would have to supply it right); and OMS asks
// before it reserves stock, when it holds no catalog entries of its own.
// Only an order holding a coupon that names categories pays for the read
// (one batched catalog call). A SKU the catalog does not know, or one
// entered before categories, has no category: no category coupon
// applies to it.
func (w *Wallet) categorise(ctx context.Context, lines []domain.Line) ([]domain.Line, error) {
	if w.Catalog == nil {
		return nil, fmt.Errorf("a coupon names categories and the wallet has no catalog to ask")
	}
	skus := make([]string, 0, len(lines))
	for _, l := range lines {
		skus = append(skus, l.SKU)
	}
	cats, err := w.Catalog.Categories(ctx, skus)
	if err != nil {
		return nil, fmt.Errorf("categories of the order's lines: %w", err)
	}
	out := make([]domain.Line, len(lines))
	for i, l := range lines {
		l.Category = cats[l.SKU]
		out[i] = l
	}
	return out, nil
}

func isNotFound(err error) bool {
	return errors.Is(err, domain.ErrCouponNotFound) || errors.Is(err, domain.ErrNotFound)
}

// Seed fills an empty wallet for the local stack: two templates and one
// coupon of each for customers C0001..C<n> (what PAY's seed once held).
func (w *Wallet) Seed(ctx context.Context, n int) (bool, error) {
	ts, err := w.store.Templates(ctx, "", 1)
	if err != nil || len(ts) > 0 {
		return false, err
	}
	now := w.now()
	specs := []domain.TemplateSpec{
		{Title: "满99减10", ValueFen: 1_000, ThresholdFen: 9_900, ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(180 * 24 * time.Hour)},
		{Title: "新客立减5元", ValueFen: 500, ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(180 * 24 * time.Hour)},
	}
	for i, sp := range specs {
		t, err := w.CreateTemplate(ctx, fmt.Sprintf("seed:template:%d", i), sp)
		if err != nil {
			return false, fmt.Errorf("seed template %d: %w", i, err)
		}
		for c := 1; c <= n; c++ {
			if _, _, err := w.Grant(ctx, "seed:"+t.ID(), t.ID(), fmt.Sprintf("C%04d", c)); err != nil {
				return false, fmt.Errorf("seed coupon of C%04d: %w", c, err)
			}
		}
	}
	return true, nil
}
