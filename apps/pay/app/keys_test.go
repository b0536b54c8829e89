package app_test

import (
	"errors"
	"testing"

	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
)

// Finding 5: an idempotency key is the caller's own. Two customers using
// the same key each get their own deduction, credit, trade and refund; the
// same customer reusing a key with other input gets ErrKeyReused.
func TestIdempotencyKeysAreScopedByCustomer(t *testing.T) {
	h := newHarness(t)
	for _, c := range []string{"C1", "C2"} {
		a := app.Amounts{CustomerID: c, BalanceFen: 10_000}
		if err := h.svc.Credit(h.ctx, "k1", a); err != nil {
			t.Fatalf("credit %s with k1: %v", c, err)
		}
		if err := h.svc.Credit(h.ctx, "k1", app.Amounts{CustomerID: c, BalanceFen: 1}); !errors.Is(err, domain.ErrKeyReused) {
			t.Fatalf("credit %s reusing k1: %v", c, err)
		}
	}
	deductions := map[string]string{}
	for _, c := range []string{"C1", "C2"} {
		d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k1", CustomerID: c, Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 1_000}}})
		if err != nil {
			t.Fatalf("deduct for %s with k1: %v", c, err)
		}
		if d.CustomerID() != c {
			t.Fatalf("%s got %s's deduction", c, d.CustomerID())
		}
		deductions[c] = d.ID()
		if a := h.accounts(c); a.BalanceFen() != 9_000 {
			t.Fatalf("%s balance %d, want 9000", c, a.BalanceFen())
		}
		if _, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "k1", CustomerID: c, Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 7}}}); !errors.Is(err, domain.ErrKeyReused) {
			t.Fatalf("deduct for %s reusing k1: %v", c, err)
		}
	}
	if deductions["C1"] == deductions["C2"] {
		t.Fatal("one deduction for two customers")
	}
	trades := map[string]string{}
	for _, c := range []string{"C1", "C2"} {
		order := "O-" + c
		h.order(order, c, 5_000)
		tr, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "k1", OrderID: order, CustomerID: c, Channel: "WECHAT"})
		if err != nil {
			t.Fatalf("start payment for %s with k1: %v", c, err)
		}
		if tr.OrderID() != order || tr.CustomerID() != c {
			t.Fatalf("%s got trade %+v", c, tr)
		}
		trades[c] = tr.ID()
		if _, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "k1", OrderID: order, CustomerID: c, Channel: "ALIPAY"}); !errors.Is(err, domain.ErrKeyReused) {
			t.Fatalf("start payment for %s reusing k1: %v", c, err)
		}
		if err := h.payAtCashier("WECHAT", tr.ID(), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.PollTrades(h.ctx); err != nil {
		t.Fatal(err)
	}
	refunds := map[string]string{}
	for _, c := range []string{"C1", "C2"} {
		if got := h.trade(trades[c]); got.Status() != domain.TradeSucceeded {
			t.Fatalf("trade of %s: %s", c, got.Status())
		}
		r, err := h.svc.RequestRefund(h.ctx, app.RefundInput{IdempotencyKey: "k1", TradeID: trades[c], AmountFen: 1_000, Reason: "DAMAGED_GOODS"})
		if err != nil {
			t.Fatalf("refund for %s with k1: %v", c, err)
		}
		if r.TradeID() != trades[c] {
			t.Fatalf("%s got the refund of trade %s", c, r.TradeID())
		}
		refunds[c] = r.ID()
		if _, err := h.svc.RequestRefund(h.ctx, app.RefundInput{IdempotencyKey: "k1", TradeID: trades[c], AmountFen: 1_001, Reason: "DAMAGED_GOODS"}); !errors.Is(err, domain.ErrKeyReused) {
			t.Fatalf("refund for %s reusing k1: %v", c, err)
		}
	}
	if refunds["C1"] == refunds["C2"] {
		t.Fatal("one refund for two customers")
	}
}
