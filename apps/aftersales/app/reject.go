package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/ids"
)

// ErrUnconfirmed: OMS does not say the order was refused at the door; the
// event that said so is dropped (it would move money).
var ErrUnconfirmed = errors.New("refusal not confirmed by OMS")

// ErrNothingToReject: every unit of the order was returned already.
var ErrNothingToReject = errors.New("nothing left to reject")

// Reject turns a refusal at the door (oms.order.refused) into a rejection
// by itself (DOMAIN 4.3, 5): believed only once OMS confirms the order
// was refused, one per order (its key is the order's), covering the units
// OMS says were refused (all of the order when it names none) not
// returned before, with the same refund spreading and pushes as
// a return whose goods come back (the warehouse's notice first, then the
// refunds). A redelivered event answers the rejection it made.
func (s *Service) Reject(ctx context.Context, orderID string) (*domain.Request, error) {
	al, err := s.allocation(ctx, orderID, "")
	if err != nil {
		return nil, err
	}
	if !al.Refused {
		return nil, fmt.Errorf("%w: order %s is %s, not refused", ErrUnconfirmed, orderID, al.Status)
	}
	cat, err := s.catalog(ctx, al)
	if err != nil {
		return nil, err
	}
	if err := s.d.Filter.Add(ctx, orderID); err != nil {
		return nil, err
	}
	now := s.now()
	id := ids.New()
	in := domain.ReturnInput{OrderID: orderID, CustomerID: al.CustomerID, IdempotencyKey: domain.RejectionKey(orderID), Reason: domain.RejectionReason}
	out, created, err := s.d.Repo.CreateReturn(ctx, now, orderID, al.CustomerID, in.IdempotencyKey, ReturnCaps{Cash: al.PaidFen, NonCash: al.NonCashFen},
		func(returned map[string]int64) (*domain.Request, error) {
			lines := orderLines(al)
			refused := make([]domain.ReturnLine, len(al.RefusedLines))
			for i, l := range al.RefusedLines {
				refused[i] = domain.ReturnLine{SKU: l.SKU, Qty: l.Qty}
			}
			var err error
			if in.Lines, err = domain.RefusedUnreturned(lines, returned, refused); err != nil {
				return nil, err
			}
			if len(in.Lines) == 0 {
				return nil, fmt.Errorf("%w: order %s", ErrNothingToReject, orderID)
			}
			refunds, err := domain.ComputeRefund(lines, returned, in.Lines)
			if err != nil {
				return nil, err
			}
			r, err := domain.NewReturn(id, domain.KindRejection, in, refunds, now)
			if err != nil {
				return nil, err
			}
			return r, s.firstPushes(r, al, cat)
		}, s.acceptedEvent)
	if err != nil {
		return nil, err
	}
	if created {
		s.d.Notify()
		s.wakePushers()
	}
	return out, nil
}
