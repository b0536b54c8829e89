package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// pullBack ends a paused order and makes its new order (omsclient.PullBackOrder).
func (h *fulfillmentHandler) pullBack(w http.ResponseWriter, r *http.Request) {
	var req omsclient.PullBackRequest
	if !decodeAppCall(w, r, &req, &req.IdempotencyKey, &req.Reason, &req.By) {
		return
	}
	var change domain.PullBackChange
	if a := req.Address; a != nil {
		change.Address = &domain.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
	}
	if s := req.Slot; s != nil {
		change.Slot = &domain.Slot{Type: s.Type, Date: s.Date}
	}
	p, err := h.eng.PullBack(r.Context(), chi.URLParam(r, "id"), req.IdempotencyKey, req.Reason+" ["+req.IdempotencyKey+"]", req.By, req.Intercepted, change)
	if err != nil {
		var ve *domain.ValidationError
		if errors.As(err, &ve) { // the new order's address or slot, with its violations
			httpapi.WriteError(w, r, problem(err))
			return
		}
		httpapi.WriteError(w, r, fulfillmentProblem(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, omsclient.PullBack{OrderID: p.OrderID, NewOrderID: p.NewOrderID, Already: p.Already})
}
