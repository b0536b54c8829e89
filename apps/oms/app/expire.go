package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

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
// (DOMAIN 1.4 case 1): a batch of one. It is a conditional change on the
// locked row, so a late, early or repeated fire and the sweep can all call
// it: one cancels, the others see a settled order and do nothing. by names
// the caller for the metrics (reminder, sweep).
func (s *Service) ExpireOrder(ctx context.Context, id, by string) (ExpiryOutcome, error) {
	cancelled, notDue, err := s.expireBatch(ctx, []string{id}, by)
	switch {
	case err != nil:
		return 0, err
	case cancelled == 1:
		return ExpiryCancelled, nil
	case notDue == 1:
		return ExpiryNotDue, nil
	}
	return ExpirySettled, nil // paid, cancelled already, or not there
}

// ExpireWindow cancels every order still unpaid whose deadline is at or
// before the end of a deadline window: the fire of the window's reminder.
// A window holds the orders due in one second, so one durable reminder
// serves them all (see apps/oms/actors). It is safe to run twice, late, or
// beside the sweep; it returns nil only when no unpaid order due by then is
// left, so a failed pass keeps the reminder to fire again.
func (s *Service) ExpireWindow(ctx context.Context, end time.Time) error {
	start := s.clock.Now()
	windowFireDelay.Observe(start.Sub(end).Seconds())
	defer func() { windowPassSeconds.Observe(s.clock.Now().Sub(start).Seconds()) }()
	// daprd may fire a moment early; what is due by end is due once end
	// has passed. A fire far too early is refused and fires again.
	if d := end.Sub(start); d > 0 {
		if d > windowEarly {
			return fmt.Errorf("window %s fired %s early", end.Format(time.RFC3339), d)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The window is the second (end−1s, end]: orders of earlier windows are
	// their own reminders' (or the sweep's), so passes of neighbouring
	// windows never wait for each other's row locks.
	after, upTo := end.Add(-time.Second), end.Add(time.Microsecond) // pay_by < upTo ⇔ pay_by ≤ end, at DATETIME(6) precision
	for {
		found, _, settled, err := s.expireDue(ctx, after, upTo, "reminder")
		if err != nil {
			return err
		}
		if found < s.cfg.SweepBatch {
			return nil
		}
		if settled == 0 { // each was not yet due: another pass would find them again
			return fmt.Errorf("window %s: %d due orders found and none settled", end.Format(time.RFC3339), found)
		}
	}
}

// SweepExpired cancels unpaid orders whose deadline passed more than
// SweepGrace ago: the reconciliation behind the reminders, which can be
// late, lost, or never registered when OMS stopped right after a commit. It
// handles at most SweepBatch orders per call and returns how many it
// cancelled.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	_, n, _, err := s.expireDue(ctx, time.Time{}, s.clock.Now().Add(-s.cfg.SweepGrace), "sweep")
	return n, err
}

// windowEarly is how early a window's fire may come and still be served,
// by waiting for its end.
const windowEarly = 2 * time.Second

// Expiry passes cancel expireBatch orders per transaction, expireParallel
// transactions at once: at a deadline peak (every order placed in a busy
// second falls due in the same second) one commit per order would not keep
// up, while a batch pays for one log flush.
const (
	expireBatch    = 50
	expireParallel = 4
)

// expireDue expires up to SweepBatch unpaid orders due after after and
// before upTo, in batches. It returns how many it found, how many it cancelled, and how
// many are settled now, by it or by a concurrent pass or payment.
func (s *Service) expireDue(ctx context.Context, after, upTo time.Time, by string) (found, cancelled, settled int, err error) {
	due, err := s.repo.DueUnpaid(ctx, after, upTo, s.cfg.SweepBatch)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("find expired orders: %w", err)
	}
	var (
		mu      sync.Mutex
		errs    []error
		wg      sync.WaitGroup
		batches = make(chan []string)
	)
	for range min(expireParallel, (len(due)+expireBatch-1)/expireBatch) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ids := range batches {
				c, notDue, err := s.expireBatch(ctx, ids, by)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					cancelled += c
					settled += len(ids) - notDue
				}
				mu.Unlock()
			}
		}()
	}
	for ids := range slices.Chunk(due, expireBatch) {
		batches <- ids
	}
	close(batches)
	wg.Wait()
	return len(due), cancelled, settled, errors.Join(errs...)
}

// ExpireUnpaid is the fire of an order's own deadline reminder (the
// per-order design of apps/oms/actors): ExpireOrder, except that a fire up
// to windowEarly before the deadline waits for it and tries again, so an
// early fire is not wasted. It returns an error only when the order could
// not be judged (database down); the sweep then catches it.
func (s *Service) ExpireUnpaid(ctx context.Context, id string) error {
	start := s.clock.Now()
	defer func() { orderPassSeconds.Observe(s.clock.Now().Sub(start).Seconds()) }()
	for attempt := 0; ; attempt++ {
		_, notDue, payBy, err := s.expireBatchAt(ctx, []string{id}, "reminder")
		if err != nil {
			return err
		}
		if attempt == 0 && !payBy.IsZero() {
			orderFireDelay.Observe(start.Sub(payBy).Seconds())
		}
		if notDue == 0 {
			return nil
		}
		d := payBy.Sub(s.clock.Now())
		if attempt > 0 || d > windowEarly {
			return fmt.Errorf("order %s: reminder fired %s before its deadline", id, d.Round(time.Millisecond))
		}
		select {
		case <-time.After(max(d, time.Millisecond)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// expireBatch cancels those of the orders still unpaid past their deadline
// in one transaction, with the same conditional change as ExpireOrder. It
// returns how many it cancelled and how many were not yet due.
func (s *Service) expireBatch(ctx context.Context, ids []string, by string) (cancelled, notDue int, err error) {
	cancelled, notDue, _, err = s.expireBatchAt(ctx, ids, by)
	return cancelled, notDue, err
}

// expireBatchAt is expireBatch that also returns the latest deadline among
// the orders it saw (zero when it saw none).
func (s *Service) expireBatchAt(ctx context.Context, ids []string, by string) (cancelled, notDue int, payBy time.Time, err error) {
	var (
		notDueIDs sync.Map // a retried transaction runs fn again for the same orders
		mu        sync.Mutex
	)
	changed, err := s.repo.UpdateEach(ctx, ids, func(o *domain.Order) ([]outbox.Event, error) {
		now := s.clock.Now()
		mu.Lock()
		if o.PayBy().After(payBy) {
			payBy = o.PayBy()
		}
		mu.Unlock()
		err := o.Expire(now)
		switch {
		case errors.Is(err, domain.ErrNotCancellable):
			return nil, ErrNoChange
		case errors.Is(err, domain.ErrNotExpired):
			notDueIDs.Store(o.ID(), true)
			return nil, ErrNoChange
		case err != nil:
			return nil, err
		}
		return []outbox.Event{cancelledEvent(o, now)}, nil
	})
	if err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("expire %d orders: %w", len(ids), err)
	}
	notDueIDs.Range(func(_, _ any) bool { notDue++; return true })
	if len(changed) > 0 {
		s.notify()
		ordersExpired.WithLabelValues(by).Add(float64(len(changed)))
		ordersCancelled.WithLabelValues(string(domain.ReasonExpired)).Add(float64(len(changed)))
	}
	return len(changed), notDue, payBy, nil
}
