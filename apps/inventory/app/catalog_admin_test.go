package app_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/api"
	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	omsapp "github.com/harvest/harvest/apps/oms/app"
	omsdomain "github.com/harvest/harvest/apps/oms/domain"
	omsstore "github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

func newProduct(sku string) app.ProductInput {
	return app.ProductInput{SKU: sku, Name: "product " + sku, Zone: "CHILLED_LOW", Category: "DAIRY", Warehouse: "WH-SH", TaxRateBP: 900, PriceFen: 1200, ShelfLife: 7}
}

func TestProductsAreVersionedAndAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.CreateProduct(ctx, newProduct("NEW"), "CATALOG_MANAGER:m1")
	if err != nil || p.Version != 1 {
		t.Fatalf("create: %+v, %v", p, err)
	}
	if _, err := e.svc.CreateProduct(ctx, newProduct("NEW"), "CATALOG_MANAGER:m1"); !errors.Is(err, app.ErrProductExists) {
		t.Fatalf("second create: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM stock WHERE sku = 'NEW' AND on_hand = 0 AND available = 0`); n != 1 {
		t.Fatal("a new SKU has no empty stock row")
	}
	edit := newProduct("NEW")
	edit.Name, edit.OwnBox, edit.Oversize = "renamed", true, true
	p, err = e.svc.UpdateProduct(ctx, "NEW", 1, edit, "ADMIN:a1")
	if err != nil || p.Version != 2 || p.Name != "renamed" || !p.OwnBox || p.PriceFen != 1200 {
		t.Fatalf("update: %+v, %v", p, err)
	}
	// An operator who edited version 1 does not overwrite version 2.
	var vc *app.VersionConflictError
	if _, err := e.svc.UpdateProduct(ctx, "NEW", 1, newProduct("NEW"), "ADMIN:a2"); !errors.As(err, &vc) || vc.Current != 2 {
		t.Fatalf("stale update: %v", err)
	}
	// The same content again is no new version.
	if p, err = e.svc.UpdateProduct(ctx, "NEW", 2, edit, "ADMIN:a1"); err != nil || p.Version != 2 {
		t.Fatalf("unchanged update: %+v, %v", p, err)
	}
	if _, err := e.svc.UpdateProduct(ctx, "NOPE", 1, newProduct("NOPE"), "ADMIN:a1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown SKU: %v", err)
	}
	changes, err := e.svc.Changes(ctx, "NEW")
	if err != nil || len(changes) != 2 {
		t.Fatalf("changes %+v, %v", changes, err)
	}
	if c := changes[0]; c.Version != 2 || c.Action != "UPDATE" || c.By != "ADMIN:a1" || !strings.Contains(c.Before, `"name":"product NEW"`) ||
		!strings.Contains(c.After, `"name":"renamed"`) {
		t.Fatalf("audit of version 2: %+v", c)
	}
	if c := changes[1]; c.Version != 1 || c.Action != "CREATE" || c.By != "CATALOG_MANAGER:m1" || c.Before != "" {
		t.Fatalf("audit of version 1: %+v", c)
	}
	// A bundle of existing SKUs reads back with its components.
	b := newProduct("BNEW")
	b.Components = []domain.Component{{SKU: "NEW", Qty: 2}, {SKU: "A", Qty: 1}}
	if _, err := e.svc.CreateProduct(ctx, b, "ADMIN:a1"); err != nil {
		t.Fatal(err)
	}
	ps, err := e.svc.Products(ctx, []string{"BNEW"})
	if err != nil || len(ps[0].Components) != 2 || ps[0].Available != 0 {
		t.Fatalf("bundle %+v, %v", ps, err)
	}
}

// Bad input is refused with the field and the rule, and nothing changes.
func TestCatalogRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	products := e.count(t, `SELECT COUNT(*) FROM products`)
	self := newProduct("SELF")
	self.Components = []domain.Component{{SKU: "A", Qty: 1}, {SKU: "SELF", Qty: 1}}
	negative := newProduct("NEG")
	negative.PriceFen = -1
	zone := newProduct("ZONE")
	zone.Zone = "LUKEWARM"
	nested := newProduct("NEST")
	nested.Components = []domain.Component{{SKU: "BDL", Qty: 1}}
	unknown := newProduct("UNK")
	unknown.Components = []domain.Component{{SKU: "GHOST", Qty: 1}}
	dropShip := newProduct("DS")
	dropShip.DropShip = true
	toys := newProduct("TOYS")
	toys.Category = "TOYS"
	uncategorised := newProduct("NOCAT")
	uncategorised.Category = ""
	for _, c := range []struct {
		in            app.ProductInput
		field, reason string
	}{
		{self, "components[1].sku", domain.ReasonBundleContainsItself},
		{negative, "price_fen", domain.ReasonNegativePrice},
		{zone, "zone", domain.ReasonUnknownZone},
		{nested, "components[0].sku", domain.ReasonNestedBundle},
		{unknown, "components[0].sku", domain.ReasonUnknownComponent},
		{dropShip, "supplier", domain.ReasonSupplierRequired},
		{toys, "category", domain.ReasonUnknownCategory},
		{uncategorised, "category", domain.ReasonUnknownCategory},
	} {
		_, err := e.svc.CreateProduct(ctx, c.in, "ADMIN:a1")
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || ve.Reason != c.reason {
			t.Errorf("%s: err = %#v, want %s on %s", c.in.SKU, err, c.reason, c.field)
		}
	}
	// Edits: a bundle made to contain itself, a SKU with stock made a
	// bundle, a negative or past price.
	var ve *domain.ValidationError
	bdl := newProduct("BDL")
	bdl.Components = []domain.Component{{SKU: "A", Qty: 2}, {SKU: "BDL", Qty: 1}}
	if _, err := e.svc.UpdateProduct(ctx, "BDL", 1, bdl, "ADMIN:a1"); !errors.As(err, &ve) || ve.Reason != domain.ReasonBundleContainsItself {
		t.Errorf("bundle edited to contain itself: %v", err)
	}
	a := newProduct("A")
	a.Components = []domain.Component{{SKU: "B", Qty: 1}}
	if _, err := e.svc.UpdateProduct(ctx, "A", 1, a, "ADMIN:a1"); !errors.As(err, &ve) || ve.Reason != domain.ReasonKindChange {
		t.Errorf("SKU with stock made a bundle: %v", err)
	}
	if _, err := e.svc.SchedulePrice(ctx, "A", -5, nil, 0, "ADMIN:a1"); !errors.As(err, &ve) || ve.Reason != domain.ReasonNegativePrice {
		t.Errorf("negative price: %v", err)
	}
	past := t0.Add(-time.Hour)
	if _, err := e.svc.SchedulePrice(ctx, "A", 500, &past, 0, "ADMIN:a1"); !errors.As(err, &ve) || ve.Reason != domain.ReasonPriceInPast {
		t.Errorf("price in the past: %v", err)
	}
	if _, err := e.svc.SchedulePrice(ctx, "GHOST", 500, nil, 0, "ADMIN:a1"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("price of an unknown SKU: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM products`); n != products {
		t.Fatalf("%d products after refusals, want %d", n, products)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM catalog_changes`) + e.count(t, `SELECT COUNT(*) FROM prices WHERE created_by <> 'seed'`); n != 0 {
		t.Fatalf("%d changes recorded for refused calls", n)
	}
	wantAvail(t, e, map[string]int64{"BDL": 5})
}

// Every product has a category: the catalog stores it, audits its
// changes, filters by it, and refuses a product without a known one; a
// product entered before categories reads uncategorised and its next edit
// must name one.
func TestProductCategories(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fruit := newProduct("APPLE")
	fruit.Zone, fruit.Category = "CHILLED_HIGH", "FRUIT"
	if p, err := e.svc.CreateProduct(ctx, fruit, "CATALOG_MANAGER:m1"); err != nil || p.Category != domain.CategoryFruit {
		t.Fatalf("create: %+v, %v", p, err)
	}
	search := func(c domain.Category) []string {
		t.Helper()
		res, err := e.svc.Search(ctx, app.Filter{Category: c})
		if err != nil {
			t.Fatalf("search %s: %v", c, err)
		}
		var skus []string
		for _, p := range res.Items {
			if p.Category != c {
				t.Fatalf("search %s answered %s of %s", c, p.SKU, p.Category)
			}
			skus = append(skus, p.SKU)
		}
		return skus
	}
	if got := search(domain.CategoryFruit); fmt.Sprint(got) != "[APPLE]" {
		t.Fatalf("fruit: %v", got)
	}
	if got := search(domain.CategoryDairy); fmt.Sprint(got) != "[A B BDL C HBDL HOT]" {
		t.Fatalf("dairy: %v", got)
	}
	var ve *domain.ValidationError
	if _, err := e.svc.Search(ctx, app.Filter{Category: "TOYS"}); !errors.As(err, &ve) || ve.Reason != domain.ReasonUnknownCategory {
		t.Fatalf("search of an unknown category: %v", err)
	}
	fruit.Category = "VEGETABLE"
	p, err := e.svc.UpdateProduct(ctx, "APPLE", 1, fruit, "CATALOG_MANAGER:m1")
	if err != nil || p.Category != domain.CategoryVegetable || p.Version != 2 {
		t.Fatalf("recategorise: %+v, %v", p, err)
	}
	changes, err := e.svc.Changes(ctx, "APPLE")
	if err != nil || !strings.Contains(changes[0].Before, `"category":"FRUIT"`) || !strings.Contains(changes[0].After, `"category":"VEGETABLE"`) {
		t.Fatalf("audit: %+v, %v", changes, err)
	}
	if got := search(domain.CategoryFruit); len(got) != 0 {
		t.Fatalf("fruit after the change: %v", got)
	}
	fruit.Category = "APPLES"
	if _, err := e.svc.UpdateProduct(ctx, "APPLE", 2, fruit, "CATALOG_MANAGER:m1"); !errors.As(err, &ve) || ve.Field != "category" || ve.Reason != domain.ReasonUnknownCategory {
		t.Fatalf("edit to an unknown category: %v", err)
	}

	// A product from before migration 00007.
	if _, err := e.db.Exec(`UPDATE products SET category = NULL WHERE sku = 'A'`); err != nil {
		t.Fatal(err)
	}
	ps, err := e.svc.CatalogEntries(ctx, []string{"A"})
	if err != nil || ps[0].Category != "" {
		t.Fatalf("uncategorised product: %+v, %v", ps, err)
	}
	legacy := newProduct("A")
	legacy.Name, legacy.Category = "product A", ""
	if _, err := e.svc.UpdateProduct(ctx, "A", 1, legacy, "ADMIN:a1"); !errors.As(err, &ve) || ve.Reason != domain.ReasonUnknownCategory {
		t.Fatalf("edit of an uncategorised product without a category: %v", err)
	}
	legacy.Category = "DAIRY"
	if p, err := e.svc.UpdateProduct(ctx, "A", 1, legacy, "ADMIN:a1"); err != nil || p.Category != domain.CategoryDairy {
		t.Fatalf("categorised by its edit: %+v, %v", p, err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM products WHERE category IS NULL`); n != 0 {
		t.Fatalf("%d uncategorised products left", n)
	}
}

// inventoryOverHTTP serves inventory's API as its sidecar would and
// returns the client OMS uses, so errors cross the wire as they do in
// production (Problems with codes).
func inventoryOverHTTP(t *testing.T, svc *app.Service) *inventoryclient.Client {
	t.Helper()
	mux := chi.NewRouter()
	api.Mount(mux, svc)
	srv := httptest.NewServer(http.StripPrefix("/v1.0/invoke/"+inventoryclient.AppID+"/method", mux))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	n, _ := strconv.Atoi(port)
	return inventoryclient.New(daprx.NewInvoker(n))
}

// A price change scheduled for 10:00 applies to orders placed from 10:00;
// an order placed at 09:59 keeps the old price, and the catalog as of its
// placing time (what fulfillment fills it with) still says the old price
// after the change, after the row rolled on too.
func TestScheduledPriceAppliesAtItsTime(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := func(hhmm string) time.Time {
		d, _ := time.ParseInLocation("2006-01-02 15:04", "2025-03-01 "+hhmm, domain.Shanghai)
		return d
	}
	e.clock.Advance(at("09:59").Sub(e.clock.Now()))
	omsDB, _ := testdb.New(t, "oms")
	oms := omsapp.New(omsapp.Deps{Repo: omsstore.New(omsDB), Inventory: inventoryOverHTTP(t, e.svc), Pay: noPay{}, Clock: e.clock}, omsapp.Config{})
	place := func(key string, price money.Fen) (*omsdomain.Order, error) {
		o, _, err := oms.PlaceOrder(ctx, omsapp.PlaceOrder{IdempotencyKey: key, Placement: omsdomain.Placement{
			CustomerID: "C1", Source: "APP", Lines: []omsdomain.LineInput{{SKU: "A", Qty: 1, UnitPrice: price}},
			Address: omsdomain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"},
			Slot:    omsdomain.Slot{Type: omsdomain.SlotNextDay, Date: "2025-03-02"}}})
		return o, err
	}
	ten := at("10:00")
	p, err := e.svc.SchedulePrice(ctx, "A", 1500, &ten, 1, "CATALOG_MANAGER:m1")
	if err != nil || p.PriceFen != 990 || p.Next == nil || p.Next.Price != 1500 || p.Version != 2 {
		t.Fatalf("schedule: %+v, %v", p, err)
	}
	early, err := place("k-0959", 990)
	if err != nil {
		t.Fatalf("09:59 at the old price: %v", err)
	}
	mismatch := func(err error) bool {
		var ve *omsdomain.ValidationError
		return errors.As(err, &ve) && len(ve.Violations) == 1 && ve.Violations[0].Code == "PRICE_MISMATCH"
	}
	if _, err := place("k-0959-new", 1500); !mismatch(err) {
		t.Fatalf("09:59 at the new price: %v, want PRICE_MISMATCH", err)
	}

	e.clock.Advance(time.Minute) // 10:00:00
	if _, err := place("k-1000-old", 990); !mismatch(err) {
		t.Fatalf("10:00 at the old price: %v, want PRICE_MISMATCH", err)
	}
	if _, err := place("k-1000", 1500); err != nil {
		t.Fatalf("10:00 at the new price: %v", err)
	}
	check := func(when string) {
		t.Helper()
		o, err := oms.GetOrder(ctx, early.ID())
		if err != nil || o.Lines()[0].UnitPrice != 990 {
			t.Fatalf("%s: the 09:59 order's line %+v, %v", when, o.Lines(), err)
		}
		then, err := e.svc.CatalogEntriesAt(ctx, []string{"A"}, early.CreatedAt())
		if err != nil || then[0].PriceFen != 990 {
			t.Fatalf("%s: catalog as of 09:59 %+v, %v", when, then, err)
		}
		now, err := e.svc.CatalogEntriesAt(ctx, []string{"A"}, e.clock.Now())
		if err != nil || now[0].PriceFen != 1500 {
			t.Fatalf("%s: catalog as of now %+v, %v", when, now, err)
		}
	}
	check("before the roll")
	rep, err := e.svc.CheckBack(ctx)
	if err != nil || rep.PricesRolled != 1 {
		t.Fatalf("roll: %+v, %v", rep, err)
	}
	if n := e.count(t, `SELECT price_fen FROM products WHERE sku = 'A' AND next_price_at IS NULL`); n != 1500 {
		t.Fatalf("row after the roll: %d", n)
	}
	check("after the roll")
	hist, err := e.svc.PriceHistory(ctx, "A")
	if err != nil || len(hist) != 2 || hist[1].Price != 1500 || hist[1].By != "CATALOG_MANAGER:m1" {
		t.Fatalf("history %+v, %v", hist, err)
	}
}

// Operators editing the same version at once: exactly one change wins,
// the others are told the version moved, and the audit has one version
// per change.
func TestConcurrentEditsOfOneVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var won, conflicts atomic.Int64
	for i := range 8 {
		wg.Go(func() {
			in := newProduct("A")
			in.Name = fmt.Sprintf("edit %d", i)
			_, err := e.svc.UpdateProduct(ctx, "A", 1, in, fmt.Sprintf("ADMIN:a%d", i))
			var vc *app.VersionConflictError
			switch {
			case err == nil:
				won.Add(1)
			case errors.As(err, &vc) && vc.Current == 2:
				conflicts.Add(1)
			default:
				t.Errorf("edit %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || conflicts.Load() != 7 {
		t.Fatalf("%d won, %d conflicts; want 1 and 7", won.Load(), conflicts.Load())
	}
	if n := e.count(t, `SELECT COUNT(*) FROM catalog_changes WHERE sku = 'A'`); n != 1 {
		t.Fatalf("%d audited versions, want 1", n)
	}
	if n := e.count(t, `SELECT version FROM products WHERE sku = 'A'`); n != 2 {
		t.Fatalf("version %d, want 2", n)
	}
}
