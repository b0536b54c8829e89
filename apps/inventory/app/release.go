package app

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/group"
)

// ConsumerOrderCancelled is the inbox's name for the release on cancel.
const ConsumerOrderCancelled = "inventory.order-cancelled"

// Confirm turns a held reservation into a deduction (the order committed).
func (s *Service) Confirm(ctx context.Context, orderID string) (domain.Reservation, error) {
	r, _, err := s.store.Confirm(ctx, orderID, nil)
	return r, err
}

// Release gives a reservation's stock back, held or confirmed; an unknown
// order gets a tombstone so a late Reserve for it is refused.
func (s *Service) Release(ctx context.Context, orderID string) (domain.Reservation, error) {
	return s.release(ctx, orderID, false, nil)
}

func (s *Service) release(ctx context.Context, orderID string, onlyHeld bool, claim *Claim) (domain.Reservation, error) {
	r, _, err := s.store.Release(ctx, orderID, onlyHeld, claim)
	if err != nil {
		return r, err
	}
	if r.HotPending() {
		// After the commit: the flag makes the check-back retry this if we
		// die first; the return itself is idempotent.
		if err := s.settleHot(ctx, orderID); err != nil {
			s.log.WarnContext(ctx, "hot return deferred to check-back", "order", orderID, "err", err)
		}
		r.HotReturned()
	}
	return r, nil
}

func (s *Service) settleHot(ctx context.Context, orderID string) error {
	if _, err := s.hot.Release(ctx, orderID); err != nil {
		return err
	}
	return s.store.ClearHotPending(ctx, orderID)
}

// OrdersPlaced confirms the reservations of orders just placed, one
// answer per order, with one statement when every one was held. It needs
// no inbox: the confirmation is a guarded transition
// (Reservations.ConfirmHeld), so a redelivery has no second effect. When
// some were not held (redelivered, released, unknown), or the statement
// failed, each is settled alone to tell which (group.AllOrEach). An order
// without a usable reservation is reported, not retried: retrying cannot
// create the stock, and the message must not block the ones behind it.
func (s *Service) OrdersPlaced(ctx context.Context, orderIDs []string) []error {
	errs := make([]error, len(orderIDs))
	group.AllOrEach(orderIDs, func(ids []string) error { return s.confirmPlaced(ctx, ids) },
		func(i int, err error) { errs[i] = err })
	return errs
}

// OrderPlaced confirms one order's reservation (see OrdersPlaced).
func (s *Service) OrderPlaced(ctx context.Context, orderID string) error {
	return s.confirmPlaced(ctx, []string{orderID})
}

func (s *Service) confirmPlaced(ctx context.Context, orderIDs []string) error {
	err := s.store.ConfirmHeld(ctx, orderIDs...)
	if errors.Is(err, domain.ErrNotReserved) { // a lone order's answer
		s.log.ErrorContext(ctx, "order placed without a held reservation (none, or released)", "order", orderIDs[0])
		return nil
	}
	return err
}

// OrderCancelled releases the order's reservation once per message.
func (s *Service) OrderCancelled(ctx context.Context, msgID, orderID string) error {
	_, err := s.release(ctx, orderID, false, &Claim{Consumer: ConsumerOrderCancelled, MsgID: msgID})
	return err
}

// Reservation reads an order's reservation; domain.ErrNotReserved when
// there is none.
func (s *Service) Reservation(ctx context.Context, orderID string) (domain.Reservation, error) {
	r, ok, err := s.store.GetReservation(ctx, orderID)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, domain.ErrNotReserved
	}
	return r, nil
}
