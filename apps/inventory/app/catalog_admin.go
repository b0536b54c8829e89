package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/money"
)

// CatalogAdmin is the catalog-editing side of the store.
type CatalogAdmin interface {
	CreateProduct(ctx context.Context, p domain.Product, by string) (domain.Product, error)
	UpdateProduct(ctx context.Context, sku string, expected int64, by string, fn func(before domain.Product) (domain.Product, error)) (domain.Product, error)
	SchedulePrice(ctx context.Context, sku string, price money.Fen, from time.Time, expected int64, by string) (domain.Product, error)
	RollPrices(ctx context.Context, now time.Time, limit int) (int, error)
	PricesAt(ctx context.Context, skus []string, t time.Time) (map[string]money.Fen, error)
	PriceHistory(ctx context.Context, sku string) ([]PriceEntry, error)
	Changes(ctx context.Context, sku string, limit int) ([]Change, error)
}

// ErrProductExists: a product with the SKU is already in the catalog.
var ErrProductExists = errors.New("product exists")

// VersionConflictError: the product changed since the operator read it.
type VersionConflictError struct {
	SKU               string
	Expected, Current int64
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("%s is at version %d, not %d: read it again and redo the change", e.SKU, e.Current, e.Expected)
}

// PriceEntry is one price of a SKU's history or schedule.
type PriceEntry struct {
	From  time.Time
	Price money.Fen
	By    string
	At    time.Time // when it was entered
}

// Change is one audited version of a product: who, when, what it was
// before and after (JSON documents).
type Change struct {
	Version       int64
	Action        string // CREATE, UPDATE, PRICE
	By            string
	At            time.Time
	Before, After string
}

// ProductInput is a product as an operator enters it.
type ProductInput struct {
	SKU, Name, Zone, Category, Warehouse, Supplier string
	TaxRateBP, ShelfLife                           int64
	DropShip, Presale, OwnBox, Oversize            bool
	Components                                     []domain.Component
	PriceFen                                       money.Fen // CreateProduct only; prices change by SchedulePrice
}

func (in ProductInput) apply(p domain.Product) domain.Product {
	p.Name, p.Zone, p.Warehouse, p.Supplier = strings.TrimSpace(in.Name), domain.Zone(in.Zone), strings.TrimSpace(in.Warehouse), strings.TrimSpace(in.Supplier)
	p.Category = domain.Category(in.Category)
	p.TaxRateBP, p.ShelfLife = in.TaxRateBP, in.ShelfLife
	p.DropShip, p.Presale, p.OwnBox, p.Oversize = in.DropShip, in.Presale, in.OwnBox, in.Oversize
	p.Components = slices.Clone(in.Components)
	slices.SortFunc(p.Components, func(a, b domain.Component) int { return strings.Compare(a.SKU, b.SKU) })
	return p
}

func requireBy(by string) error {
	if strings.TrimSpace(by) == "" {
		return &domain.ValidationError{Field: "by", Msg: "who makes the change is required"}
	}
	return nil
}

// checkProduct applies every rule to p: its own, and its components'
// against the catalog.
func (s *Service) checkProduct(ctx context.Context, p domain.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if !p.IsBundle() {
		return nil
	}
	skus := make([]string, len(p.Components))
	for i, c := range p.Components {
		skus[i] = c.SKU
	}
	cat, err := s.store.Products(ctx, skus)
	if err != nil {
		return err
	}
	return p.CheckComponents(cat)
}

// CreateProduct adds a product (or a virtual bundle of existing SKUs) to
// the catalog at version 1, priced from now; a SKU with stock of its own
// starts with none on hand. Bad input is refused with the field and rule
// (domain.ValidationError.Reason) and changes nothing.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput, by string) (domain.Product, error) {
	if err := requireBy(by); err != nil {
		return domain.Product{}, err
	}
	p := in.apply(domain.Product{SKU: strings.TrimSpace(in.SKU), PriceFen: in.PriceFen})
	if err := s.checkProduct(ctx, p); err != nil {
		return domain.Product{}, err
	}
	return s.admin.CreateProduct(ctx, p, by)
}

// UpdateProduct replaces a product's description at the version the
// operator edited (its price and its flash-sale flag stay); a SKU with
// stock cannot become a bundle, nor the reverse.
func (s *Service) UpdateProduct(ctx context.Context, sku string, expected int64, in ProductInput, by string) (domain.Product, error) {
	if err := requireBy(by); err != nil {
		return domain.Product{}, err
	}
	return s.admin.UpdateProduct(ctx, sku, expected, by, func(before domain.Product) (domain.Product, error) {
		after := in.apply(before)
		if err := after.CheckEdit(before); err != nil {
			return after, err
		}
		return after, s.checkProduct(ctx, after)
	})
}

// SchedulePrice sets a SKU's price from a time on (nil: now). Orders are
// priced by the price in effect when they are placed: one placed at 09:59
// keeps the old price through fulfillment, one placed from 10:00 pays the
// new one. expected 0 accepts any version.
func (s *Service) SchedulePrice(ctx context.Context, sku string, price money.Fen, from *time.Time, expected int64, by string) (domain.Product, error) {
	if err := requireBy(by); err != nil {
		return domain.Product{}, err
	}
	now := s.clock.Now()
	at := now
	if from != nil {
		at = *from
	}
	if err := domain.CheckPriceChange(price, at, now); err != nil {
		return domain.Product{}, err
	}
	if at.Before(now) {
		at = now // within the second's tolerance: now
	}
	p, err := s.admin.SchedulePrice(ctx, sku, price, at, expected, by)
	if err != nil {
		return p, err
	}
	p, _ = p.AsOf(now)
	return p, nil
}

// CatalogEntriesAt is CatalogEntries priced as at t (an order's placing
// time): fulfillment fills an order with the catalog it was placed with.
func (s *Service) CatalogEntriesAt(ctx context.Context, skus []string, t time.Time) ([]ProductView, error) {
	ps, err := s.catalogRows(ctx, skus)
	if err != nil {
		return nil, err
	}
	var past []string
	for i, p := range ps {
		var ok bool
		if ps[i], ok = p.AsOf(t); !ok {
			past = append(past, p.SKU)
		}
	}
	if len(past) > 0 {
		prices, err := s.admin.PricesAt(ctx, past, t)
		if err != nil {
			return nil, err
		}
		for i, p := range ps {
			if f, ok := prices[p.SKU]; ok && t.Before(p.PriceFrom) {
				ps[i].PriceFen = f
			}
		}
	}
	out := make([]ProductView, len(ps))
	for i, p := range ps {
		out[i] = ProductView{Product: p}
	}
	return out, nil
}

// PriceHistory lists a SKU's prices, past and scheduled.
func (s *Service) PriceHistory(ctx context.Context, sku string) ([]PriceEntry, error) {
	if _, err := s.catalogRows(ctx, []string{sku}); err != nil {
		return nil, err
	}
	return s.admin.PriceHistory(ctx, sku)
}

// Changes lists a SKU's audited versions, newest first (at most 100).
func (s *Service) Changes(ctx context.Context, sku string) ([]Change, error) {
	if _, err := s.catalogRows(ctx, []string{sku}); err != nil {
		return nil, err
	}
	return s.admin.Changes(ctx, sku, 100)
}

// asOfNow applies the price in effect now to every entry of cat.
func (s *Service) asOfNow(cat map[string]domain.Product) map[string]domain.Product {
	now := s.clock.Now()
	out := maps.Clone(cat)
	for sku, p := range cat {
		out[sku], _ = p.AsOf(now)
	}
	return out
}
