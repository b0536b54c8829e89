package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
)

// pulledBack is O1 (paid 4100 cash on T-O1 and 700 non-cash, ended by a
// pull-back) and its new order PB1 of status, which OMS says was paid by
// O1's trade and deduction; PAY holds nothing under PB1.
func (e *env) pulledBack(status string) {
	e.order("O1", "C1", omsclient.StatusCancelled, 4100, 700)
	e.oms.mu.Lock()
	defer e.oms.mu.Unlock()
	e.oms.orders["PB1"] = &omsclient.Order{ID: "PB1", CustomerID: "C1", Source: omsclient.SourcePullBack, Status: status, PaidFen: 4100,
		NonCashFen: 700, TradeID: "T-O1", DeductionIDs: []string{"D-O1"}}
	e.oms.allocations["PB1"] = omsclient.Allocation{OrderID: "PB1", CustomerID: "C1", Status: status, FreightFen: 800, NonCashFen: 700, PaidFen: 4100,
		TradeID: "T-O1", DeductionIDs: []string{"D-O1"},
		Address: omsclient.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"},
		Lines: []omsclient.AllocatedLine{
			{SKU: "A", Qty: 3, AmountFen: 3000, FreightFen: 600, NonCashFen: 500, CashFen: 3100},
			{SKU: "B", Qty: 1, AmountFen: 1000, FreightFen: 200, NonCashFen: 200, CashFen: 1000}}}
}

// The cancel of a pull-back's order is believed refunded only once the
// trade that paid it, its original's, is: the lookup follows the trade OMS
// names (the order's own trades are none), and the refund counted is that
// trade's, once.
func TestCancelOfAPullBacksOrderWaitsForTheOriginalTrade(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.pulledBack(omsclient.StatusPaid)
	e.pay.holdBack = true
	r, err := e.svc.Cancel(ctx, in("PB1", "C1", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx, r.ID()); !errors.Is(err, app.ErrNotYet) {
		t.Fatalf("process before the original trade is refunded: %v", err)
	}
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("status %s %v", got.Status(), steps(got))
	}
	e.pay.holdBack = false
	pb1, _ := e.oms.GetOrder(ctx, "PB1")
	e.pay.refundCancelled(pb1) // PAY on PB1's oms.order.cancelled
	e.pay.refundCancelled(pb1) // redelivered
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	last := got.Steps()[len(got.Steps())-1]
	if got.Status() != domain.StatusRefunded || got.RefundedFen() != 4100+700 || !strings.Contains(last.Note, "cash to WECHAT") {
		t.Fatalf("after the refund: %s %s %v", got.Status(), got.RefundedFen(), steps(got))
	}
	if e.pay.refunds != 1 || e.pay.trades["O1"].RefundedFen != 4100 {
		t.Fatalf("%d refunds, original trade refunded %s", e.pay.refunds, e.pay.trades["O1"].RefundedFen)
	}
}

// A return of a pull-back's order refunds from the original's trade what
// the carried allocation gives, and never more than was paid: the whole
// order back is exactly 4100 cash on T-O1 (one audited refund) and 700
// non-cash; a further unit is refused.
func TestReturnOfAPullBacksOrderRefundsTheOriginalTrade(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.pulledBack(omsclient.StatusCompleted)
	ps := e.pushers(e.st)
	r, err := e.svc.Return(ctx, ret("PB1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 3}, domain.ReturnLine{SKU: "B", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if r.RefundCash() != 4100 || r.RefundNonCash() != 700 {
		t.Fatalf("refund cash %s non-cash %s", r.RefundCash(), r.RefundNonCash())
	}
	e.drain(t, ps, r.ID())
	e.pay.approveAll()
	e.drain(t, ps, r.ID())
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || got.RefundedFen() != 4800 {
		t.Fatalf("return: %s %s %v", got.Status(), got.RefundedFen(), steps(got))
	}
	if n := len(e.pay.cashRefunds); n != 1 || e.pay.trades["O1"].RefundedFen != 4100 {
		t.Fatalf("%d cash refunds, original trade refunded %s", n, e.pay.trades["O1"].RefundedFen)
	}
	for _, f := range e.pay.cashRefunds {
		if f.TradeID != "T-O1" {
			t.Fatalf("refund on trade %s, want the original's", f.TradeID)
		}
	}
	if _, err := e.svc.Return(ctx, ret("PB1", "C1", "k2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1})); !errors.Is(err, domain.ErrQtyAboveDelivered) {
		t.Fatalf("a unit beyond the order: %v", err)
	}
}
