package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// MountActions registers customer service's actions, the reviews and an
// order's story (payments, refunds, actions, review, mark).
func MountActions(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Post("/v1/actions", h.act)
	r.Get("/v1/actions", h.actions)
	r.Post("/v1/reviews", h.review)
	r.Get("/v1/reviews", h.reviews)
	r.Get("/v1/orders/{id}/story", h.story)
}

// actionProblem maps an action's or a review's error; an owner's refusal
// keeps the owner's code.
func actionProblem(err error) error {
	var ref *domain.Refusal
	switch {
	case errors.As(err, &ref):
		d := map[string]any{aftersalesclient.DetailOwnerCode: ref.Code != app.RefusedNoInvoiceTitle && ref.Code != app.RefusedNotInvoiceable &&
			ref.Code != app.RefusedNothingToRetry}
		for k, v := range ref.Details {
			d[k] = v
		}
		return httpapi.Errorf(http.StatusConflict, ref.Code, "%s", ref.Message).With(d)
	case errors.Is(err, domain.ErrNotReviewable):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNotReviewable, "%s", err.Error())
	case errors.Is(err, domain.ErrAlreadyReviewed):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeAlreadyReviewed, "%s", err.Error())
	case errors.Is(err, domain.ErrActionNotFound):
		return httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "%s", err.Error())
	}
	return problem(err)
}

func actionOut(a *domain.Action) aftersalesclient.Action {
	in := a.Input
	out := aftersalesclient.Action{ID: a.ID, Kind: string(in.Kind), Status: string(a.Status), OrderID: in.OrderID, CustomerID: a.CustomerID,
		CouponID: in.CouponID, Actor: in.Actor, ActorRole: in.ActorRole, Reason: in.Reason, Result: a.Result, SMSRecipients: in.SMSRecipients,
		InvoiceTitle: in.InvoiceTitle, CreatedAt: a.CreatedAt}
	if in.Address != nil {
		addr := aftersalesclient.Address(*in.Address)
		out.Address = &addr
	}
	if !a.DoneAt.IsZero() {
		t := a.DoneAt
		out.DoneAt = &t
	}
	return out
}

func reviewOut(r domain.Review) aftersalesclient.Review {
	return aftersalesclient.Review{OrderID: r.OrderID, CustomerID: r.CustomerID, Rating: r.Rating, Text: r.Text, CreatedAt: r.CreatedAt}
}

func (h *Handler) act(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.ActionRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	ai := domain.ActionInput{Kind: domain.ActionKind(in.Kind), Actor: in.Actor, ActorRole: in.ActorRole, IdempotencyKey: in.IdempotencyKey,
		Reason: in.Reason, OrderID: in.OrderID, CouponID: in.CouponID, CustomerID: in.CustomerID, SMSRecipients: in.SMSRecipients,
		InvoiceTitle: in.InvoiceTitle}
	if in.Address != nil {
		addr := domain.Address(*in.Address)
		ai.Address = &addr
	}
	a, err := h.svc.Act(r.Context(), ai)
	if err != nil {
		httpapi.WriteError(w, r, actionProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, actionOut(a))
}

func first(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("first"))
	return n
}

func (h *Handler) actions(w http.ResponseWriter, r *http.Request) {
	as, err := h.svc.Actions(r.Context(), app.ActionQuery{OrderID: r.URL.Query().Get("order"), CustomerID: r.URL.Query().Get("customer"), Limit: first(r)})
	if err != nil {
		httpapi.WriteError(w, r, actionProblem(err))
		return
	}
	out := aftersalesclient.Actions{Items: make([]aftersalesclient.Action, 0, len(as))}
	for _, a := range as {
		out.Items = append(out.Items, actionOut(a))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.ReviewRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	rv, err := h.svc.Review(r.Context(), in.OrderID, in.CustomerID, in.Rating, in.Text)
	if err != nil {
		httpapi.WriteError(w, r, actionProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, reviewOut(rv))
}

func (h *Handler) reviews(w http.ResponseWriter, r *http.Request) {
	rs, err := h.svc.Reviews(r.Context(), app.ReviewQuery{OrderID: r.URL.Query().Get("order"), CustomerID: r.URL.Query().Get("customer"), Limit: first(r)})
	if err != nil {
		httpapi.WriteError(w, r, actionProblem(err))
		return
	}
	out := aftersalesclient.Reviews{Items: make([]aftersalesclient.Review, 0, len(rs))}
	for _, rv := range rs {
		out.Items = append(out.Items, reviewOut(rv))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) story(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	m, err := h.svc.Money(ctx, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := aftersalesclient.Story{OrderID: id, Payments: []aftersalesclient.Payment{}, Refunds: []aftersalesclient.Refund{}, Actions: []aftersalesclient.Action{}}
	for _, t := range m.Trades {
		out.Payments = append(out.Payments, aftersalesclient.Payment{ID: t.ID, Channel: t.Channel, AmountFen: t.AmountFen, PaidFen: t.PaidFen,
			RefundedFen: t.RefundedFen, Status: t.Status, CreatedAt: t.CreatedAt, PaidAt: t.PaidAt})
	}
	for _, rf := range m.Refunds {
		out.Refunds = append(out.Refunds, aftersalesclient.Refund{ID: rf.ID, TradeID: rf.TradeID, AmountFen: rf.AmountFen, Reason: rf.Reason,
			Status: rf.Status, CreatedAt: rf.CreatedAt, UpdatedAt: rf.UpdatedAt})
	}
	as, err := h.svc.Actions(ctx, app.ActionQuery{OrderID: id, Limit: 100})
	if err != nil {
		fail(w, r, err)
		return
	}
	for _, a := range as {
		out.Actions = append(out.Actions, actionOut(a))
	}
	rs, err := h.svc.Reviews(ctx, app.ReviewQuery{OrderID: id, Limit: 1})
	if err != nil {
		fail(w, r, err)
		return
	}
	if len(rs) > 0 {
		rv := reviewOut(rs[0])
		out.Review = &rv
	}
	mk, err := h.svc.Malicious(ctx, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	if mk != nil {
		out.Malicious = &aftersalesclient.Malicious{ActionID: mk.ActionID, By: mk.By, Reason: mk.Reason, At: mk.At}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
