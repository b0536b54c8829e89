package domain

import (
	"github.com/harvest/harvest/apps/platform/money"

	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Zone is a warehouse temperature zone (DOMAIN 7.1); orders are split by it.
type Zone string

// The five zones.
const (
	ZoneAmbient     Zone = "AMBIENT"
	ZoneChilledHigh Zone = "CHILLED_HIGH"
	ZoneChilledLow  Zone = "CHILLED_LOW"
	ZoneFrozenHigh  Zone = "FROZEN_HIGH"
	ZoneFrozenLow   Zone = "FROZEN_LOW"
)

// Zones lists every zone in a stable order.
var Zones = []Zone{ZoneAmbient, ZoneChilledHigh, ZoneChilledLow, ZoneFrozenHigh, ZoneFrozenLow}

// ParseZone accepts exactly one of the five zone names.
func ParseZone(s string) (Zone, error) {
	z := Zone(s)
	if slices.Contains(Zones, z) {
		return z, nil
	}
	return "", refused("zone", ReasonUnknownZone, fmt.Sprintf("%q is not a zone (%s)", s, zoneNames()))
}

// Component is one SKU inside a virtual bundle.
type Component struct {
	SKU string
	Qty int64
}

// Product is a SKU of the product center.
type Product struct {
	SKU      string
	Name     string
	PriceFen money.Fen // in effect from PriceFrom (see PriceAt)
	Zone     Zone
	// Category is empty only for a product entered before categories
	// (migration 00007); an edit must give it one.
	Category   Category
	TaxRateBP  int64
	Warehouse  string // the warehouse that sells (and ships) it
	Supplier   string
	DropShip   bool
	Presale    bool
	Hot        bool        // stock served from Redis (flash sale)
	Components []Component // non-empty for a virtual bundle
	OwnBox     bool        // ships in a box of its own (sold by the original case)
	Oversize   bool
	ShelfLife  int64 // days; 0: not tracked
	Version    int64 // every change makes a new version (catalog_changes)
	PriceFrom  time.Time
	// Next is the earliest price change scheduled after PriceFrom.
	Next *PriceChange
}

// PriceChange is a price in effect from a time on.
type PriceChange struct {
	Price money.Fen
	From  time.Time
}

// PriceAt is the product's price at t: the scheduled change once its time
// has come, else the current one; ok false when t is before PriceFrom
// (the price history answers).
func (p Product) PriceAt(t time.Time) (price money.Fen, ok bool) {
	if p.Next != nil && !t.Before(p.Next.From) {
		return p.Next.Price, true
	}
	if t.Before(p.PriceFrom) {
		return 0, false
	}
	return p.PriceFen, true
}

// AsOf is p with the price in effect at t applied, when the row knows it.
func (p Product) AsOf(t time.Time) (Product, bool) {
	price, ok := p.PriceAt(t)
	if ok {
		p.PriceFen = price
	}
	return p, ok
}

// IsBundle reports whether p is a virtual bundle (no stock of its own).
func (p Product) IsBundle() bool { return len(p.Components) > 0 }

// Reasons of catalog refusals (ValidationError.Reason).
const (
	ReasonUnknownZone          = "UNKNOWN_ZONE"
	ReasonNegativePrice        = "NEGATIVE_PRICE"
	ReasonBundleContainsItself = "BUNDLE_CONTAINS_ITSELF"
	ReasonNestedBundle         = "NESTED_BUNDLE"
	ReasonUnknownComponent     = "UNKNOWN_COMPONENT"
	ReasonDuplicateComponent   = "DUPLICATE_COMPONENT"
	ReasonSupplierRequired     = "SUPPLIER_REQUIRED"
	ReasonKindChange           = "BUNDLE_KIND_CHANGE"
	ReasonPriceInPast          = "PRICE_IN_PAST"
)

func zoneNames() string {
	names := make([]string, len(Zones))
	for i, z := range Zones {
		names[i] = string(z)
	}
	return strings.Join(names, ", ")
}

// Validate checks a product before it enters the catalog, on its own;
// CheckComponents checks its components against the catalog.
func (p Product) Validate() error {
	switch {
	case strings.TrimSpace(p.SKU) == "" || len(p.SKU) > 64:
		return invalid("sku", "must be 1..64 characters")
	case strings.TrimSpace(p.Name) == "" || utf8.RuneCountInString(p.Name) > 200:
		return invalid("name", "must be 1..200 characters")
	case p.PriceFen < 0:
		return refused("price_fen", ReasonNegativePrice, fmt.Sprintf("price %d fen is negative", p.PriceFen))
	case p.TaxRateBP < 0 || p.TaxRateBP > 10000:
		return invalid("tax_rate_bp", "must be 0..10000")
	case strings.TrimSpace(p.Warehouse) == "" || len(p.Warehouse) > 16:
		return invalid("warehouse", "must be 1..16 characters")
	case len(p.Supplier) > 64:
		return invalid("supplier", "at most 64 characters")
	case p.DropShip && p.Supplier == "":
		return refused("supplier", ReasonSupplierRequired, "a drop-ship line needs its supplier")
	case p.IsBundle() && p.Hot:
		return invalid("hot", "a bundle has no stock of its own; flag its components")
	case p.ShelfLife < 0 || p.ShelfLife > 3650:
		return invalid("shelf_life_days", "must be 0..3650")
	case len(p.Components) > 20:
		return invalid("components", "at most 20")
	}
	if _, err := ParseZone(string(p.Zone)); err != nil {
		return err
	}
	if _, err := ParseCategory(string(p.Category)); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, c := range p.Components {
		f := fmt.Sprintf("components[%d]", i)
		switch {
		case c.SKU == p.SKU:
			return refused(f+".sku", ReasonBundleContainsItself, fmt.Sprintf("bundle %s cannot contain itself", p.SKU))
		case strings.TrimSpace(c.SKU) == "":
			return invalid(f+".sku", "is required")
		case c.Qty <= 0 || c.Qty > 1000:
			return invalid(f+".qty", "must be 1..1000")
		case seen[c.SKU]:
			return refused(f+".sku", ReasonDuplicateComponent, fmt.Sprintf("%s is listed twice; put the whole quantity on one component", c.SKU))
		}
		seen[c.SKU] = true
	}
	return nil
}

// CheckComponents refuses a bundle whose components are unknown or
// bundles themselves (bundles do not nest: stock is held by components).
func (p Product) CheckComponents(catalog map[string]Product) error {
	for i, c := range p.Components {
		f := fmt.Sprintf("components[%d].sku", i)
		cp, ok := catalog[c.SKU]
		switch {
		case !ok:
			return refused(f, ReasonUnknownComponent, fmt.Sprintf("component %s is not in the catalog", c.SKU))
		case cp.IsBundle():
			return refused(f, ReasonNestedBundle, fmt.Sprintf("component %s is a bundle; bundles do not nest", c.SKU))
		}
	}
	return nil
}

// CheckEdit refuses changes a product cannot take: a SKU with stock of
// its own cannot become a bundle, nor a bundle a SKU with stock.
func (p Product) CheckEdit(before Product) error {
	if p.IsBundle() != before.IsBundle() {
		return refused("components", ReasonKindChange, fmt.Sprintf("%s is %s; create a new SKU instead", p.SKU,
			map[bool]string{true: "a bundle", false: "a SKU with stock of its own"}[before.IsBundle()]))
	}
	return nil
}

// CheckPriceChange validates a price change scheduled from from, judged
// at now: not negative, not in the past (history is not rewritten).
func CheckPriceChange(price money.Fen, from, now time.Time) error {
	switch {
	case price < 0:
		return refused("price_fen", ReasonNegativePrice, fmt.Sprintf("price %d fen is negative", price))
	case from.Before(now.Add(-time.Second)):
		return refused("valid_from", ReasonPriceInPast, fmt.Sprintf("%s is in the past; a price takes effect now or later", from.UTC().Format(time.RFC3339)))
	case from.After(now.AddDate(1, 0, 0)):
		return invalid("valid_from", "at most a year ahead")
	}
	return nil
}

// BundleAvailable is how many bundles the components' stock allows: the
// minimum over components of available/qty.
func BundleAvailable(components []Component, available map[string]int64) int64 {
	if len(components) == 0 {
		return 0
	}
	best := int64(-1)
	for _, c := range components {
		n := max(available[c.SKU], 0) / c.Qty
		if best < 0 || n < best {
			best = n
		}
	}
	return best
}
