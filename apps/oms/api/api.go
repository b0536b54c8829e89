// Package api is OMS's HTTP face: the handlers other apps and the gateway
// call through Dapr service invocation (the routes of omsclient), the
// pay.trade.succeeded subscriber and the expiry-sweep cron binding. Handlers
// decode, call one use case, and map its errors to httpapi.Problems with
// omsclient's codes.
package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Handler serves OMS's API.
type Handler struct{ svc *app.Service }

// Mount adds OMS's routes to r.
func Mount(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Post("/v1/orders", h.place)
	r.Get("/v1/orders", h.list)
	r.Post("/v1/orders/batch", h.batch)
	r.Get("/v1/orders/{id}", h.get)
	r.Post("/v1/orders/{id}/cancel", h.cancel)
	r.Get("/v1/orders/{id}/payable", h.payable)
	r.Get("/v1/orders/{id}/existence", h.existence)
	r.Get("/v1/orders/{id}/allocation", h.allocation)
	r.Get("/v1/deductions/{id}/order", h.deductionOrder)
	// After-sales' own prefix (omsclient.AfterSalesOrdersPath): only what
	// it calls, so its grant reaches nothing else.
	r.Post("/"+omsclient.AfterSalesOrdersPath, h.place)
	r.Get("/"+omsclient.AfterSalesOrdersPath+"/{id}", h.get)
	r.Get("/"+omsclient.AfterSalesOrdersPath+"/{id}/allocation", h.allocation)
}

func (h *Handler) place(w http.ResponseWriter, r *http.Request) {
	var req omsclient.PlaceOrderRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	o, created, err := h.svc.PlaceOrder(r.Context(), PlaceCommand(req))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, OrderView(o, true))
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.GetOrder(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OrderView(o, true))
}

// batch answers several orders in one call, so the gateway's dataloader
// turns N order lookups of one request into one.
func (h *Handler) batch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if len(req.IDs) > omsclient.MaxBatchOrders {
		httpapi.WriteError(w, r, problem(&domain.ValidationError{Violations: []domain.Violation{{Field: "ids", Code: "TOO_MANY",
			Message: fmt.Sprintf("%d ids, at most %d", len(req.IDs), omsclient.MaxBatchOrders)}}}))
		return
	}
	orders, err := h.svc.GetOrders(r.Context(), req.IDs)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := make([]omsclient.Order, len(orders))
	for i, o := range orders {
		out[i] = OrderView(o, true)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := app.ListQuery{CustomerID: q.Get("customer"), Phone: q.Get("phone"), After: q.Get("after")}
	if s := q.Get("status"); s != "" {
		st, err := domain.ParseStatus(s)
		if err != nil {
			httpapi.WriteError(w, r, problem(&domain.ValidationError{Violations: []domain.Violation{
				{Field: "status", Code: "UNKNOWN_STATUS", Message: err.Error()}}}))
			return
		}
		lq.Status = st
	}
	if f := q.Get("first"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			httpapi.WriteError(w, r, problem(&domain.ValidationError{Violations: []domain.Violation{
				{Field: "first", Code: "INVALID_NUMBER", Message: "first must be a non-negative integer"}}}))
			return
		}
		lq.First = n
	}
	page, err := h.svc.ListOrders(r.Context(), lq)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := omsclient.OrderPage{Items: make([]omsclient.Order, 0, len(page.Orders)), EndCursor: page.EndCursor,
		HasNext: page.HasNext, TotalCount: page.TotalCount}
	for _, o := range page.Orders {
		out.Items = append(out.Items, OrderView(o, false))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	var req omsclient.CancelRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if req.CustomerID == "" {
		httpapi.WriteError(w, r, problem(&domain.ValidationError{Violations: []domain.Violation{
			{Field: "customer_id", Code: "REQUIRED", Message: "customer is required"}}}))
		return
	}
	if err := domain.CheckCancelNote(req.Reason); err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	o, err := h.svc.CancelUnpaid(r.Context(), chi.URLParam(r, "id"), req.CustomerID, req.Reason)
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OrderView(o, true))
}

func (h *Handler) payable(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Payable(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.Payability{Payable: p.Payable, Reason: p.Reason, PayBy: p.PayBy,
		CashDueFen: p.CashDue, CustomerID: p.CustomerID})
}

// existence answers 200 with exists=false for an unknown order: a
// check-back needs a definite answer, not an error.
func (h *Handler) existence(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.Exists(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.Existence{Exists: e.Exists, Status: string(e.Status)})
}

func (h *Handler) deductionOrder(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.ExistsForDeduction(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.Existence{Exists: e.Exists, Status: string(e.Status)})
}

// problem maps use-case errors to OMS's Problem codes; anything else stays
// an internal error (logged once by httpapi.WriteError).
func problem(err error) error {
	var (
		ve  *domain.ValidationError
		de  *app.DeductionError
		oos *app.OutOfStockError
		sf  *app.SlotFullError
	)
	switch {
	case errors.As(err, &ve):
		return httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "%s", ve.Error()).
			With(map[string]any{"violations": violations(ve.Violations)})
	case errors.As(err, &de):
		return httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeDeductionInvalid, "%s", de.Error()).
			With(map[string]any{"violations": violations(de.Violations)})
	case errors.As(err, &oos):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeOutOfStock, "%s", oos.Error()).
			With(map[string]any{"skus": oos.SKUs})
	case errors.As(err, &sf):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeSlotFull, "%s", sf.Error()).
			With(map[string]any{"slots": sf.Slots})
	case errors.Is(err, app.ErrPlacementVoided):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodePlacementExpired, "%s; place the order again", app.ErrPlacementVoided.Error())
	case errors.Is(err, app.ErrIdempotencyReuse):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeIdempotencyReuse, "this idempotency key was used with a different request")
	case errors.Is(err, app.ErrKeyBusy):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeIdempotencyInFlight, "a call with this idempotency key is still running; retry")
	case errors.Is(err, app.ErrBadCursor):
		return httpapi.Errorf(http.StatusBadRequest, httpapi.CodeBadRequest, "malformed cursor")
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrNotOwner):
		// Someone else's order is answered like a missing one: no probing.
		return httpapi.Errorf(http.StatusNotFound, omsclient.CodeNotFound, "order not found")
	case errors.Is(err, domain.ErrNotCancellable):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeNotCancellable, "%s", err.Error())
	}
	return err
}

func violations(vs []domain.Violation) []omsclient.Violation {
	out := make([]omsclient.Violation, len(vs))
	for i, v := range vs {
		out[i] = omsclient.Violation{Field: v.Field, Code: v.Code, Message: v.Message}
	}
	return out
}
