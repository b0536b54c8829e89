package channel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// WeChat-Pay-like protocol (API v3 shape). Every request is a signed
// envelope: resource is the JSON of the call, signature is
// hex(HMAC-SHA256(key, "POST\n"+path+"\n"+timestamp+"\n"+nonce+"\n"+resource+"\n")).
// Callbacks carry the same envelope with an event type, signed over
// timestamp+"\n"+nonce+"\n"+resource+"\n". Errors are HTTP 4xx/5xx with
// {"code","message"}.
const (
	wechatCreatePath      = "wechat/v3/pay/transactions"
	wechatQueryPath       = "wechat/v3/pay/transactions/query"
	wechatRefundPath      = "wechat/v3/refund/domestic/refunds"
	wechatRefundQueryPath = "wechat/v3/refund/domestic/refunds/query"
)

// WechatEnvelope is a signed WeChat-like request or callback.
type WechatEnvelope struct {
	ID        string `json:"id,omitempty"`         // callbacks: notification id
	EventType string `json:"event_type,omitempty"` // callbacks: TRANSACTION.SUCCESS, REFUND.SUCCESS
	MchID     string `json:"mchid"`
	Timestamp int64  `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Resource  string `json:"resource"`
	Signature string `json:"signature"`
}

// WechatSign is the request signature over the canonical string.
func WechatSign(key, path string, ts int64, nonce, resource string) string {
	return hmacHex(key, "POST\n/"+path+"\n"+strconv.FormatInt(ts, 10)+"\n"+nonce+"\n"+resource+"\n")
}

// WechatCallbackSign is the callback signature.
func WechatCallbackSign(key string, ts int64, nonce, resource string) string {
	return hmacHex(key, strconv.FormatInt(ts, 10)+"\n"+nonce+"\n"+resource+"\n")
}

func hmacHex(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// Nonce returns 16 random bytes in hex.
func Nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Wechat is the WeChat-Pay-like adapter.
type Wechat struct {
	inv Invoker
	cfg Config
}

// Name returns WECHAT.
func (w *Wechat) Name() string { return "WECHAT" }

func (w *Wechat) call(ctx context.Context, path string, resource, out any) error {
	body, err := json.Marshal(resource)
	if err != nil {
		return err
	}
	ts := w.cfg.Now().Unix()
	nonce := Nonce()
	env := WechatEnvelope{MchID: w.cfg.WechatMchID, Timestamp: ts, Nonce: nonce, Resource: string(body),
		Signature: WechatSign(w.cfg.WechatKey, path, ts, nonce, string(body))}
	if err := w.inv.Invoke(ctx, w.cfg.App, http.MethodPost, path, env, out); err != nil {
		if httpapi.HasCode(err, "ORDER_NOT_EXIST") || httpapi.HasCode(err, "RESOURCE_NOT_EXISTS") {
			return fmt.Errorf("wechat %s: %w", path, ErrUnknownTrade)
		}
		return fmt.Errorf("wechat %s: %w", path, err)
	}
	return nil
}

type wechatAmount struct {
	Total         int64  `json:"total,omitempty"`
	PayerTotal    int64  `json:"payer_total,omitempty"`
	Refund        int64  `json:"refund,omitempty"`
	Currency      string `json:"currency,omitempty"`
	PayerCurrency string `json:"payer_currency,omitempty"`
}

// wechatCurrency is the one currency PAY's trades are opened in.
const wechatCurrency = "CNY"

// checkPaidCurrency refuses a paid answer whose amount is not in CNY: its
// fen are not PAY's fen, and a trade paid in another currency (or one the
// answer does not name) is no proof of payment. The payer's currency, when
// the answer gives it, must be the same.
func checkPaidCurrency(tradeNo string, a wechatAmount) error {
	if a.Currency != wechatCurrency || (a.PayerCurrency != "" && a.PayerCurrency != a.Currency) {
		return fmt.Errorf("wechat query %s: %w: currency %q, payer currency %q, want %s",
			tradeNo, ErrCurrency, a.Currency, a.PayerCurrency, wechatCurrency)
	}
	return nil
}

// Create opens a trade; time_expire is RFC 3339.
func (w *Wechat) Create(ctx context.Context, r CreateRequest) (CreateResult, error) {
	in := map[string]any{
		"appid": w.cfg.WechatAppID, "mchid": w.cfg.WechatMchID, "description": r.Subject,
		"out_trade_no": r.TradeNo, "time_expire": r.TimeExpire.UTC().Format(time.RFC3339),
		"notify_url": "pay/v1/callbacks/WECHAT",
		"amount":     wechatAmount{Total: r.AmountFen, Currency: wechatCurrency},
	}
	var out struct {
		PrepayID string `json:"prepay_id"`
		H5URL    string `json:"h5_url"`
	}
	if err := w.call(ctx, wechatCreatePath, in, &out); err != nil {
		return CreateResult{}, err
	}
	if out.H5URL == "" {
		return CreateResult{}, errors.New("wechat create: no h5_url in answer")
	}
	return CreateResult{ChannelTradeNo: out.PrepayID, CashierURL: out.H5URL}, nil
}

// Query asks the channel for the trade's state.
func (w *Wechat) Query(ctx context.Context, tradeNo string) (QueryResult, error) {
	var out struct {
		OutTradeNo    string       `json:"out_trade_no"`
		TransactionID string       `json:"transaction_id"`
		TradeState    string       `json:"trade_state"`
		Amount        wechatAmount `json:"amount"`
		SuccessTime   string       `json:"success_time"`
	}
	if err := w.call(ctx, wechatQueryPath, map[string]string{"mchid": w.cfg.WechatMchID, "out_trade_no": tradeNo}, &out); err != nil {
		return QueryResult{}, err
	}
	if out.OutTradeNo != tradeNo {
		return QueryResult{}, fmt.Errorf("wechat query: answer for %q, asked %q", out.OutTradeNo, tradeNo)
	}
	q := QueryResult{ChannelTradeNo: out.TransactionID, AmountFen: out.Amount.PayerTotal}
	switch out.TradeState {
	case "SUCCESS", "REFUND": // REFUND: paid, then (partly) refunded
		if err := checkPaidCurrency(tradeNo, out.Amount); err != nil {
			return QueryResult{}, err
		}
		q.State = TradePaid
		t, err := time.Parse(time.RFC3339, out.SuccessTime)
		if err != nil {
			return QueryResult{}, fmt.Errorf("wechat query: success_time %q: %w", out.SuccessTime, err)
		}
		q.PaidAt = t.UTC()
	case "CLOSED", "REVOKED", "PAYERROR":
		q.State = TradeClosed
	default: // NOTPAY, USERPAYING
		q.State = TradeWaiting
	}
	return q, nil
}

func wechatRefundState(s string) RefundState {
	switch s {
	case "SUCCESS":
		return RefundSucceeded
	case "CLOSED", "ABNORMAL":
		return RefundFailed
	}
	return RefundProcessing
}

// Refund asks for money back; the channel completes it asynchronously.
func (w *Wechat) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	in := map[string]any{"out_trade_no": r.TradeNo, "out_refund_no": r.RefundNo, "reason": r.Reason,
		"amount": wechatAmount{Refund: r.AmountFen, Total: r.TotalFen, Currency: wechatCurrency}}
	var out struct {
		Status string `json:"status"`
	}
	if err := w.call(ctx, wechatRefundPath, in, &out); err != nil {
		return RefundResult{}, err
	}
	return RefundResult{State: wechatRefundState(out.Status)}, nil
}

// QueryRefund confirms a refund's result.
func (w *Wechat) QueryRefund(ctx context.Context, tradeNo, refundNo string) (RefundResult, error) {
	var out struct {
		OutRefundNo string       `json:"out_refund_no"`
		Status      string       `json:"status"`
		Amount      wechatAmount `json:"amount"`
	}
	if err := w.call(ctx, wechatRefundQueryPath, map[string]string{"out_refund_no": refundNo}, &out); err != nil {
		return RefundResult{}, err
	}
	if out.OutRefundNo != refundNo {
		return RefundResult{}, fmt.Errorf("wechat refund query: answer for %q, asked %q", out.OutRefundNo, refundNo)
	}
	st := wechatRefundState(out.Status)
	if st == RefundSucceeded && out.Amount.Currency != wechatCurrency {
		return RefundResult{}, fmt.Errorf("wechat refund query %s: %w: currency %q, want %s", refundNo, ErrCurrency, out.Amount.Currency, wechatCurrency)
	}
	return RefundResult{State: st}, nil
}

// VerifyCallback checks the signature and the timestamp window.
func (w *Wechat) VerifyCallback(body []byte) (Notification, error) {
	var env WechatEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Notification{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	want := WechatCallbackSign(w.cfg.WechatKey, env.Timestamp, env.Nonce, env.Resource)
	if env.Signature == "" || !hmac.Equal([]byte(want), []byte(env.Signature)) {
		return Notification{}, ErrBadSignature
	}
	age := w.cfg.Now().Sub(time.Unix(env.Timestamp, 0))
	if age > w.cfg.CallbackMaxAge || age < -w.cfg.CallbackMaxAge {
		return Notification{}, fmt.Errorf("%w: timestamp outside the replay window", ErrBadSignature)
	}
	var res struct {
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
	}
	if err := json.Unmarshal([]byte(env.Resource), &res); err != nil {
		return Notification{}, fmt.Errorf("wechat callback resource: %w", err)
	}
	n := Notification{ID: env.ID, TradeNo: res.OutTradeNo, Kind: NotifyPayment}
	if env.EventType == "REFUND.SUCCESS" || env.EventType == "REFUND.ABNORMAL" || env.EventType == "REFUND.CLOSED" {
		n.Kind, n.RefundNo = NotifyRefund, res.OutRefundNo
	}
	return n, nil
}

// Ack is WeChat's success answer.
func (w *Wechat) Ack() (string, []byte) {
	return "application/json", []byte(`{"code":"SUCCESS","message":"OK"}`)
}
