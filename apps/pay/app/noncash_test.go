package app_test

import (
	"errors"
	"fmt"
	mdomain "github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"sync"
	"testing"
	"time"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
)

func TestDeductIsIdempotentByKey(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000, Points: 500})
	in := app.DeductInput{IdempotencyKey: "k1", CustomerID: "C1", Items: []app.Item{
		{Kind: domain.KindBalance, AmountFen: 3_000}, {Kind: domain.KindPoints, AmountFen: 200}}}
	first, err := h.svc.Deduct(h.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.svc.Deduct(h.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID() != first.ID() || again.TotalFen() != 3_200 {
		t.Fatalf("repeat gave %+v, first %+v", again, first)
	}
	a := h.accounts("C1")
	if a.BalanceFen() != 7_000 || a.Points() != 300 {
		t.Fatalf("balances after repeated deduct: %+v", a)
	}
	other := in
	other.Items = []app.Item{{Kind: domain.KindBalance, AmountFen: 1}}
	if _, err := h.svc.Deduct(h.ctx, other); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("same key, other input: %v", err)
	}
	if n := h.count(`SELECT COUNT(*) FROM deduction_items WHERE deduction_id=?`, first.ID()); n != 2 {
		t.Fatalf("deduction items: %d", n)
	}
	if n := h.count(`SELECT COUNT(*) FROM finance_pushes WHERE kind=? AND ref_id=?`, domain.PushNonCashReceived, first.ID()); n != 1 {
		t.Fatalf("finance pushes: %d", n)
	}
}

func TestDeductConcurrentSameKeyMakesOneDeduction(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	in := app.DeductInput{IdempotencyKey: "same", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 1_000}}}
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := h.svc.Deduct(h.ctx, in)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = d.ID()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("different deductions for one key: %v", ids)
		}
	}
	if a := h.accounts("C1"); a.BalanceFen() != 9_000 {
		t.Fatalf("balance %d, want 9000", a.BalanceFen())
	}
}

func TestDeductAllOrNothing(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 5_000, GiftCardFen: 100})
	_, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{
		{Kind: domain.KindBalance, AmountFen: 4_000}, {Kind: domain.KindGiftCard, AmountFen: 101}}})
	var ins *domain.InsufficientError
	if !errors.As(err, &ins) || ins.Kind != domain.KindGiftCard {
		t.Fatalf("want insufficient gift card, got %v", err)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 5_000 || a.GiftCardFen() != 100 {
		t.Fatalf("partial deduction left behind: %+v", a)
	}
	if n := h.count(`SELECT COUNT(*) FROM deductions`); n != 0 {
		t.Fatalf("%d deductions written", n)
	}
}

func TestDeductNeverBelowZeroUnderRace(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	const n, each = 40, 300 // 33 fit, 100 fen stay
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, short := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: fmt.Sprintf("race-%d", i), CustomerID: "C1",
				Items: []app.Item{{Kind: domain.KindBalance, AmountFen: each}}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, domain.ErrInsufficient):
				short++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 33 || short != n-33 {
		t.Fatalf("wins %d, insufficient %d; want 33 and %d", wins, short, n-33)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 100 {
		t.Fatalf("balance %d, want 100", a.BalanceFen())
	}
}

func TestCouponDeductionHoldsAndCannotBeUsedTwice(t *testing.T) {
	h := newHarness(t)
	cp := h.coupon("C1", 1_000)
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "c1", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindCoupon, CouponID: cp}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.TotalFen() != 1_000 {
		t.Fatalf("coupon deduction total %d", d.TotalFen())
	}
	if again, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "c1", CustomerID: "C1",
		Items: []app.Item{{Kind: domain.KindCoupon, CouponID: cp}}}); err != nil || again.ID() != d.ID() {
		t.Fatalf("retry with the key: %v %s", err, again.ID())
	}
	_, err = h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "c2", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindCoupon, CouponID: cp}}})
	var cr *domain.CouponRefusedError
	if !errors.As(err, &cr) || cr.Code != "COUPON_NOT_AVAILABLE" {
		t.Fatalf("second use of a held coupon: %v", err)
	}
	if st := h.couponStatus(cp); st != mdomain.CouponHeld {
		t.Fatalf("coupon %s in the wallet", st)
	}
}

// The refusals the wallet gives PAY's deduction carry its code, and take
// nothing: not the balance item beside them, not the coupon.
func TestCouponDeductionRefusalsChangeNothing(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 1_000})
	mine := h.coupon("C1", 500)
	theirs := h.coupon("C2", 500)
	expired := h.coupon("C1", 500)
	h.clk.Advance(2 * time.Hour) // every coupon above has expired
	fresh := h.coupon("C1", 500)
	for _, c := range []struct {
		id, code string
	}{{theirs, "COUPON_NOT_FOUND"}, {expired, "COUPON_EXPIRED"}, {"no-such", "COUPON_NOT_FOUND"}} {
		_, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k-" + c.id, CustomerID: "C1", Items: []app.Item{
			{Kind: domain.KindBalance, AmountFen: 300}, {Kind: domain.KindCoupon, CouponID: fresh}, {Kind: domain.KindCoupon, CouponID: c.id}}})
		var cr *domain.CouponRefusedError
		if !errors.As(err, &cr) || cr.Code != c.code {
			t.Errorf("coupon %s: %v, want %s", c.id, err, c.code)
		}
	}
	if a := h.accounts("C1"); a.BalanceFen() != 1_000 {
		t.Fatalf("balance %d after refusals", a.BalanceFen())
	}
	if st := h.couponStatus(fresh); st != mdomain.CouponAvailable {
		t.Fatalf("valid coupon beside a refused one is %s", st)
	}
	_ = mine
	if n := h.count(`SELECT COUNT(*) FROM deductions`); n != 0 {
		t.Fatalf("%d deductions written", n)
	}
}

// A deduction that fails after the wallet held its coupons (here: not
// enough balance) voids the hold, and the wallet gives the coupon back.
func TestFailedDeductionGivesItsHoldBack(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 100})
	cp := h.coupon("C1", 500)
	_, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{
		{Kind: domain.KindBalance, AmountFen: 300}, {Kind: domain.KindCoupon, CouponID: cp}}})
	if !errors.Is(err, domain.ErrInsufficient) {
		t.Fatalf("deduct above the balance: %v", err)
	}
	if st := h.couponStatus(cp); st != mdomain.CouponAvailable {
		t.Fatalf("coupon of a failed deduction is %s", st)
	}
	if n := h.count(`SELECT COUNT(*) FROM coupon_holds WHERE state='VOID'`); n != 1 {
		t.Fatalf("%d void holds, want 1", n)
	}
}

// A crash between the wallet's hold and PAY's commit leaves the coupon
// HELD with no deduction: the wallet's check-back asks PAY, which declares
// the hold void for good, and the coupon goes back. A deduction that did
// commit is kept, then marked USED once OMS's order binds it.
func TestCheckBackVoidsAnOrphanHoldAndKeepsARealOne(t *testing.T) {
	h := newHarness(t)
	orphan := h.coupon("C1", 500)
	real := h.coupon("C1", 700)
	if _, err := h.wallet.Hold(h.ctx, "01ORPHANHOLD0000000000000A", "C1", []string{orphan}); err != nil {
		t.Fatal(err)
	}
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindCoupon, CouponID: real}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "m1", omsevents.OrderPlaced{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(3 * time.Minute)
	if n, err := h.wallet.CheckHolds(h.ctx); err != nil || n != 2 {
		t.Fatalf("check-back: %d %v", n, err)
	}
	if st := h.couponStatus(orphan); st != mdomain.CouponAvailable {
		t.Fatalf("orphan hold's coupon is %s", st)
	}
	if st := h.couponStatus(real); st != mdomain.CouponUsed {
		t.Fatalf("used deduction's coupon is %s", st)
	}
	// The void is final: a deduction arriving late under that hold fails.
	if st, _ := h.svc.HoldState(h.ctx, "01ORPHANHOLD0000000000000A"); !st.Void {
		t.Fatalf("orphan hold answered %+v", st)
	}
}

// Cancelling the order gives the coupon back through the push worker's
// recheck, once, however often it runs.
func TestCancelGivesTheCouponBack(t *testing.T) {
	h := newHarness(t)
	cp := h.coupon("C1", 700)
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindCoupon, CouponID: cp}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "m1", omsevents.OrderPlaced{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	h.atOMS("O1", omsclient.StatusCancelled, d.ID())
	if err := h.svc.OnOrderCancelled(h.ctx, "m2", omsevents.OrderCancelled{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	if st := h.couponStatus(cp); st != mdomain.CouponHeld {
		t.Fatalf("coupon %s before the push worker ran", st)
	}
	for range 2 {
		if err := h.svc.SendPushes(h.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st := h.couponStatus(cp); st != mdomain.CouponAvailable {
		t.Fatalf("cancelled order's coupon is %s", st)
	}
	// Back in the wallet, it is usable again.
	if _, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k2", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindCoupon, CouponID: cp}}}); err != nil {
		t.Fatalf("coupon given back cannot be used: %v", err)
	}
}

func TestSweepReversesUnusedDeductionExactly(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000, GiftCardFen: 2_000, Points: 900, GoodsCardFen: 50})
	cp := h.coupon("C1", 500)
	before := h.accounts("C1")
	unused, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "u", CustomerID: "C1", Items: []app.Item{
		{Kind: domain.KindBalance, AmountFen: 1_234}, {Kind: domain.KindGiftCard, AmountFen: 2_000}, {Kind: domain.KindPoints, AmountFen: 899},
		{Kind: domain.KindGoodsCard, AmountFen: 50}, {Kind: domain.KindCoupon, CouponID: cp}}})
	if err != nil {
		t.Fatal(err)
	}
	used, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "v", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	h.oms.exists[used.ID()] = true

	if n, err := h.svc.SweepDeductions(h.ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the bound reversed %d (%v)", n, err)
	}
	h.clk.Advance(16 * time.Minute)
	if n, err := h.svc.SweepDeductions(h.ctx); err != nil || n != 1 {
		t.Fatalf("sweep reversed %d (%v), want 1", n, err)
	}
	if err := h.svc.SendPushes(h.ctx); err != nil {
		t.Fatal(err)
	}
	after := h.accounts("C1")
	if after.BalanceFen() != before.BalanceFen()-1 || after.GiftCardFen() != before.GiftCardFen() || after.Points() != before.Points() ||
		after.GoodsCardFen() != before.GoodsCardFen() || h.couponStatus(cp) != mdomain.CouponAvailable {
		t.Fatalf("after reverse %+v coupon %s, before %+v", after, h.couponStatus(cp), before)
	}
	d, _ := h.svc.Deduction(h.ctx, unused.ID())
	if d.Status() != domain.DeductionReversed {
		t.Fatalf("unused deduction status %s", d.Status())
	}
	if d, _ := h.svc.Deduction(h.ctx, used.ID()); d.Status() != domain.DeductionUsed {
		t.Fatalf("deduction OMS knows is %s, want USED", d.Status())
	}
	if n, _ := h.svc.SweepDeductions(h.ctx); n != 0 {
		t.Fatalf("second sweep reversed %d", n)
	}
	if a := h.accounts("C1"); a != after {
		t.Fatalf("second sweep changed balances: %+v vs %+v", a, after)
	}
}

func TestOrderPlacedThenCancelledReversesDeductions(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 2_500}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "m1", omsevents.OrderPlaced{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Deduction(h.ctx, d.ID()); got.Status() != domain.DeductionUsed || got.OrderID() != "O1" {
		t.Fatalf("after placed: %+v", got)
	}
	h.atOMS("O1", "CANCELLED", d.ID())
	ev := omsevents.OrderCancelled{OrderID: "O1", CustomerID: "C1", Reason: omsevents.ReasonExpired, DeductionIDs: []string{d.ID()}}
	for i := 0; i < 3; i++ { // redelivery changes nothing
		if err := h.svc.OnOrderCancelled(h.ctx, "m2", ev); err != nil {
			t.Fatal(err)
		}
	}
	if a := h.accounts("C1"); a.BalanceFen() != 10_000 {
		t.Fatalf("balance %d after cancel, want 10000", a.BalanceFen())
	}
	if n := h.outbox(payevents.TopicRefundSucceeded, "O1"); n != 1 {
		t.Fatalf("%d refund events, want 1", n)
	}
	// A second, different cancel message for the same order finds nothing left.
	if err := h.svc.OnOrderCancelled(h.ctx, "m3", ev); err != nil {
		t.Fatal(err)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 10_000 {
		t.Fatalf("balance %d after second cancel", a.BalanceFen())
	}
}

func TestFinancePushesAreSentOnceAndRetried(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 700}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.partners.SetFault(h.ctx, simFault("fms.receipts", 1)); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.SendPushes(h.ctx); err == nil {
		t.Fatal("push to a failing FMS reported success")
	}
	if err := h.partners.SetFault(h.ctx, simFault("fms.receipts", 0)); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Minute)
	for i := 0; i < 3; i++ {
		if err := h.svc.SendPushes(h.ctx); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := h.partners.Receipts(h.ctx, d.ID(), domain.PushNonCashReceived)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Deliveries != 1 || rs[0].AmountFen != 700 {
		t.Fatalf("finance received %+v, want one push of 700 delivered once", rs)
	}
}

func TestSeedFillsOnlyAnEmptyDatabase(t *testing.T) {
	h := newHarness(t)
	seeded, err := h.svc.Seed(h.ctx, 3)
	if err != nil || !seeded {
		t.Fatalf("seed: %v %v", seeded, err)
	}
	a := h.accounts("C0003")
	if a.BalanceFen() <= 0 || a.GiftCardFen() <= 0 || a.Points() <= 0 {
		t.Fatalf("seeded account %+v", a)
	}
	if seeded, err := h.svc.Seed(h.ctx, 3); err != nil || seeded {
		t.Fatalf("second seed: %v %v", seeded, err)
	}
	if n := h.count(`SELECT COUNT(*) FROM accounts`); n != 3 {
		t.Fatalf("%d accounts", n)
	}
}
