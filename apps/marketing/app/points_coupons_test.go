package app_test

import (
	"errors"
	"testing"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/ids"
)

// A cancelled order's coupons bought with its points are unbound once:
// the available ones go UNBOUND (recorded like customer service's), one
// held by a deduction is kept and answered; another order's and another
// customer's stay; a repeat answers the first result; bad input is
// refused and changes nothing.
func TestUnbindCouponsBoughtWithPointsOnce(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{})
	bind := func(customer, ref string) string {
		t.Helper()
		c, _, err := e.w.Bind(e.ctx, app.Binding{TemplateID: tp.ID(), CustomerID: customer, Source: app.SourcePoints, SourceRef: ref})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	a, b, held := bind("C1", app.PointsRef("O1", 1)), bind("C1", app.PointsRef("O1", 2)), bind("C1", app.PointsRef("O1", 3))
	other, otherCustomer := bind("C1", app.PointsRef("O11", 1)), bind("C2", app.PointsRef("O1", 1))
	if _, err := e.w.Hold(e.ctx, ids.New(), "C1", []string{held}); err != nil {
		t.Fatal(err)
	}
	pc := app.NewPointsCoupons(e.st, e.w.Now)
	if _, err := pc.Unbind(e.ctx, "", "O1", "C1", "order cancelled"); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("no unbind id: %v", err)
	}
	if _, err := pc.Unbind(e.ctx, "R1:UNBIND", "O%", "C1", "order cancelled"); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("a pattern as order id: %v", err)
	}
	u, err := pc.Unbind(e.ctx, "R1:UNBIND", "O1", "C1", "order cancelled")
	if err != nil || u.Duplicate || len(u.Unbound) != 2 || len(u.Kept) != 1 || u.Kept[0].ID != held || u.Kept[0].Status != domain.CouponHeld {
		t.Fatalf("unbind: %+v %v", u, err)
	}
	again, err := pc.Unbind(e.ctx, "R1:UNBIND", "O1", "C1", "order cancelled")
	if err != nil || !again.Duplicate || len(again.Unbound) != 2 {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	status := func(id string) domain.CouponStatus {
		c, err := e.st.Coupon(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Status
	}
	for id, want := range map[string]domain.CouponStatus{a: domain.CouponUnbound, b: domain.CouponUnbound, held: domain.CouponHeld,
		other: domain.CouponAvailable, otherCustomer: domain.CouponAvailable} {
		if got := status(id); got != want {
			t.Fatalf("coupon %s is %s, want %s", id, got, want)
		}
	}
}
