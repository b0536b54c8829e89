package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Alipay-like protocol (open-API gateway shape). One endpoint,
// alipay/gateway.do, takes flat string parameters (app_id, method, charset,
// sign_type, timestamp "2006-01-02 15:04:05" Beijing time, version,
// biz_content JSON, sign). sign = base64(HMAC-SHA256(key, k1=v1&k2=v2…)) over
// the non-empty parameters except sign, sorted by key. Amounts are yuan
// strings. The answer is {"<method with _>_response": {...}, "sign": ...},
// the sign covering the raw inner object; business failures answer code !=
// "10000". Callbacks are flat parameters signed the same way, sign_type
// excluded too, and expect the text "success".
const alipayGateway = "alipay/gateway.do"

// Beijing is the zone Alipay-like timestamps are written in.
var Beijing = time.FixedZone("CST", 8*3600)

// AlipayTimeLayout is how Alipay-like channels write times.
const AlipayTimeLayout = "2006-01-02 15:04:05"

// AlipaySign signs params (sign and, when callback, sign_type excluded).
func AlipaySign(key string, params map[string]string, callback bool) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || v == "" || (callback && k == "sign_type") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params[k])
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// AlipayResponseSign signs a raw response object.
func AlipayResponseSign(key string, raw []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(raw)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Alipay is the Alipay-like adapter.
type Alipay struct {
	inv Invoker
	cfg Config
}

// Name returns ALIPAY.
func (a *Alipay) Name() string { return "ALIPAY" }

type alipayResp struct {
	Code          string `json:"code"`
	Msg           string `json:"msg"`
	SubCode       string `json:"sub_code"`
	SubMsg        string `json:"sub_msg"`
	OutTradeNo    string `json:"out_trade_no"`
	TradeNo       string `json:"trade_no"`
	CashierURL    string `json:"cashier_url"`
	TradeStatus   string `json:"trade_status"`
	TotalAmount   string `json:"total_amount"`
	SendPayDate   string `json:"send_pay_date"`
	OutRequestNo  string `json:"out_request_no"`
	RefundStatus  string `json:"refund_status"`
	FundChange    string `json:"fund_change"`
	RefundAmount  string `json:"refund_amount"`
	GmtRefundPay  string `json:"gmt_refund_pay"`
	TradeClosedAt string `json:"trade_closed_at"`
}

func (a *Alipay) call(ctx context.Context, method string, biz any) (alipayResp, error) {
	bc, err := json.Marshal(biz)
	if err != nil {
		return alipayResp{}, err
	}
	p := map[string]string{
		"app_id": a.cfg.AlipayAppID, "method": method, "format": "JSON", "charset": "utf-8",
		"sign_type": "HMAC-SHA256", "timestamp": a.cfg.Now().In(Beijing).Format(AlipayTimeLayout),
		"version": "1.0", "biz_content": string(bc),
	}
	if method == "alipay.trade.create" {
		p["notify_url"] = "pay/v1/callbacks/ALIPAY"
	}
	p["sign"] = AlipaySign(a.cfg.AlipayKey, p, false)
	var raw map[string]json.RawMessage
	if err := a.inv.Invoke(ctx, a.cfg.App, http.MethodPost, alipayGateway, p, &raw); err != nil {
		return alipayResp{}, fmt.Errorf("alipay %s: %w", method, err)
	}
	key := strings.ReplaceAll(method, ".", "_") + "_response"
	inner, ok := raw[key]
	if !ok {
		return alipayResp{}, fmt.Errorf("alipay %s: answer lacks %s", method, key)
	}
	var sign string
	_ = json.Unmarshal(raw["sign"], &sign)
	if !hmac.Equal([]byte(sign), []byte(AlipayResponseSign(a.cfg.AlipayKey, inner))) {
		return alipayResp{}, fmt.Errorf("alipay %s answer: %w", method, ErrBadSignature)
	}
	var r alipayResp
	if err := json.Unmarshal(inner, &r); err != nil {
		return alipayResp{}, fmt.Errorf("alipay %s answer: %w", method, err)
	}
	if r.Code != "10000" {
		if r.SubCode == "ACQ.TRADE_NOT_EXIST" {
			return r, fmt.Errorf("alipay %s: %w", method, ErrUnknownTrade)
		}
		return r, fmt.Errorf("alipay %s: %s %s (%s %s)", method, r.Code, r.Msg, r.SubCode, r.SubMsg)
	}
	return r, nil
}

// Create opens a trade; time_expire is Beijing wall time.
func (a *Alipay) Create(ctx context.Context, r CreateRequest) (CreateResult, error) {
	out, err := a.call(ctx, "alipay.trade.create", map[string]string{
		"out_trade_no": r.TradeNo, "total_amount": FormatYuan(r.AmountFen), "subject": r.Subject,
		"time_expire": r.TimeExpire.In(Beijing).Format(AlipayTimeLayout),
	})
	if err != nil {
		return CreateResult{}, err
	}
	if out.CashierURL == "" {
		return CreateResult{}, fmt.Errorf("alipay create: no cashier_url in answer")
	}
	return CreateResult{ChannelTradeNo: out.TradeNo, CashierURL: out.CashierURL}, nil
}

// Query asks the channel for the trade's state.
func (a *Alipay) Query(ctx context.Context, tradeNo string) (QueryResult, error) {
	out, err := a.call(ctx, "alipay.trade.query", map[string]string{"out_trade_no": tradeNo})
	if err != nil {
		return QueryResult{}, err
	}
	if out.OutTradeNo != tradeNo {
		return QueryResult{}, fmt.Errorf("alipay query: answer for %q, asked %q", out.OutTradeNo, tradeNo)
	}
	q := QueryResult{ChannelTradeNo: out.TradeNo}
	switch out.TradeStatus {
	case "TRADE_SUCCESS", "TRADE_FINISHED":
		q.State = TradePaid
		if q.AmountFen, err = ParseYuan(out.TotalAmount); err != nil {
			return QueryResult{}, err
		}
		t, err := time.ParseInLocation(AlipayTimeLayout, out.SendPayDate, Beijing)
		if err != nil {
			return QueryResult{}, fmt.Errorf("alipay query: send_pay_date %q: %w", out.SendPayDate, err)
		}
		q.PaidAt = t.UTC()
	case "TRADE_CLOSED":
		q.State = TradeClosed
	default:
		q.State = TradeWaiting
	}
	return q, nil
}

func alipayRefundState(s string) RefundState {
	switch s {
	case "REFUND_SUCCESS":
		return RefundSucceeded
	case "REFUND_FAIL":
		return RefundFailed
	}
	return RefundProcessing
}

// Refund asks for money back; completion is confirmed by QueryRefund.
func (a *Alipay) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	out, err := a.call(ctx, "alipay.trade.refund", map[string]string{
		"out_trade_no": r.TradeNo, "out_request_no": r.RefundNo,
		"refund_amount": FormatYuan(r.AmountFen), "refund_reason": r.Reason,
	})
	if err != nil {
		return RefundResult{}, err
	}
	return RefundResult{State: alipayRefundState(out.RefundStatus)}, nil
}

// QueryRefund confirms a refund's result.
func (a *Alipay) QueryRefund(ctx context.Context, tradeNo, refundNo string) (RefundResult, error) {
	out, err := a.call(ctx, "alipay.trade.fastpay.refund.query", map[string]string{
		"out_trade_no": tradeNo, "out_request_no": refundNo,
	})
	if err != nil {
		return RefundResult{}, err
	}
	if out.OutRequestNo != refundNo {
		return RefundResult{}, fmt.Errorf("alipay refund query: answer for %q, asked %q", out.OutRequestNo, refundNo)
	}
	return RefundResult{State: alipayRefundState(out.RefundStatus)}, nil
}

// VerifyCallback checks the signature and the notify_time window.
func (a *Alipay) VerifyCallback(body []byte) (Notification, error) {
	var p map[string]string
	if err := json.Unmarshal(body, &p); err != nil {
		return Notification{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if p["sign"] == "" || !hmac.Equal([]byte(p["sign"]), []byte(AlipaySign(a.cfg.AlipayKey, p, true))) {
		return Notification{}, ErrBadSignature
	}
	if p["app_id"] != a.cfg.AlipayAppID {
		return Notification{}, fmt.Errorf("%w: app_id %q is not ours", ErrBadSignature, p["app_id"])
	}
	t, err := time.ParseInLocation(AlipayTimeLayout, p["notify_time"], Beijing)
	if err != nil {
		return Notification{}, fmt.Errorf("%w: notify_time: %v", ErrBadSignature, err)
	}
	if age := a.cfg.Now().Sub(t); age > a.cfg.CallbackMaxAge || age < -a.cfg.CallbackMaxAge {
		return Notification{}, fmt.Errorf("%w: notify_time outside the replay window", ErrBadSignature)
	}
	n := Notification{ID: p["notify_id"], TradeNo: p["out_trade_no"], Kind: NotifyPayment}
	if p["notify_type"] == "refund_status_sync" {
		n.Kind, n.RefundNo = NotifyRefund, p["out_request_no"]
	}
	return n, nil
}

// Ack is Alipay's success answer.
func (a *Alipay) Ack() (string, []byte) { return "text/plain", []byte("success") }
