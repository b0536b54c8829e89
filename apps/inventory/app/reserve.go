package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// maxAttempts bounds the retries of a reservation whose hot counter was
// missing (rebuilt) or replaced while it ran.
const maxAttempts = 3

// Reserve holds stock for an order, all lines or none, idempotent by order
// id (see domain.Reservation.Repeat). Hot parts are taken first in Redis,
// so flash-sale losers never touch MariaDB beyond one primary-key read;
// then one MariaDB transaction writes the reservation row, takes the
// ordinary parts and one unit of the delivery slot at each warehouse the
// parts ship from (domain.SlotKeys). If that fails (out of stock, slot
// full) the hot take is returned at once; if the process dies in between,
// the check-back's orphan sweep returns it.
func (s *Service) Reserve(ctx context.Context, req domain.Request) (domain.Reservation, error) {
	r, _, err := s.ReservePriced(ctx, req)
	return r, err
}

// ReservePriced is Reserve that also checks the request's expected prices
// and returns the catalog entries of the SKUs it reserved, so the caller
// (OMS placing an order) needs no catalog read of its own.
func (s *Service) ReservePriced(ctx context.Context, req domain.Request) (domain.Reservation, map[string]domain.Product, error) {
	skus := make([]string, len(req.Lines()))
	for i, l := range req.Lines() {
		skus[i] = l.SKU
	}
	// No read of an existing reservation first: a retry is told apart by
	// the reservation's primary key (and, for hot parts, by the Redis
	// ledger), so the common first attempt costs two statements less.
	cat, err := s.store.Products(ctx, skus)
	if err != nil {
		return domain.Reservation{}, nil, err
	}
	cat = s.asOfNow(cat) // the price in effect now, scheduled changes included
	parts, err := domain.Expand(req.Lines(), cat)
	if err != nil {
		return domain.Reservation{}, nil, err
	}
	if err := req.CheckPrices(cat); err != nil {
		return domain.Reservation{}, nil, err
	}
	slots := domain.SlotKeys(req.Slot(), parts, cat)
	var hot []domain.Part
	for _, p := range parts {
		if p.Hot {
			hot = append(hot, p)
		}
	}
	expires := s.clock.Now().Add(req.TTL())
	for attempt := 1; ; attempt++ {
		res, err := s.reserveOnce(ctx, req, parts, slots, hot, expires)
		if (errors.Is(err, domain.ErrStale) || errors.Is(err, errMissing)) && attempt < maxAttempts {
			continue
		}
		return res, cat, err
	}
}

var errMissing = errors.New("hot counter missing")

func (s *Service) reserveOnce(ctx context.Context, req domain.Request, parts []domain.Part, slots []domain.SlotKey, hot []domain.Part, expires time.Time) (domain.Reservation, error) {
	var epochs map[string]int64
	taken := false
	if len(hot) > 0 {
		r, err := s.hot.Reserve(ctx, req.OrderID(), req.Fingerprint(), expires, hot)
		if err != nil {
			return domain.Reservation{}, err
		}
		switch r.Outcome {
		case HotConflict:
			return domain.Reservation{}, domain.ErrConflict
		case HotMissing:
			for _, sku := range r.SKUs {
				if err := s.hot.Rebuild(ctx, sku); err != nil {
					return domain.Reservation{}, err
				}
			}
			return domain.Reservation{}, errMissing
		case HotShort:
			short, err := s.store.ShortSKUs(ctx, parts)
			if err != nil {
				return domain.Reservation{}, err
			}
			all := append(short, r.SKUs...)
			slices.Sort(all)
			return domain.Reservation{}, &domain.SKUError{Kind: domain.ErrOutOfStock, SKUs: slices.Compact(all)}
		}
		epochs, taken = r.Epochs, r.Outcome == HotTaken
	}
	res, err := s.store.CreateReservation(ctx, req, parts, slots, expires, epochs)
	if err == nil {
		return res, nil
	}
	if errors.Is(err, ErrExists) {
		// A concurrent Reserve (or a Release tombstone) won the row.
		r, ok, gerr := s.store.GetReservation(ctx, req.OrderID())
		if gerr != nil {
			return domain.Reservation{}, gerr
		}
		if !ok {
			return domain.Reservation{}, fmt.Errorf("reservation %s vanished", req.OrderID())
		}
		rerr := r.Repeat(req.Fingerprint())
		if rerr != nil && taken {
			// The winner is a tombstone or other lines: our take belongs
			// to no reservation.
			s.returnHot(ctx, req.OrderID())
		}
		// Same lines: the ledger entry is the winner's too; keep it.
		return r, rerr
	}
	if taken {
		// Only the attempt that took (TAKEN, not REPEAT) gives back: a
		// REPEAT shares the ledger entry with an attempt that may commit.
		s.returnHot(ctx, req.OrderID())
	}
	return domain.Reservation{}, err
}

// returnHot gives back the hot units of a reservation attempt that failed.
// A failure leaves an orphan the check-back returns later.
func (s *Service) returnHot(ctx context.Context, orderID string) {
	if _, err := s.hot.Release(ctx, orderID); err != nil {
		s.log.WarnContext(ctx, "returning hot units of a failed reservation; check-back will", "order", orderID, "err", err)
	}
}
