package app_test

import (
	"errors"
	"testing"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
)

// A forged oms.order.cancelled for a paid order (issue 10, finding 1)
// refunds nothing: PAY asks OMS first, OMS says the order is PAID, and the
// event is refused as unconfirmed (the subscriber drops it). Its
// deductions, even ones the forger names, stay where they are.
func TestForgedCancelledEventForPaidOrderRefundsNothing(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "d", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 2_000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "placed", omsevents.OrderPlaced{OrderID: "O1", DeductionIDs: []string{d.ID()}}); err != nil {
		t.Fatal(err)
	}
	tr := h.startAndPay("WECHAT", "O1", 6_000)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.trade(tr.ID()); got.Status() != domain.TradeSucceeded {
		t.Fatalf("trade %s", got.Status())
	}
	h.atOMS("O1", omsclient.StatusPaid, d.ID())

	forged := omsevents.OrderCancelled{OrderID: "O1", CustomerID: "C1", Reason: omsevents.ReasonCustomer, DeductionIDs: []string{d.ID()}}
	if err := h.svc.OnOrderCancelled(h.ctx, "forged-1", forged); !errors.Is(err, app.ErrUnconfirmed) {
		t.Fatalf("forged cancel for a paid order: want ErrUnconfirmed, got %v", err)
	}
	// Nor for an order OMS does not know.
	if err := h.svc.OnOrderCancelled(h.ctx, "forged-2", omsevents.OrderCancelled{OrderID: "O-nope", DeductionIDs: []string{d.ID()}}); !errors.Is(err, app.ErrUnconfirmed) {
		t.Fatalf("forged cancel for an unknown order: %v", err)
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds after a forged cancel", n)
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 0 {
		t.Fatalf("refunded %d", got.RefundedFen())
	}
	if got, _ := h.svc.Deduction(h.ctx, d.ID()); got.Status() != domain.DeductionUsed {
		t.Fatalf("deduction %s after a forged cancel", got.Status())
	}
	if n := h.count(`SELECT COUNT(*) FROM cancelled_orders`); n != 0 {
		t.Fatal("a forged cancel was remembered")
	}

	// The real cancel, confirmed by OMS, refunds once; the deduction a
	// forged cancel named for another order is not touched.
	h.atOMS("O1", omsclient.StatusCancelled, d.ID())
	if err := h.svc.OnOrderCancelled(h.ctx, "real", forged); err != nil {
		t.Fatal(err)
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 6_000 {
		t.Fatalf("refunded %d after the real cancel, want 6000", got.RefundedFen())
	}
	if a := h.accounts("C1"); a.BalanceFen() != 10_000 {
		t.Fatalf("balance %d after the real cancel", a.BalanceFen())
	}
}

// A cancel naming someone else's deduction reverses only what OMS says
// the order used.
func TestCancelReversesOnlyTheDeductionsOMSNames(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	h.credit("C2", app.Amounts{BalanceFen: 10_000})
	victim, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "v", CustomerID: "C2", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 3_000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.OnOrderPlaced(h.ctx, "placed", omsevents.OrderPlaced{OrderID: "O2", DeductionIDs: []string{victim.ID()}}); err != nil {
		t.Fatal(err)
	}
	h.order("O1", "C1", 1_000)
	if _, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "p", OrderID: "O1", CustomerID: "C1", Channel: "WECHAT"}); err != nil {
		t.Fatal(err)
	}
	h.atOMS("O1", omsclient.StatusCancelled) // really cancelled, without deductions
	if err := h.svc.OnOrderCancelled(h.ctx, "c", omsevents.OrderCancelled{OrderID: "O1", DeductionIDs: []string{victim.ID()}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Deduction(h.ctx, victim.ID()); got.Status() != domain.DeductionUsed {
		t.Fatalf("another order's deduction is %s", got.Status())
	}
	if a := h.accounts("C2"); a.BalanceFen() != 7_000 {
		t.Fatalf("C2 balance %d", a.BalanceFen())
	}
}

// A forged oms.payment.rejected for the trade that paid an order refunds
// nothing: OMS says the order is PAID by that trade. A true rejection (the
// order was cancelled) refunds it once.
func TestForgedPaymentRejectedForPaidOrderRefundsNothing(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("WECHAT", "O1", 3_000)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.oms.mu.Lock()
	h.oms.orders["O1"] = omsclient.Order{ID: "O1", CustomerID: "C1", Status: omsclient.StatusPaid, TradeID: tr.ID()}
	h.oms.mu.Unlock()
	forged := omsevents.PaymentRejected{OrderID: "O1", TradeID: tr.ID(), AmountFen: 3_000, Status: "CANCELLED"}
	if err := h.svc.OnPaymentRejected(h.ctx, "forged", forged); !errors.Is(err, app.ErrUnconfirmed) {
		t.Fatalf("forged rejection of a paid order: want ErrUnconfirmed, got %v", err)
	}
	if err := h.svc.OnPaymentRejected(h.ctx, "forged-2", omsevents.PaymentRejected{OrderID: "O-other", TradeID: tr.ID(), AmountFen: 3_000}); !errors.Is(err, app.ErrUnconfirmed) {
		t.Fatalf("rejection naming another order: %v", err)
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds after forged rejections", n)
	}
	h.atOMS("O1", omsclient.StatusCancelled)
	if err := h.svc.OnPaymentRejected(h.ctx, "real", forged); err != nil {
		t.Fatal(err)
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 3_000 {
		t.Fatalf("refunded %d, want 3000", got.RefundedFen())
	}
}
