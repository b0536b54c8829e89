// Package api serves inventory's HTTP API, the routes inventoryclient
// calls through Dapr service invocation, and maps domain errors to
// httpapi.Problems with the client's codes.
package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
)

// Service is what the handlers call.
type Service interface {
	Products(ctx context.Context, skus []string) ([]app.ProductView, error)
	CatalogEntries(ctx context.Context, skus []string) ([]app.ProductView, error)
	CatalogEntriesAt(ctx context.Context, skus []string, t time.Time) ([]app.ProductView, error)
	CreateProduct(ctx context.Context, in app.ProductInput, by string) (domain.Product, error)
	UpdateProduct(ctx context.Context, sku string, expected int64, in app.ProductInput, by string) (domain.Product, error)
	SchedulePrice(ctx context.Context, sku string, price money.Fen, from *time.Time, expected int64, by string) (domain.Product, error)
	PriceHistory(ctx context.Context, sku string) ([]app.PriceEntry, error)
	Changes(ctx context.Context, sku string) ([]app.Change, error)
	Search(ctx context.Context, f app.Filter) (app.SearchResult, error)
	ReservePriced(ctx context.Context, req domain.Request) (domain.Reservation, map[string]domain.Product, error)
	Confirm(ctx context.Context, orderID string) (domain.Reservation, error)
	Release(ctx context.Context, orderID string) (domain.Reservation, error)
	RestoreStock(ctx context.Context, restoreID, orderID string, parts []domain.Part) (bool, error)
	Reservation(ctx context.Context, orderID string) (domain.Reservation, error)
	SlotCapacities(ctx context.Context, q app.SlotQuery) ([]domain.Capacity, error)
	SetSlotCapacity(ctx context.Context, c app.SetCapacity) (domain.Capacity, error)
	OpenSlots(ctx context.Context, a domain.AreaRef, days int) ([]domain.Capacity, error)
	ServedAreas(ctx context.Context, province, city string) ([]domain.ServedArea, error)
	SetServedArea(ctx context.Context, province, city, district string, warehouses []string, by string) (domain.ServedArea, error)
	Deliverable(ctx context.Context, province, city, district string) (app.Deliverability, error)
}

// Mount adds the API routes to mux.
func Mount(mux chi.Router, svc Service) {
	h := handlers{svc}
	mux.Post("/v1/products/batch", h.batch)
	mux.Get("/v1/products/{sku}", h.product)
	mux.Get("/v1/products", h.search)
	mux.Post("/v1/reservations", h.reserve)
	mux.Get("/v1/reservations/{id}", h.reservation)
	mux.Post("/v1/reservations/{id}/confirm", h.confirm)
	mux.Post("/v1/reservations/{id}/release", h.release)
	mux.Post("/v1/stock/restores", h.restore)
	mountSlots(mux, h)
	mountCatalog(mux, h)
}

type handlers struct{ svc Service }

func (h handlers) batch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SKUs []string `json:"skus"`
		// Stock false leaves out the stock levels (available 0).
		Stock *bool `json:"stock,omitempty"`
		// At, with stock false, prices the entries as at that time.
		At *time.Time `json:"at,omitempty"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	read := h.svc.Products
	if in.Stock != nil && !*in.Stock {
		read = h.svc.CatalogEntries
		if in.At != nil {
			at := *in.At
			read = func(ctx context.Context, skus []string) ([]app.ProductView, error) {
				return h.svc.CatalogEntriesAt(ctx, skus, at)
			}
		}
	}
	ps, err := read(r.Context(), in.SKUs)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := make([]inventoryclient.Product, len(ps))
	for i, p := range ps {
		out[i] = toProduct(p)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h handlers) product(w http.ResponseWriter, r *http.Request) {
	ps, err := h.svc.Products(r.Context(), []string{chi.URLParam(r, "sku")})
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toProduct(ps[0]))
}

func (h handlers) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := app.Filter{Query: q.Get("q"), Zone: domain.Zone(q.Get("zone")), Category: domain.Category(q.Get("category")), Warehouse: q.Get("warehouse")}
	if v := q.Get("in_stock"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpapi.WriteError(w, r, problem(&domain.ValidationError{Field: "in_stock", Msg: "must be a boolean"}))
			return
		}
		f.InStock = b
	}
	if v := q.Get("first"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			httpapi.WriteError(w, r, problem(&domain.ValidationError{Field: "first", Msg: "must be an integer"}))
			return
		}
		f.First = n
	}
	if v := q.Get("after"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			httpapi.WriteError(w, r, problem(&domain.ValidationError{Field: "after", Msg: "is not a cursor of this API"}))
			return
		}
		f.After = string(b)
	}
	res, err := h.svc.Search(r.Context(), f)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	page := inventoryclient.ProductPage{Items: make([]inventoryclient.Product, len(res.Items)), HasNext: res.HasNext, TotalCount: res.Total}
	for i, p := range res.Items {
		page.Items[i] = toProduct(p)
	}
	if n := len(res.Items); n > 0 {
		page.EndCursor = base64.RawURLEncoding.EncodeToString([]byte(res.Items[n-1].SKU))
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
}

func (h handlers) reserve(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.ReserveRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	lines := make([]domain.Line, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = domain.Line{SKU: l.SKU, Qty: l.Qty}
	}
	req, err := domain.NewRequest(in.OrderID, lines, in.TTL)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	if len(in.Prices) > domain.MaxLines {
		httpapi.WriteError(w, r, problem(&domain.ValidationError{Field: "prices", Msg: fmt.Sprintf("holds %d SKUs, at most %d", len(in.Prices), domain.MaxLines)}))
		return
	}
	if len(in.Prices) > 0 {
		req = req.WithPrices(in.Prices)
	}
	if in.Slot != nil {
		slot, err := domain.NewSlot(in.Slot.Type, in.Slot.Date)
		if err != nil {
			httpapi.WriteError(w, r, problem(err))
			return
		}
		req = req.WithSlot(slot)
	}
	res, cat, err := h.svc.ReservePriced(r.Context(), req)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := reservation(res)
	for _, l := range in.Lines {
		if p, ok := cat[l.SKU]; ok && !slices.ContainsFunc(out.Products, func(x inventoryclient.Product) bool { return x.SKU == l.SKU }) {
			out.Products = append(out.Products, toProduct(app.ProductView{Product: p}))
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h handlers) reservation(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Reservation(r.Context(), chi.URLParam(r, "id"))
	h.answer(w, r, res, err)
}

func (h handlers) confirm(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Confirm(r.Context(), chi.URLParam(r, "id"))
	h.answer(w, r, res, err)
}

func (h handlers) release(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Release(r.Context(), chi.URLParam(r, "id"))
	h.answer(w, r, res, err)
}

func (h handlers) answer(w http.ResponseWriter, r *http.Request, res domain.Reservation, err error) {
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, reservation(res))
}

func reservation(res domain.Reservation) inventoryclient.Reservation {
	out := inventoryclient.Reservation{OrderID: res.OrderID(), Status: string(res.Status()), ExpiresAt: res.ExpiresAt(), Lines: []inventoryclient.Line{}}
	for _, l := range res.Lines() {
		out.Lines = append(out.Lines, inventoryclient.Line{SKU: l.SKU, Qty: l.Qty})
	}
	return out
}

func toProduct(p app.ProductView) inventoryclient.Product {
	out := inventoryclient.Product{
		SKU: p.SKU, Name: p.Name, PriceFen: p.PriceFen, Zone: string(p.Zone), Category: string(p.Category), TaxRateBP: p.TaxRateBP,
		Warehouse: p.Warehouse, Supplier: p.Supplier, DropShip: p.DropShip, Presale: p.Presale,
		Available: p.Available, Hot: p.Hot, OwnBox: p.OwnBox, Oversize: p.Oversize, ShelfLife: p.ShelfLife, Version: p.Version,
	}
	if p.Next != nil {
		out.NextPrice = &inventoryclient.ScheduledPrice{PriceFen: p.Next.Price, ValidFrom: p.Next.From}
	}
	for _, c := range p.Components {
		out.Components = append(out.Components, inventoryclient.Component{SKU: c.SKU, Qty: c.Qty})
	}
	return out
}

// problem maps a domain error to the Problem the client expects; other
// errors pass through and become an opaque 500.
func problem(err error) error {
	var ske *domain.SKUError
	var ve *domain.ValidationError
	var pe *domain.PriceError
	var sf *domain.SlotFullError
	var bt *domain.CapacityBelowTakenError
	var ns *domain.NotServedError
	var vc *app.VersionConflictError
	switch {
	case errors.As(err, &sf):
		refs := make([]inventoryclient.SlotRef, len(sf.Slots))
		for i, k := range sf.Slots {
			refs[i] = slotRef(k)
		}
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeSlotFull, "%s", sf.Error()).With(map[string]any{"slots": refs})
	case errors.As(err, &bt):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeCapacityBelowTaken, "%s", bt.Error()).
			With(map[string]any{"taken": bt.Taken, "capacity": bt.Capacity, "field": "capacity"})
	case errors.As(err, &ns):
		return httpapi.Errorf(http.StatusUnprocessableEntity, inventoryclient.CodeNotServed, "%s", ns.Error())
	case errors.As(err, &pe):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodePriceChanged, "%s", pe.Error()).With(map[string]any{"prices": pe.Catalog})
	case errors.As(err, &ske) && errors.Is(err, domain.ErrUnknownSKU):
		return httpapi.Errorf(http.StatusNotFound, inventoryclient.CodeUnknownSKU, "unknown SKU").With(map[string]any{"skus": ske.SKUs})
	case errors.As(err, &ske):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeOutOfStock, "out of stock").With(map[string]any{"skus": ske.SKUs})
	case errors.As(err, &ve):
		d := map[string]any{"field": ve.Field}
		if ve.Reason != "" {
			d["reason"] = ve.Reason
		}
		return httpapi.Errorf(http.StatusBadRequest, inventoryclient.CodeValidation, "%s", ve.Error()).With(d)
	case errors.As(err, &vc):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeVersionConflict, "%s", vc.Error()).With(map[string]any{"current_version": vc.Current})
	case errors.Is(err, app.ErrProductExists):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeProductExists, "a product with this SKU is in the catalog")
	case errors.Is(err, domain.ErrNotFound):
		return httpapi.Errorf(http.StatusNotFound, inventoryclient.CodeUnknownSKU, "unknown SKU")
	case errors.Is(err, domain.ErrHotRestore):
		return httpapi.Errorf(http.StatusUnprocessableEntity, inventoryclient.CodeHotRestore, "%s", err.Error())
	case errors.Is(err, domain.ErrConflict):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeConflict, "the order already holds a reservation for other lines")
	case errors.Is(err, domain.ErrReleased):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeConflict, "the order's reservation was released").
			With(map[string]any{"status": inventoryclient.ReservationReleased})
	case errors.Is(err, domain.ErrNotReserved):
		return httpapi.Errorf(http.StatusConflict, inventoryclient.CodeNotReserved, "no held or confirmed reservation for the order")
	case errors.Is(err, domain.ErrStale):
		return httpapi.Errorf(http.StatusServiceUnavailable, inventoryclient.CodeUnavailable, "hot stock is being rebuilt; retry")
	}
	return err
}

func (h *handlers) restore(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.RestoreRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	parts := make([]domain.Part, 0, len(in.Lines))
	for _, l := range in.Lines {
		parts = append(parts, domain.Part{SKU: l.SKU, Qty: l.Qty})
	}
	dup, err := h.svc.RestoreStock(r.Context(), in.RestoreID, in.OrderID, parts)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, inventoryclient.Restore{RestoreID: in.RestoreID, Duplicate: dup})
}
