package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

var channels = []string{"WECHAT", "ALIPAY"}

func TestStartCashPaymentAsksOMSAndIsIdempotent(t *testing.T) {
	for _, ch := range channels {
		t.Run(ch, func(t *testing.T) {
			h := newHarness(t)
			h.order("O1", "C1", 12_345)
			in := app.StartInput{IdempotencyKey: "p1", OrderID: "O1", CustomerID: "C1", Channel: ch}
			tr, err := h.svc.StartCashPayment(h.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if tr.CashierURL() == "" || tr.AmountFen() != 12_345 || !tr.TimeExpire().Equal(h.clk.Now().Add(10*time.Minute)) {
				t.Fatalf("trade %+v", tr)
			}
			again, err := h.svc.StartCashPayment(h.ctx, in)
			if err != nil || again.ID() != tr.ID() || again.CashierURL() != tr.CashierURL() {
				t.Fatalf("repeat: %+v %v", again, err)
			}
			other := in
			other.Channel = channels[0]
			if ch == channels[0] {
				other.Channel = channels[1]
			}
			if _, err := h.svc.StartCashPayment(h.ctx, other); !errors.Is(err, domain.ErrKeyReused) {
				t.Fatalf("same key, other channel: %v", err)
			}
			// The channel knows the trade with our deadline as time_expire.
			var view map[string]any
			if err := h.inv.Invoke(h.ctx, "partners", http.MethodGet, "cashier/"+ch+"/"+tr.ID(), nil, &view); err != nil {
				t.Fatal(err)
			}
			if view["amount_fen"].(float64) != 12_345 || view["status"] != "NOTPAY" {
				t.Fatalf("channel view %v", view)
			}
			// Past the deadline the channel refuses the payment.
			h.clk.Advance(10*time.Minute + time.Second)
			if err := h.payAtCashier(ch, tr.ID(), false); !httpapi.HasCode(err, "TRADE_EXPIRED") {
				t.Fatalf("late payment at the cashier: %v", err)
			}
		})
	}
}

func TestStartCashPaymentNotPayable(t *testing.T) {
	h := newHarness(t)
	h.oms.payable["O1"] = omsclient.Payability{Payable: false, Reason: "CANCEL_PENDING", CustomerID: "C1"}
	_, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "p", OrderID: "O1", CustomerID: "C1", Channel: "WECHAT"})
	var np *domain.NotPayableError
	if !errors.As(err, &np) || np.Reason != "CANCEL_PENDING" {
		t.Fatalf("got %v", err)
	}
	if n := h.count(`SELECT COUNT(*) FROM trades`); n != 0 {
		t.Fatalf("%d trades written for a non-payable order", n)
	}
	if _, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "q", OrderID: "O1", CustomerID: "C1", Channel: "UNIONPAY"}); !errors.Is(err, domain.ErrUnknownChannel) {
		t.Fatalf("unknown channel: %v", err)
	}
}

func TestSameCallbackTenTimesAtOnceSucceedsOnce(t *testing.T) {
	for _, ch := range channels {
		t.Run(ch, func(t *testing.T) {
			h := newHarness(t)
			tr := h.startAndPay(ch, "O1", 9_900)
			body, err := h.partners.PaymentCallback(h.ctx, ch, tr.ID())
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			codes := make([]int, 10)
			for i := range codes {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i] = h.callback(ch, body) }()
			}
			wg.Wait()
			for _, c := range codes {
				if c != http.StatusOK {
					t.Fatalf("callback answers %v", codes)
				}
			}
			got := h.trade(tr.ID())
			if got.Status() != domain.TradeSucceeded || got.PaidFen() != 9_900 {
				t.Fatalf("trade %+v", got)
			}
			if n := h.outbox(payevents.TopicTradeSucceeded, "O1"); n != 1 {
				t.Fatalf("%d trade.succeeded events, want 1", n)
			}
			if n := h.count(`SELECT COUNT(*) FROM finance_pushes WHERE kind=? AND ref_id=?`, domain.PushCashReceived, tr.ID()); n != 1 {
				t.Fatalf("%d finance pushes, want 1", n)
			}
		})
	}
}

func TestForgedCallbackChangesNothing(t *testing.T) {
	for _, ch := range channels {
		t.Run(ch, func(t *testing.T) {
			h := newHarness(t)
			tr := h.startAndPay(ch, "O1", 5_000)
			body, err := h.partners.PaymentCallback(h.ctx, ch, tr.ID())
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			if ch == "WECHAT" {
				m["signature"] = "00" + m["signature"].(string)[2:]
			} else {
				m["total_amount"] = "0.01" // tampered after signing
			}
			forged, _ := json.Marshal(m)
			if code := h.callback(ch, forged); code != http.StatusUnauthorized {
				t.Fatalf("forged callback answered %d", code)
			}
			if got := h.trade(tr.ID()); got.Status() != domain.TradePending {
				t.Fatalf("forged callback moved the trade to %s", got.Status())
			}
			if n := h.outbox(payevents.TopicTradeSucceeded, "O1"); n != 0 {
				t.Fatalf("forged callback wrote %d events", n)
			}
		})
	}
}

func TestSignedCallbackIsCheckedWithTheChannel(t *testing.T) {
	// A correctly signed callback for a trade the customer has not paid
	// (a replay of another shape, a channel bug) is not believed: PAY asks
	// the channel, which says NOTPAY.
	h := newHarness(t)
	h.order("O1", "C1", 5_000)
	tr, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "k", OrderID: "O1", CustomerID: "C1", Channel: "ALIPAY"})
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]string{"notify_id": "n1", "notify_type": "trade_status_sync", "notify_time": h.clk.Now().In(channel.Beijing).Format(channel.AlipayTimeLayout),
		"app_id": "2021000000000001", "out_trade_no": tr.ID(), "trade_status": "TRADE_SUCCESS", "total_amount": "50.00", "sign_type": "HMAC-SHA256"}
	p["sign"] = channel.AlipaySign(alipayKey, p, true)
	body, _ := json.Marshal(p)
	if code := h.callback("ALIPAY", body); code != http.StatusOK {
		t.Fatalf("callback answered %d", code)
	}
	if got := h.trade(tr.ID()); got.Status() != domain.TradePending {
		t.Fatalf("unpaid trade moved to %s on a callback alone", got.Status())
	}
	// An old but validly signed callback (outside the replay window) is refused.
	p["notify_time"] = h.clk.Now().Add(-time.Hour).In(channel.Beijing).Format(channel.AlipayTimeLayout)
	p["sign"] = channel.AlipaySign(alipayKey, p, true)
	old, _ := json.Marshal(p)
	if code := h.callback("ALIPAY", old); code != http.StatusUnauthorized {
		t.Fatalf("stale callback answered %d", code)
	}
}

func TestCallbackForUnknownTradeChangesNothing(t *testing.T) {
	h := newHarness(t)
	p := map[string]string{"notify_id": "n1", "notify_type": "trade_status_sync", "notify_time": h.clk.Now().In(channel.Beijing).Format(channel.AlipayTimeLayout),
		"app_id": "2021000000000001", "out_trade_no": "NO-SUCH-TRADE", "trade_status": "TRADE_SUCCESS", "total_amount": "50.00"}
	p["sign"] = channel.AlipaySign(alipayKey, p, true)
	body, _ := json.Marshal(p)
	if code := h.callback("ALIPAY", body); code != http.StatusOK {
		t.Fatalf("callback answered %d", code)
	}
	if n := h.count(`SELECT COUNT(*) FROM trades`) + h.count(`SELECT COUNT(*) FROM outbox`) + h.count(`SELECT COUNT(*) FROM finance_pushes`); n != 0 {
		t.Fatalf("unknown-trade callback wrote %d rows", n)
	}
}

func TestPollFindsPaidTradeWithoutCallback(t *testing.T) {
	h := newHarness(t)
	if err := h.partners.SetFault(h.ctx, sim.Fault{Name: "callbacks.WECHAT", DropCallbacks: true}); err != nil {
		t.Fatal(err)
	}
	tr := h.startAndPay("WECHAT", "O1", 3_000)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	notes, _ := h.partners.Notifications(h.ctx, tr.ID())
	if len(notes) != 1 || notes[0].Status != "DROPPED" {
		t.Fatalf("notifications %+v", notes)
	}
	if n, err := h.svc.PollTrades(h.ctx); err != nil || n != 0 {
		t.Fatalf("poll before PollAfter: %d %v", n, err)
	}
	h.clk.Advance(6 * time.Second)
	if n, err := h.svc.PollTrades(h.ctx); err != nil || n != 1 {
		t.Fatalf("poll found %d (%v), want 1", n, err)
	}
	if got := h.trade(tr.ID()); got.Status() != domain.TradeSucceeded {
		t.Fatalf("trade %s", got.Status())
	}
	if n := h.outbox(payevents.TopicTradeSucceeded, "O1"); n != 1 {
		t.Fatalf("%d events", n)
	}
}

func TestCallbackDeliveredThroughPartnersNotifier(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("ALIPAY", "O1", 1_999)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	notes, _ := h.partners.Notifications(h.ctx, tr.ID())
	if len(notes) != 1 || notes[0].Status != "DELIVERED" {
		t.Fatalf("notifications %+v", notes)
	}
	if got := h.trade(tr.ID()); got.Status() != domain.TradeSucceeded || got.PaidFen() != 1_999 {
		t.Fatalf("trade %+v", got)
	}
}

func TestPaymentForCancelledOrderIsRefundedInFull(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("WECHAT", "O1", 8_800)
	if err := h.partners.Tick(h.ctx); err != nil { // callback → SUCCEEDED
		t.Fatal(err)
	}
	if got := h.trade(tr.ID()); got.Status() != domain.TradeSucceeded {
		t.Fatalf("trade %s", got.Status())
	}
	// OMS had cancelled the order meanwhile: it rejects the payment, and the
	// cancel event arrives late too. One full refund, straight to the channel.
	rej := omsevents.PaymentRejected{OrderID: "O1", TradeID: tr.ID(), AmountFen: 8_800, Status: "CANCELLED"}
	for i := 0; i < 2; i++ {
		if err := h.svc.OnPaymentRejected(h.ctx, "rej-1", rej); err != nil {
			t.Fatal(err)
		}
	}
	h.atOMS("O1", omsclient.StatusCancelled)
	if err := h.svc.OnOrderCancelled(h.ctx, "cancel-1", omsevents.OrderCancelled{OrderID: "O1", Reason: omsevents.ReasonExpired}); err != nil {
		t.Fatal(err)
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds WHERE trade_id=?`, tr.ID()); n != 1 {
		t.Fatalf("%d refunds, want 1", n)
	}
	if err := h.svc.ProcessRefunds(h.ctx); err != nil { // submit to the channel
		t.Fatal(err)
	}
	h.clk.Advance(3 * time.Second)
	if err := h.svc.ProcessRefunds(h.ctx); err != nil { // confirm by query
		t.Fatal(err)
	}
	var status string
	var amount int64
	if err := h.db.QueryRow(`SELECT status, amount_fen FROM refunds WHERE trade_id=?`, tr.ID()).Scan(&status, &amount); err != nil {
		t.Fatal(err)
	}
	if status != string(domain.RefundSucceeded) || amount != 8_800 {
		t.Fatalf("refund %s %d", status, amount)
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 8_800 {
		t.Fatalf("refunded %d", got.RefundedFen())
	}
	if n := h.outbox(payevents.TopicRefundSucceeded, "O1"); n != 1 {
		t.Fatalf("%d refund events", n)
	}
	// The channel's own refund callback afterwards is a harmless duplicate.
	var refundID string
	_ = h.db.QueryRow(`SELECT id FROM refunds WHERE trade_id=?`, tr.ID()).Scan(&refundID)
	body, err := h.partners.RefundCallback(h.ctx, "WECHAT", refundID)
	if err != nil {
		t.Fatal(err)
	}
	if code := h.callback("WECHAT", body); code != http.StatusOK {
		t.Fatalf("refund callback answered %d", code)
	}
	if n := h.outbox(payevents.TopicRefundSucceeded, "O1"); n != 1 {
		t.Fatalf("%d refund events after callback", n)
	}
}

func TestRefundsNeverExceedPaidUnderRace(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("ALIPAY", "O1", 10_000)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	const n = 20 // each asks 3000: three fit into 10000
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, tooLarge := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.svc.RequestRefund(h.ctx, app.RefundInput{IdempotencyKey: fmt.Sprintf("r%d", i), TradeID: tr.ID(), AmountFen: 3_000, Reason: "AFTERSALES"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, domain.ErrRefundTooLarge):
				tooLarge++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 || tooLarge != n-3 {
		t.Fatalf("ok %d, too large %d", ok, tooLarge)
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 9_000 {
		t.Fatalf("refunded %d", got.RefundedFen())
	}
}

func TestRequestedRefundWaitsForFinanceApproval(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("WECHAT", "O1", 6_000)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	r, err := h.svc.RequestRefund(h.ctx, app.RefundInput{IdempotencyKey: "cs-1", TradeID: tr.ID(), AmountFen: 2_000, Reason: "DAMAGED_GOODS"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status() != domain.RefundPendingAudit {
		t.Fatalf("status %s", r.Status())
	}
	if _, err := h.svc.RequestRefund(h.ctx, app.RefundInput{IdempotencyKey: "cs-1", TradeID: tr.ID(), AmountFen: 2_001, Reason: "DAMAGED_GOODS"}); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reuse: %v", err)
	}
	if err := h.svc.SendPushes(h.ctx); err != nil { // the audit request reaches FMS
		t.Fatal(err)
	}
	if err := h.svc.ProcessRefunds(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Refund(h.ctx, r.ID()); got.Status() != domain.RefundPendingAudit {
		t.Fatalf("refund moved before approval: %s", got.Status())
	}
	if n, _ := h.partners.Notifications(h.ctx, r.ID()); len(n) != 0 {
		t.Fatalf("channel refund before approval: %+v", n)
	}
	h.clk.Advance(4 * time.Second)
	if err := h.partners.Tick(h.ctx); err != nil { // FMS approves and calls PAY back
		t.Fatal(err)
	}
	if got, _ := h.svc.Refund(h.ctx, r.ID()); got.Status() != domain.RefundSubmitting {
		t.Fatalf("after approval: %s", got.Status())
	}
	if err := h.svc.ProcessRefunds(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(3 * time.Second)
	if err := h.svc.ProcessRefunds(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Refund(h.ctx, r.ID()); got.Status() != domain.RefundSucceeded {
		t.Fatalf("final: %s", got.Status())
	}
}

func TestRejectedAuditGivesTheAmountBack(t *testing.T) {
	h := newHarness(t)
	tr := h.startAndPay("ALIPAY", "O1", 6_000)
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	r, err := h.svc.RequestRefund(h.ctx, app.RefundInput{IdempotencyKey: "cs-1", TradeID: tr.ID(), AmountFen: 6_000, Reason: "GOODWILL"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.SendPushes(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.partners.Decide(h.ctx, r.ID(), "REJECTED"); err != nil {
		t.Fatal(err)
	}
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Refund(h.ctx, r.ID()); got.Status() != domain.RefundRejected {
		t.Fatalf("status %s", got.Status())
	}
	if got := h.trade(tr.ID()); got.RefundedFen() != 0 {
		t.Fatalf("refunded_fen %d after rejection", got.RefundedFen())
	}
}

func TestPaymentArrivingAfterCancelIsRefundedWithoutOMS(t *testing.T) {
	h := newHarness(t)
	h.order("O1", "C1", 4_000)
	tr, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "k", OrderID: "O1", CustomerID: "C1", Channel: "ALIPAY"})
	if err != nil {
		t.Fatal(err)
	}
	// The order is cancelled while the customer sits at the cashier; the
	// channel ignores time_expire and takes the money anyway.
	h.atOMS("O1", omsclient.StatusCancelled)
	if err := h.svc.OnOrderCancelled(h.ctx, "c1", omsevents.OrderCancelled{OrderID: "O1", Reason: omsevents.ReasonCustomer}); err != nil {
		t.Fatal(err)
	}
	if err := h.payAtCashier("ALIPAY", tr.ID(), true); err != nil {
		t.Fatal(err)
	}
	if err := h.partners.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	var status, reason string
	var amount int64
	if err := h.db.QueryRow(`SELECT status, reason, amount_fen FROM refunds WHERE trade_id=?`, tr.ID()).Scan(&status, &reason, &amount); err != nil {
		t.Fatalf("no refund for money of a cancelled order: %v", err)
	}
	if amount != 4_000 || reason != domain.ReasonCancel || status != string(domain.RefundSubmitting) {
		t.Fatalf("refund %s %s %d", status, reason, amount)
	}
	// OMS's rejection arriving afterwards adds nothing.
	if err := h.svc.OnPaymentRejected(h.ctx, "r1", omsevents.PaymentRejected{OrderID: "O1", TradeID: tr.ID(), AmountFen: 4_000}); err != nil {
		t.Fatal(err)
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds WHERE trade_id=?`, tr.ID()); n != 1 {
		t.Fatalf("%d refunds", n)
	}
}

func TestCancelRacingWithSuccessRefundsExactlyOnce(t *testing.T) {
	for i := 0; i < 5; i++ {
		h := newHarness(t)
		order := fmt.Sprintf("O%d", i)
		h.order(order, "C1", 2_000)
		tr, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "k", OrderID: order, CustomerID: "C1", Channel: "WECHAT"})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.payAtCashier("WECHAT", tr.ID(), false); err != nil {
			t.Fatal(err)
		}
		body, err := h.partners.PaymentCallback(h.ctx, "WECHAT", tr.ID())
		if err != nil {
			t.Fatal(err)
		}
		h.atOMS(order, omsclient.StatusCancelled)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); h.callback("WECHAT", body) }()
		go func() {
			defer wg.Done()
			if err := h.svc.OnOrderCancelled(h.ctx, "c", omsevents.OrderCancelled{OrderID: order}); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if got := h.trade(tr.ID()); got.Status() != domain.TradeSucceeded || got.RefundedFen() != 2_000 {
			t.Fatalf("run %d: trade %s refunded %d, want SUCCEEDED and 2000", i, got.Status(), got.RefundedFen())
		}
		if n := h.count(`SELECT COUNT(*) FROM refunds WHERE trade_id=?`, tr.ID()); n != 1 {
			t.Fatalf("run %d: %d refunds", i, n)
		}
	}
}
