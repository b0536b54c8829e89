package domain

import (
	"github.com/harvest/harvest/apps/platform/money"

	"fmt"
	"slices"
	"strings"
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
	return "", invalid("zone", fmt.Sprintf("%q is not a zone", s))
}

// Component is one SKU inside a virtual bundle.
type Component struct {
	SKU string
	Qty int64
}

// Product is a SKU of the product center.
type Product struct {
	SKU        string
	Name       string
	PriceFen   money.Fen
	Zone       Zone
	TaxRateBP  int64
	Warehouse  string
	Supplier   string
	DropShip   bool
	Presale    bool
	Hot        bool        // stock served from Redis (flash sale)
	Components []Component // non-empty for a virtual bundle
}

// IsBundle reports whether p is a virtual bundle (no stock of its own).
func (p Product) IsBundle() bool { return len(p.Components) > 0 }

// Validate checks a product before it enters the catalog.
func (p Product) Validate() error {
	switch {
	case strings.TrimSpace(p.SKU) == "" || len(p.SKU) > 64:
		return invalid("sku", "must be 1..64 characters")
	case strings.TrimSpace(p.Name) == "":
		return invalid("name", "is required")
	case p.PriceFen < 0:
		return invalid("price_fen", "must not be negative")
	case p.TaxRateBP < 0 || p.TaxRateBP > 10000:
		return invalid("tax_rate_bp", "must be 0..10000")
	case p.Warehouse == "":
		return invalid("warehouse", "is required")
	case p.DropShip && p.Supplier == "":
		return invalid("supplier", "a drop-ship line needs its supplier")
	case p.IsBundle() && p.Hot:
		return invalid("hot", "a bundle has no stock of its own; flag its components")
	}
	if _, err := ParseZone(string(p.Zone)); err != nil {
		return err
	}
	for i, c := range p.Components {
		if c.Qty <= 0 || c.SKU == "" || c.SKU == p.SKU {
			return invalid(fmt.Sprintf("components[%d]", i), "needs a other SKU and a positive quantity")
		}
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
