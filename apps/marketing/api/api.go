// Package api serves marketing's HTTP API, called through Dapr service
// invocation by fulfillment (gift grants) and by the staff console (campaigns
// and candidate imports). Handlers are thin: decode, call a use case, map
// domain errors to marketingclient's codes.
package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// MaxFileBytes bounds a candidate upload; a goods-gift list is small, and
// a file within candidates.MaxUnzipBytes once unzipped zips to less.
const MaxFileBytes = 16 << 20

// Handler holds the use cases the routes call.
type Handler struct{ svc *app.Service }

// Mount registers marketing's routes on r.
func Mount(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Post("/v1/campaigns", h.create)
	r.Get("/v1/campaigns", h.list)
	r.Get("/v1/campaigns/{id}", h.get)
	r.Post("/v1/campaigns/{id}/candidates", h.importCandidates)
	r.Post("/v1/campaigns/{id}/stock", h.topUp)
	r.Post("/v1/gifts/grants", h.grant)
}

func problem(err error) error {
	var fe *domain.FieldError
	switch {
	case errors.As(err, &fe):
		d := map[string]any{"field": fe.Field}
		if fe.Reason != "" {
			d["reason"] = fe.Reason
		}
		return httpapi.Errorf(http.StatusBadRequest, mc.CodeValidation, "%s", err.Error()).With(d)
	case errors.Is(err, domain.ErrValidation):
		return httpapi.Errorf(http.StatusBadRequest, mc.CodeValidation, "%s", err.Error())
	case errors.Is(err, domain.ErrFileTooLarge):
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, mc.CodeTooLarge, "%s", err.Error())
	case errors.Is(err, domain.ErrMalformedFile):
		return httpapi.Errorf(http.StatusUnprocessableEntity, mc.CodeMalformedFile, "%s", err.Error())
	case errors.Is(err, domain.ErrKeyReused):
		return httpapi.Errorf(http.StatusConflict, mc.CodeKeyReused, "%s", err.Error())
	case errors.Is(err, domain.ErrNotFound):
		return httpapi.Errorf(http.StatusNotFound, mc.CodeNotFound, "%s", err.Error())
	}
	return err
}

func fail(w http.ResponseWriter, r *http.Request, err error) { httpapi.WriteError(w, r, problem(err)) }

func (h *Handler) campaignOut(c domain.Campaign) mc.Campaign {
	cond, gift := c.Conditions(), c.Gift()
	return mc.Campaign{ID: c.ID(), Name: c.Name(), StartsAt: c.StartsAt(), EndsAt: c.EndsAt(), Phase: string(c.PhaseAt(h.svc.Now())),
		Conditions:        mc.Conditions{MinGoodsFen: cond.MinGoodsFen, RequiredSKUs: cond.RequiredSKUs},
		ExcludedCustomers: c.Excluded(), Gift: mc.Gift{SKU: gift.SKU, QtyPerOrder: gift.QtyPerOrder, Stock: gift.Stock},
		GiftStockLeft: c.StockLeft(), Candidates: c.Candidates(), CreatedAt: c.CreatedAt()}
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var in mc.CreateCampaignRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	c, err := h.svc.CreateCampaign(r.Context(), in.IdempotencyKey, domain.CampaignSpec{Name: in.Name, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		Conditions: domain.Conditions{MinGoodsFen: in.Conditions.MinGoodsFen, RequiredSKUs: in.Conditions.RequiredSKUs},
		Excluded:   in.ExcludedCustomers, Gift: domain.Gift{SKU: in.Gift.SKU, QtyPerOrder: in.Gift.QtyPerOrder, Stock: in.Gift.Stock}})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, h.campaignOut(c))
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fail(w, r, fmt.Errorf("%w: limit must be an integer", domain.ErrValidation))
			return
		}
		limit = n
	}
	cs, err := h.svc.Campaigns(r.Context(), r.URL.Query().Get("before"), limit)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := mc.CampaignPage{Items: make([]mc.Campaign, 0, len(cs))}
	for _, c := range cs {
		out.Items = append(out.Items, h.campaignOut(c))
	}
	if len(cs) == limit { // a full page: there may be more

		out.NextBefore = cs[len(cs)-1].ID()
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.Campaign(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, h.campaignOut(c))
}

func (h *Handler) importCandidates(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mc.XLSXContentType {
		fail(w, r, httpapi.Errorf(http.StatusUnsupportedMediaType, mc.CodeUnsupported, "send the .xlsx file as the body with Content-Type %s", mc.XLSXContentType))
		return
	}
	if r.ContentLength > MaxFileBytes { // refused before reading a byte
		fail(w, r, httpapi.Errorf(http.StatusRequestEntityTooLarge, mc.CodeTooLarge, "candidate file is larger than %d bytes", MaxFileBytes))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxFileBytes+1))
	if err != nil {
		fail(w, r, fmt.Errorf("read upload: %w", err))
		return
	}
	if len(body) > MaxFileBytes {
		fail(w, r, httpapi.Errorf(http.StatusRequestEntityTooLarge, mc.CodeTooLarge, "candidate file is larger than %d bytes", MaxFileBytes))
		return
	}
	rep, err := h.svc.ImportCandidates(r.Context(), chi.URLParam(r, "id"), body)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := mc.ImportReport{ImportID: rep.ImportID, CampaignID: rep.CampaignID, DataRows: rep.DataRows, Imported: rep.Imported,
		Duplicates: rep.Duplicates, DuplicateRows: rep.DuplicateRows, AlreadyListed: rep.AlreadyListed,
		InvalidRows: make([]mc.InvalidRow, 0, len(rep.Invalid)), Candidates: rep.Candidates}
	if out.DuplicateRows == nil {
		out.DuplicateRows = []int{}
	}
	for _, iv := range rep.Invalid {
		out.InvalidRows = append(out.InvalidRows, mc.InvalidRow{Row: iv.Row, Reason: iv.Reason})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) grant(w http.ResponseWriter, r *http.Request) {
	var in mc.GiftQuery
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	o := domain.Order{ID: in.OrderID, CustomerID: in.CustomerID, GoodsFen: in.GoodsFen, PlacedAt: in.PlacedAt}
	for _, l := range in.Lines {
		o.Lines = append(o.Lines, domain.Line{SKU: l.SKU, Qty: l.Qty, AmountFen: l.AmountFen})
	}
	gs, err := h.svc.GrantGifts(r.Context(), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := struct {
		Grants []mc.GiftGrant `json:"grants"`
	}{Grants: make([]mc.GiftGrant, 0, len(gs))}
	for _, g := range gs {
		out.Grants = append(out.Grants, mc.GiftGrant{CampaignID: g.CampaignID, SKU: g.SKU, Qty: g.Qty})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) topUp(w http.ResponseWriter, r *http.Request) {
	var in mc.TopUpRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	c, err := h.svc.TopUpGiftStock(r.Context(), chi.URLParam(r, "id"), in.IdempotencyKey, in.Units)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, h.campaignOut(c))
}
