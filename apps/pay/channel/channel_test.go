package channel

import (
	"encoding/json"
	"errors"
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
