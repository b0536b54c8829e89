package domain

import (
	"errors"
	"testing"

	"github.com/harvest/harvest/apps/platform/money"
)

func TestValidateItems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		cust  string
		items []Item
		ok    bool
	}{
		{"ok", "C1", []Item{{kind: KindBalance, amount: 1}, {kind: KindCoupon, couponID: "x"}}, true},
		{"no customer", "", []Item{{kind: KindBalance, amount: 1}}, false},
		{"no items", "C1", nil, false},
		{"zero amount", "C1", []Item{{kind: KindPoints, amount: 0}}, false},
		{"negative amount", "C1", []Item{{kind: KindGiftCard, amount: -5}}, false},
		{"coupon without id", "C1", []Item{{kind: KindCoupon}}, false},
		{"coupon twice", "C1", []Item{{kind: KindCoupon, couponID: "x"}, {kind: KindCoupon, couponID: "x"}}, false},
		{"unknown kind", "C1", []Item{{kind: "CASH", amount: 1}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateItems(c.cust, c.items)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrValidation)) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestCanRefund(t *testing.T) {
	t.Parallel()
	cases := []struct {
		paid, refunded, amount money.Fen
		want                   error
	}{
		{100, 0, 100, nil},
		{100, 40, 60, nil},
		{100, 40, 61, ErrRefundTooLarge},
		{100, 0, 0, ErrValidation},
		{100, 100, 1, ErrRefundTooLarge},
	}
	for _, c := range cases {
		err := CanRefund(c.paid, c.refunded, c.amount)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("CanRefund(%d,%d,%d) = %v, want %v", c.paid, c.refunded, c.amount, err, c.want)
		}
	}
}

func TestNeedsAudit(t *testing.T) {
	t.Parallel()
	if NeedsAudit(ReasonCancel) || NeedsAudit(ReasonRejected) || !NeedsAudit("AFTERSALES") {
		t.Fatal("only cancel and rejection skip the audit")
	}
}
