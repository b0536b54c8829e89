package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// ProductView is a product with what can be sold of it now.
type ProductView struct {
	domain.Product
	Available int64
}

// Products returns the products of skus in the same order, with their
// sellable stock; unknown SKUs fail together as domain.ErrUnknownSKU.
func (s *Service) Products(ctx context.Context, skus []string) ([]ProductView, error) {
	ps, err := s.catalog(ctx, skus)
	if err != nil {
		return nil, err
	}
	return s.withAvailability(ctx, ps)
}

// CatalogEntries is Products without the stock levels (Available 0), for
// callers that need what a product is, not how many are left: fulfillment
// fills every paid order's lines from it, and reading the levels cost
// MariaDB a query (and Redis one for hot SKUs) per order for nothing.
func (s *Service) CatalogEntries(ctx context.Context, skus []string) ([]ProductView, error) {
	ps, err := s.catalog(ctx, skus)
	out := make([]ProductView, len(ps))
	for i, p := range ps {
		out[i] = ProductView{Product: p}
	}
	return out, err
}

// catalog reads the entries of skus priced as now.
func (s *Service) catalog(ctx context.Context, skus []string) ([]domain.Product, error) {
	ps, err := s.catalogRows(ctx, skus)
	now := s.clock.Now()
	for i, p := range ps {
		ps[i], _ = p.AsOf(now)
	}
	return ps, err
}

// catalogRows reads the entries of skus as their rows stand.
func (s *Service) catalogRows(ctx context.Context, skus []string) ([]domain.Product, error) {
	if len(skus) == 0 || len(skus) > 500 {
		return nil, &domain.ValidationError{Field: "skus", Msg: "must hold 1..500 SKUs"}
	}
	cat, err := s.store.Products(ctx, skus)
	if err != nil {
		return nil, err
	}
	var unknown []string
	ps := make([]domain.Product, 0, len(skus))
	for _, sku := range skus {
		p, ok := cat[sku]
		if !ok {
			unknown = append(unknown, sku)
			continue
		}
		ps = append(ps, p)
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, &domain.SKUError{Kind: domain.ErrUnknownSKU, SKUs: slices.Compact(unknown)}
	}
	return ps, nil
}

// SearchResult is one page of a search.
type SearchResult struct {
	Items   []ProductView
	HasNext bool
	Total   int64
}

// Search pages through the catalog by SKU.
func (s *Service) Search(ctx context.Context, f Filter) (SearchResult, error) {
	switch {
	case f.First == 0:
		f.First = 20
	case f.First < 0 || f.First > 200:
		return SearchResult{}, &domain.ValidationError{Field: "first", Msg: "must be 1..200"}
	}
	if f.Zone != "" {
		if _, err := domain.ParseZone(string(f.Zone)); err != nil {
			return SearchResult{}, err
		}
	}
	if f.Category != "" {
		if _, err := domain.ParseCategory(string(f.Category)); err != nil {
			return SearchResult{}, err
		}
	}
	ps, hasNext, total, err := s.store.Search(ctx, f)
	if err != nil {
		return SearchResult{}, err
	}
	now := s.clock.Now()
	for i, p := range ps {
		ps[i], _ = p.AsOf(now)
	}
	items, err := s.withAvailability(ctx, ps)
	if err != nil {
		return SearchResult{}, err
	}
	return SearchResult{Items: items, HasNext: hasNext, Total: total}, nil
}

// withAvailability attaches sellable stock: MariaDB for ordinary SKUs,
// Redis for hot ones, and for a bundle the minimum over its components.
func (s *Service) withAvailability(ctx context.Context, ps []domain.Product) ([]ProductView, error) {
	var need []string
	for _, p := range ps {
		if p.IsBundle() {
			for _, c := range p.Components {
				need = append(need, c.SKU)
			}
		} else {
			need = append(need, p.SKU)
		}
	}
	slices.Sort(need)
	need = slices.Compact(need)
	levels, err := s.store.Levels(ctx, need)
	if err != nil {
		return nil, err
	}
	avail := make(map[string]int64, len(levels))
	var hot []string
	for sku, l := range levels {
		avail[sku] = l.Available
		if l.Hot {
			hot = append(hot, sku)
		}
	}
	if len(hot) > 0 {
		h, missing, err := s.hot.Available(ctx, hot)
		if err != nil {
			return nil, err
		}
		for _, sku := range missing {
			if err := s.hot.Rebuild(ctx, sku); err != nil {
				return nil, fmt.Errorf("rebuild hot counter: %w", err)
			}
		}
		if len(missing) > 0 {
			if h, _, err = s.hot.Available(ctx, hot); err != nil {
				return nil, err
			}
		}
		for sku, v := range h {
			avail[sku] = v
		}
	}
	out := make([]ProductView, len(ps))
	for i, p := range ps {
		out[i] = ProductView{Product: p}
		if p.IsBundle() {
			out[i].Available = domain.BundleAvailable(p.Components, avail)
		} else {
			out[i].Available = max(avail[p.SKU], 0)
		}
	}
	return out, nil
}
