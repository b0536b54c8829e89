package app

import (
	"context"

	"github.com/harvest/harvest/apps/wms/domain"
)

// SetStock sets a SKU's on-hand ERP stock in a warehouse (creating it).
func (s *Service) SetStock(ctx context.Context, warehouse, sku string, onHand int64) (domain.Stock, error) {
	st, err := domain.NewStock(warehouse, sku, onHand)
	if err != nil {
		return domain.Stock{}, err
	}
	return s.store.SetStock(ctx, st, s.now())
}

// Stock returns one SKU's ERP stock in a warehouse.
func (s *Service) Stock(ctx context.Context, warehouse, sku string) (domain.Stock, error) {
	return s.store.Stock(ctx, warehouse, sku)
}
