package api

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

func mountSlots(mux chi.Router, h handlers) {
	mux.Get("/v1/slots", h.slots)
	mux.Put("/v1/slots", h.setSlot)
	mux.Get("/v1/slots/open", h.openSlots)
	mux.Get("/v1/served-areas", h.servedAreas)
	mux.Put("/v1/served-areas", h.setServedArea)
	mux.Get("/v1/deliverability", h.deliverability)
}

func slotRef(k domain.SlotKey) inventoryclient.SlotRef {
	return inventoryclient.SlotRef{Warehouse: k.Warehouse, Date: k.Day, Type: string(k.Type)}
}

func slotCapacity(c domain.Capacity) inventoryclient.SlotCapacity {
	out := inventoryclient.SlotCapacity{SlotRef: slotRef(c.Key), Taken: c.Taken, Open: c.Open(), UpdatedBy: c.UpdatedBy, UpdatedAt: c.UpdatedAt}
	if c.Limited {
		n := c.Capacity
		out.Capacity = &n
	}
	return out
}

func slotItems(cs []domain.Capacity) map[string]any {
	out := make([]inventoryclient.SlotCapacity, len(cs))
	for i, c := range cs {
		out[i] = slotCapacity(c)
	}
	return map[string]any{"items": out}
}

// days reads the optional days parameter (0: the use case's default).
func days(r *http.Request) (int, error) {
	v := r.URL.Query().Get("days")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &domain.ValidationError{Field: "days", Msg: "must be an integer"}
	}
	return n, nil
}

func (h handlers) slots(w http.ResponseWriter, r *http.Request) {
	n, err := days(r)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	q := r.URL.Query()
	cs, err := h.svc.SlotCapacities(r.Context(), app.SlotQuery{Warehouses: q["warehouse"], From: q.Get("from"), Days: n})
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, slotItems(cs))
}

func (h handlers) setSlot(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.SetCapacityRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	c, err := h.svc.SetSlotCapacity(r.Context(), app.SetCapacity{Warehouse: in.Warehouse, Day: in.Date, Type: in.Type, Capacity: in.Capacity, By: in.By})
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, slotCapacity(c))
}

func area(r *http.Request) domain.AreaRef {
	q := r.URL.Query()
	return domain.AreaRef{Province: q.Get("province"), City: q.Get("city"), District: q.Get("district")}
}

func (h handlers) openSlots(w http.ResponseWriter, r *http.Request) {
	n, err := days(r)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	cs, err := h.svc.OpenSlots(r.Context(), area(r), n)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, slotItems(cs))
}

func servedArea(a domain.ServedArea) inventoryclient.ServedArea {
	return inventoryclient.ServedArea{Area: inventoryclient.Area{Province: a.Province, City: a.City, District: a.District},
		Warehouses: append([]string{}, a.Warehouses...)}
}

func (h handlers) servedAreas(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	as, err := h.svc.ServedAreas(r.Context(), q.Get("province"), q.Get("city"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := make([]inventoryclient.ServedArea, len(as))
	for i, a := range as {
		out[i] = servedArea(a)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h handlers) setServedArea(w http.ResponseWriter, r *http.Request) {
	var in inventoryclient.SetServedAreaRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	a, err := h.svc.SetServedArea(r.Context(), in.Province, in.City, in.District, in.Warehouses, in.By)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, servedArea(a))
}

func (h handlers) deliverability(w http.ResponseWriter, r *http.Request) {
	a := area(r)
	d, err := h.svc.Deliverable(r.Context(), a.Province, a.City, a.District)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, inventoryclient.Deliverability{Deliverable: len(d.Warehouses) > 0, Warehouses: append([]string{}, d.Warehouses...),
		Restricted: d.Restricted})
}
