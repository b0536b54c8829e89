package main

import (
	"context"
	"testing"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/hotstock"
	"github.com/harvest/harvest/apps/inventory/seed"
	"github.com/harvest/harvest/apps/inventory/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// BenchmarkCatalogReads reads the seeded catalog the ways the products
// query and placing an order do: a search page of 20 (GraphQL products),
// and the entries of 3 SKUs (a placement's reservation). It uses only
// what main had before catalog versions and scheduled prices, so the same
// file measures both sides: copy it to the other checkout and run
//
//	go test -run '^$' -bench CatalogReads -benchtime 2s ./apps/inventory/
func BenchmarkCatalogReads(b *testing.B) {
	ctx := context.Background()
	db, _ := testdb.New(b, "inventory")
	rdb, prefix := testdb.Redis(b)
	st := store.New(db, clock.System{})
	if _, err := seed.IfEmpty(ctx, st); err != nil {
		b.Fatal(err)
	}
	hot := hotstock.New(rdb, db, prefix)
	if _, err := hot.EnsureAll(ctx); err != nil {
		b.Fatal(err)
	}
	svc := app.New(st, hot, noOrders{}, clock.System{}, app.Options{})
	b.Run("search-page", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Search(ctx, app.Filter{First: 20, InStock: true}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("entries-3", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Products(ctx, []string{"SKU-00010", "SKU-00020", "BDL-003"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
