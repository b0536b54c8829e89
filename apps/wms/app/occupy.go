package app

import (
	"context"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/wms/domain"
)

// Occupy holds ERP stock for a delivery order of orderID, all lines or
// none, idempotent by the delivery order id. An order cancelled already holds nothing (RELEASED).
func (s *Service) Occupy(ctx context.Context, deliveryOrderID, orderID, warehouse string, lines []domain.Line) (domain.Occupation, error) {
	o, err := domain.NewOccupation(deliveryOrderID, warehouse, lines)
	if err == nil {
		o, err = o.ForOrder(orderID)
	}
	if err != nil {
		return domain.Occupation{}, err
	}
	return s.store.Occupy(ctx, o, s.now())
}

// OrderCancelled releases the ERP occupations of a cancelled order's
// delivery orders (oms.order.cancelled), but not of one WMS is working
// on; idempotent.
func (s *Service) OrderCancelled(ctx context.Context, orderID string) error {
	if orderID == "" || len(orderID) > 64 {
		return fmt.Errorf("%w: order id must be 1-64 bytes", domain.ErrValidation)
	}
	released, kept, err := s.store.ReleaseOrder(ctx, orderID, s.now())
	if err != nil {
		return err
	}
	if len(kept) > 0 {
		s.log.WarnContext(ctx, "cancelled order's delivery orders are on the floor; their ERP occupations are kept",
			"order", orderID, "kept", kept, "released", released)
	}
	return nil
}

// Release gives a delivery order's ERP stock back; idempotent.
func (s *Service) Release(ctx context.Context, deliveryOrderID string) (domain.Occupation, error) {
	if deliveryOrderID == "" || len(deliveryOrderID) > 64 {
		return domain.Occupation{}, fmt.Errorf("%w: delivery order id is required (at most 64 bytes)", domain.ErrValidation)
	}
	return s.store.Release(ctx, deliveryOrderID, s.now())
}

// Occupation returns an occupation with its lines.
func (s *Service) Occupation(ctx context.Context, id string) (domain.Occupation, error) {
	return s.store.Occupation(ctx, id)
}

// CancelledKept is how long a cancellation is remembered against a late
// occupation: the race it closes (an occupation call in flight when the
// order was cancelled) lasts seconds; a week is longer than any retry.
const CancelledKept = 7 * 24 * time.Hour

// PruneCancelled forgets cancellations older than CancelledKept, in
// batches, and reports how many it deleted.
func (s *Service) PruneCancelled(ctx context.Context) (int64, error) {
	var total int64
	for {
		n, err := s.store.PruneCancelled(ctx, s.now().Add(-CancelledKept), 1000)
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// PruneWorker runs PruneCancelled every interval until ctx ends.
func (s *Service) PruneWorker(every time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if _, err := s.PruneCancelled(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("cancelled orders not pruned; the next pass retries", "err", err)
			}
		}
	}
}
