package app

import (
	"context"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Catalog is what the seeder asks inventory (inventoryclient.Client fits).
type Catalog interface {
	SearchProducts(ctx context.Context, r inventoryclient.SearchRequest) (inventoryclient.ProductPage, error)
}

// SeedOnHand is the ERP stock the local seed gives every SKU: ample, so
// that the local stack's orders are limited by sellable stock in
// inventory, not by ERP stock.
const SeedOnHand = 1_000_000

// SeedFromCatalog fills an empty erp_stock table for the local stack: it
// pages through inventory's catalog and gives every SKU that carries stock
// (bundles do not; fulfillment expands them into components first)
// SeedOnHand units in the warehouse the catalog names for it. The whole
// catalog is read before anything is written, and written in one
// transaction, so a failure leaves the table empty for the next try. It
// reports whether it seeded.
func (s *Service) SeedFromCatalog(ctx context.Context, cat Catalog) (bool, error) {
	n, err := s.store.CountStock(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	var rows []domain.Stock
	after := ""
	for {
		page, err := cat.SearchProducts(ctx, inventoryclient.SearchRequest{First: 200, After: after})
		if err != nil {
			return false, fmt.Errorf("read catalog after %q: %w", after, err)
		}
		for _, p := range page.Items {
			if len(p.Components) > 0 || p.Warehouse == "" {
				continue
			}
			st, err := domain.NewStock(p.Warehouse, p.SKU, SeedOnHand)
			if err != nil {
				return false, fmt.Errorf("seed %s: %w", p.SKU, err)
			}
			rows = append(rows, st)
		}
		if !page.HasNext || len(page.Items) == 0 {
			break
		}
		after = page.EndCursor
	}
	if len(rows) == 0 {
		return false, fmt.Errorf("catalog is empty; inventory may not have seeded yet")
	}
	if err := s.store.SeedStock(ctx, rows, s.now()); err != nil {
		return false, err
	}
	return true, nil
}

// SeedWorker returns a background worker that runs SeedFromCatalog until it
// succeeds or finds the table already filled, retrying with backoff while
// inventory (or its sidecar) is not answering yet.
func (s *Service) SeedWorker(cat Catalog) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		wait := 200 * time.Millisecond // the stack waits for this app to be ready, so retry soon
		for {
			seeded, err := s.SeedFromCatalog(ctx, cat)
			if err == nil {
				if seeded {
					s.log.Info("seeded ERP stock from the catalog")
				}
				return nil
			}
			s.log.Warn("ERP stock seed not done yet; retrying", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(wait*2, 30*time.Second)
		}
	}
}
