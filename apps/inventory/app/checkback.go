package app

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// CheckBackReport counts what one check-back run did.
type CheckBackReport struct {
	Confirmed, Released, Failed, HotSettled, Orphans, PricesRolled int
}

// CheckBack settles held reservations past their TTL by asking OMS whether
// the order exists (the transactional-message check-back): an order that
// exists and is not cancelled keeps its stock, any other gives it back. It
// also finishes hot returns a crash interrupted and returns hot takes
// whose reservation never committed. Each run handles a bounded batch; two
// instances may run it at once, since every change is conditional (confirm
// only HELD, release-if-held only HELD, hot returns by ledger entry).
func (s *Service) CheckBack(ctx context.Context) (CheckBackReport, error) {
	var rep CheckBackReport
	now := s.clock.Now()
	// Scheduled prices that came due: reads apply them already; this
	// moves each row on to the change after it.
	rolled, err := s.admin.RollPrices(ctx, now, s.opt.CheckBackBatch)
	if err != nil {
		return rep, err
	}
	rep.PricesRolled = rolled
	ids, err := s.store.ExpiredHeld(ctx, now, s.opt.CheckBackBatch)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		e, err := s.orders.Exists(ctx, id)
		if err != nil {
			rep.Failed++ // OMS unreachable: ask again next run
			s.log.WarnContext(ctx, "check-back: OMS lookup failed", "order", id, "err", err)
			continue
		}
		switch domain.DecideCheckBack(e.Exists, e.Status) {
		case domain.DecideConfirm:
			if err := s.store.ConfirmHeld(ctx, id); err != nil && !errors.Is(err, domain.ErrNotReserved) {
				return rep, err
			}
			rep.Confirmed++
		case domain.DecideRelease:
			if _, err := s.release(ctx, id, true, nil); err != nil {
				return rep, err
			}
			rep.Released++
		}
	}
	pending, err := s.store.HotPending(ctx, s.opt.CheckBackBatch)
	if err != nil {
		return rep, err
	}
	for _, id := range pending {
		if err := s.settleHot(ctx, id); err != nil {
			return rep, err
		}
		rep.HotSettled++
	}
	orphans, err := s.store.Orphans(ctx, now.Add(-s.opt.OrphanGrace), s.opt.CheckBackBatch)
	if err != nil {
		return rep, err
	}
	for _, id := range orphans {
		// The tombstone (for a missing reservation) refuses a Reserve that
		// is still in flight, before the units go back.
		if _, err := s.release(ctx, id, true, nil); err != nil {
			return rep, err
		}
		if _, err := s.hot.Release(ctx, id); err != nil {
			return rep, err
		}
		if err := s.store.MarkReturned(ctx, id); err != nil {
			return rep, err
		}
		rep.Orphans++
	}
	return rep, nil
}
