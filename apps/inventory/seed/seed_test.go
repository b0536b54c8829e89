package seed_test

import (
	"github.com/harvest/harvest/apps/inventory/app"

	"context"
	"reflect"
	"testing"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/seed"
	"github.com/harvest/harvest/apps/inventory/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/testdb"
)

func TestGenerateIsDeterministicAndCoversTheRange(t *testing.T) {
	ps, onHand := seed.Generate()
	ps2, onHand2 := seed.Generate()
	if !reflect.DeepEqual(ps, ps2) || !reflect.DeepEqual(onHand, onHand2) {
		t.Fatal("two runs differ")
	}
	zones, whs, categories := map[domain.Zone]bool{}, map[string]bool{}, map[domain.Category]bool{}
	var bundles, dropShip, presale, hot int
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", p.SKU, err)
		}
		zones[p.Zone], whs[p.Warehouse], categories[p.Category] = true, true, true
		if p.IsBundle() {
			bundles++
		}
		if p.DropShip {
			dropShip++
		}
		if p.Presale {
			presale++
		}
		if p.Hot {
			hot++
		}
	}
	if len(ps) < 300 || len(zones) != 5 || len(whs) < 2 || bundles == 0 || dropShip == 0 || presale == 0 || hot != 1 {
		t.Fatalf("skus=%d zones=%d warehouses=%d bundles=%d dropship=%d presale=%d hot=%d", len(ps), len(zones), len(whs), bundles, dropShip, presale, hot)
	}
	if len(categories) != len(domain.Categories) {
		t.Fatalf("the seed has %d of the %d categories: %v", len(categories), len(domain.Categories), categories)
	}
	if onHand[seed.FlashSKU] != seed.FlashUnits {
		t.Fatalf("flash units = %d", onHand[seed.FlashSKU])
	}
}

func TestIfEmptySeedsOnce(t *testing.T) {
	db, _ := testdb.New(t, "inventory")
	st := store.New(db, clock.System{})
	ctx := context.Background()
	if did, err := seed.IfEmpty(ctx, st); err != nil || !did {
		t.Fatalf("first: %v %v", did, err)
	}
	if did, err := seed.IfEmpty(ctx, st); err != nil || did {
		t.Fatalf("second: %v %v", did, err)
	}
	ps, _ := seed.Generate()
	if n, err := st.CountProducts(ctx); err != nil || n != int64(len(ps)) {
		t.Fatalf("count = %d, %v", n, err)
	}
	page, hasNext, total, err := st.Search(ctx, app.Filter{Zone: domain.ZoneFrozenLow, Warehouse: "WH-BJ", InStock: true, First: 10})
	if err != nil || len(page) != 10 || !hasNext || total <= 10 {
		t.Fatalf("search: %d items, next=%v total=%d, %v", len(page), hasNext, total, err)
	}
	next, _, _, err := st.Search(ctx, app.Filter{Zone: domain.ZoneFrozenLow, Warehouse: "WH-BJ", InStock: true, First: 10, After: page[9].SKU})
	if err != nil || len(next) == 0 || next[0].SKU <= page[9].SKU {
		t.Fatalf("next page: %v, %v", next, err)
	}
}
