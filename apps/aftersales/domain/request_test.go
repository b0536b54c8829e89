package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
)

func TestCheckOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		customer, owner, status string
		want                    error
	}{
		{"C1", "C1", "PAID", nil},
		{"C1", "C1", "FULFILLING", nil},
		{"C1", "C1", "DISPATCHED", nil},
		{"C1", "C2", "PAID", domain.ErrNotOwner},
		{"C1", "C1", "PENDING_PAYMENT", domain.ErrNotCancellable},
		{"C1", "C1", "CANCELLED", domain.ErrNotCancellable},
		{"C1", "C1", "SHIPPED", domain.ErrNotCancellable},
		{"C1", "C1", "COMPLETED", domain.ErrNotCancellable},
	}
	for _, c := range cases {
		if err := domain.CheckOrder(c.customer, c.owner, c.status); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestCancelLifecycle(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	in := domain.CancelInput{OrderID: "O1", CustomerID: "C1", IdempotencyKey: "k", Reason: "no longer needed"}
	r, err := domain.NewCancel("R1", in, now)
	if err != nil || r.Status() != domain.StatusAccepted || len(r.NewSteps()) != 1 {
		t.Fatalf("new: %v %v", r, err)
	}
	// Steps out of order are refused.
	if err := r.Refunded(now, 100, ""); !errors.Is(err, domain.ErrBadTransition) {
		t.Fatalf("refund before cancel: %v", err)
	}
	if err := r.Intercepted(now, []string{"D1"}); !errors.Is(err, domain.ErrBadTransition) {
		t.Fatalf("intercept before pause: %v", err)
	}
	if err := r.Paused(now, "at split"); err != nil {
		t.Fatal(err)
	}
	if err := r.Paused(now, "again"); !errors.Is(err, domain.ErrBadTransition) {
		t.Fatalf("second pause: %v", err)
	}
	_ = r.Intercepted(now, []string{"D1"})
	_ = r.Intercepted(now, []string{"D1"}) // the same again records nothing
	if err := r.OrderCancelled(now, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.Refuse(now, domain.RefusedAtWarehouse, "late"); !errors.Is(err, domain.ErrBadTransition) {
		t.Fatalf("refuse after cancel: %v", err)
	}
	if err := r.Refunded(now, 150, "all"); err != nil || !r.Status().Done() || r.RefundedFen() != 150 {
		t.Fatalf("refunded: %v %s", err, r.Status())
	}
	if got := len(r.Steps()); got != 5 {
		t.Fatalf("%d steps: %+v", got, r.Steps())
	}
	if r.SameRequest(in.Hash()) != nil {
		t.Fatal("same input refused")
	}
	in.Reason = "other"
	if !errors.Is(r.SameRequest(in.Hash()), domain.ErrKeyReused) {
		t.Fatal("other input accepted under the same key")
	}
}

func TestCancelInputValidation(t *testing.T) {
	t.Parallel()
	long := make([]rune, domain.MaxReason+1)
	for i := range long {
		long[i] = '字'
	}
	bad := []domain.CancelInput{
		{CustomerID: "C1", IdempotencyKey: "k", Reason: "r"},
		{OrderID: "O1", IdempotencyKey: "k", Reason: "r"},
		{OrderID: "O1", CustomerID: "C1", Reason: "r"},
		{OrderID: "O1", CustomerID: "C1", IdempotencyKey: "k", Reason: "  "},
		{OrderID: "O1", CustomerID: "C1", IdempotencyKey: "k", Reason: string(long)},
	}
	for _, in := range bad {
		if _, err := domain.NewCancel("R", in, time.Now()); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("%+v: %v", in, err)
		}
	}
}

// ComputeRefund spreads each line's stage-5 allocation over its units,
// cumulatively: the units of a line returned over several returns give
// back exactly the line, never more; lines not on the order and units
// above what was delivered are refused.
func TestComputeRefund(t *testing.T) {
	t.Parallel()
	lines := []domain.OrderLine{{SKU: "A", Qty: 3, Cash: 3100, NonCash: 500, Freight: 600}, {SKU: "B", Qty: 1, Cash: 1000, NonCash: 200, Freight: 200}}
	cases := []struct {
		name     string
		returned map[string]int64
		want     []domain.ReturnLine
		cash     int64
		nonCash  int64
		freight  int64
		err      error
	}{
		{"one of three", nil, []domain.ReturnLine{{"A", 1}}, 1033, 166, 200, nil},
		{"the second", map[string]int64{"A": 1}, []domain.ReturnLine{{"A", 1}}, 2066 - 1033, 333 - 166, 400 - 200, nil},
		{"the last gives the rest", map[string]int64{"A": 2}, []domain.ReturnLine{{"A", 1}}, 3100 - 2066, 500 - 333, 600 - 400, nil},
		{"all of the order", nil, []domain.ReturnLine{{"A", 3}, {"B", 1}}, 4100, 700, 800, nil},
		{"above delivered", map[string]int64{"A": 2}, []domain.ReturnLine{{"A", 2}}, 0, 0, 0, domain.ErrQtyAboveDelivered},
		{"not on the order", nil, []domain.ReturnLine{{"Z", 1}}, 0, 0, 0, domain.ErrLineNotOnOrder},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ComputeRefund(lines, c.returned, c.want)
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			var cash, nonCash, freight int64
			for _, l := range got {
				cash, nonCash, freight = cash+int64(l.Cash), nonCash+int64(l.NonCash), freight+int64(l.Freight)
			}
			if cash != c.cash || nonCash != c.nonCash || freight != c.freight {
				t.Fatalf("cash %d non-cash %d freight %d, want %d %d %d", cash, nonCash, freight, c.cash, c.nonCash, c.freight)
			}
		})
	}
}
