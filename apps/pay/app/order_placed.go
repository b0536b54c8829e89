package app

import (
	"context"

	"github.com/harvest/harvest/apps/oms/events"
)

// OnOrderPlaced binds the order's deductions to it (consumer of
// oms.order.deductions-used).
func (s *Service) OnOrderPlaced(ctx context.Context, msgID string, ev events.OrderPlaced) error {
	if len(ev.DeductionIDs) == 0 {
		return nil // nothing to mark, so nothing to remember either
	}
	conflicts, err := s.repo.BindDeductions(ctx, InboxClaim{Consumer: consumerOrderPlaced, MsgID: msgID}, ev.OrderID, ev.DeductionIDs, s.now())
	if err == nil && len(conflicts) > 0 {
		s.log.Error("order placed with deductions no longer held", "order", ev.OrderID, "deductions", conflicts)
	}
	return err
}
