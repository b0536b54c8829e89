package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// WeChat-Pay-like channel (API v3 shape). Requests are a signed envelope
// {mchid, timestamp, nonce, resource, signature}: resource is the call's
// JSON, signature hex(HMAC-SHA256(key, "POST\n"+path+"\n"+timestamp+"\n"+
// nonce+"\n"+resource+"\n")). Failures are HTTP 4xx/5xx with {code, message}
// (SIGN_ERROR, PARAM_ERROR, ORDER_NOT_EXIST, OUT_TRADE_NO_USED, NOT_ENOUGH,
// TRADE_NOT_PAID, SYSTEM_ERROR). Callbacks (to the notify_url, an
// "app/method" Dapr address) are {id, event_type, mchid, timestamp, nonce,
// resource, signature} signed over timestamp\nnonce\nresource\n; the
// merchant answers 2xx or the callback is retried with backoff.

type wechatEnvelope struct {
	ID        string `json:"id,omitempty"`
	EventType string `json:"event_type,omitempty"`
	MchID     string `json:"mchid"`
	Timestamp int64  `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Resource  string `json:"resource"`
	Signature string `json:"signature"`
}

type wechatErr struct {
	status int
	code   string
	msg    string
}

func (e *wechatErr) Error() string { return e.code + ": " + e.msg }

func wxErr(status int, code, msg string) error { return &wechatErr{status, code, msg} }

// wechat wraps one API: fault switch, signature and skew check, then fn
// with the decoded resource.
func (s *Server) wechat(name string, fn func(ctx context.Context, resource []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.injectFault(w, r, name) {
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var env wechatEnvelope
		if err == nil {
			err = json.Unmarshal(body, &env)
		}
		if err != nil {
			writeWechatErr(w, wxErr(400, "PARAM_ERROR", "malformed request"))
			return
		}
		if env.MchID != s.cfg.WechatMchID {
			writeWechatErr(w, wxErr(400, "MCH_NOT_EXISTS", "unknown merchant"))
			return
		}
		want := wechatRequestSign(s.cfg.WechatKey, http.MethodPost, r.URL.Path, env.Timestamp, env.Nonce, env.Resource)
		if !equalSig(env.Signature, want) {
			writeWechatErr(w, wxErr(401, "SIGN_ERROR", "signature verification failed"))
			return
		}
		if skew := s.now().Sub(time.Unix(env.Timestamp, 0)); skew > s.cfg.MaxSkew || skew < -s.cfg.MaxSkew {
			writeWechatErr(w, wxErr(401, "SIGN_ERROR", "timestamp outside the allowed window"))
			return
		}
		out, err := fn(r.Context(), []byte(env.Resource))
		if err != nil {
			writeWechatErr(w, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
	}
}

func writeWechatErr(w http.ResponseWriter, err error) {
	var we *wechatErr
	if !errors.As(err, &we) {
		switch {
		case errors.Is(err, errNoTrade), errors.Is(err, errNoRefund):
			we = &wechatErr{404, "ORDER_NOT_EXIST", err.Error()}
		case errors.Is(err, errTradeNoUsed), errors.Is(err, errRefundNoUsed):
			we = &wechatErr{400, "OUT_TRADE_NO_USED", err.Error()}
		case errors.Is(err, errExpireInPast):
			we = &wechatErr{400, "PARAM_ERROR", err.Error()}
		case errors.Is(err, errNotPaid):
			we = &wechatErr{400, "TRADE_NOT_PAID", err.Error()}
		case errors.Is(err, errNotEnough):
			we = &wechatErr{400, "NOT_ENOUGH", err.Error()}
		default:
			we = &wechatErr{500, "SYSTEM_ERROR", "system error"}
		}
	}
	httpapi.WriteJSON(w, we.status, map[string]string{"code": we.code, "message": we.msg})
}

type wxAmount struct {
	Total      int64  `json:"total,omitempty"`
	PayerTotal int64  `json:"payer_total,omitempty"`
	Refund     int64  `json:"refund,omitempty"`
	Currency   string `json:"currency,omitempty"`
}

func (s *Server) wechatCreate(ctx context.Context, res []byte) (any, error) {
	var in struct {
		AppID       string   `json:"appid"`
		MchID       string   `json:"mchid"`
		Description string   `json:"description"`
		OutTradeNo  string   `json:"out_trade_no"`
		TimeExpire  string   `json:"time_expire"`
		NotifyURL   string   `json:"notify_url"`
		Amount      wxAmount `json:"amount"`
	}
	if err := json.Unmarshal(res, &in); err != nil || in.OutTradeNo == "" || in.Amount.Total <= 0 || in.NotifyURL == "" {
		return nil, wxErr(400, "PARAM_ERROR", "out_trade_no, amount.total and notify_url are required")
	}
	exp, err := time.Parse(time.RFC3339, in.TimeExpire)
	if err != nil {
		return nil, wxErr(400, "PARAM_ERROR", "time_expire must be RFC 3339")
	}
	t, err := s.createTrade(ctx, ctrade{Channel: "WECHAT", OutTradeNo: in.OutTradeNo, Merchant: in.MchID, AmountFen: in.Amount.Total,
		Subject: in.Description, TimeExpire: exp.UTC(), NotifyTarget: in.NotifyURL})
	if err != nil {
		return nil, err
	}
	return map[string]string{"prepay_id": t.ChannelTradeNo, "h5_url": s.cfg.PublicURL + "/cashier/WECHAT/" + t.OutTradeNo}, nil
}

func wechatTradeView(t ctrade) map[string]any {
	state := t.Status
	if t.Status == stSuccess && t.RefundedFen > 0 {
		state = "REFUND"
	}
	v := map[string]any{"mchid": t.Merchant, "out_trade_no": t.OutTradeNo, "transaction_id": t.ChannelTradeNo, "trade_state": state,
		"amount": wxAmount{Total: t.AmountFen, Currency: "CNY"}}
	if t.PaidAt != nil {
		v["amount"] = wxAmount{Total: t.AmountFen, PayerTotal: t.AmountFen, Currency: "CNY"}
		v["success_time"] = t.PaidAt.UTC().Format(time.RFC3339)
	}
	return v
}

func (s *Server) wechatQuery(ctx context.Context, res []byte) (any, error) {
	var in struct {
		OutTradeNo string `json:"out_trade_no"`
	}
	if err := json.Unmarshal(res, &in); err != nil || in.OutTradeNo == "" {
		return nil, wxErr(400, "PARAM_ERROR", "out_trade_no is required")
	}
	t, err := s.getTrade(ctx, "WECHAT", in.OutTradeNo)
	if err != nil {
		return nil, err
	}
	return wechatTradeView(t), nil
}

func wechatRefundView(f crefund) map[string]any {
	v := map[string]any{"refund_id": f.RefundID, "out_refund_no": f.OutRefundNo, "out_trade_no": f.OutTradeNo, "status": f.Status,
		"amount": wxAmount{Refund: f.AmountFen, Currency: "CNY"}, "create_time": f.CreatedAt.Format(time.RFC3339)}
	if f.SucceededAt != nil {
		v["success_time"] = f.SucceededAt.Format(time.RFC3339)
	}
	return v
}

func (s *Server) wechatRefund(ctx context.Context, res []byte) (any, error) {
	var in struct {
		OutTradeNo  string   `json:"out_trade_no"`
		OutRefundNo string   `json:"out_refund_no"`
		Amount      wxAmount `json:"amount"`
	}
	if err := json.Unmarshal(res, &in); err != nil || in.OutTradeNo == "" || in.OutRefundNo == "" || in.Amount.Refund <= 0 {
		return nil, wxErr(400, "PARAM_ERROR", "out_trade_no, out_refund_no and amount.refund are required")
	}
	f, err := s.createRefund(ctx, "WECHAT", in.OutTradeNo, in.OutRefundNo, in.Amount.Refund)
	if err != nil {
		return nil, err
	}
	return wechatRefundView(f), nil
}

func (s *Server) wechatRefundQuery(ctx context.Context, res []byte) (any, error) {
	var in struct {
		OutRefundNo string `json:"out_refund_no"`
	}
	if err := json.Unmarshal(res, &in); err != nil || in.OutRefundNo == "" {
		return nil, wxErr(400, "PARAM_ERROR", "out_refund_no is required")
	}
	f, err := s.getRefund(ctx, "WECHAT", in.OutRefundNo)
	if err != nil {
		return nil, err
	}
	return wechatRefundView(f), nil
}

// wechatCallback builds a signed callback body for a payment or refund.
func (s *Server) wechatCallback(ctx context.Context, id, kind, ref, tradeNo string) ([]byte, error) {
	var resource any
	event := "TRANSACTION.SUCCESS"
	if kind == kindRefund {
		f, err := s.getRefund(ctx, "WECHAT", ref)
		if err != nil {
			return nil, err
		}
		event = "REFUND.SUCCESS"
		resource = map[string]any{"out_trade_no": f.OutTradeNo, "out_refund_no": f.OutRefundNo, "refund_id": f.RefundID,
			"refund_status": f.Status, "amount": wxAmount{Refund: f.AmountFen}}
	} else {
		t, err := s.getTrade(ctx, "WECHAT", tradeNo)
		if err != nil {
			return nil, err
		}
		resource = wechatTradeView(t)
	}
	rb, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	ts, n := s.now().Unix(), nonce()
	return json.Marshal(wechatEnvelope{ID: id, EventType: event, MchID: s.cfg.WechatMchID, Timestamp: ts, Nonce: n, Resource: string(rb),
		Signature: wechatCallbackSign(s.cfg.WechatKey, ts, n, string(rb))})
}
