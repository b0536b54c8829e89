// Package api serves PAY's HTTP API (called by other apps and by the
// channels through Dapr service invocation) and its cron binding handlers
// (bindings.go); its topic subscribers live in apps/pay/events. Handlers
// are thin: decode, call a use case, map domain errors to the Problem codes
// of payclient.
package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Handler holds the use cases the routes call.
type Handler struct{ svc *app.Service }

// Mount registers PAY's routes on r.
func Mount(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Get("/v1/accounts/{customer}", h.accounts)
	r.Post("/v1/accounts/{customer}/credit", h.credit)
	r.Post("/v1/deductions", h.deduct)
	r.Get("/v1/deductions/{id}", h.deduction)
	r.Get("/v1/coupon-holds/{id}", h.holdState)
	r.Post("/v1/payments", h.startPayment)
	r.Get("/v1/trades/{id}", h.trade)
	r.Get("/v1/trades", h.tradesOfOrder)
	r.Post("/v1/callbacks/{channel}", h.callback)
	r.Post("/v1/refunds", h.requestRefund)
	r.Get("/v1/refunds", h.refundsOfTrade)
	r.Post("/v1/noncash-refunds", h.refundNonCash)
	r.Get("/v1/refunds/{id}", h.refund)
	r.Post("/v1/refunds/{id}/audit", h.audit)
	r.Post("/v1/refunds/{id}/retry", h.retryRefund)
}

// problem maps a use case's error to what the caller sees.
func problem(err error) error {
	var ins *domain.InsufficientError
	var np *domain.NotPayableError
	var le *domain.LimitError
	var cr *domain.CouponRefusedError
	switch {
	case errors.As(err, &cr):
		return httpapi.Errorf(http.StatusConflict, cr.Code, "%s", cr.Message)
	case errors.Is(err, domain.ErrHoldVoid):
		return httpapi.Errorf(http.StatusConflict, payclient.CodeHoldVoid, "%s", err.Error())
	case errors.As(err, &le):
		return httpapi.Errorf(http.StatusBadRequest, payclient.CodeTooMany, "%s", le.Error()).
			With(map[string]any{"field": le.Field, "max": le.Max})
	case errors.As(err, &ins):
		d := map[string]any{"kind": string(ins.Kind)}
		if ins.CouponID != "" {
			d["coupon_id"] = ins.CouponID
		}
		return httpapi.Errorf(http.StatusConflict, payclient.CodeInsufficient, "%s", ins.Error()).With(d)
	case errors.As(err, &np):
		return httpapi.Errorf(http.StatusConflict, payclient.CodeNotPayable, "%s", np.Error()).With(map[string]any{"reason": np.Reason})
	case errors.Is(err, domain.ErrValidation):
		return httpapi.Errorf(http.StatusBadRequest, payclient.CodeValidation, "%s", err.Error())
	case errors.Is(err, domain.ErrKeyReused):
		return httpapi.Errorf(http.StatusConflict, payclient.CodeIdempotencyReuse, "idempotency key already used with other input")
	case errors.Is(err, domain.ErrUnknownChannel):
		return httpapi.Errorf(http.StatusBadRequest, payclient.CodeUnknownChannel, "%s", err.Error())
	case errors.Is(err, domain.ErrRefundTooLarge):
		return httpapi.Errorf(http.StatusConflict, payclient.CodeRefundTooLarge, "refund exceeds what was paid")
	case errors.Is(err, domain.ErrNotFound):
		return httpapi.Errorf(http.StatusNotFound, payclient.CodeNotFound, "%s", err.Error())
	case errors.Is(err, domain.ErrNothingToRetry):
		return httpapi.Errorf(http.StatusConflict, payclient.CodeNothingToRetry, "%s", err.Error())
	case errors.Is(err, domain.ErrBadSignature):
		return httpapi.Errorf(http.StatusUnauthorized, "BAD_SIGNATURE", "signature verification failed")
	}
	return err
}

func fail(w http.ResponseWriter, r *http.Request, err error) { httpapi.WriteError(w, r, problem(err)) }

func accountsOut(a domain.Account) payclient.Accounts {
	return payclient.Accounts{CustomerID: a.CustomerID(), BalanceFen: a.BalanceFen(), GiftCardFen: a.GiftCardFen(),
		Points: a.Points(), GoodsCardFen: a.GoodsCardFen()}
}

func (h *Handler) accounts(w http.ResponseWriter, r *http.Request) {
	a, err := h.svc.Accounts(r.Context(), chi.URLParam(r, "customer"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, accountsOut(a))
}

func (h *Handler) holdState(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	a, err := h.svc.HoldState(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := payclient.HoldState{HoldID: id, State: payclient.HoldVoid}
	if !a.Void {
		switch a.Deduction {
		case domain.DeductionHeld:
			out.State = payclient.HoldHeld
		case domain.DeductionUsed:
			out.State = payclient.HoldUsed
		default:
			out.State = payclient.HoldReversed
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) credit(w http.ResponseWriter, r *http.Request) {
	var in payclient.CreditRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	customer := chi.URLParam(r, "customer")
	err := h.svc.Credit(r.Context(), in.IdempotencyKey, app.Amounts{CustomerID: customer, BalanceFen: in.BalanceFen,
		GiftCardFen: in.GiftCardFen, Points: in.Points, GoodsCardFen: in.GoodsCardFen})
	if err != nil {
		fail(w, r, err)
		return
	}
	a, err := h.svc.Accounts(r.Context(), customer)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, accountsOut(a))
}

func deductionOut(d domain.Deduction) payclient.Deduction {
	out := payclient.Deduction{ID: d.ID(), CustomerID: d.CustomerID(), TotalFen: d.TotalFen(), Status: string(d.Status()),
		OrderID: d.OrderID(), CreatedAt: d.CreatedAt(), Items: []payclient.DeductItem{}}
	for _, it := range d.Items() {
		out.Items = append(out.Items, payclient.DeductItem{Kind: string(it.Kind()), AmountFen: it.AmountFen(), CouponID: it.CouponID()})
	}
	return out
}

func (h *Handler) deduct(w http.ResponseWriter, r *http.Request) {
	var in payclient.DeductRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	items := make([]app.Item, len(in.Items))
	for i, it := range in.Items {
		k, err := domain.ParseKind(it.Kind)
		if err != nil {
			fail(w, r, err)
			return
		}
		items[i] = app.Item{Kind: k, AmountFen: it.AmountFen, CouponID: it.CouponID}
	}
	d, err := h.svc.Deduct(r.Context(), app.DeductInput{IdempotencyKey: in.IdempotencyKey, CustomerID: in.CustomerID, Items: items})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, deductionOut(d))
}

func (h *Handler) deduction(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Deduction(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, deductionOut(d))
}

func (h *Handler) startPayment(w http.ResponseWriter, r *http.Request) {
	var in payclient.StartPaymentRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	t, err := h.svc.StartCashPayment(r.Context(), app.StartInput{IdempotencyKey: in.IdempotencyKey, OrderID: in.OrderID,
		CustomerID: in.CustomerID, Channel: in.Channel})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, payclient.CashierRedirect{TradeID: t.ID(), Channel: t.Channel(), CashierURL: t.CashierURL(),
		AmountFen: t.AmountFen(), ExpiresAt: t.TimeExpire()})
}

func tradeOut(t domain.Trade) payclient.Trade {
	out := payclient.Trade{ID: t.ID(), OrderID: t.OrderID(), CustomerID: t.CustomerID(), Channel: t.Channel(), AmountFen: t.AmountFen(),
		PaidFen: t.PaidFen(), RefundedFen: t.RefundedFen(), Status: string(t.Status()), ExpiresAt: t.TimeExpire(),
		CashierURL: t.CashierURL(), CreatedAt: t.CreatedAt()}
	if p := t.PaidAt(); !p.IsZero() {
		out.PaidAt = &p
	}
	return out
}

func (h *Handler) trade(w http.ResponseWriter, r *http.Request) {
	t, err := h.svc.Trade(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, tradeOut(t))
}

func (h *Handler) tradesOfOrder(w http.ResponseWriter, r *http.Request) {
	order := r.URL.Query().Get("order")
	if order == "" {
		fail(w, r, httpapi.Errorf(http.StatusBadRequest, payclient.CodeValidation, "order is required"))
		return
	}
	ts, err := h.svc.TradesOfOrder(r.Context(), order, r.URL.Query().Get("paid_by"))
	if err != nil {
		fail(w, r, err)
		return
	}
	out := []payclient.Trade{}
	for _, t := range ts {
		out = append(out, tradeOut(t))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// callback takes a channel's signed notification. A bad signature answers
// 401; a failure to confirm with the channel answers 500 so the channel
// sends it again; otherwise the channel's own ack.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(w, r, httpapi.Errorf(http.StatusBadRequest, httpapi.CodeBadRequest, "read body: %v", err))
		return
	}
	ct, ack, err := h.svc.Callback(r.Context(), chi.URLParam(r, "channel"), body)
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ack)
}

func refundOut(f domain.Refund) payclient.Refund {
	return payclient.Refund{ID: f.ID(), TradeID: f.TradeID(), OrderID: f.OrderID(), AmountFen: f.AmountFen(), Reason: f.Reason(),
		Status: string(f.Status()), CreatedAt: f.CreatedAt(), UpdatedAt: f.UpdatedAt()}
}

func (h *Handler) requestRefund(w http.ResponseWriter, r *http.Request) {
	var in payclient.RefundRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	f, err := h.svc.RequestRefund(r.Context(), app.RefundInput{IdempotencyKey: in.IdempotencyKey, TradeID: in.TradeID,
		AmountFen: in.AmountFen, Reason: in.Reason})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, refundOut(f))
}

func (h *Handler) retryRefund(w http.ResponseWriter, r *http.Request) {
	var in payclient.RetryRefundRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	f, err := h.svc.RetryRefund(r.Context(), in.IdempotencyKey, chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, refundOut(f))
}

func (h *Handler) refund(w http.ResponseWriter, r *http.Request) {
	f, err := h.svc.Refund(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, refundOut(f))
}

func (h *Handler) refundNonCash(w http.ResponseWriter, r *http.Request) {
	var in payclient.NonCashRefundRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	f, err := h.svc.RefundNonCash(r.Context(), app.NonCashRefundInput{IdempotencyKey: in.IdempotencyKey, OrderID: in.OrderID,
		AmountFen: in.AmountFen, Reason: in.Reason, DeductionIDs: in.DeductionIDs})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, payclient.NonCashRefund{ID: f.ID, OrderID: f.OrderID, CustomerID: f.CustomerID, AmountFen: f.Amount,
		BalanceFen: f.Back.BalanceFen(), GiftCardFen: f.Back.GiftCardFen(), GoodsCardFen: f.Back.GoodsCardFen(), Points: f.Back.Points(),
		CouponFen: f.Coupon, CreatedAt: f.CreatedAt})
}

func (h *Handler) refundsOfTrade(w http.ResponseWriter, r *http.Request) {
	trade := r.URL.Query().Get("trade")
	if trade == "" {
		fail(w, r, httpapi.Errorf(http.StatusBadRequest, payclient.CodeValidation, "trade is required"))
		return
	}
	fs, err := h.svc.RefundsOfTrade(r.Context(), trade)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := []payclient.Refund{}
	for _, f := range fs {
		out = append(out, refundOut(f))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// audit is finance's callback about a refund audit; PAY confirms the
// result by asking FMS, so the body is only a hint and is not decoded
// strictly.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<16))
	f, err := h.svc.AuditNotified(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, refundOut(f))
}
