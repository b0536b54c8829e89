package app_test

import (
	"errors"
	"testing"
	"time"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
)

// A pull-back's order (O2, made from O1, which ended without a cancel
// event) holds nothing in PAY: the customer's payment is O1's trade, which
// OMS names as O2's. Cancelling O2 refunds that trade in full, once however
// often the event comes, straight to its channel; a cancel whose order OMS
// says was paid by another customer's trade refunds nothing of it. The
// trades listed for O2 with the trade OMS names include O1's.
func TestCancelOfAPullBacksOrderRefundsTheOriginalTrade(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("WECHAT", "O1", 7_300)
	other := h.startAndPayAs("C2", "ALIPAY", "O9", 1_100)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.trade(tr.ID()); got.Status() != domain.TradeSucceeded {
		t.Fatalf("trade %s", got.Status())
	}
	listed, err := h.svc.TradesOfOrder(h.ctx, "O2", tr.ID())
	if err != nil || len(listed) != 1 || listed[0].ID() != tr.ID() {
		t.Fatalf("trades paying O2: %v %v", listed, err)
	}
	if own, _ := h.svc.TradesOfOrder(h.ctx, "O2", ""); len(own) != 0 {
		t.Fatalf("O2's own trades: %v", own)
	}
	if none, err := h.svc.TradesOfOrder(h.ctx, "O2", "T-NO-SUCH"); err != nil || len(none) != 0 {
		t.Fatalf("an unknown paying trade: %v %v", none, err)
	}

	// OMS naming another customer's trade for C1's order: nothing of it goes back.
	h.oms.mu.Lock()
	h.oms.orders["O3"] = omsclient.Order{ID: "O3", CustomerID: "C1", Status: omsclient.StatusCancelled, TradeID: other.ID()}
	h.oms.orders["O2"] = omsclient.Order{ID: "O2", CustomerID: "C1", Status: omsclient.StatusCancelled, TradeID: tr.ID(), PaidFen: 7_300}
	h.oms.mu.Unlock()
	if err := h.svc.OnOrderCancelled(h.ctx, "c-3", omsevents.OrderCancelled{OrderID: "O3", CustomerID: "C1", TradeID: other.ID()}); err != nil {
		t.Fatal(err)
	}
	if got := h.trade(other.ID()); got.RefundedFen() != 0 {
		t.Fatalf("another customer's trade refunded %d", got.RefundedFen())
	}

	for _, msg := range []string{"c-2", "c-2", "c-2-again"} {
		if err := h.svc.OnOrderCancelled(h.ctx, msg, omsevents.OrderCancelled{OrderID: "O2", CustomerID: "C1", TradeID: tr.ID(), PaidFen: 7_300}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds WHERE trade_id=?`, tr.ID()); n != 1 {
		t.Fatalf("%d refunds of the original trade, want 1", n)
	}
	if err := h.svc.ProcessRefunds(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(3 * time.Second)
	if err := h.svc.ProcessRefunds(h.ctx); err != nil {
		t.Fatal(err)
	}
	var status, reason string
	var amount int64
	if err := h.db.QueryRow(`SELECT status, amount_fen, reason FROM refunds WHERE trade_id=?`, tr.ID()).Scan(&status, &amount, &reason); err != nil {
		t.Fatal(err)
	}
	if status != string(domain.RefundSucceeded) || amount != 7_300 || reason != domain.ReasonCancel {
		t.Fatalf("refund %s %d %s", status, amount, reason)
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 7_300 {
		t.Fatalf("refunded %d of 7300", got.RefundedFen())
	}
	if n := h.count(`SELECT COUNT(*) FROM cancelled_orders WHERE order_id IN ('O1','O2')`); n != 1 {
		t.Fatalf("%d cancelled orders remembered, want O2 alone", n)
	}
}

// startAndPayAs is startAndPay for another customer.
func (h *harness) startAndPayAs(customer, channelName, orderID string, due int64) domain.Trade {
	h.t.Helper()
	h.order(orderID, customer, due)
	tr, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "pay:" + orderID, OrderID: orderID, CustomerID: customer, Channel: channelName})
	if err != nil {
		h.t.Fatalf("start payment: %v", err)
	}
	if err := h.payAtCashier(channelName, tr.ID(), false); err != nil {
		h.t.Fatalf("pay: %v", err)
	}
	return tr
}

// A return's non-cash share of a pull-back's order (O2) goes back from
// the deduction its original (O1) took, named by OMS for O2: PAY binds
// none to O2; O2's refunds count against it, never above what it took.
// Another customer's deduction named beside it is refused.
func TestNonCashRefundOfAPullBacksOrderUsesTheOriginalsDeduction(t *testing.T) {
	h := newHarness(t)
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	h.credit("C2", app.Amounts{BalanceFen: 10_000})
	deduct := func(customer, key string, fen money.Fen) domain.Deduction {
		d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: key, CustomerID: customer, Items: []app.Item{{Kind: domain.KindBalance, AmountFen: fen}}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := deduct("C1", "k1", 1_000)
	other := deduct("C2", "k2", 500)
	for order, ded := range map[string]domain.Deduction{"O1": d, "O9": other} {
		if err := h.svc.OnOrderPlaced(h.ctx, "m-"+order, omsevents.OrderPlaced{OrderID: order, DeductionIDs: []string{ded.ID()}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: "r0", OrderID: "O2", AmountFen: 100, Reason: "SALES_RETURN"}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("O2 without the deduction named: %v", err)
	}
	f, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: "r1", OrderID: "O2", AmountFen: 700, Reason: "SALES_RETURN", DeductionIDs: []string{d.ID()}})
	if err != nil || f.Back.BalanceFen() != 700 || f.CustomerID != "C1" {
		t.Fatalf("refund of O2: %+v %v", f, err)
	}
	// 300 left of the deduction.
	left := app.NonCashRefundInput{IdempotencyKey: "r2", OrderID: "O2", AmountFen: 400, Reason: "SALES_RETURN", DeductionIDs: []string{d.ID()}}
	if _, err := h.svc.RefundNonCash(h.ctx, left); !errors.Is(err, domain.ErrRefundTooLarge) {
		t.Fatalf("above what is left: %v", err)
	}
	left.AmountFen = 300
	if _, err := h.svc.RefundNonCash(h.ctx, left); err != nil {
		t.Fatalf("what is left: %v", err)
	}
	if _, err := h.svc.RefundNonCash(h.ctx, app.NonCashRefundInput{IdempotencyKey: "r3", OrderID: "O2", AmountFen: 100, Reason: "SALES_RETURN",
		DeductionIDs: []string{d.ID(), other.ID()}}); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("another customer's deduction named: %v", err)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 10_000 {
		t.Fatalf("C1's balance %s, want 10000", a.BalanceFen())
	}
	if a := h.accounts("C2"); a.BalanceFen() != 9_500 {
		t.Fatalf("C2's balance %s, want 9500", a.BalanceFen())
	}
}
