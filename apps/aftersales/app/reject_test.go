package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
)

// A refusal at the door becomes a rejection by itself: only once OMS
// confirms the order was refused (an unconfirmed event writes nothing);
// the refusal reported five times at once makes one rejection of every
// unit, whose warehouse notice calls for the refunds: everything the
// order took comes back (cash 4100 once at PAY, non-cash 700).
func TestRefusalAtTheDoorBecomesOneRejection(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	e.oms.mu.Lock()
	e.oms.orders["O1"].Status = omsclient.StatusShipped
	e.oms.mu.Unlock()
	if _, err := e.svc.Reject(ctx, "O1"); !errors.Is(err, app.ErrUnconfirmed) {
		t.Fatalf("unconfirmed refusal: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("%d requests after an unconfirmed refusal", n)
	}
	e.oms.mu.Lock()
	a := e.oms.allocations["O1"]
	a.Refused = true
	e.oms.allocations["O1"] = a
	e.oms.mu.Unlock()
	var wg sync.WaitGroup
	got := make([]string, 5)
	for i := range 5 {
		wg.Go(func() {
			r, err := e.svc.Reject(ctx, "O1")
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = r.ID()
		})
	}
	wg.Wait()
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("one refusal made several rejections: %v", got)
		}
	}
	r, _ := e.svc.Request(ctx, "", got[0])
	if r.Kind() != domain.KindRejection || r.RefundCash() != 4100 || r.RefundNonCash() != 700 || len(r.Lines()) != 2 {
		t.Fatalf("rejection: %s cash %s non-cash %s lines %+v", r.Kind(), r.RefundCash(), r.RefundNonCash(), r.Lines())
	}
	// The customer cannot return what was refused.
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1})); !errors.Is(err, domain.ErrNotReturnable) {
		t.Fatalf("return of a refused order: %v", err)
	}
	ps := e.pushers(e.st)
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.drain(t, ps, r.ID())
		e.pay.approveAll()
		got, _ := e.svc.Request(ctx, "", r.ID())
		if got.Status() == domain.StatusRefunded {
			if !got.HasStep(domain.StepWarehouseNotified) {
				t.Fatalf("steps %v", steps(got))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stuck at %s %v", got.Status(), steps(got))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e.pay.trades["O1"].RefundedFen != 4100 || len(e.pay.cashRefunds) != 1 || len(e.wms.notices) != 1 {
		t.Fatalf("refunded %s in %d refunds, notices %v", e.pay.trades["O1"].RefundedFen, len(e.pay.cashRefunds), e.wms.notices)
	}
}

// A refusal of some units at the door (the courier's report, through
// OMS's allocation) rejects only those: 2 of line A's 3 units give back
// two thirds of A's stage-5 allocation (cash 3100, non-cash 500), line B
// stays with the customer, and the refund at PAY is that cash once. A
// refused SKU the order does not have changes nothing.
func TestPartialRefusalRejectsOnlyTheRefusedUnits(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	a := e.partlyRefused("O1", omsclient.RefusedLine{SKU: "Z", Qty: 1})
	if _, err := e.svc.Reject(ctx, "O1"); !errors.Is(err, domain.ErrLineNotOnOrder) {
		t.Fatalf("refusal of a SKU not on the order: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("%d requests after a refusal of a SKU not on the order", n)
	}
	e.oms.mu.Lock()
	a.RefusedLines = []omsclient.RefusedLine{{SKU: "A", Qty: 2}}
	e.oms.allocations["O1"] = a
	e.oms.mu.Unlock()
	r, err := e.svc.Reject(ctx, "O1")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.svc.Reject(ctx, "O1"); err != nil || again.ID() != r.ID() {
		t.Fatalf("redelivered refusal: %v %v", again, err)
	}
	if ls := r.Lines(); r.Kind() != domain.KindRejection || len(ls) != 1 || ls[0].SKU != "A" || ls[0].Qty != 2 ||
		r.RefundCash() != 2066 || r.RefundNonCash() != 333 {
		t.Fatalf("rejection: %s cash %s non-cash %s lines %+v", r.Kind(), r.RefundCash(), r.RefundNonCash(), r.Lines())
	}
	ps := e.pushers(e.st)
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.drain(t, ps, r.ID())
		e.pay.approveAll()
		if got, _ := e.svc.Request(ctx, "", r.ID()); got.Status() == domain.StatusRefunded {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("stuck at %s %v", got.Status(), steps(got))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e.pay.trades["O1"].RefundedFen != 2066 || len(e.pay.cashRefunds) != 1 || len(e.wms.notices) != 1 {
		t.Fatalf("refunded %s in %d refunds, notices %v", e.pay.trades["O1"].RefundedFen, len(e.pay.cashRefunds), e.wms.notices)
	}
}

// A partly refused order's accepted units are returnable once the
// rejection of the refused ones is recorded: of line A's 3 units 2 were
// refused, so 1 of A and B's 1 are delivered (shipped - refused). Before
// the rejection the return waits (NOT_RETURNABLE, nothing written);
// after it, 2 of A is above what was delivered, and 1 of A with B gives
// back A's last third (cash 1034, non-cash 167) and B (1000, 200): with
// the rejection's 2066 and 333, exactly what the order took.
func TestPartlyRefusedOrdersAcceptedUnitsAreReturnable(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.partlyRefused("O1", omsclient.RefusedLine{SKU: "A", Qty: 2})
	accepted := ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1}, domain.ReturnLine{SKU: "B", Qty: 1})
	if _, err := e.svc.Return(ctx, accepted); !errors.Is(err, domain.ErrNotReturnable) {
		t.Fatalf("return before the rejection is recorded: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("%d requests after a refused return", n)
	}
	rej, err := e.svc.Reject(ctx, "O1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 2})); !errors.Is(err, domain.ErrQtyAboveDelivered) {
		t.Fatalf("return of a refused unit: %v", err)
	}
	r, err := e.svc.Return(ctx, accepted)
	if err != nil {
		t.Fatalf("return of the accepted units: %v", err)
	}
	if r.RefundCash() != 2034 || r.RefundNonCash() != 367 || r.RefundCash()+rej.RefundCash() != 4100 || r.RefundNonCash()+rej.RefundNonCash() != 700 {
		t.Fatalf("return cash %s non-cash %s, rejection cash %s non-cash %s", r.RefundCash(), r.RefundNonCash(), rej.RefundCash(), rej.RefundNonCash())
	}
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k3", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1})); !errors.Is(err, domain.ErrQtyAboveDelivered) {
		t.Fatalf("second return of B: %v", err)
	}
}

// partlyRefused is customer C1's delivered order id (delivered) with the
// units of refused refused at the door: SHIPPED at OMS, its allocation
// naming them.
func (e *env) partlyRefused(id string, refused ...omsclient.RefusedLine) omsclient.Allocation {
	e.delivered(id, "C1")
	e.oms.mu.Lock()
	defer e.oms.mu.Unlock()
	e.oms.orders[id].Status = omsclient.StatusShipped
	a := e.oms.allocations[id]
	a.Status = omsclient.StatusShipped
	a.Refused, a.RefusedLines = true, refused
	e.oms.allocations[id] = a
	return a
}
