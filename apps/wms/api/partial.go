package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Partial outbound's routes (DOMAIN 7.2), under v1/warehouses/{wh}; store
// customers are mounted by mountFloor.
func mountPartial(r chi.Router, h *Handler) {
	r.Post("/pick-lists/{id}/qc-confirm", h.confirmQC)
	r.Post("/work-orders/{id}/second-qc", h.secondQC)
	r.Post("/work-orders/{id}/shortage", h.confirmShortage)
	r.Get("/putaway-tasks", h.putAwayTasks)
	r.Post("/putaway-tasks/{id}/confirm", h.confirmPutAway)
}

func (h *Handler) confirmQC(w http.ResponseWriter, r *http.Request) {
	diff, err := h.svc.ConfirmQC(r.Context(), wh(r), id(r))
	if diff == nil {
		diff = []string{}
	}
	answer(w, r, wmsclient.QCConfirmation{WithDifferences: diff}, err)
}

func (h *Handler) secondQC(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.SecondQCRequest
	if !decodeOr(w, r, &in) {
		return
	}
	wo, err := h.svc.SecondQC(r.Context(), wh(r), id(r), in.IdempotencyKey, in.SKU, in.Qty)
	answer(w, r, workOrderOut(wo, nil), err)
}

func (h *Handler) confirmShortage(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.ShortageRequest
	if !decodeOr(w, r, &in) {
		return
	}
	wo, o, err := h.svc.ConfirmShortage(r.Context(), wh(r), id(r), in.IdempotencyKey, in.Reasons)
	out := wmsclient.Shortage{WorkOrder: workOrderOut(wo, nil), Lines: make([]wmsclient.ShortLine, len(o.Lines)), Losses: len(o.Losses), PutAways: len(o.PutAways)}
	for i, l := range o.Lines {
		out.Lines[i] = wmsclient.ShortLine{SKU: l.SKU, Ordered: l.Ordered, Short: l.Short, Ship: l.Ship, Withheld: l.Withheld, Reason: l.Reason}
	}
	answer(w, r, out, err)
}

func putAwayOut(t domain.PutAwayTask) wmsclient.PutAwayTask {
	return wmsclient.PutAwayTask{ID: t.ID, WorkOrderID: t.WorkOrderID, Bin: t.Bin, SKU: t.SKU, Batch: t.Batch, Qty: t.Qty, Status: string(t.Status), Operator: t.Operator}
}

func (h *Handler) putAwayTasks(w http.ResponseWriter, r *http.Request) {
	status := domain.TaskStatus(r.URL.Query().Get("status"))
	if status == "" {
		status = domain.TaskOpen
	}
	ts, err := h.svc.PutAwayTasks(r.Context(), wh(r), status, limit(r, 50))
	out := make([]wmsclient.PutAwayTask, len(ts))
	for i, t := range ts {
		out[i] = putAwayOut(t)
	}
	answer(w, r, out, err)
}

func (h *Handler) confirmPutAway(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.PutAwayRequest
	if !decodeOr(w, r, &in) {
		return
	}
	t, err := h.svc.ConfirmPutAway(r.Context(), wh(r), id(r), in.IdempotencyKey, in.Operator, in.Bin)
	answer(w, r, putAwayOut(t), err)
}

func (h *Handler) putStoreCustomer(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.StoreCustomer
	if !decodeOr(w, r, &in) {
		return
	}
	answer(w, r, in, h.svc.PutStoreCustomer(r.Context(), in.CustomerID, in.BusinessType))
}
