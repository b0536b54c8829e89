package domain

import (
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// The pricing of coupon items: a coupon the wallet held for the deduction,
// not expired; amount 0 takes its value; never more than it is worth.
func TestDeductionHoldCouponRules(t *testing.T) {
	t.Parallel()
	ok := HeldCoupon("c1", "10 off", 1_000, now.Add(time.Hour))
	cases := []struct {
		name    string
		coupons map[string]Coupon
		amount  money.Fen
		want    error
		total   money.Fen
	}{
		{"value taken", map[string]Coupon{"c1": ok}, 0, nil, 1_500},
		{"part of it", map[string]Coupon{"c1": ok}, 400, nil, 900},
		{"more than worth", map[string]Coupon{"c1": ok}, 1_001, ErrValidation, 0},
		{"not held by the wallet", map[string]Coupon{}, 0, ErrInsufficient, 0},
		{"expired", map[string]Coupon{"c1": HeldCoupon("c1", "t", 1_000, now)}, 0, ErrInsufficient, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, err := NewDeduction("d1", "k", "h", "C1", []Item{NewItem(KindBalance, 500, ""), NewItem(KindCoupon, c.amount, "c1")})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Hold(c.coupons, now)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Hold = %v, want %v", err, c.want)
			}
			if err == nil && (d.TotalFen() != c.total || d.Status() != DeductionHeld || !d.CreatedAt().Equal(now)) {
				t.Fatalf("held %+v", d)
			}
		})
	}
}

func TestDeductionReverseOnce(t *testing.T) {
	t.Parallel()
	d := RestoreDeduction(DeductionSnapshot{ID: "d", CustomerID: "C1", Status: DeductionUsed, Total: 1_111,
		Items: []Item{NewItem(KindBalance, 1_000, ""), NewItem(KindPoints, 100, ""), NewItem(KindGiftCard, 10, ""),
			NewItem(KindGoodsCard, 1, ""), NewItem(KindCoupon, 500, "c")}})
	if _, err := d.Reverse(false); !errors.Is(err, ErrNotReversible) {
		t.Fatalf("a used deduction without allowUsed: %v", err)
	}
	back, err := d.Reverse(true)
	if err != nil || d.Status() != DeductionReversed {
		t.Fatalf("reverse: %v %s", err, d.Status())
	}
	if back != RestoreAccount("C1", 1_000, 10, 100, 1) {
		t.Fatalf("gives back %+v", back)
	}
	if _, err := d.Reverse(true); !errors.Is(err, ErrNotReversible) {
		t.Fatalf("second reverse: %v", err)
	}
}

func TestTradeFullRefund(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status         TradeStatus
		paid, refunded money.Fen
		want           money.Fen // 0: nothing to refund
	}{
		{TradeSucceeded, 1_000, 0, 1_000},
		{TradeSucceeded, 1_000, 400, 600},
		{TradeSucceeded, 1_000, 1_000, 0},
		{TradePending, 0, 0, 0},
		{TradeClosed, 0, 0, 0},
	}
	for _, c := range cases {
		tr := RestoreTrade(TradeSnapshot{ID: "t", OrderID: "O", CustomerID: "C", Status: c.status, Paid: c.paid, Refunded: c.refunded})
		r, err := tr.FullRefund("r", ReasonCancel)
		if c.want == 0 {
			if !errors.Is(err, ErrNothingToRefund) {
				t.Errorf("%+v: %v, want ErrNothingToRefund", c, err)
			}
			continue
		}
		if err != nil || r.AmountFen() != c.want || r.CauseKey() != FullRefundKey("t") || r.Status() != RefundSubmitting {
			t.Errorf("%+v: %+v %v", c, r, err)
		}
	}
}

func TestNewTradeAndRefundValidate(t *testing.T) {
	t.Parallel()
	var np *NotPayableError
	if _, err := NewTrade("t", "k", "h", "O", "C", "WECHAT", 0, now.Add(time.Minute), now); !errors.As(err, &np) || np.Reason != "NOTHING_DUE" {
		t.Fatalf("nothing due: %v", err)
	}
	if _, err := NewTrade("t", "k", "h", "O", "C", "WECHAT", 1, now, now); !errors.As(err, &np) || np.Reason != "DEADLINE_PASSED" {
		t.Fatalf("deadline passed: %v", err)
	}
	tr, err := NewTrade("t", "k", "h", "O", "C", "WECHAT", 100, now.Add(time.Minute), now)
	if err != nil || tr.Status() != TradePending || !tr.NeedsOpening() {
		t.Fatalf("new trade %+v %v", tr, err)
	}
	if _, err := NewRequestedRefund("r", tr, "k", "h", 0, "DAMAGED"); !errors.Is(err, ErrValidation) {
		t.Fatalf("zero refund: %v", err)
	}
	if _, err := NewRequestedRefund("r", tr, "k", "h", 1, ReasonCancel); !errors.Is(err, ErrValidation) {
		t.Fatalf("reserved reason: %v", err)
	}
	r, err := NewRequestedRefund("r", tr, "k", "h", 1, "DAMAGED")
	if err != nil || r.Status() != RefundPendingAudit || r.CauseKey() != "key:k" || r.CustomerID() != "C" {
		t.Fatalf("requested refund %+v %v", r, err)
	}
	if _, err := NewCredit("C", 1, 0, -1, 0); !errors.Is(err, ErrValidation) {
		t.Fatalf("negative credit: %v", err)
	}
}
