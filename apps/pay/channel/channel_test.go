package channel

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestYuan(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s   string
		fen int64
		ok  bool
	}{{"12.05", 1205, true}, {"12.5", 1250, true}, {"12", 1200, true}, {"0.01", 1, true}, {"1.234", 0, false}, {"-1.00", 0, false}, {"a", 0, false}, {"", 0, false}} {
		got, err := ParseYuan(c.s)
		if (err == nil) != c.ok || got != c.fen {
			t.Errorf("ParseYuan(%q) = %d, %v", c.s, got, err)
		}
		if c.ok && FormatYuan(c.fen) != map[string]string{"12.5": "12.50", "12": "12.00"}[c.s] && FormatYuan(c.fen) != c.s {
			t.Errorf("FormatYuan(%d) = %s", c.fen, FormatYuan(c.fen))
		}
	}
}

func TestWechatCallbackVerification(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w := NewSet(nil, Config{WechatKey: "k", Now: func() time.Time { return now }})["WECHAT"]
	sign := func(ts int64, res string) []byte {
		b, _ := json.Marshal(WechatEnvelope{ID: "n", EventType: "TRANSACTION.SUCCESS", Timestamp: ts, Nonce: "abc", Resource: res,
			Signature: WechatCallbackSign("k", ts, "abc", res)})
		return b
	}
	n, err := w.VerifyCallback(sign(now.Unix(), `{"out_trade_no":"T1"}`))
	if err != nil || n.TradeNo != "T1" || n.Kind != NotifyPayment {
		t.Fatalf("good callback: %+v %v", n, err)
	}
	if _, err := w.VerifyCallback(sign(now.Add(-time.Hour).Unix(), `{"out_trade_no":"T1"}`)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("stale callback: %v", err)
	}
	var env WechatEnvelope
	_ = json.Unmarshal(sign(now.Unix(), `{"out_trade_no":"T1"}`), &env)
	env.Resource = `{"out_trade_no":"T2"}`
	forged, _ := json.Marshal(env)
	if _, err := w.VerifyCallback(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered resource: %v", err)
	}
}

// wechatStub answers WeChat queries with a fixed trade view, after
// checking the request is signed as the channel would.
type wechatStub struct {
	t      *testing.T
	answer map[string]any
}

func (s wechatStub) Invoke(_ context.Context, app, method, path string, in, out any) error {
	env := in.(WechatEnvelope)
	if env.Signature != WechatSign("k", path, env.Timestamp, env.Nonce, env.Resource) || method != http.MethodPost ||
		(path != wechatQueryPath && path != wechatRefundQueryPath) {
		s.t.Fatalf("unexpected call %s %s %+v", method, path, env)
	}
	b, _ := json.Marshal(s.answer)
	return json.Unmarshal(b, out)
}

// A paid answer is believed only in CNY, and only when the payer paid in
// the same currency; a waiting trade moves no money, whatever it names.
func TestWechatQueryRefusesOtherCurrencies(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	answer := func(state string, amount map[string]any) map[string]any {
		return map[string]any{"mchid": "m", "out_trade_no": "T1", "transaction_id": "W1", "trade_state": state,
			"success_time": now.Format(time.RFC3339), "amount": amount}
	}
	for _, c := range []struct {
		name   string
		answer map[string]any
		state  TradeState
		err    error
	}{
		{"CNY", answer("SUCCESS", map[string]any{"total": 100, "payer_total": 100, "currency": "CNY"}), TradePaid, nil},
		{"CNY, payer CNY", answer("SUCCESS", map[string]any{"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"}), TradePaid, nil},
		{"USD", answer("SUCCESS", map[string]any{"total": 100, "payer_total": 100, "currency": "USD"}), "", ErrCurrency},
		{"no currency", answer("SUCCESS", map[string]any{"total": 100, "payer_total": 100}), "", ErrCurrency},
		{"lowercase cny", answer("SUCCESS", map[string]any{"total": 100, "payer_total": 100, "currency": "cny"}), "", ErrCurrency},
		{"payer in JPY", answer("SUCCESS", map[string]any{"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "JPY"}), "", ErrCurrency},
		{"refunded, HKD", answer("REFUND", map[string]any{"total": 100, "payer_total": 100, "currency": "HKD"}), "", ErrCurrency},
		{"not paid, USD", answer("NOTPAY", map[string]any{"total": 100, "currency": "USD"}), TradeWaiting, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := NewSet(wechatStub{t, c.answer}, Config{WechatKey: "k", WechatMchID: "m", Now: func() time.Time { return now }})["WECHAT"]
			q, err := w.Query(context.Background(), "T1")
			if !errors.Is(err, c.err) || q.State != c.state {
				t.Fatalf("query = %+v, %v; want state %q, err %v", q, err, c.state, c.err)
			}
			if c.err != nil && !strings.Contains(err.Error(), "want CNY") {
				t.Fatalf("err %q does not say what was wanted", err)
			}
			if c.err == nil && c.state == TradePaid && (q.AmountFen != 100 || !q.PaidAt.Equal(now)) {
				t.Fatalf("paid answer read as %+v", q)
			}
		})
	}
}

// A refund is believed done only in CNY too.
func TestWechatRefundQueryRefusesOtherCurrencies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status, currency string
		state            RefundState
		err              error
	}{
		{"SUCCESS", "CNY", RefundSucceeded, nil},
		{"SUCCESS", "USD", "", ErrCurrency},
		{"SUCCESS", "", "", ErrCurrency},
		{"PROCESSING", "USD", RefundProcessing, nil},
	} {
		answer := map[string]any{"out_refund_no": "R1", "out_trade_no": "T1", "status": c.status,
			"amount": map[string]any{"refund": 100, "currency": c.currency}}
		w := NewSet(wechatStub{t, answer}, Config{WechatKey: "k", WechatMchID: "m"})["WECHAT"]
		res, err := w.QueryRefund(context.Background(), "T1", "R1")
		if !errors.Is(err, c.err) || res.State != c.state {
			t.Errorf("%s in %q: %+v, %v; want %q, %v", c.status, c.currency, res, err, c.state, c.err)
		}
	}
}
