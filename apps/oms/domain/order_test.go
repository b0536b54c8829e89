package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
)

var now = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

func pending(t *testing.T) *domain.Order {
	t.Helper()
	p := domain.Placement{CustomerID: "c", Source: "APP",
		Lines:   []domain.LineInput{{SKU: "A", Qty: 3, UnitPrice: 100}},
		Address: domain.Address{Name: "n", Phone: "13800138000", Province: "p", City: "c", District: "d", Detail: "x"},
		Slot:    domain.Slot{Type: domain.SlotNextDay, Date: "2026-03-11"}, Freight: 50}
	o, err := domain.NewOrder("o1", p, map[string]domain.Product{"A": {SKU: "A", Name: "a", Price: 100}}, 100, now, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		act  func(o *domain.Order) error
		want error
		st   domain.Status
	}{
		{"pay exact", func(o *domain.Order) error { return o.MarkPaid("t", 250, now) }, nil, domain.StatusPaid},
		{"pay short", func(o *domain.Order) error { return o.MarkPaid("t", 249, now) }, domain.ErrAmountMismatch, domain.StatusPendingPayment},
		{"pay twice same trade", func(o *domain.Order) error { _ = o.MarkPaid("t", 250, now); return o.MarkPaid("t", 250, now) }, domain.ErrAlreadyPaid, domain.StatusPaid},
		{"pay after cancel", func(o *domain.Order) error { _ = o.CancelByCustomer("c", now, ""); return o.MarkPaid("t", 250, now) }, domain.ErrNotPayable, domain.StatusCancelled},
		{"expire early", func(o *domain.Order) error { return o.Expire(now.Add(time.Minute)) }, domain.ErrNotExpired, domain.StatusPendingPayment},
		{"expire on time", func(o *domain.Order) error { return o.Expire(now.Add(10 * time.Minute)) }, nil, domain.StatusCancelled},
		{"expire paid", func(o *domain.Order) error { _ = o.MarkPaid("t", 250, now); return o.Expire(now.Add(time.Hour)) }, domain.ErrNotCancellable, domain.StatusPaid},
		{"cancel by stranger", func(o *domain.Order) error { return o.CancelByCustomer("x", now, "") }, domain.ErrNotOwner, domain.StatusPendingPayment},
		{"fulfil unpaid", func(o *domain.Order) error { return o.StartFulfillment(now) }, domain.ErrBadTransition, domain.StatusPendingPayment},
		{"cancel in fulfillment", func(o *domain.Order) error {
			_ = o.MarkPaid("t", 250, now)
			_ = o.StartFulfillment(now)
			return o.CancelBeforeFulfillment(domain.ReasonFraud, now, "")
		}, domain.ErrNotCancellable, domain.StatusFulfilling},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := pending(t)
			if err := c.act(o); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if o.Status() != c.st {
				t.Fatalf("status %s, want %s", o.Status(), c.st)
			}
		})
	}
}

func TestPayability(t *testing.T) {
	t.Parallel()
	o := pending(t)
	if ok, _ := o.Payability(now.Add(10*time.Minute - time.Nanosecond)); !ok {
		t.Fatal("payable before the deadline")
	}
	if ok, r := o.Payability(now.Add(10 * time.Minute)); ok || r != "DEADLINE_PASSED" {
		t.Fatalf("at the deadline: %v %s", ok, r)
	}
	if err := o.RequestCancel(now, "cs"); err != nil {
		t.Fatal(err)
	}
	if ok, r := o.Payability(now); ok || r != "CANCEL_PENDING" {
		t.Fatalf("cancel pending: %v %s", ok, r)
	}
}
