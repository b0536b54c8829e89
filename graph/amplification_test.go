package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/graph/auth"
)

// aliases repeats field n times under the aliases a0, a1, ...
func aliases(n int, field func(i int) string) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field(i))
	}
	b.WriteString("}")
	return b.String()
}

// 250 aliased product fields made 250 inventory calls: the single-item
// resolver skipped the dataloader. Now they cost one batched call per 200.
func TestAliasedProductsAreBatched(t *testing.T) {
	e := newEnv(t)
	for i := range 249 {
		sku := fmt.Sprintf("p%03d", i)
		e.inv.products[sku] = inventoryclient.Product{SKU: sku, Name: sku, Zone: inventoryclient.ZoneAmbient}
	}
	q := aliases(250, func(i int) string { return fmt.Sprintf(`product(sku: "p%03d") { sku }`, i) }) // p249 is unknown
	data, errs := post(t, e.c, q)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if jsonOf(data["a7"]) != `{"sku":"p007"}` || data["a249"] != nil {
		t.Errorf("a7 = %s, a249 = %s", jsonOf(data["a7"]), jsonOf(data["a249"]))
	}
	// A batch of 200 and one of 50, and the one holding the unknown SKU
	// asked again without it: never a call per alias.
	if n := len(e.inv.batches); n != 3 || len(e.inv.batches[0]) > 200 || len(e.inv.batches[1]) > 200 {
		t.Fatalf("inventory calls = %d (sizes %v), want 2 batches and one retry", n, sizes(e.inv.batches))
	}
}

// 200 aliased order fields made 200 OMS calls; now one per 100 ids, and a
// customer still sees only their own orders.
func TestAliasedOrdersAreBatched(t *testing.T) {
	e := newEnv(t)
	for i := range 200 {
		id := fmt.Sprintf("o%03d", i)
		e.oms.orders[id] = omsclient.Order{ID: id, CustomerID: "alice", Source: omsclient.SourceApp, Status: omsclient.StatusPaid}
	}
	q := aliases(200, func(i int) string { return fmt.Sprintf(`order(id: "o%03d") { id }`, i) })
	q = strings.Replace(q, `"o199"`, `"o-bob"`, 1)
	data, errs := post(t, e.c, q, as(t, "alice", auth.RoleCustomer))
	if len(errs) != 1 || codes(errs)[0] != "NOT_FOUND" || data["a199"] != nil || jsonOf(data["a5"]) != `{"id":"o005"}` {
		t.Fatalf("errors %v, a5 %s, a199 %s", errs, jsonOf(data["a5"]), jsonOf(data["a199"]))
	}
	if len(e.oms.gets) != 2 || len(e.oms.gets[0]) != omsclient.MaxBatchOrders {
		t.Fatalf("OMS calls = %d (sizes %v), want 2 of at most %d", len(e.oms.gets), sizes(e.oms.gets), omsclient.MaxBatchOrders)
	}
}

// Fields no loader batches (one call each, whatever their argument) are
// priced so that aliasing them hits the complexity limit first.
func TestAliasedUnbatchedFieldsHitComplexity(t *testing.T) {
	e := newEnv(t)
	_, errs := post(t, e.c, aliases(21, func(int) string { return `myAccounts { balanceFen }` }), as(t, "alice", auth.RoleCustomer))
	wantCode(t, errs, "COMPLEXITY_LIMIT_EXCEEDED")
	_, errs = post(t, e.c, aliases(21, func(i int) string { return fmt.Sprintf(`fulfillmentTimeline(orderId: "o%d") { orderId }`, i) }),
		as(t, "sup", auth.RoleCSSupervisor))
	wantCode(t, errs, "COMPLEXITY_LIMIT_EXCEEDED")
	data, errs := post(t, e.c, aliases(2, func(int) string { return `myAccounts { balanceFen }` }), as(t, "alice", auth.RoleCustomer))
	if len(errs) != 0 || jsonOf(data) != `{"a0":{"balanceFen":12345},"a1":{"balanceFen":12345}}` {
		t.Fatalf("%s %v", jsonOf(data), errs)
	}
}

func sizes(batches [][]string) []int {
	out := make([]int, len(batches))
	for i, b := range batches {
		out[i] = len(b)
	}
	return out
}
