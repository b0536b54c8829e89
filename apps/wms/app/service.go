// Package app holds WMS's use cases for this slice: ERP stock occupation
// and release per delivery order (fulfillment stage 12), the admin setting
// of ERP stock and its seed for the local stack, and receiving dispatched
// delivery orders (stage 16, DOMAIN 7.1 step 1).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/store"
)

// Service runs WMS's use cases.
type Service struct {
	store  *store.Store
	clock  clock.Clock
	notify func()
	log    *slog.Logger
}

// New returns a Service. notify wakes the outbox relay after a commit that
// wrote events (nil in tests that read the outbox table).
func New(st *store.Store, clk clock.Clock, notify func(), log *slog.Logger) *Service {
	if notify == nil {
		notify = func() {}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, clock: clk, notify: notify, log: log}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

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

// Receive stores a dispatched delivery order and announces it
// (wms.order.received); the same delivery order again is a duplicate.
func (s *Service) Receive(ctx context.Context, o domain.Order) (string, bool, error) {
	if len(o.Profiles) == 0 {
		o.Profiles = nil // absent and empty hash the same
	}
	if err := o.Validate(); err != nil {
		return "", false, err
	}
	o.WMSOrderID, o.Status, o.ReceivedAt = ids.New(), domain.OrderReceived, s.now()
	id, dup, err := s.store.Receive(ctx, o)
	if err != nil {
		return "", false, err
	}
	if !dup {
		s.notify()
	}
	return id, dup, nil
}

// Order returns a received order by WMS order id or delivery order id.
func (s *Service) Order(ctx context.Context, id string) (domain.Order, error) {
	return s.store.Order(ctx, id)
}
