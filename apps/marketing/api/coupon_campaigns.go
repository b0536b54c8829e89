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

// CampaignHandler serves the coupon campaigns' routes.
type CampaignHandler struct{ c *app.Campaigns }

// MountCampaigns registers the coupon campaign routes (the staff console).
func MountCampaigns(r chi.Router, c *app.Campaigns) {
	h := &CampaignHandler{c: c}
	r.Post("/v1/coupon-campaigns", h.create)
	r.Get("/v1/coupon-campaigns", h.list)
	r.Get("/v1/coupon-campaigns/{id}", h.get)
	r.Post("/v1/coupon-campaigns/{id}/{action}", h.move)
}

func campaignFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, domain.ErrCampaignState) {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, mc.CodeCampaignState, "%s", err.Error()))
		return
	}
	walletFail(w, r, err)
}

func couponCampaignOut(c domain.CouponCampaign) mc.CouponCampaign {
	s, p := c.Spec(), c.Progress()
	out := mc.CouponCampaign{ID: c.ID(), Name: s.Name, Status: string(c.Status()),
		Conditions: mc.Audience{MinOrders: s.Audience.MinOrders, Cities: s.Audience.Cities}, ExcludedCustomers: s.Excluded,
		TemplateID: s.TemplateID, Stock: s.Stock, StockLeft: c.StockLeft(), NotifySMS: s.NotifySMS, SMSTemplate: s.SMSText, BIDone: c.BIDone(),
		Progress: mc.CampaignProgress{Matched: p.Matched, Granted: p.Granted, SkippedExcluded: p.SkippedExcluded, SkippedAlready: p.SkippedAlready,
			SkippedNoStock: p.SkippedNoStock, Failed: p.Failed, SMSSent: p.SMSSent},
		CreatedAt: c.CreatedAt(), UpdatedAt: c.UpdatedAt()}
	if t := c.LaunchedAt(); !t.IsZero() {
		out.LaunchedAt = &t
	}
	return out
}

func (h *CampaignHandler) create(w http.ResponseWriter, r *http.Request) {
	var in mc.CreateCouponCampaignRequest
	if err := httpapi.Decode(r, &in); err != nil {
		campaignFail(w, r, err)
		return
	}
	c, err := h.c.Create(r.Context(), in.IdempotencyKey, domain.CouponCampaignSpec{Name: in.Name,
		Audience: domain.Audience{MinOrders: in.Conditions.MinOrders, Cities: in.Conditions.Cities}, Excluded: in.ExcludedCustomers,
		TemplateID: in.TemplateID, Stock: in.Stock, NotifySMS: in.NotifySMS, SMSText: in.SMSTemplate})
	if err != nil {
		campaignFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, couponCampaignOut(c))
}

func (h *CampaignHandler) list(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			campaignFail(w, r, fmt.Errorf("%w: limit must be an integer", domain.ErrValidation))
			return
		}
		limit = n
	}
	cs, err := h.c.List(r.Context(), r.URL.Query().Get("before"), limit)
	if err != nil {
		campaignFail(w, r, err)
		return
	}
	out := mc.CouponCampaignPage{Items: make([]mc.CouponCampaign, 0, len(cs))}
	for _, c := range cs {
		out.Items = append(out.Items, couponCampaignOut(c))
	}
	if len(cs) == limit {
		out.NextBefore = cs[len(cs)-1].ID()
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *CampaignHandler) get(w http.ResponseWriter, r *http.Request) {
	c, err := h.c.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		campaignFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, couponCampaignOut(c))
}

func (h *CampaignHandler) move(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var (
		c   domain.CouponCampaign
		err error
	)
	switch chi.URLParam(r, "action") {
	case "launch":
		c, err = h.c.Launch(r.Context(), id)
	case "pause":
		c, err = h.c.Pause(r.Context(), id)
	case "resume":
		c, err = h.c.Resume(r.Context(), id)
	case "cancel":
		c, err = h.c.Cancel(r.Context(), id)
	default:
		err = httpapi.Errorf(http.StatusNotFound, mc.CodeNotFound, "no action %q: launch, pause, resume or cancel", chi.URLParam(r, "action"))
	}
	if err != nil {
		campaignFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, couponCampaignOut(c))
}
