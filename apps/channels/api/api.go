// Package api serves channels: the operators' and sales staff's API on
// the sidecar-facing listener (called by the gateway through Dapr), the
// pull job's cron binding, and the marketplaces' push endpoints on the
// public listener (public.go), each in its platform's format.
package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/channelsclient"
	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
)

// PullBindingRoute is where the pull job's cron binding (component
// channels-pull) delivers its ticks: the binding's name as a route.
const PullBindingRoute = "/channels-pull"

// SettleBindingRoute is where the settlement job's cron binding
// (component channels-settle) delivers its ticks.
const SettleBindingRoute = "/channels-settle"

// Handler holds the use cases the routes call.
type Handler struct{ svc *app.Service }

// Mount registers the internal routes on r.
func Mount(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Get("/v1/staged", h.list)
	r.Get("/v1/staged/{id}", h.get)
	r.Post("/v1/staged/{id}/retry", h.retry)
	r.Get("/v1/platforms/{platform}/orders/{id}", h.byPlatform)
	r.Put("/v1/sku-mappings", h.setMapping)
	r.Post("/v1/plans", h.createPlan)
	r.Get("/v1/plans", h.plans)
	r.Get("/v1/plans/{id}", h.plan)
	r.Post("/v1/plans/{id}/retry", h.retryPlan)
	r.Post(PullBindingRoute, h.pull)
	r.Options(PullBindingRoute, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Post(SettleBindingRoute, h.settle)
	r.Options(SettleBindingRoute, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Get("/v1/customers/{id}/statements", h.statements)
}

func problem(err error) error {
	switch {
	case errors.Is(err, domain.ErrValidation):
		return httpapi.Errorf(http.StatusUnprocessableEntity, channelsclient.CodeValidation, "%s", err.Error())
	case errors.Is(err, domain.ErrNotFound):
		return httpapi.Errorf(http.StatusNotFound, channelsclient.CodeNotFound, "%s", err.Error())
	case errors.Is(err, domain.ErrNotRetryable):
		return httpapi.Errorf(http.StatusConflict, channelsclient.CodeNotRetryable, "%s", err.Error())
	case errors.Is(err, domain.ErrKeyReused):
		return httpapi.Errorf(http.StatusConflict, channelsclient.CodeIdempotencyReuse, "%s", err.Error())
	}
	return err
}

func fail(w http.ResponseWriter, r *http.Request, err error) { httpapi.WriteError(w, r, problem(err)) }

// OutStaged is a staged order on the wire.
func OutStaged(x *domain.Staged, ups []*domain.Update) channelsclient.StagedOrder {
	o := x.Order
	out := channelsclient.StagedOrder{ID: x.ID, Platform: o.Platform, PlatformOrderID: o.PlatformOrderID, Way: x.Way, Status: x.Status,
		ReasonCode: x.ReasonCode, ReasonNote: x.ReasonNote, PlanID: x.PlanID, OrderID: x.OrderID, ShopID: o.ShopID,
		Address: address(o.Receiver), Slot: channelsclient.Slot{Type: o.SlotType, Date: o.SlotDate}, TotalFen: money.Fen(o.TotalFen),
		Lines: []channelsclient.StagedLine{}, ReceivedAt: x.ReceivedAt, UpdatedAt: x.UpdatedAt}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, channelsclient.StagedLine{PlatformSKU: l.PlatformSKU, Qty: l.Qty, UnitPriceFen: money.Fen(l.UnitPriceFen)})
	}
	for _, s := range x.Steps {
		out.Steps = append(out.Steps, channelsclient.Step{Step: s.Step, Note: s.Note, At: s.At})
	}
	for _, u := range ups {
		out.StatusUpdates = append(out.StatusUpdates, channelsclient.StatusUpdate{Status: u.Status, Attempts: u.Attempts, SentAt: u.SentAt})
	}
	return out
}

func address(r platforms.Receiver) channelsclient.Address {
	return channelsclient.Address{Name: r.Name, Phone: r.Phone, Province: r.Province, City: r.City, District: r.District, Detail: r.Detail}
}

// OutPlan is a plan on the wire.
func OutPlan(p *domain.PlanRecord) channelsclient.Plan {
	out := channelsclient.Plan{ID: p.ID, CustomerID: p.CustomerID, Source: p.Source, ProcessID: p.ProcessID, Status: p.Status,
		ReasonCode: p.ReasonCode, ReasonNote: p.ReasonNote, Address: address(p.Receiver), Slot: channelsclient.Slot{Type: p.SlotType, Date: p.SlotDate},
		SettlementPeriod: p.Period, AgreedFen: money.Fen(p.AgreedFen()), OrderID: p.OrderID, CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt,
		Lines: []channelsclient.PlanLine{}}
	for _, l := range p.Lines {
		out.Lines = append(out.Lines, channelsclient.PlanLine{SKU: l.SKU, Qty: l.Qty, AgreedPriceFen: money.Fen(l.AgreedPriceFen)})
	}
	return out
}

func (h *Handler) full(w http.ResponseWriter, r *http.Request, x *domain.Staged) {
	ups, err := h.svc.StatusUpdates(r.Context(), x.ID)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OutStaged(x, ups))
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	first, _ := strconv.Atoi(r.URL.Query().Get("first"))
	xs, err := h.svc.ListStaged(r.Context(), r.URL.Query().Get("platform"), r.URL.Query().Get("status"), first)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := struct {
		Items []channelsclient.StagedOrder `json:"items"`
	}{Items: make([]channelsclient.StagedOrder, 0, len(xs))}
	for _, x := range xs {
		out.Items = append(out.Items, OutStaged(x, nil))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	x, err := h.svc.Staged(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	h.full(w, r, x)
}

func (h *Handler) byPlatform(w http.ResponseWriter, r *http.Request) {
	x, err := h.svc.FindStaged(r.Context(), chi.URLParam(r, "platform"), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	h.full(w, r, x)
}

func (h *Handler) retry(w http.ResponseWriter, r *http.Request) {
	var in channelsclient.RetryRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	x, err := h.svc.Retry(r.Context(), chi.URLParam(r, "id"), in.By)
	if err != nil {
		fail(w, r, err)
		return
	}
	h.full(w, r, x)
}

func (h *Handler) setMapping(w http.ResponseWriter, r *http.Request) {
	var in channelsclient.MappingRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	if err := h.svc.SetMapping(r.Context(), in.Platform, in.PlatformSKU, in.SKU, in.By); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) createPlan(w http.ResponseWriter, r *http.Request) {
	var in channelsclient.CreatePlanRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	p := domain.Plan{CustomerID: in.CustomerID, Receiver: platforms.Receiver{Name: in.Address.Name, Phone: in.Address.Phone,
		Province: in.Address.Province, City: in.Address.City, District: in.Address.District, Detail: in.Address.Detail},
		SlotType: in.Slot.Type, SlotDate: in.Slot.Date, Period: in.SettlementPeriod}
	for _, l := range in.Lines {
		p.Lines = append(p.Lines, domain.PlanLine{SKU: l.SKU, Qty: l.Qty, AgreedPriceFen: int64(l.AgreedPriceFen)})
	}
	rec, err := h.svc.CreatePlan(r.Context(), app.PlanInput{IdempotencyKey: in.IdempotencyKey, By: in.By, Plan: p})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OutPlan(rec))
}

func (h *Handler) plan(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Plan(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OutPlan(p))
}

func (h *Handler) plans(w http.ResponseWriter, r *http.Request) {
	first, _ := strconv.Atoi(r.URL.Query().Get("first"))
	ps, err := h.svc.Plans(r.Context(), r.URL.Query().Get("customer"), first)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := struct {
		Items []channelsclient.Plan `json:"items"`
	}{Items: make([]channelsclient.Plan, 0, len(ps))}
	for _, p := range ps {
		out.Items = append(out.Items, OutPlan(p))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) retryPlan(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.RetryPlan(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OutPlan(p))
}

// pull runs one pull of every pull platform configured, on the cron
// binding's tick; a failed run answers 500 and the next tick tries again
// from the cursor.
func (h *Handler) pull(w http.ResponseWriter, r *http.Request) {
	for _, p := range platforms.Names {
		if platforms.WayOf(p) != platforms.WayPull {
			continue
		}
		if _, ok := h.svc.Keys(p); !ok {
			continue
		}
		if _, err := h.svc.Pull(r.Context(), p); err != nil {
			fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) settle(w http.ResponseWriter, r *http.Request) {
	if _, err := h.svc.Settle(r.Context()); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) statements(w http.ResponseWriter, r *http.Request) {
	sts, err := h.svc.Statements(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	out := struct {
		Items []channelsclient.Statement `json:"items"`
	}{Items: make([]channelsclient.Statement, 0, len(sts))}
	for _, st := range sts {
		o := channelsclient.Statement{ID: st.ID, CustomerID: st.CustomerID, Period: st.Period, Start: st.Start.Format(time.DateOnly),
			End: st.End.Format(time.DateOnly), Status: st.Status, Plans: st.Plans, DeliveredFen: money.Fen(st.DeliveredFen),
			ReturnedFen: money.Fen(st.ReturnedFen), OwedFen: money.Fen(st.OwedFen), ClosedAt: st.ClosedAt, Lines: []channelsclient.StatementLine{}}
		for _, l := range st.Lines {
			o.Lines = append(o.Lines, channelsclient.StatementLine{PlanID: l.PlanID, OrderID: l.OrderID, DeliveredFen: money.Fen(l.DeliveredFen),
				ReturnedFen: money.Fen(l.ReturnedFen)})
		}
		out.Items = append(out.Items, o)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
