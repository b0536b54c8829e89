package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/wms/domain"
)

// Occupy holds ERP stock for a delivery order, all lines or none,
// idempotent by the delivery order id.
func (s *Service) Occupy(ctx context.Context, deliveryOrderID, warehouse string, lines []domain.Line) (domain.Occupation, error) {
	o, err := domain.NewOccupation(deliveryOrderID, warehouse, lines)
	if err != nil {
		return domain.Occupation{}, err
	}
	return s.store.Occupy(ctx, o, s.now())
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
