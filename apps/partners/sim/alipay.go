package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Alipay-like channel (open-API gateway shape). One endpoint,
// /alipay/gateway.do, takes flat string parameters: app_id, method
// (alipay.trade.create, alipay.trade.query, alipay.trade.refund,
// alipay.trade.fastpay.refund.query), charset, sign_type, timestamp
// ("2006-01-02 15:04:05", Beijing), version, notify_url, biz_content (JSON)
// and sign = base64(HMAC-SHA256(key, sorted k=v&…)) over the non-empty
// parameters but sign. Amounts are yuan strings. The answer is always
// HTTP 200 {"<method, dots as _>_response": {code, msg, sub_code, …},
// "sign": base64(HMAC-SHA256(key, raw inner object))}; code 10000 is
// success. Callbacks are flat parameters signed the same way (sign_type
// excluded) and expect the text "success".

type aliErr struct{ code, msg, subCode, subMsg string }

func (e *aliErr) Error() string { return e.subCode + ": " + e.subMsg }

func aliBiz(sub, msg string) error { return &aliErr{"40004", "Business Failed", sub, msg} }

func (s *Server) alipayGateway(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var p map[string]string
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	method := p["method"]
	if err != nil || method == "" {
		s.alipayAnswer(w, "error", nil, &aliErr{"40001", "Missing Required Arguments", "isv.missing-method", "method is required"})
		return
	}
	name := map[string]string{"alipay.trade.create": "alipay.create", "alipay.trade.query": "alipay.query",
		"alipay.trade.refund": "alipay.refund", "alipay.trade.fastpay.refund.query": "alipay.refund_query"}[method]
	if name == "" {
		s.alipayAnswer(w, method, nil, &aliErr{"40002", "Invalid Arguments", "isv.invalid-method", "unknown method"})
		return
	}
	if s.injectFault(w, r, name) {
		return
	}
	if p["app_id"] != s.cfg.AlipayAppID {
		s.alipayAnswer(w, method, nil, &aliErr{"40002", "Invalid Arguments", "isv.invalid-app-id", "unknown app_id"})
		return
	}
	if !equalSig(p["sign"], alipaySign(s.cfg.AlipayKey, p, false)) {
		s.alipayAnswer(w, method, nil, &aliErr{"40002", "Invalid Arguments", "isv.invalid-signature", "signature verification failed"})
		return
	}
	ts, err := time.ParseInLocation(alipayLayout, p["timestamp"], beijing)
	if skew := s.now().Sub(ts); err != nil || skew > s.cfg.MaxSkew || skew < -s.cfg.MaxSkew {
		s.alipayAnswer(w, method, nil, &aliErr{"40002", "Invalid Arguments", "isv.invalid-timestamp", "timestamp outside the allowed window"})
		return
	}
	var biz map[string]string
	if err := json.Unmarshal([]byte(p["biz_content"]), &biz); err != nil {
		s.alipayAnswer(w, method, nil, &aliErr{"40002", "Invalid Arguments", "isv.invalid-biz-content", "biz_content is not JSON"})
		return
	}
	var out map[string]string
	switch method {
	case "alipay.trade.create":
		out, err = s.alipayCreate(r.Context(), p, biz)
	case "alipay.trade.query":
		out, err = s.alipayQuery(r.Context(), biz)
	case "alipay.trade.refund":
		out, err = s.alipayRefund(r.Context(), biz)
	default:
		out, err = s.alipayRefundQuery(r.Context(), biz)
	}
	s.alipayAnswer(w, method, out, err)
}

func (s *Server) alipayAnswer(w http.ResponseWriter, method string, out map[string]string, err error) {
	if out == nil {
		out = map[string]string{}
	}
	if err != nil {
		var ae *aliErr
		if !errors.As(err, &ae) {
			switch {
			case errors.Is(err, errNoTrade), errors.Is(err, errNoRefund):
				ae = &aliErr{"40004", "Business Failed", "ACQ.TRADE_NOT_EXIST", err.Error()}
			case errors.Is(err, errTradeNoUsed), errors.Is(err, errRefundNoUsed):
				ae = &aliErr{"40004", "Business Failed", "ACQ.CONTEXT_INCONSISTENT", err.Error()}
			case errors.Is(err, errExpireInPast):
				ae = &aliErr{"40004", "Business Failed", "ACQ.INVALID_PARAMETER", err.Error()}
			case errors.Is(err, errNotPaid):
				ae = &aliErr{"40004", "Business Failed", "ACQ.TRADE_STATUS_ERROR", err.Error()}
			case errors.Is(err, errNotEnough):
				ae = &aliErr{"40004", "Business Failed", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", err.Error()}
			default:
				ae = &aliErr{"20000", "Service Currently Unavailable", "isp.unknow-error", "system busy"}
			}
		}
		out["code"], out["msg"], out["sub_code"], out["sub_msg"] = ae.code, ae.msg, ae.subCode, ae.subMsg
	} else {
		out["code"], out["msg"] = "10000", "Success"
	}
	inner, _ := json.Marshal(out)
	key := strings.ReplaceAll(method, ".", "_") + "_response"
	resp := map[string]any{key: json.RawMessage(inner), "sign": alipayRawSign(s.cfg.AlipayKey, inner)}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) alipayCreate(ctx context.Context, p, biz map[string]string) (map[string]string, error) {
	amount, ok := parseYuan(biz["total_amount"])
	if !ok || amount <= 0 || biz["out_trade_no"] == "" || p["notify_url"] == "" {
		return nil, aliBiz("ACQ.INVALID_PARAMETER", "out_trade_no, total_amount and notify_url are required")
	}
	exp, err := time.ParseInLocation(alipayLayout, biz["time_expire"], beijing)
	if err != nil {
		return nil, aliBiz("ACQ.INVALID_PARAMETER", "time_expire must be yyyy-MM-dd HH:mm:ss")
	}
	t, err := s.createTrade(ctx, ctrade{Channel: "ALIPAY", OutTradeNo: biz["out_trade_no"], Merchant: p["app_id"], AmountFen: amount,
		Subject: biz["subject"], TimeExpire: exp.UTC(), NotifyTarget: p["notify_url"]})
	if err != nil {
		return nil, err
	}
	return map[string]string{"out_trade_no": t.OutTradeNo, "trade_no": t.ChannelTradeNo,
		"cashier_url": s.cfg.PublicURL + "/cashier/ALIPAY/" + t.OutTradeNo}, nil
}

func alipayTradeView(t ctrade) map[string]string {
	status := map[string]string{stNotPay: "WAIT_BUYER_PAY", stSuccess: "TRADE_SUCCESS", stClosed: "TRADE_CLOSED"}[t.Status]
	v := map[string]string{"out_trade_no": t.OutTradeNo, "trade_no": t.ChannelTradeNo, "trade_status": status,
		"total_amount": yuan(t.AmountFen)}
	if t.PaidAt != nil {
		v["send_pay_date"] = t.PaidAt.In(beijing).Format(alipayLayout)
	}
	return v
}

func (s *Server) alipayQuery(ctx context.Context, biz map[string]string) (map[string]string, error) {
	t, err := s.getTrade(ctx, "ALIPAY", biz["out_trade_no"])
	if err != nil {
		return nil, err
	}
	return alipayTradeView(t), nil
}

func alipayRefundView(f crefund) map[string]string {
	st := "REFUND_PROCESSING"
	if f.Status == rfSuccess {
		st = "REFUND_SUCCESS"
	}
	v := map[string]string{"out_trade_no": f.OutTradeNo, "out_request_no": f.OutRefundNo, "refund_amount": yuan(f.AmountFen),
		"refund_status": st, "fund_change": "N"}
	if f.SucceededAt != nil {
		v["gmt_refund_pay"] = f.SucceededAt.In(beijing).Format(alipayLayout)
		v["fund_change"] = "Y"
	}
	return v
}

func (s *Server) alipayRefund(ctx context.Context, biz map[string]string) (map[string]string, error) {
	amount, ok := parseYuan(biz["refund_amount"])
	if !ok || amount <= 0 || biz["out_trade_no"] == "" || biz["out_request_no"] == "" {
		return nil, aliBiz("ACQ.INVALID_PARAMETER", "out_trade_no, out_request_no and refund_amount are required")
	}
	f, err := s.createRefund(ctx, "ALIPAY", biz["out_trade_no"], biz["out_request_no"], amount)
	if err != nil {
		return nil, err
	}
	return alipayRefundView(f), nil
}

func (s *Server) alipayRefundQuery(ctx context.Context, biz map[string]string) (map[string]string, error) {
	f, err := s.getRefund(ctx, "ALIPAY", biz["out_request_no"])
	if err != nil {
		return nil, err
	}
	if f.OutTradeNo != biz["out_trade_no"] {
		return nil, errNoRefund
	}
	return alipayRefundView(f), nil
}

// alipayCallback builds a signed callback body for a payment or refund.
func (s *Server) alipayCallback(ctx context.Context, id, kind, ref, tradeNo string) ([]byte, error) {
	var p map[string]string
	if kind == kindRefund {
		f, err := s.getRefund(ctx, "ALIPAY", ref)
		if err != nil {
			return nil, err
		}
		p = alipayRefundView(f)
		p["notify_type"] = "refund_status_sync"
	} else {
		t, err := s.getTrade(ctx, "ALIPAY", tradeNo)
		if err != nil {
			return nil, err
		}
		p = alipayTradeView(t)
		p["notify_type"] = "trade_status_sync"
		p["gmt_payment"] = p["send_pay_date"]
		delete(p, "send_pay_date")
	}
	p["notify_id"] = id
	p["notify_time"] = s.now().In(beijing).Format(alipayLayout)
	p["app_id"] = s.cfg.AlipayAppID
	p["charset"] = "utf-8"
	p["version"] = "1.0"
	p["sign_type"] = "HMAC-SHA256"
	p["sign"] = alipaySign(s.cfg.AlipayKey, p, true)
	return json.Marshal(p)
}
