package app

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// CancelUnpaid cancels an order still waiting for cash, for its owner. The
// order row is locked and the change is conditional on the status, so it
// races safely with payment and expiry: exactly one of them wins. Asking
// again after a customer cancel returns the cancelled order.
func (s *Service) CancelUnpaid(ctx context.Context, id, customerID, note string) (*domain.Order, error) {
	var cancelled bool
	o, err := s.repo.Update(ctx, id, nil, func(o *domain.Order) ([]outbox.Event, error) {
		cancelled = false
		now := s.clock.Now()
		err := o.CancelByCustomer(customerID, now, note)
		if errors.Is(err, domain.ErrNotCancellable) && o.CancelReason() == domain.ReasonCustomer {
			return nil, ErrNoChange
		}
		if err != nil {
			return nil, err
		}
		cancelled = true
		return []outbox.Event{cancelledEvent(o, now)}, nil
	})
	if err != nil {
		return nil, err
	}
	if cancelled {
		s.notify()
		ordersCancelled.WithLabelValues(string(domain.ReasonCustomer)).Inc()
	}
	return o, nil
}
