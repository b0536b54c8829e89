package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/wms/domain"
)

// SetStock sets a SKU's on-hand ERP stock in a warehouse (creating it).
func (s *Service) SetStock(ctx context.Context, warehouse, sku string, onHand int64) (domain.Stock, error) {
	switch {
	case !domain.ValidWarehouse(warehouse):
		return domain.Stock{}, fmt.Errorf("%w: warehouse %q is not a warehouse code", domain.ErrValidation, warehouse)
	case sku == "" || len(sku) > 64:
		return domain.Stock{}, fmt.Errorf("%w: sku is required (at most 64 bytes)", domain.ErrValidation)
	case onHand < 0:
		return domain.Stock{}, fmt.Errorf("%w: on_hand must not be negative", domain.ErrValidation)
	}
	return s.store.SetStock(ctx, warehouse, sku, onHand, s.now())
}

// Stock returns one SKU's ERP stock in a warehouse.
func (s *Service) Stock(ctx context.Context, warehouse, sku string) (domain.Stock, error) {
	return s.store.Stock(ctx, warehouse, sku)
}
