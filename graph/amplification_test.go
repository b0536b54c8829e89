package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/graph"
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

// A 30,000-item deductNonCash was forwarded to PAY, which would hold an
// account lock over ~60 k statements. Every list argument is capped before
// any service is called, with an error naming the field and the cap.
func TestListInputsAreCapped(t *testing.T) {
	alice := as(t, "alice", auth.RoleCustomer)
	items := func(n int) string {
		return "[" + strings.Repeat(`{kind:POINTS,amountFen:1},`, n) + "]"
	}
	deduct := func(n int) string {
		return `mutation { deductNonCash(input: {items: ` + items(n) + `}, idempotencyKey: "k") { deduction { id } errors { code field reason message } } }`
	}

	t.Run("30,000 items never reach PAY", func(t *testing.T) {
		e := newEnv(t)
		_, errs := post(t, e.c, deduct(30000), alice)
		wantCode(t, errs, graph.CodeListTooLong)
		if errs[0].Message != "argument input.items of deductNonCash holds 30000 entries, at most 500" {
			t.Errorf("message %q", errs[0].Message)
		}
		if len(e.pay.deducts) != 0 {
			t.Fatalf("PAY was asked for %d items", len(e.pay.deducts[0].Items))
		}
	})
	t.Run("a list in a variable is capped too", func(t *testing.T) {
		e := newEnv(t)
		ids := make([]string, 501)
		for i := range ids {
			ids[i] = fmt.Sprint("c", i)
		}
		q := strings.Replace(placeOrder, `deductionIds: ["d1"]`, `deductionIds: ["d1"], couponIds: $ids`, 1)
		q = strings.Replace(q, `mutation($key: String!)`, `mutation($key: String!, $ids: [ID!])`, 1)
		_, errs := post(t, e.c, q, alice, client.Var("key", "k"), client.Var("ids", ids))
		wantCode(t, errs, graph.CodeListTooLong)
		if len(e.oms.placed) != 0 {
			t.Fatal("OMS was called")
		}
	})
	t.Run("field caps are user errors", func(t *testing.T) {
		e := newEnv(t)
		data, errs := post(t, e.c, deduct(graph.MaxDeductItems+1), alice)
		if len(errs) != 0 || jsonOf(data) != `{"deductNonCash":{"deduction":null,"errors":[{"code":"VALIDATION_FAILED","field":["input","items"],"message":"input.items holds 21 entries, at most 20","reason":"TOO_MANY"}]}}` {
			t.Fatalf("%s %v", jsonOf(data), errs)
		}
		if len(e.pay.deducts) != 0 {
			t.Fatal("PAY was called")
		}
		data, _ = post(t, e.c, deduct(graph.MaxDeductItems), alice)
		if jsonOf(data) != `{"deductNonCash":{"deduction":{"id":"d1"},"errors":[]}}` {
			t.Fatalf("%d items: %s", graph.MaxDeductItems, jsonOf(data))
		}

		lines := strings.Repeat(`{sku: "apple", qty: 1, unitPriceFen: 1205}, `, omsclient.MaxLines+1)
		q := strings.Replace(placeOrder, `lines: [{sku: "apple", qty: 1, unitPriceFen: 1205}, {sku: "milk", qty: 2, unitPriceFen: 1}]`, "lines: ["+lines+"]", 1)
		q = strings.Replace(q, `deductionIds: ["d1"]`, `deductionIds: ["d1"], couponIds: [`+strings.Repeat(`"c", `, omsclient.MaxCoupons+1)+`]`, 1)
		data, errs = post(t, e.c, q, alice, client.Var("key", "k"))
		if len(errs) != 0 || jsonOf(data["placeOrder"].(map[string]any)["errors"]) != `[{"code":"VALIDATION_FAILED","field":["input","lines"],"message":"input.lines holds 101 entries, at most 100","reason":"TOO_MANY"},`+
			`{"code":"VALIDATION_FAILED","field":["input","couponIds"],"message":"input.couponIds holds 11 entries, at most 10","reason":"TOO_MANY"}]` {
			t.Fatalf("%s %v", jsonOf(data), errs)
		}
		if len(e.oms.placed) != 0 {
			t.Fatal("OMS was called")
		}
	})
}

// cancelOrder.reason failed as an internal error past 500 characters; now
// the gateway refuses it as OMS does, and nothing is cancelled.
func TestCancelReasonTooLong(t *testing.T) {
	e := newEnv(t)
	alice := as(t, "alice", auth.RoleCustomer)
	cancel := `mutation($r: String) { cancelOrder(orderId: "o-alice", idempotencyKey: "c-1", reason: $r) { order { status } errors { code field reason message } } }`
	data, errs := post(t, e.c, cancel, alice, client.Var("r", strings.Repeat("长", omsclient.MaxCancelReason+1)))
	if len(errs) != 0 || jsonOf(data) != `{"cancelOrder":{"errors":[{"code":"VALIDATION_FAILED","field":["reason"],"message":"reason must be at most 500 characters, got 501","reason":"REASON_TOO_LONG"}],"order":null}}` {
		t.Fatalf("%s %v", jsonOf(data), errs)
	}
	if len(e.oms.cancels) != 0 {
		t.Fatal("OMS was asked to cancel")
	}
	data, _ = post(t, e.c, cancel, alice, client.Var("r", strings.Repeat("长", omsclient.MaxCancelReason)))
	if jsonOf(data) != `{"cancelOrder":{"errors":[],"order":{"status":"CANCELLED"}}}` {
		t.Fatalf("500 characters: %s", jsonOf(data))
	}
}
