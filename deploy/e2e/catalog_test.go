package e2e

import (
	"testing"
	"time"

	"github.com/harvest/harvest/deploy/gqlc"
)

const (
	mSchedule = `mutation($sku:ID!,$p:Int!,$from:Time){ schedulePrice(sku:$sku, priceFen:$p, validFrom:$from){
		product{ priceFen version nextPrice{ priceFen validFrom } } errors{ code message field reason } } }`
	mCreate  = `mutation($in:CreateProductInput!){ createProduct(input:$in){ product{ sku version } errors{ code message field reason } } }`
	qChanges = `query($sku:ID!){ catalogChanges(sku:$sku){ version action changedBy before after } }`
	qLines   = `query($id:ID!){ order(id:$id){ lines{ sku unitPriceFen } } }`
)

type payloadErrors struct{ Errors []userError }

func schedule(t *testing.T, c *gqlc.Client, sku string, price int64, from time.Time) []userError {
	t.Helper()
	var out struct{ SchedulePrice payloadErrors }
	if err := c.Do(ctx(t), mSchedule, map[string]any{"sku": sku, "p": price, "from": from}, &out); err != nil {
		t.Fatal(err)
	}
	return out.SchedulePrice.Errors
}

// A price change scheduled for a time applies to the orders placed from
// that time on; an order placed just before keeps the old price. Bad
// catalog input is refused precisely and changes nothing.
func TestScheduledPriceThroughTheStack(t *testing.T) {
	manager := client(t, "CATALOG_MANAGER", "m1")
	c := client(t, "CUSTOMER", "C0091")
	p := plainProducts(t, c, 1, 9)[0]
	if err := c.Do(ctx(t), mSchedule, map[string]any{"sku": p.SKU, "p": 1, "from": time.Now().Add(time.Hour)}, nil); err == nil {
		t.Fatal("a customer scheduled a price")
	}
	from := time.Now().Add(4 * time.Second).Truncate(time.Second)
	newPrice := p.PriceFen + 100
	if errs := schedule(t, manager, p.SKU, newPrice, from); len(errs) > 0 {
		t.Fatalf("schedule: %+v", errs)
	}
	early, errs := place(t, c, orderInput([]product{p}, 1, nil))
	if time.Now().After(from) {
		t.Skip("the machine is too slow to place before the change; nothing to judge")
	}
	if len(errs) > 0 {
		t.Fatalf("placing before the change at the old price: %+v", errs)
	}
	time.Sleep(time.Until(from))
	if _, errs := place(t, c, orderInput([]product{p}, 1, nil)); len(errs) != 1 || errs[0].Reason != "PRICE_MISMATCH" {
		t.Fatalf("the old price after the change: %+v, want PRICE_MISMATCH", errs)
	}
	p2 := p
	p2.PriceFen = newPrice
	mustPlace(t, c, orderInput([]product{p2}, 1, nil))
	var lines struct {
		Order struct {
			Lines []struct{ UnitPriceFen int64 }
		}
	}
	if err := c.Do(ctx(t), qLines, map[string]any{"id": early.ID}, &lines); err != nil || lines.Order.Lines[0].UnitPriceFen != p.PriceFen {
		t.Fatalf("the early order's line %+v, %v; want %d", lines, err, p.PriceFen)
	}
	var changes struct {
		CatalogChanges []struct {
			Version   int64
			Action    string
			ChangedBy string
		}
	}
	if err := manager.Do(ctx(t), qChanges, map[string]any{"sku": p.SKU}, &changes); err != nil || len(changes.CatalogChanges) != 1 ||
		changes.CatalogChanges[0].Action != "PRICE" || changes.CatalogChanges[0].ChangedBy != "CATALOG_MANAGER:m1" {
		t.Fatalf("audit %+v, %v", changes, err)
	}

	// Bad input, each refused with its rule, nothing created.
	newProduct := func(sku string, price int64, comps ...map[string]any) map[string]any {
		return map[string]any{"sku": sku, "priceFen": price, "product": map[string]any{"name": "x", "zone": "AMBIENT", "category": "GRAIN_OIL", "taxRateBp": 900,
			"warehouse": "WH-SH", "components": comps}}
	}
	for _, tc := range []struct {
		in     map[string]any
		reason string
	}{
		{newProduct("E2E-SELF", 100, map[string]any{"sku": p.SKU, "qty": 1}, map[string]any{"sku": "E2E-SELF", "qty": 1}), "BUNDLE_CONTAINS_ITSELF"},
		{newProduct("E2E-NEG", -1), "NEGATIVE_PRICE"},
	} {
		var out struct{ CreateProduct payloadErrors }
		if err := manager.Do(ctx(t), mCreate, map[string]any{"in": tc.in}, &out); err != nil {
			t.Fatal(err)
		}
		if errs := out.CreateProduct.Errors; len(errs) != 1 || errs[0].Reason != tc.reason {
			t.Errorf("%v: %+v, want %s", tc.in["sku"], errs, tc.reason)
		}
	}
	zone := newProduct("E2E-ZONE", 100)
	zone["product"].(map[string]any)["zone"] = "LUKEWARM"
	if err := manager.Do(ctx(t), mCreate, map[string]any{"in": zone}, nil); err == nil {
		t.Error("an unknown zone was accepted")
	}
	for _, sku := range []string{"E2E-SELF", "E2E-NEG", "E2E-ZONE"} {
		var out struct{ Product *product }
		if err := c.Do(ctx(t), qProduct, map[string]any{"sku": sku}, &out); err != nil || out.Product != nil {
			t.Errorf("%s exists after its refusal: %+v %v", sku, out.Product, err)
		}
	}
}
