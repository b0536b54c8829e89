package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// MountFulfillment adds the operators' fulfillment routes to r.
func MountFulfillment(r chi.Router, eng *fulfillment.Engine) {
	h := &fulfillmentHandler{eng: eng}
	r.Get("/v1/fulfillment/stages", h.stages)
	r.Get("/v1/orders/{id}/fulfillment", h.timeline)
	r.Get("/"+omsclient.AfterSalesOrdersPath+"/{id}/fulfillment", h.timeline) // after-sales' prefix (a pull-back)
	r.Post("/v1/orders/{id}/fulfillment/retry", h.retry)
	r.Get("/v1/warehouse-capacities", h.capacities)
	r.Put("/v1/warehouse-capacities", h.setCapacity)
	r.Get("/v1/fulfillment/suspension", h.suspension)
	r.Put("/v1/fulfillment/suspension", h.setSuspension)
	r.Post("/v1/fulfillment/orders/{id}/pause", h.pause)
	r.Post("/v1/fulfillment/orders/{id}/resume", h.resume)
	r.Post("/v1/fulfillment/orders/{id}/cancel", h.cancelPaused)
	r.Post("/v1/fulfillment/orders/{id}/pull-back", h.pullBack)
}

type fulfillmentHandler struct{ eng *fulfillment.Engine }

func (h *fulfillmentHandler) stages(w http.ResponseWriter, r *http.Request) {
	cs, err := h.eng.StageCounts(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	out := make([]omsclient.StageCount, len(cs))
	for i, c := range cs {
		out[i] = omsclient.StageCount{Stage: c.Stage, Number: i + 1, Name: c.Stage, Kind: string(c.Kind),
			Waiting: c.Waiting, Running: c.Running, Paused: c.Paused, Failed: c.Failed, Held: c.Held}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"stages": out})
}

func (h *fulfillmentHandler) timeline(w http.ResponseWriter, r *http.Request) {
	t, err := h.eng.Timeline(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	out := omsclient.FulfillmentTimeline{OrderID: t.OrderID, Units: []omsclient.FulfillmentUnit{}, Steps: []omsclient.FulfillmentStep{}}
	for _, u := range t.Units {
		out.Units = append(out.Units, unitOut(u))
	}
	for _, s := range t.Steps {
		out.Steps = append(out.Steps, omsclient.FulfillmentStep{UnitID: s.UnitID, Stage: s.Stage, StageName: s.Stage,
			Outcome: s.Outcome, Note: s.Note, Owner: s.Owner, At: s.At, DurationMS: float64(s.Duration.Microseconds()) / 1000})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func unitOut(u fulfillment.UnitView) omsclient.FulfillmentUnit {
	return omsclient.FulfillmentUnit{ID: u.ID, ParentID: u.ParentID, Stage: u.Stage, StageName: u.Stage,
		State: string(u.State), ResumeAt: u.ResumeAt, Attempts: u.Attempts, FailCode: u.FailCode, FailReason: u.FailReason,
		Warehouse: u.Warehouse, Supplier: u.Supplier, WaybillNo: u.WaybillNo, UpdatedAt: u.UpdatedAt}
}

// decodeAppCall decodes another app's call on one order into req, whose
// key and reason are required and whose caller defaults to "app"; false
// when it answered an error.
func decodeAppCall(w http.ResponseWriter, r *http.Request, req any, key, reason, by *string) bool {
	if err := httpapi.Decode(r, req); err != nil {
		httpapi.WriteError(w, r, err)
		return false
	}
	if strings.TrimSpace(*key) == "" || strings.TrimSpace(*reason) == "" {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "idempotency_key and reason are required"))
		return false
	}
	if *by == "" {
		*by = "app"
	}
	return true
}

// pause pauses one order for another app (omsclient.PauseFulfillment).
func (h *fulfillmentHandler) pause(w http.ResponseWriter, r *http.Request) {
	var req omsclient.PauseRequest
	if !decodeAppCall(w, r, &req, &req.IdempotencyKey, &req.Reason, &req.By) {
		return
	}
	p, err := h.eng.PauseOrder(r.Context(), chi.URLParam(r, "id"), req.Reason+" ["+req.IdempotencyKey+"]", req.By)
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	out := omsclient.OrderPause{OrderID: p.OrderID, Paused: p.Paused, Stage: p.Stage, Units: []omsclient.FulfillmentUnit{},
		Dispatched: append([]string{}, p.Dispatched...), InDispatch: append([]string{}, p.InDispatch...)}
	for _, u := range p.Units {
		out.Units = append(out.Units, unitOut(u))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// resume lets a paused order go on (omsclient.ResumeFulfillment).
func (h *fulfillmentHandler) resume(w http.ResponseWriter, r *http.Request) {
	var req omsclient.ResumeRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if req.By == "" {
		req.By = "app"
	}
	n, err := h.eng.ResumeOrder(r.Context(), chi.URLParam(r, "id"), req.By)
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.ResumeResult{Resumed: n})
}

func (h *fulfillmentHandler) retry(w http.ResponseWriter, r *http.Request) {
	var req omsclient.RetryRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if req.Operator == "" {
		req.Operator = "operator"
	}
	n, err := h.eng.Retry(r.Context(), chi.URLParam(r, "id"), req.Operator)
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.RetryResult{Retried: n})
}

func (h *fulfillmentHandler) capacities(w http.ResponseWriter, r *http.Request) {
	cs, err := h.eng.Capacities(r.Context(), r.URL.Query().Get("day"))
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	out := make([]omsclient.WarehouseCapacity, len(cs))
	for i, c := range cs {
		out[i] = omsclient.WarehouseCapacity(c)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h *fulfillmentHandler) setCapacity(w http.ResponseWriter, r *http.Request) {
	var req omsclient.WarehouseCapacity
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	c, err := h.eng.SetCapacity(r.Context(), req.Warehouse, req.Day, req.Capacity)
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.WarehouseCapacity(c))
}

func (h *fulfillmentHandler) suspension(w http.ResponseWriter, r *http.Request) {
	s, err := h.eng.Suspension(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.FulfillmentSuspension(s))
}

func (h *fulfillmentHandler) setSuspension(w http.ResponseWriter, r *http.Request) {
	var req omsclient.SuspensionRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if req.Operator == "" {
		req.Operator = "operator"
	}
	var s fulfillment.Suspension
	var err error
	if req.Suspended {
		s, err = h.eng.Suspend(r.Context(), req.Reason, req.Operator)
	} else {
		s, err = h.eng.Resume(r.Context(), req.Operator)
	}
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.FulfillmentSuspension(s))
}

// cancelPaused cancels a paused order for the reverse flow
// (omsclient.CancelPaused).
func (h *fulfillmentHandler) cancelPaused(w http.ResponseWriter, r *http.Request) {
	var req omsclient.CancelPausedRequest
	if !decodeAppCall(w, r, &req, &req.IdempotencyKey, &req.Reason, &req.By) {
		return
	}
	c, err := h.eng.CancelPaused(r.Context(), chi.URLParam(r, "id"), req.Reason+" ["+req.IdempotencyKey+"]", req.By, req.Intercepted)
	if err != nil {
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.ReverseCancel{OrderID: c.OrderID, Status: c.Status, Already: c.Already, CancelledUnits: c.Cancelled})
}

func fulfillmentProblem(err error) error {
	var reached *fulfillment.ErrReachedWarehouse
	switch {
	case errors.As(err, &reached):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeReachedWarehouse, "%s", err.Error()).
			With(map[string]any{"delivery_orders": reached.DeliveryOrders})
	case errors.Is(err, domain.ErrNotFound):
		return httpapi.Errorf(http.StatusNotFound, omsclient.CodeNotFound, "%s", err.Error())
	case errors.Is(err, domain.ErrNotCancellable):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeNotCancellable, "%s", err.Error())
	case errors.Is(err, domain.ErrInvalidOrder):
		return httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "%s", err.Error())
	case errors.Is(err, fulfillment.ErrNoFulfillment):
		return httpapi.Errorf(http.StatusNotFound, omsclient.CodeNoFulfillment, "%s", err.Error())
	case errors.Is(err, fulfillment.ErrNotFailed):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeNothingToRetry, "%s", err.Error())
	case errors.Is(err, fulfillment.ErrNotPaused):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeNotPaused, "%s", err.Error())
	case errors.Is(err, fulfillment.ErrInvalid):
		return httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "%s", err.Error())
	}
	return err
}
