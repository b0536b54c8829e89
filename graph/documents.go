package graph

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// Documents makes customer service's forward documents (reissue,
// exchange, pull-back); *aftersalesclient.Client satisfies it. They are
// audited through AfterSales.AuditDocument like every document.
type Documents interface {
	CreateForwardDocument(ctx context.Context, r aftersalesclient.ForwardDocumentRequest) (aftersalesclient.Request, error)
}

var _ Documents = (*aftersalesclient.Client)(nil)

// forwardFields fills a forward document's own fields of out.
func forwardFields(q aftersalesclient.Request, out *model.AfterSalesRequest) {
	if q.Forward == nil {
		return
	}
	if q.Forward.Outcome != "" {
		o := model.PullBackOutcome(q.Forward.Outcome)
		out.Outcome = &o
	}
	out.NewOrderID = optString(q.Forward.NewOrderID)
}

// createForward checks what the gateway can tell without a round trip,
// then makes the document as the caller.
func (r *Resolver) createForward(ctx context.Context, req aftersalesclient.ForwardDocumentRequest, lines []*model.ReturnLineInput) (*model.ForwardDocumentPayload, error) {
	var ues []*model.UserError
	ues = append(ues, checkKey(req.IdempotencyKey)...)
	if lines != nil || req.Kind != aftersalesclient.KindPullBack {
		ues = append(ues, checkReturnInput(&model.RequestReturnInput{Reason: req.Reason, Lines: lines})...)
	} else {
		ues = append(ues, checkCancelReason(&req.Reason)...)
	}
	if len(ues) > 0 {
		return &model.ForwardDocumentPayload{Errors: ues}, nil
	}
	if r.Documents == nil {
		return nil, &PublicError{Code: CodeInternal, Message: "customer service's forward documents are not configured"}
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	req.Author = who.Subject
	for _, l := range lines {
		req.Lines = append(req.Lines, aftersalesclient.ReturnLine{SKU: l.Sku, Qty: l.Qty})
	}
	q, err := r.Documents.CreateForwardDocument(ctx, req)
	if err != nil {
		ues, err := forwardUserErrors(err)
		if err != nil {
			return nil, err
		}
		return &model.ForwardDocumentPayload{Errors: ues}, nil
	}
	return &model.ForwardDocumentPayload{Request: toAfterSalesRequest(q), Errors: []*model.UserError{}}, nil
}

// forwardUserErrors maps after-sales' answers to a forward document.
func forwardUserErrors(err error) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if errors.As(err, &p) {
		one := func(code model.UserErrorCode, field ...string) ([]*model.UserError, error) {
			return []*model.UserError{{Code: code, Message: p.Message, Field: field}}, nil
		}
		switch p.Code {
		case aftersalesclient.CodeNotShipped:
			return one(model.UserErrorCodeOrderNotShipped, "orderId")
		case aftersalesclient.CodeNoShortage:
			return one(model.UserErrorCodeOrderNotShort, "orderId")
		case aftersalesclient.CodePullBackOpen:
			return one(model.UserErrorCodePullBackOpen, "orderId")
		case aftersalesclient.CodeAlreadyReissued:
			return one(model.UserErrorCodeAlreadyReissued, "input", "lines")
		case aftersalesclient.CodeLockTimeout:
			return one(model.UserErrorCodeLockTimeout, "orderId")
		case aftersalesclient.CodeNotFound:
			return one(model.UserErrorCodeNotFound, "orderId")
		case aftersalesclient.CodeIdempotencyReuse:
			return one(model.UserErrorCodeIdempotencyKeyReused, "idempotencyKey")
		}
	}
	return returnUserErrors(err)
}

func slotOf(s *model.DeliverySlotInput) *aftersalesclient.Slot {
	if s == nil {
		return nil
	}
	return &aftersalesclient.Slot{Type: string(s.Type), Date: s.Date}
}

func addressOf(a *model.AddressInput) *aftersalesclient.Address {
	if a == nil {
		return nil
	}
	return &aftersalesclient.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
}
