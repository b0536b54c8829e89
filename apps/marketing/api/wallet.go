package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// WalletHandler serves the coupon wallet's routes.
type WalletHandler struct{ w *app.Wallet }

// MountWallet registers the wallet's routes on r: templates (staff),
// grants and unbinding (customer service), a customer's coupons, holds
// (PAY) and use checks (OMS).
func MountWallet(r chi.Router, w *app.Wallet) {
	h := &WalletHandler{w: w}
	r.Post("/v1/coupon-templates", h.createTemplate)
	r.Get("/v1/coupon-templates", h.templates)
	r.Get("/v1/coupon-templates/{id}", h.template)
	r.Put("/v1/coupon-templates/{id}", h.updateTemplate)
	r.Post("/v1/coupon-templates/{id}/retire", h.retireTemplate)
	r.Delete("/v1/coupon-templates/{id}", h.deleteTemplate)
	r.Post("/v1/coupons", h.grant)
	r.Post("/"+mc.AfterSalesCouponsPath+"/{id}/unbind", h.unbind) // after-sales' CS action, its own prefix
	r.Get("/v1/customers/{id}/coupons", h.coupons)
	r.Post("/v1/coupon-holds", h.hold)
	r.Post("/v1/coupon-holds/{id}/recheck", h.recheck)
	r.Post("/v1/coupon-checks", h.checkUse)
}

// walletCode is the client code of a wallet error ("" for none).
func walletCode(err error) (int, string) {
	switch {
	case errors.Is(err, domain.ErrTemplateInUse):
		return http.StatusConflict, mc.CodeTemplateInUse
	case errors.Is(err, domain.ErrTemplateRetired):
		return http.StatusConflict, mc.CodeTemplateRetired
	case errors.Is(err, domain.ErrTemplateEnded):
		return http.StatusConflict, mc.CodeTemplateEnded
	case errors.Is(err, domain.ErrCouponNotFound):
		return http.StatusNotFound, mc.CodeCouponNotFound
	case errors.Is(err, domain.ErrCouponExpired):
		return http.StatusConflict, mc.CodeCouponExpired
	case errors.Is(err, domain.ErrCouponNotStarted):
		return http.StatusConflict, mc.CodeCouponNotStarted
	case errors.Is(err, domain.ErrCouponNotUsable):
		return http.StatusConflict, mc.CodeCouponNotUsable
	case errors.Is(err, domain.ErrThresholdNotMet):
		return http.StatusConflict, mc.CodeThresholdNotMet
	case errors.Is(err, domain.ErrNotApplicable):
		return http.StatusConflict, mc.CodeNotApplicable
	}
	return 0, ""
}

func walletFail(w http.ResponseWriter, r *http.Request, err error) {
	if status, code := walletCode(err); code != "" {
		httpapi.WriteError(w, r, httpapi.Errorf(status, code, "%s", err.Error()))
		return
	}
	fail(w, r, err)
}

func specIn(s mc.TemplateSpec) domain.TemplateSpec {
	return domain.TemplateSpec{Title: s.Title, ValueFen: s.ValueFen, ThresholdFen: s.ThresholdFen, SKUs: s.SKUs,
		Categories: s.Categories, ValidFrom: s.ValidFrom, ValidTo: s.ValidTo}
}

func templateOut(t domain.Template) mc.Template {
	s := t.Spec()
	return mc.Template{ID: t.ID(), TemplateSpec: mc.TemplateSpec{Title: s.Title, ValueFen: s.ValueFen, ThresholdFen: s.ThresholdFen,
		SKUs: s.SKUs, Categories: s.Categories, ValidFrom: s.ValidFrom, ValidTo: s.ValidTo}, Status: string(t.Status()), Bound: t.Bound(),
		CreatedAt: t.CreatedAt(), UpdatedAt: t.UpdatedAt()}
}

func (h *WalletHandler) couponOut(c domain.Coupon) mc.Coupon {
	return mc.Coupon{ID: c.ID, TemplateID: c.TemplateID, CustomerID: c.CustomerID, Title: c.Rules.Title, ValueFen: c.Rules.ValueFen,
		ThresholdFen: c.Rules.ThresholdFen, SKUs: c.Rules.SKUs, Categories: c.Rules.Categories, ValidFrom: c.Rules.ValidFrom, ValidTo: c.Rules.ValidTo,
		Status: string(c.StatusAt(h.w.Now())), Source: c.Source, BoundAt: c.BoundAt}
}

func (h *WalletHandler) couponsOut(cs []domain.Coupon) any {
	out := struct {
		Items []mc.Coupon `json:"items"`
	}{Items: make([]mc.Coupon, 0, len(cs))}
	for _, c := range cs {
		out.Items = append(out.Items, h.couponOut(c))
	}
	return out
}

func (h *WalletHandler) createTemplate(w http.ResponseWriter, r *http.Request) {
	var in mc.CreateTemplateRequest
	if err := httpapi.Decode(r, &in); err != nil {
		walletFail(w, r, err)
		return
	}
	t, err := h.w.CreateTemplate(r.Context(), in.IdempotencyKey, specIn(in.TemplateSpec))
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, templateOut(t))
}

func (h *WalletHandler) templates(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			walletFail(w, r, fmt.Errorf("%w: limit must be an integer", domain.ErrValidation))
			return
		}
		limit = n
	}
	ts, err := h.w.Templates(r.Context(), r.URL.Query().Get("before"), limit)
	if err != nil {
		walletFail(w, r, err)
		return
	}
	out := mc.TemplatePage{Items: make([]mc.Template, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, templateOut(t))
	}
	if len(ts) == limit {
		out.NextBefore = ts[len(ts)-1].ID()
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *WalletHandler) template(w http.ResponseWriter, r *http.Request) {
	t, err := h.w.Template(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, templateOut(t))
}

func (h *WalletHandler) updateTemplate(w http.ResponseWriter, r *http.Request) {
	var in mc.TemplateSpec
	if err := httpapi.Decode(r, &in); err != nil {
		walletFail(w, r, err)
		return
	}
	t, err := h.w.UpdateTemplate(r.Context(), chi.URLParam(r, "id"), specIn(in))
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, templateOut(t))
}

func (h *WalletHandler) retireTemplate(w http.ResponseWriter, r *http.Request) {
	t, err := h.w.RetireTemplate(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, templateOut(t))
}

func (h *WalletHandler) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	if err := h.w.DeleteTemplate(r.Context(), chi.URLParam(r, "id")); err != nil {
		walletFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *WalletHandler) grant(w http.ResponseWriter, r *http.Request) {
	var in mc.GrantRequest
	if err := httpapi.Decode(r, &in); err != nil {
		walletFail(w, r, err)
		return
	}
	c, created, err := h.w.Grant(r.Context(), in.IdempotencyKey, in.TemplateID, in.CustomerID)
	if err != nil {
		walletFail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, h.couponOut(c))
}

func (h *WalletHandler) unbind(w http.ResponseWriter, r *http.Request) {
	var in mc.UnbindRequest
	if err := httpapi.Decode(r, &in); err != nil {
		walletFail(w, r, err)
		return
	}
	c, err := h.w.Unbind(r.Context(), chi.URLParam(r, "id"), in.CustomerID, in.Agent, in.Reason)
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, h.couponOut(c))
}

func (h *WalletHandler) coupons(w http.ResponseWriter, r *http.Request) {
	cs, err := h.w.Coupons(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, h.couponsOut(cs))
}

func (h *WalletHandler) hold(w http.ResponseWriter, r *http.Request) {
	var in mc.HoldRequest
	if err := httpapi.Decode(r, &in); err != nil {
		walletFail(w, r, err)
		return
	}
	cs, err := h.w.Hold(r.Context(), in.HoldID, in.CustomerID, in.CouponIDs)
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, h.couponsOut(cs))
}

func (h *WalletHandler) recheck(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	st, err := h.w.Recheck(r.Context(), id)
	if err != nil {
		walletFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, mc.HoldState{HoldID: id, State: string(st)})
}

func (h *WalletHandler) checkUse(w http.ResponseWriter, r *http.Request) {
	var in mc.UseCheckRequest
	if err := httpapi.Decode(r, &in); err != nil {
		walletFail(w, r, err)
		return
	}
	lines := make([]domain.Line, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = domain.Line{SKU: l.SKU, Qty: l.Qty, AmountFen: l.AmountFen}
	}
	res, err := h.w.CheckUse(r.Context(), in.CustomerID, in.CouponIDs, lines)
	if err != nil {
		walletFail(w, r, err)
		return
	}
	out := struct {
		Items []mc.UseCheck `json:"items"`
	}{Items: make([]mc.UseCheck, 0, len(res))}
	for _, u := range res {
		uc := mc.UseCheck{CouponID: u.CouponID}
		if u.Err != nil {
			_, uc.Code = walletCode(u.Err)
			uc.Message = u.Err.Error()
		}
		out.Items = append(out.Items, uc)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
