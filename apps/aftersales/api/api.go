// Package api serves after-sales' HTTP API, called through Dapr service
// invocation by the gateway: customers' cancels and returns, their
// requests, customer service's documents and audits.
// Handlers are thin: decode, call a use case, map domain errors to
// aftersalesclient's codes.
package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Handler holds the use cases the routes call.
type Handler struct{ svc *app.Service }

// Mount registers after-sales' routes on r.
func Mount(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Post("/v1/cancels", h.cancel)
	r.Post("/v1/returns", h.ret)
	r.Post("/v1/documents", h.createDocument)
	r.Get("/v1/documents", h.awaitingAudit)
	r.Post("/v1/documents/{id}/audit", h.audit)
	r.Post("/v1/forward-documents", h.createForward)
	r.Get("/v1/requests", h.ofCustomer)
	r.Get("/v1/requests/{id}", h.get)
	r.Get("/v1/orders/{id}/requests", h.ofOrder)
}

func problem(err error) error {
	if p := forwardProblem(err); p != nil {
		return p
	}
	switch {
	case errors.Is(err, domain.ErrValidation):
		return httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeValidation, "%s", err.Error())
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrNotOwner):
		return httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "%s", err.Error())
	case errors.Is(err, domain.ErrNotCancellable):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNotCancellable, "%s", err.Error())
	case errors.Is(err, domain.ErrLineNotOnOrder):
		return httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeLineNotOnOrder, "%s", err.Error())
	case errors.Is(err, domain.ErrQtyAboveDelivered):
		return httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeQtyAboveDelivered, "%s", err.Error())
	case errors.Is(err, domain.ErrNotReturnable):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNotReturnable, "%s", err.Error())
	case errors.Is(err, domain.ErrRefundAbovePaid):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeRefundAbovePaid, "%s", err.Error())
	case errors.Is(err, domain.ErrSelfAudit):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeSelfAudit, "%s", err.Error())
	case errors.Is(err, domain.ErrNotAwaitingAudit):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNotAwaitingAudit, "%s", err.Error())
	case errors.Is(err, domain.ErrMarkedMalicious):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeMarkedMalicious, "%s", err.Error())
	case errors.Is(err, domain.ErrKeyReused):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeIdempotencyReuse, "%s", err.Error())
	}
	return err
}

func fail(w http.ResponseWriter, r *http.Request, err error) { httpapi.WriteError(w, r, problem(err)) }

// Out is a request on the wire.
func Out(q *domain.Request) aftersalesclient.Request {
	out := aftersalesclient.Request{ID: q.ID(), OrderID: q.OrderID(), CustomerID: q.CustomerID(), Kind: string(q.Kind()),
		Status: string(q.Status()), Reason: q.Reason(), RefusalCode: q.RefusalCode(), RefusalNote: q.RefusalNote(),
		RefundedFen: q.RefundedFen(), Intercepted: q.InterceptedIDs(), Steps: []aftersalesclient.Step{},
		CreatedAt: q.CreatedAt(), UpdatedAt: q.UpdatedAt()}
	for _, s := range q.Steps() {
		out.Steps = append(out.Steps, aftersalesclient.Step{Step: string(s.Step), Note: s.Note, At: s.At})
	}
	out.Mode, out.PhotoURLs = q.Mode(), q.Photos()
	out.CreatedBy, out.AuditedBy, out.AuditNote = q.CreatedBy(), q.AuditedBy(), q.AuditNote()
	out.Forward = forwardOut(q)
	out.RefundCashFen, out.RefundNonCashFen, out.RefundFreightFen = q.RefundCash(), q.RefundNonCash(), q.RefundFreight()
	for _, l := range q.Lines() {
		out.Lines = append(out.Lines, aftersalesclient.RequestLine{SKU: l.SKU, Qty: l.Qty, CashFen: l.Cash, NonCashFen: l.NonCash, FreightFen: l.Freight})
	}
	return out
}

func (h *Handler) ret(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.ReturnRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	ri := domain.ReturnInput{OrderID: in.OrderID, CustomerID: in.CustomerID, IdempotencyKey: in.IdempotencyKey, Reason: in.Reason,
		Mode: in.Mode, Photos: in.PhotoURLs}
	for _, l := range in.Lines {
		ri.Lines = append(ri.Lines, domain.ReturnLine{SKU: l.SKU, Qty: l.Qty})
	}
	q, err := h.svc.Return(r.Context(), ri)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, Out(q))
}

func list(rs []*domain.Request) aftersalesclient.Requests {
	out := aftersalesclient.Requests{Items: make([]aftersalesclient.Request, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, Out(r))
	}
	return out
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.CancelRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	q, err := h.svc.Cancel(r.Context(), domain.CancelInput{OrderID: in.OrderID, CustomerID: in.CustomerID,
		IdempotencyKey: in.IdempotencyKey, Reason: in.Reason})
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, Out(q))
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	q, err := h.svc.Request(r.Context(), r.URL.Query().Get("customer"), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	out := Out(q)
	ps, err := h.svc.Pushes(r.Context(), q.ID())
	if err != nil {
		fail(w, r, err)
		return
	}
	for _, p := range ps {
		out.Pushes = append(out.Pushes, aftersalesclient.Push{ID: p.ID, Type: string(p.Type), Status: string(p.Status), Attempts: p.Attempts,
			Result: p.Result, LastError: p.LastError, CreatedAt: p.CreatedAt})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) ofCustomer(w http.ResponseWriter, r *http.Request) {
	first, _ := strconv.Atoi(r.URL.Query().Get("first"))
	rs, err := h.svc.OfCustomer(r.Context(), r.URL.Query().Get("customer"), first)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, list(rs))
}

func (h *Handler) ofOrder(w http.ResponseWriter, r *http.Request) {
	rs, err := h.svc.OfOrder(r.Context(), r.URL.Query().Get("customer"), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, list(rs))
}

func (h *Handler) createDocument(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.DocumentRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	kind := domain.Kind(in.Kind)
	if kind != domain.KindReturn && kind != domain.KindRejection {
		fail(w, r, httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeValidation, "kind must be RETURN or REJECTION"))
		return
	}
	ri := domain.ReturnInput{OrderID: in.OrderID, IdempotencyKey: in.IdempotencyKey, Reason: in.Reason, Mode: in.Mode, Photos: in.PhotoURLs}
	for _, l := range in.Lines {
		ri.Lines = append(ri.Lines, domain.ReturnLine{SKU: l.SKU, Qty: l.Qty})
	}
	q, err := h.svc.CreateDocument(r.Context(), in.Author, kind, ri)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, Out(q))
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.AuditRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	q, err := h.svc.Audit(r.Context(), chi.URLParam(r, "id"), in.Auditor, in.Approve, in.Note)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, Out(q))
}

func (h *Handler) awaitingAudit(w http.ResponseWriter, r *http.Request) {
	first, _ := strconv.Atoi(r.URL.Query().Get("first"))
	rs, err := h.svc.AwaitingAudit(r.Context(), first)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, list(rs))
}
