package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

func mountCatalog(mux chi.Router, h handlers) {
	mux.Post("/v1/catalog/products", h.createProduct)
	mux.Put("/v1/catalog/products/{sku}", h.updateProduct)
	mux.Post("/v1/catalog/products/{sku}/prices", h.schedulePrice)
	mux.Get("/v1/catalog/products/{sku}/prices", h.priceHistory)
	mux.Get("/v1/catalog/products/{sku}/changes", h.changes)
}

func productInput(in inventoryclient.ProductInput) app.ProductInput {
	out := app.ProductInput{SKU: in.SKU, Name: in.Name, Zone: in.Zone, Category: in.Category, Warehouse: in.Warehouse, Supplier: in.Supplier,
		TaxRateBP: in.TaxRateBP, ShelfLife: in.ShelfLife, DropShip: in.DropShip, Presale: in.Presale, OwnBox: in.OwnBox,
		Oversize: in.Oversize, PriceFen: in.PriceFen}
	for _, c := range in.Components {
		out.Components = append(out.Components, domain.Component{SKU: c.SKU, Qty: c.Qty})
	}
	return out
}

func (h handlers) productAnswer(w http.ResponseWriter, r *http.Request, p domain.Product, err error) {
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toProduct(app.ProductView{Product: p}))
}

func (h handlers) createProduct(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.CreateProductRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	p, err := h.svc.CreateProduct(r.Context(), productInput(in.Product), in.By)
	h.productAnswer(w, r, p, err)
}

func (h handlers) updateProduct(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.UpdateProductRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	p, err := h.svc.UpdateProduct(r.Context(), chi.URLParam(r, "sku"), in.ExpectedVersion, productInput(in.Product), in.By)
	h.productAnswer(w, r, p, err)
}

func (h handlers) schedulePrice(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.SchedulePriceRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	p, err := h.svc.SchedulePrice(r.Context(), chi.URLParam(r, "sku"), in.PriceFen, in.ValidFrom, in.ExpectedVersion, in.By)
	h.productAnswer(w, r, p, err)
}

func (h handlers) priceHistory(w http.ResponseWriter, r *http.Request) {
	es, err := h.svc.PriceHistory(r.Context(), chi.URLParam(r, "sku"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := make([]inventoryclient.ScheduledPrice, len(es))
	for i, e := range es {
		out[i] = inventoryclient.ScheduledPrice{PriceFen: e.Price, ValidFrom: e.From, By: e.By}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h handlers) changes(w http.ResponseWriter, r *http.Request) {
	cs, err := h.svc.Changes(r.Context(), chi.URLParam(r, "sku"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := make([]inventoryclient.CatalogChange, len(cs))
	for i, c := range cs {
		out[i] = inventoryclient.CatalogChange{Version: c.Version, Action: c.Action, By: c.By, At: c.At, Before: c.Before, After: c.After}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}
