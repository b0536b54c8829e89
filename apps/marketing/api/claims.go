package api

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

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
	r.Post("/v1/coupon-claims/batch", h.claimBatch)
	r.Get("/v1/customers/{customer}/coupon-claims/{id}", h.claimOf)
}

// claimProblem is the Problem a claim error answers (any other error
// stays itself: an internal fault).
func claimProblem(err error) error {
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
		return httpapi.Errorf(http.StatusConflict, code, "%s", err.Error())
	}
	if status, code := walletCode(err); code != "" {
		return httpapi.Errorf(status, code, "%s", err.Error())
	}
	return problem(err)
}

func claimFail(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.WriteError(w, r, claimProblem(err))
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

// claimBatch records the claims a busy gateway sent together
// (marketingclient's claim queue), each exactly as POST v1/coupon-claims
// would: run concurrently, so the group commit writes them together, and
// answered one by one in order.
func (h *ClaimHandler) claimBatch(w http.ResponseWriter, r *http.Request) {
	var in mc.ClaimBatchRequest
	if err := httpapi.Decode(r, &in); err != nil {
		claimFail(w, r, err)
		return
	}
	if len(in.Claims) == 0 || len(in.Claims) > mc.MaxClaimBatch {
		claimFail(w, r, fmt.Errorf("%w: a batch holds 1..%d claims", domain.ErrValidation, mc.MaxClaimBatch))
		return
	}
	out := mc.ClaimBatchResponse{Results: make([]mc.ClaimResult, len(in.Claims))}
	var wg sync.WaitGroup
	for i, c := range in.Claims {
		wg.Go(func() {
			cl, err := h.c.Claim(r.Context(), c.CustomerID, c.CampaignID, c.IdempotencyKey)
			if err == nil {
				o := claimOut(cl)
				out.Results[i].Claim = &o
				return
			}
			var p *httpapi.Problem
			if !errors.As(claimProblem(err), &p) {
				p = httpapi.Errorf(http.StatusInternalServerError, "INTERNAL", "claim not recorded: %v", err)
			}
			out.Results[i].Problem = &mc.ClaimProblem{Status: p.Status, Code: p.Code, Message: p.Message}
		})
	}
	wg.Wait()
	httpapi.WriteJSON(w, http.StatusOK, out)
}
