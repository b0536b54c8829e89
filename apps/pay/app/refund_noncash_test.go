package app_test

import (
	"errors"
	"sync"
	"testing"

	mdomain "github.com/harvest/harvest/apps/marketing/domain"
	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
)

// A return's non-cash share goes back to the accounts the order's
// deduction took it from, in proportion (balance 3000 and points 1000 of
// a 4000 deduction: 3/4 and 1/4 of it); a replayed key gives nothing
// more; six refunds of 1000 race for the 4000: exactly four go through
// and the accounts end where they began.
func TestNonCashRefundGoesBackWhereItCameFromOnce(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000, Points: 1_000})
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{
		{Kind: domain.KindBalance, AmountFen: 3_000}, {Kind: domain.KindPoints, AmountFen: 1_000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "m1", omsevents.OrderPlaced{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	in := app.NonCashRefundInput{IdempotencyKey: "R1:NONCASH_REFUND", OrderID: "O1", AmountFen: 400, Reason: "SALES_RETURN"}
	for range 3 {
		f, err := h.svc.RefundNonCash(h.ctx, in)
		if err != nil || f.Back.BalanceFen() != 300 || f.Back.Points() != 100 {
			t.Fatalf("refund: %+v %v", f, err)
		}
	}
	if a := h.accounts("C1"); a.BalanceFen() != 7_300 || a.Points() != 100 {
		t.Fatalf("accounts after one refund of 400: balance %s points %d", a.BalanceFen(), a.Points())
	}
	other := in
	other.AmountFen = 500
	if _, err := h.svc.RefundNonCash(h.ctx, other); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("same key, other amount: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, tooLarge := 0, 0
	for range 6 {
		wg.Go(func() {
			_, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: ids.New(), OrderID: "O1", AmountFen: 900, Reason: "SALES_RETURN"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, domain.ErrRefundTooLarge):
				tooLarge++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 4000 - 400 = 3600 left: four refunds of 900.
	if ok != 4 || tooLarge != 2 {
		t.Fatalf("%d refunds went through, %d refused; want 4 and 2", ok, tooLarge)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 10_000 || a.Points() != 1_000 {
		t.Fatalf("accounts after the whole deduction came back: balance %s points %d", a.BalanceFen(), a.Points())
	}
	if _, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: "x", OrderID: "O-none", AmountFen: 1, Reason: "SALES_RETURN"}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("an order without deductions: %v", err)
	}
	_ = money.Fen(0)
}

// A coupon's share of a non-cash refund is credited, not dropped: a
// deduction of 600 balance and a coupon worth 400, returned 500 of it,
// gives 300 back to the balance for the balance and 200 for the coupon
// (its share, at its value: the coupon itself is not given back too); the whole
// deduction returned over two refunds gives back exactly 1000, and
// nothing is lost between the accounts and the refunds' record.
func TestNonCashRefundCreditsTheCouponShare(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 1_000})
	cp := h.coupon("C1", 400)
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{
		{Kind: domain.KindBalance, AmountFen: 600}, {Kind: domain.KindCoupon, CouponID: cp}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "m1", omsevents.OrderPlaced{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	f, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: "R1", OrderID: "O1", AmountFen: 500, Reason: "SALES_RETURN"})
	if err != nil || f.Coupon != 200 || f.Back.BalanceFen() != 500 {
		t.Fatalf("refund: coupon %s balance %s %v", f.Coupon, f.Back.BalanceFen(), err)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 400+500 {
		t.Fatalf("balance %s after the refund, want 900", a.BalanceFen())
	}
	f2, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: "R2", OrderID: "O1", AmountFen: 500, Reason: "SALES_RETURN"})
	if err != nil || f2.Coupon != 200 {
		t.Fatalf("second refund: %+v %v", f2, err)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 1_400 {
		t.Fatalf("balance %s after the whole deduction came back, want 1400 (1000 + the coupon's 400)", a.BalanceFen())
	}
	if n := h.count(`SELECT COALESCE(SUM(balance_fen),0) FROM noncash_refunds WHERE order_id='O1'`); n != 1_000 {
		t.Fatalf("refunds record %d to the balance, want 1000", n)
	}
	if st := h.couponStatus(cp); st == mdomain.CouponAvailable {
		t.Fatalf("the coupon is %s: given back whole besides its value", st)
	}
}
