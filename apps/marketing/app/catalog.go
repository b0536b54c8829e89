package app

import (
	"context"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
)

// Catalog answers the product category of SKUs (inventory's catalog owns
// them); an unknown or uncategorised SKU is absent from the answer.
type Catalog interface {
	Categories(ctx context.Context, skus []string) (map[string]string, error)
}

// InventoryCatalog is Catalog over inventory's typed client: the catalog
// entries without stock (read-only, batched by inventory with other
// callers' reads).
type InventoryCatalog struct{ C *inventoryclient.Client }

var _ Catalog = InventoryCatalog{}

// Categories reads the categories of skus from inventory's catalog.
func (c InventoryCatalog) Categories(ctx context.Context, skus []string) (map[string]string, error) {
	ps, err := c.C.CatalogEntries(ctx, skus)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ps))
	for _, p := range ps {
		if p.Category != "" {
			out[p.SKU] = p.Category
		}
	}
	return out, nil
}
