package graph

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/httpapi"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/graph/model"
)

// AfterSales is what the gateway needs of after-sales;
// *aftersalesclient.Client satisfies it.
type AfterSales interface {
	Cancel(ctx context.Context, r aftersalesclient.CancelRequest) (aftersalesclient.Request, error)
	OfCustomer(ctx context.Context, customerID string, first int) ([]aftersalesclient.Request, error)
	CancelOfOrder(ctx context.Context, customerID, orderID string) (*aftersalesclient.Request, error)
	Return(ctx context.Context, r aftersalesclient.ReturnRequest) (aftersalesclient.Request, error)
	OfOrder(ctx context.Context, customerID, orderID string) ([]aftersalesclient.Request, error)
	Get(ctx context.Context, customerID, id string) (aftersalesclient.Request, error)
	CreateDocument(ctx context.Context, r aftersalesclient.DocumentRequest) (aftersalesclient.Request, error)
	AuditDocument(ctx context.Context, id string, r aftersalesclient.AuditRequest) (aftersalesclient.Request, error)
	AwaitingAudit(ctx context.Context, first int) ([]aftersalesclient.Request, error)
}

// CancelFilter is the Bloom filter of order ids with requests;
// *aftersalesclient.CancelFilter satisfies it. MayHave's false is certain;
// aftersalesclient.ErrFilterNotReady means it cannot tell.
type CancelFilter interface {
	MayHave(ctx context.Context, orderID string) (bool, error)
}

// sourcedFilter is a CancelFilter that also tells whether its answer came
// from memory (*aftersalesclient.Mirror), for the lookup histogram.
type sourcedFilter interface {
	MayHaveFrom(ctx context.Context, orderID string) (maybe, fromMemory bool, err error)
}

var (
	_ AfterSales    = (*aftersalesclient.Client)(nil)
	_ CancelFilter  = (*aftersalesclient.CancelFilter)(nil)
	_ sourcedFilter = (*aftersalesclient.Mirror)(nil)
)

// cancelRequestOf is order detail's cancelRequest: the filter's "no"
// answers null without asking after-sales (the ~99 % of orders without
// one); a "maybe", a filter that cannot tell (missing, being rebuilt) or
// an unreachable Redis ask after-sales, so a request is never missed.
// The order was already shown to the caller (theirs, or staff).
func (r *Resolver) cancelRequestOf(ctx context.Context, o *model.Order) (*model.AfterSalesRequest, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	start, path := time.Now(), lookupAskedNoFilter
	if r.CancelFilter != nil {
		var maybe, fromMemory bool
		if sf, ok := r.CancelFilter.(sourcedFilter); ok {
			maybe, fromMemory, err = sf.MayHaveFrom(ctx, o.ID)
		} else {
			maybe, err = r.CancelFilter.MayHave(ctx, o.ID)
		}
		switch {
		case err == nil && !maybe:
			if fromMemory {
				observeLookup(lookupNoMemory, start)
			} else {
				observeLookup(lookupNoRedis, start)
			}
			return nil, nil
		case errors.Is(err, aftersalesclient.ErrFilterNotReady):
			path = lookupAskedNotReady
		case err != nil:
			path = lookupAskedRedisErr
		default:
			path = lookupAskedMaybe
		}
	}
	customer := who.Subject
	if isStaff(who.Role) {
		customer = ""
	}
	q, err := r.AfterSales.CancelOfOrder(ctx, customer, o.ID)
	observeLookup(path, start)
	if err != nil || q == nil {
		return nil, err
	}
	return toAfterSalesRequest(*q), nil
}

func toAfterSalesRequest(q aftersalesclient.Request) *model.AfterSalesRequest {
	out := &model.AfterSalesRequest{ID: q.ID, OrderID: q.OrderID, Kind: q.Kind, Status: model.AfterSalesStatus(q.Status), Reason: q.Reason,
		RefundedFen: int64(q.RefundedFen), Steps: []*model.AfterSalesStep{}, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
	if q.RefusalCode != "" {
		out.RefusalCode, out.RefusalNote = &q.RefusalCode, &q.RefusalNote
	}
	for _, s := range q.Steps {
		st := &model.AfterSalesStep{Step: s.Step, At: s.At}
		if s.Note != "" {
			note := s.Note
			st.Note = &note
		}
		out.Steps = append(out.Steps, st)
	}
	if q.Mode != "" {
		m := model.ReturnMode(q.Mode)
		out.Mode = &m
	}
	out.PhotoUrls = append([]string{}, q.PhotoURLs...)
	out.RefundCashFen, out.RefundNonCashFen, out.RefundFreightFen = int64(q.RefundCashFen), int64(q.RefundNonCashFen), int64(q.RefundFreightFen)
	out.Lines = []*model.AfterSalesLine{}
	for _, l := range q.Lines {
		out.Lines = append(out.Lines, &model.AfterSalesLine{Sku: l.SKU, Qty: l.Qty, CashFen: int64(l.CashFen), NonCashFen: int64(l.NonCashFen),
			FreightFen: int64(l.FreightFen)})
	}
	out.CreatedBy, out.AuditedBy, out.AuditNote = optString(q.CreatedBy), optString(q.AuditedBy), optString(q.AuditNote)
	forwardFields(q, out)
	out.Pushes = []*model.AfterSalesPush{}
	for _, p := range q.Pushes {
		mp := &model.AfterSalesPush{ID: p.ID, Type: p.Type, Status: p.Status, Attempts: int64(p.Attempts), CreatedAt: p.CreatedAt}
		if p.Result != "" {
			res := p.Result
			mp.Result = &res
		}
		if p.LastError != "" {
			e := p.LastError
			mp.LastError = &e
		}
		out.Pushes = append(out.Pushes, mp)
	}
	return out
}

// checkReturnInput answers what the gateway can tell without a round
// trip: the number of lines and photos, positive quantities.
func checkReturnInput(in *model.RequestReturnInput) []*model.UserError {
	var out []*model.UserError
	bad := func(field []string, msg string) {
		out = append(out, &model.UserError{Code: model.UserErrorCodeValidationFailed, Field: field, Message: msg})
	}
	if n := len(in.Lines); n == 0 || n > maxReturnLines {
		bad([]string{"input", "lines"}, fmt.Sprintf("lines must hold 1-%d lines, got %d", maxReturnLines, n))
	}
	for i, l := range in.Lines {
		if l.Qty <= 0 {
			bad([]string{"input", "lines", strconv.Itoa(i), "qty"}, fmt.Sprintf("qty must be positive, got %d", l.Qty))
		}
	}
	if n := len(in.PhotoUrls); n > maxReturnPhotos {
		bad([]string{"input", "photoUrls"}, fmt.Sprintf("at most %d photos, got %d", maxReturnPhotos, n))
	}
	out = append(out, checkCancelReason(&in.Reason)...)
	return out
}

// Limits after-sales applies too (aftersales/domain, not importable here).
const (
	maxReturnLines  = 100
	maxReturnPhotos = 9
)

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// auditUserErrors maps after-sales' answers to an audit.
func auditUserErrors(err error) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if errors.As(err, &p) {
		one := func(code model.UserErrorCode, field []string) ([]*model.UserError, error) {
			return []*model.UserError{{Code: code, Message: p.Message, Field: field}}, nil
		}
		switch p.Code {
		case aftersalesclient.CodeSelfAudit:
			return one(model.UserErrorCodeAuditorIsAuthor, []string{"id"})
		case aftersalesclient.CodeNotAwaitingAudit:
			return one(model.UserErrorCodeNotAwaitingAudit, []string{"id"})
		case aftersalesclient.CodeNotFound:
			return one(model.UserErrorCodeNotFound, []string{"id"})
		case aftersalesclient.CodeValidation:
			return one(model.UserErrorCodeValidationFailed, []string{"note"})
		}
	}
	return nil, err
}

// returnUserErrors maps after-sales' answers to a return.
func returnUserErrors(err error) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if errors.As(err, &p) {
		lines := []string{"input", "lines"}
		one := func(code model.UserErrorCode, field []string) ([]*model.UserError, error) {
			return []*model.UserError{{Code: code, Message: p.Message, Field: field}}, nil
		}
		switch p.Code {
		case aftersalesclient.CodeLineNotOnOrder:
			return one(model.UserErrorCodeLineNotOnOrder, lines)
		case aftersalesclient.CodeQtyAboveDelivered:
			return one(model.UserErrorCodeQtyAboveDelivered, lines)
		case aftersalesclient.CodeNotReturnable:
			return one(model.UserErrorCodeOrderNotReturnable, []string{"orderId"})
		case aftersalesclient.CodeRefundAbovePaid:
			return one(model.UserErrorCodeRefundExceedsPaid, lines)
		case aftersalesclient.CodeMarkedMalicious:
			return one(model.UserErrorCodeOrderMarkedMalicious, []string{"orderId"})
		case aftersalesclient.CodeValidation:
			return one(model.UserErrorCodeValidationFailed, []string{"input"})
		}
	}
	return orderUserErrors(err)
}
