package app_test

import (
	"errors"
	"sync"
	"testing"

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
