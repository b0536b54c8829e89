package api

import (
	"errors"
	"net/http"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// forwardProblem maps the forward documents' errors; nil for others.
func forwardProblem(err error) error {
	switch {
	case errors.Is(err, domain.ErrNotShipped):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNotShipped, "%s", err.Error())
	case errors.Is(err, domain.ErrNoShortage):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNoShortage, "%s", err.Error())
	case errors.Is(err, domain.ErrPullBackOpen):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodePullBackOpen, "%s", err.Error())
	case errors.Is(err, domain.ErrAlreadyReissued):
		return httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeAlreadyReissued, "%s", err.Error())
	case errors.Is(err, domain.ErrLockTimeout):
		return httpapi.Errorf(http.StatusServiceUnavailable, aftersalesclient.CodeLockTimeout, "%s", err.Error())
	}
	return nil
}

func forwardOut(q *domain.Request) *aftersalesclient.ForwardDocument {
	if !q.IsForward() {
		return nil
	}
	f := q.Forward()
	out := &aftersalesclient.ForwardDocument{Outcome: f.Outcome, NewOrderID: f.NewOrderID}
	if a := f.Address; a != nil {
		out.Address = &aftersalesclient.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
	}
	if s := f.Slot; s != nil {
		out.Slot = &aftersalesclient.Slot{Type: s.Type, Date: s.Date}
	}
	return out
}

func (h *Handler) createForward(w http.ResponseWriter, r *http.Request) {
	var in aftersalesclient.ForwardDocumentRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	kind := domain.Kind(in.Kind)
	if kind != domain.KindReissue && kind != domain.KindExchange && kind != domain.KindPullBack {
		fail(w, r, httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeValidation, "kind must be REISSUE, EXCHANGE or PULL_BACK"))
		return
	}
	fi := domain.ForwardInput{OrderID: in.OrderID, IdempotencyKey: in.IdempotencyKey, Reason: in.Reason, Outcome: in.Outcome}
	for _, l := range in.Lines {
		fi.Lines = append(fi.Lines, domain.ReturnLine{SKU: l.SKU, Qty: l.Qty})
	}
	if a := in.Address; a != nil {
		fi.Address = &domain.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
	}
	if s := in.Slot; s != nil {
		fi.Slot = &domain.Slot{Type: s.Type, Date: s.Date}
	}
	q, err := h.svc.CreateForwardDocument(r.Context(), in.Author, kind, fi)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, Out(q))
}
