package app

import (
	"context"
	"strings"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// SetServedArea replaces the warehouses delivering to one district (or,
// with district "", to the rest of a city); no warehouses removes the
// entry. Unknown warehouses are refused with nothing changed.
func (s *Service) SetServedArea(ctx context.Context, province, city, district string, warehouses []string, by string) (domain.ServedArea, error) {
	a, err := domain.NewServedArea(province, city, district, warehouses)
	if err != nil {
		return domain.ServedArea{}, err
	}
	if strings.TrimSpace(by) == "" {
		return domain.ServedArea{}, &domain.ValidationError{Field: "by", Msg: "who changes the served area is required"}
	}
	if err := s.knownWarehouses(ctx, "warehouses", a.Warehouses); err != nil {
		return domain.ServedArea{}, err
	}
	return s.slots.SetServedArea(ctx, a, by)
}

// ServedAreas lists the served-area entries of a province and city (empty
// names do not filter).
func (s *Service) ServedAreas(ctx context.Context, province, city string) ([]domain.ServedArea, error) {
	return s.slots.ServedAreas(ctx, strings.TrimSpace(province), strings.TrimSpace(city))
}

// Deliverability is the answer for one address.
type Deliverability struct {
	Area       domain.AreaRef
	Warehouses []string // serving it; empty: not deliverable
	// Restricted is false while no served area is drawn at all: then
	// every warehouse delivers everywhere (the behaviour before the list).
	Restricted bool
}

// Deliverable says which warehouses deliver to an address's area;
// malformed names are a validation error, an area nobody serves an answer
// with no warehouses.
func (s *Service) Deliverable(ctx context.Context, province, city, district string) (Deliverability, error) {
	a, err := domain.NewAreaRef(province, city, district)
	if err != nil {
		return Deliverability{}, err
	}
	ws, restricted, err := s.slots.ServingWarehouses(ctx, a)
	return Deliverability{Area: a, Warehouses: ws, Restricted: restricted}, err
}
