package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// ExpiryOutcome says what an expiry attempt did.
type ExpiryOutcome int

// Expiry outcomes.
const (
	// ExpiryCancelled: the order was unpaid past its deadline and is now cancelled.
	ExpiryCancelled ExpiryOutcome = iota + 1
	// ExpiryNotDue: the order is unpaid but its deadline has not passed.
	ExpiryNotDue
	// ExpirySettled: nothing to do, ever again: the order is paid,
	// cancelled already, or does not exist.
	ExpirySettled
)

func (o ExpiryOutcome) String() string {
	switch o {
	case ExpiryCancelled:
		return "cancelled"
	case ExpiryNotDue:
		return "not-due"
	case ExpirySettled:
		return "settled"
	}
	return "unknown"
}

// ExpireOrder cancels the order if it is still unpaid past its deadline
// (DOMAIN 1.4 case 1). It is a conditional change on the locked row, so a
// late, early or repeated reminder and the sweep can all call it: one
// cancels, the others see a settled order and do nothing. by names the
// caller for the metrics (reminder, sweep).
func (s *Service) ExpireOrder(ctx context.Context, id, by string) (ExpiryOutcome, error) {
	var outcome ExpiryOutcome
	_, err := s.repo.Update(ctx, id, nil, func(o *domain.Order) ([]outbox.Event, error) {
		now := s.clock.Now()
		err := o.Expire(now)
		switch {
		case errors.Is(err, domain.ErrNotCancellable):
			outcome = ExpirySettled
			return nil, ErrNoChange
		case errors.Is(err, domain.ErrNotExpired):
			outcome = ExpiryNotDue
			return nil, ErrNoChange
		case err != nil:
			return nil, err
		}
		outcome = ExpiryCancelled
		return []outbox.Event{cancelledEvent(o, now)}, nil
	})
	if errors.Is(err, domain.ErrNotFound) {
		return ExpirySettled, nil
	}
	if err != nil {
		return 0, fmt.Errorf("expire order %s: %w", id, err)
	}
	if outcome == ExpiryCancelled {
		s.notify()
		ordersExpired.WithLabelValues(by).Inc()
		ordersCancelled.WithLabelValues(string(domain.ReasonExpired)).Inc()
	}
	return outcome, nil
}

// SweepExpired cancels unpaid orders whose deadline passed more than
// SweepGrace ago: the reconciliation behind the reminders, which can be
// late, lost, or never registered when OMS stopped right after a commit. It
// handles at most SweepBatch orders per call and returns how many it
// cancelled.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	before := s.clock.Now().Add(-s.cfg.SweepGrace)
	due, err := s.repo.DueUnpaid(ctx, before, s.cfg.SweepBatch)
	if err != nil {
		return 0, fmt.Errorf("find expired orders: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range due {
		outcome, err := s.ExpireOrder(ctx, id, "sweep")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if outcome == ExpiryCancelled {
			n++
			s.disarm(ctx, id)
		}
	}
	return n, errors.Join(errs...)
}
