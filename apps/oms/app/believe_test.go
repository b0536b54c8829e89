package app_test

import (
	"context"
	"errors"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"testing"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/payclient"
)

// A forged pay.trade.succeeded (issue 10, finding 1) marks nothing paid:
// OMS asks PAY about the trade first, and an unknown trade, one not
// succeeded, or one for another order, customer or amount is refused as
// unverified (the subscriber drops it). Only the trade PAY confirms pays.
func TestForgedTradeSucceededIsNotBelieved(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	other := mustPlace(t, e, "k2", placement("APP"))

	forged := trade(o, "t-forged") // PAY never heard of it
	if _, err := e.svc.ApplyTrade(ctx, "m1", forged); !errors.Is(err, domain.ErrUnverifiedTrade) {
		t.Fatalf("unknown trade: want ErrUnverifiedTrade, got %v", err)
	}
	pending := e.paid(trade(o, "t-pending"))
	e.pay.mu.Lock()
	tp := e.pay.trades[pending.TradeID]
	tp.Status = payclient.TradePending
	e.pay.trades[pending.TradeID] = tp
	e.pay.mu.Unlock()
	if _, err := e.svc.ApplyTrade(ctx, "m2", pending); !errors.Is(err, domain.ErrUnverifiedTrade) {
		t.Fatalf("pending trade: %v", err)
	}
	// A real trade of another order, replayed against this one.
	e.paid(trade(other, "t-other"))
	replayed := trade(o, "t-other")
	if _, err := e.svc.ApplyTrade(ctx, "m3", replayed); !errors.Is(err, domain.ErrUnverifiedTrade) {
		t.Fatalf("another order's trade: %v", err)
	}
	// The amount inflated over what PAY took.
	small := e.paid(trade(o, "t-small"))
	small.AmountFen++
	if _, err := e.svc.ApplyTrade(ctx, "m4", small); !errors.Is(err, domain.ErrUnverifiedTrade) {
		t.Fatalf("inflated amount: %v", err)
	}
	if got, _ := e.svc.GetOrder(ctx, o.ID()); got.Status() != domain.StatusPendingPayment {
		t.Fatalf("a forged payment changed the order to %s", got.Status())
	}
	if n := outboxCount(t, e.db, events.TopicOrderPaid) + outboxCount(t, e.db, events.TopicPaymentRejected); n != 0 {
		t.Fatalf("%d payment events from forged trades", n)
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM inbox`); n != 0 {
		t.Fatalf("forged messages claimed in the inbox: %d", n)
	}

	if r, err := e.svc.ApplyTrade(ctx, "m5", e.paid(trade(o, "t-real"))); err != nil || r != app.PaymentPaid {
		t.Fatalf("the confirmed trade: %v %v", r, err)
	}
}

// PAY unreachable is a passing fault: the event is retried, not dropped.
func TestTradeCheckWithPayUnreachableRetries(t *testing.T) {
	e := newEnv(t)
	o := mustPlace(t, e, "k", placement("APP"))
	e.pay.mu.Lock()
	e.pay.down = true
	e.pay.mu.Unlock()
	_, err := e.svc.ApplyTrade(context.Background(), "m", e.paid(trade(o, "t1")))
	if err == nil || errors.Is(err, domain.ErrUnverifiedTrade) {
		t.Fatalf("PAY down: want a retryable error, got %v", err)
	}
}

// couponIds are checked against PAY's model of coupons (issue 10, finding
// 8): each must be held by one of the order's own deductions; a coupon of
// no deduction, of a deduction of another customer, or named without any
// deduction fails with COUPON_NOT_DEDUCTED on its index, and nothing is
// written or reserved.
func TestPlaceOrderCouponsMustBeHeldByItsDeductions(t *testing.T) {
	cases := []struct {
		name       string
		deductions []string
		coupons    []string
		field      string
		code       string
	}{
		{"coupon without deductions", nil, []string{"c1"}, "coupon_ids[0]", "COUPON_NOT_DEDUCTED"},
		{"coupon not in the deduction", []string{"d1"}, []string{"c1", "c9"}, "coupon_ids[1]", "COUPON_NOT_DEDUCTED"},
		{"another customer's coupon", []string{"d1"}, []string{"c-other"}, "coupon_ids[0]", "COUPON_NOT_DEDUCTED"},
		{"coupon of another customer's deduction", []string{"d-other"}, []string{"c-other"}, "deduction_ids[0]", "DEDUCTION_NOT_FOUND"},
		{"duplicate coupon", []string{"d1"}, []string{"c1", "c1"}, "coupon_ids[1]", "DUPLICATE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.deduction("d1", "cust-1", payclient.DeductionHeld, 500, "c1")
			e.deduction("d-other", "cust-2", payclient.DeductionHeld, 500, "c-other")
			p := placement("APP")
			p.DeductionIDs, p.CouponIDs = c.deductions, c.coupons
			_, _, err := e.svc.PlaceOrder(context.Background(), cmd("k", p))
			var de *app.DeductionError
			var ve *domain.ValidationError
			var vs []domain.Violation
			switch {
			case errors.As(err, &de):
				vs = de.Violations
			case errors.As(err, &ve):
				vs = ve.Violations
			default:
				t.Fatalf("want a violation, got %v", err)
			}
			if len(vs) != 1 || vs[0].Field != c.field || vs[0].Code != c.code {
				t.Fatalf("want %s on %s, got %+v", c.code, c.field, vs)
			}
			nothingWritten(t, e)
			if e.inv.reservations() != 0 {
				t.Fatal("stock reserved for a refused placement")
			}
		})
	}
	e := newEnv(t)
	e.deduction("d1", "cust-1", payclient.DeductionHeld, 500, "c1")
	p := placement("APP")
	p.DeductionIDs, p.CouponIDs = []string{"d1"}, []string{"c1"}
	if o := mustPlace(t, e, "k", p); len(o.CouponIDs()) != 1 {
		t.Fatalf("coupons %v", o.CouponIDs())
	}
}

// Every coupon the order's deductions hold is judged by the wallet
// against the order's lines, named in couponIds or not; a threshold the
// order does not reach fails on the coupon's index with the wallet's code,
// and nothing is written or reserved.
func TestPlaceOrderCouponRulesAreTheWallets(t *testing.T) {
	for _, named := range []bool{true, false} {
		e := newEnv(t)
		e.deduction("d1", "cust-1", payclient.DeductionHeld, 500, "c1")
		e.cps.threshold["c1"] = 1 << 40
		p := placement("APP")
		p.DeductionIDs = []string{"d1"}
		field := "deduction_ids"
		if named {
			p.CouponIDs, field = []string{"c1"}, "coupon_ids[0]"
		}
		_, _, err := e.svc.PlaceOrder(context.Background(), cmd("k", p))
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Code != marketingclient.CodeThresholdNotMet ||
			ve.Violations[0].Field != field {
			t.Fatalf("named %v: %v", named, err)
		}
		nothingWritten(t, e)
		if e.inv.reservations() != 0 {
			t.Fatal("stock reserved for a refused placement")
		}
		if len(e.cps.asked) != 1 || e.cps.asked[0].CustomerID != "cust-1" || len(e.cps.asked[0].Lines) != len(p.Lines) {
			t.Fatalf("wallet asked %+v", e.cps.asked)
		}
	}
}
