package graph

import (
	"context"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/graph/model"
)

// AfterSales is what the gateway needs of after-sales;
// *aftersalesclient.Client satisfies it.
type AfterSales interface {
	Cancel(ctx context.Context, r aftersalesclient.CancelRequest) (aftersalesclient.Request, error)
	OfCustomer(ctx context.Context, customerID string, first int) ([]aftersalesclient.Request, error)
	CancelOfOrder(ctx context.Context, customerID, orderID string) (*aftersalesclient.Request, error)
}

// CancelFilter is the Bloom filter of order ids with requests;
// *aftersalesclient.CancelFilter satisfies it. MayHave's false is certain;
// aftersalesclient.ErrFilterNotReady means it cannot tell.
type CancelFilter interface {
	MayHave(ctx context.Context, orderID string) (bool, error)
}

var (
	_ AfterSales   = (*aftersalesclient.Client)(nil)
	_ CancelFilter = (*aftersalesclient.CancelFilter)(nil)
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
	if r.CancelFilter != nil {
		maybe, err := r.CancelFilter.MayHave(ctx, o.ID)
		if err == nil && !maybe {
			return nil, nil
		}
	}
	customer := who.Subject
	if isStaff(who.Role) {
		customer = ""
	}
	q, err := r.AfterSales.CancelOfOrder(ctx, customer, o.ID)
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
	return out
}
