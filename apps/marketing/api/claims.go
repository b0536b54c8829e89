package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// ClaimHandler serves pop-up claims' routes.
type ClaimHandler struct{ c *app.Claims }

// MountClaims registers the claim routes: claim campaigns (staff), claims
// (customers, through the gateway).
func MountClaims(r chi.Router, c *app.Claims) {
	h := &ClaimHandler{c: c}
	r.Post("/v1/claim-campaigns", h.create)
	r.Get("/v1/claim-campaigns/{id}", h.get)
	r.Post("/v1/coupon-claims", h.claim)
	r.Get("/v1/customers/{customer}/coupon-claims/{id}", h.claimOf)
}

func claimFail(w http.ResponseWriter, r *http.Request, err error) {
	code := ""
	switch {
	case errors.Is(err, domain.ErrClaimCampaignEnded):
		code = mc.CodeClaimCampaignEnded
	case errors.Is(err, domain.ErrClaimCampaignNotStarted):
		code = mc.CodeClaimCampaignNotStarted
	case errors.Is(err, domain.ErrClaimLimitReached):
		code = mc.CodeClaimLimitReached
	case errors.Is(err, domain.ErrClaimOutOfStock):
		code = mc.CodeClaimOutOfStock
	}
	if code != "" {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, code, "%s", err.Error()))
		return
	}
	walletFail(w, r, err)
}

func claimCampaignOut(c domain.ClaimCampaign, n domain.ClaimCounts) mc.ClaimCampaign {
	s := c.Spec
	return mc.ClaimCampaign{ID: c.ID, Name: s.Name, TemplateID: s.TemplateID, Stock: s.Stock, PerUserLimit: s.PerUserLimit,
		StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedAt: c.CreatedAt, Claims: n.Claims, Pending: n.Pending, Bound: n.Bound,
		Refused: n.Refused, GivebacksOwed: n.GivebacksOwed, StockLeft: n.StockLeft}
}

func claimOut(c domain.Claim) mc.Claim {
	return mc.Claim{ID: c.ID, CampaignID: c.CampaignID, CustomerID: c.CustomerID, Status: string(c.Status), Reason: c.Reason,
		CouponID: c.CouponID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (h *ClaimHandler) create(w http.ResponseWriter, r *http.Request) {
	var in mc.CreateClaimCampaignRequest
	if err := httpapi.Decode(r, &in); err != nil {
		claimFail(w, r, err)
		return
	}
	c, err := h.c.CreateCampaign(r.Context(), in.IdempotencyKey, domain.ClaimCampaignSpec{Name: in.Name, TemplateID: in.TemplateID,
		Stock: in.Stock, PerUserLimit: in.PerUserLimit, StartsAt: in.StartsAt, EndsAt: in.EndsAt})
	if err != nil {
		claimFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, claimCampaignOut(c, domain.ClaimCounts{StockLeft: c.Spec.Stock}))
}

func (h *ClaimHandler) get(w http.ResponseWriter, r *http.Request) {
	c, n, err := h.c.Campaign(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		claimFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, claimCampaignOut(c, n))
}

func (h *ClaimHandler) claim(w http.ResponseWriter, r *http.Request) {
	var in mc.ClaimRequest
	if err := httpapi.Decode(r, &in); err != nil {
		claimFail(w, r, err)
		return
	}
	c, err := h.c.Claim(r.Context(), in.CustomerID, in.CampaignID, in.IdempotencyKey)
	if err != nil {
		claimFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, claimOut(c))
}

func (h *ClaimHandler) claimOf(w http.ResponseWriter, r *http.Request) {
	c, err := h.c.Get(r.Context(), chi.URLParam(r, "customer"), chi.URLParam(r, "id"))
	if err != nil {
		claimFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, claimOut(c))
}
