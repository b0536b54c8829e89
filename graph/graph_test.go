package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

type gqlErr struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// post runs q and returns the decoded data and the top-level errors.
func post(t *testing.T, c *client.Client, q string, opts ...client.Option) (map[string]any, []gqlErr) {
	t.Helper()
	resp, err := c.RawPost(q, opts...)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	var errs []gqlErr
	if len(resp.Errors) > 0 {
		if err := json.Unmarshal(resp.Errors, &errs); err != nil {
			t.Fatalf("errors: %v", err)
		}
	}
	data, _ := resp.Data.(map[string]any)
	return data, errs
}

func codes(errs []gqlErr) []string {
	var out []string
	for _, e := range errs {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

func wantCode(t *testing.T, errs []gqlErr, code string) {
	t.Helper()
	if len(errs) != 1 || codes(errs)[0] != code {
		t.Fatalf("errors = %+v, want one with code %s", errs, code)
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestAuthentication(t *testing.T) {
	e := newEnv(t)

	t.Run("public catalog needs no token", func(t *testing.T) {
		data, errs := post(t, e.c, `{ product(sku: "milk") { sku stockState priceFen priceFormatted } }`)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if got := jsonOf(data["product"]); got != `{"priceFen":890,"priceFormatted":"¥8.90","sku":"milk","stockState":"LOW"}` {
			t.Errorf("product = %s", got)
		}
	})
	t.Run("no token", func(t *testing.T) {
		_, errs := post(t, e.c, `{ myOrders { totalCount } }`)
		wantCode(t, errs, graph.CodeUnauthenticated)
		if len(e.oms.lists) != 0 {
			t.Error("resolver ran without a token")
		}
	})
	t.Run("bad token is refused with 401", func(t *testing.T) {
		forged, _ := auth.Mint([]byte("not-the-gateway-secret-at-all!!"), auth.Identity{Subject: "alice", Role: auth.RoleAdmin}, 3600e9)
		_, err := e.c.RawPost(`{ me { subject } }`, client.AddHeader("Authorization", "Bearer "+forged))
		if err == nil || !strings.Contains(err.Error(), "http 401") || !strings.Contains(err.Error(), graph.CodeUnauthenticated) {
			t.Fatalf("err = %v, want http 401 UNAUTHENTICATED", err)
		}
	})
	t.Run("wrong role", func(t *testing.T) {
		_, errs := post(t, e.c, `{ myAccounts { balanceFen } }`, as(t, "agent7", auth.RoleCSAgent))
		wantCode(t, errs, graph.CodeForbidden)
		_, errs = post(t, e.c, `{ order(id: "o-bob") { id } }`, as(t, "w1", auth.RoleWarehouseOperator))
		wantCode(t, errs, graph.CodeForbidden)
	})
	t.Run("customer cannot read another customer's order", func(t *testing.T) {
		data, errs := post(t, e.c, `{ order(id: "o-bob") { id customerId } }`, as(t, "alice", auth.RoleCustomer))
		wantCode(t, errs, graph.CodeNotFound)
		if data["order"] != nil {
			t.Errorf("order leaked: %v", data["order"])
		}
		// Indistinguishable from an order that does not exist.
		_, errs2 := post(t, e.c, `{ order(id: "o-nope") { id } }`, as(t, "alice", auth.RoleCustomer))
		wantCode(t, errs2, graph.CodeNotFound)
		if errs[0].Message != errs2[0].Message {
			t.Errorf("messages differ: %q vs %q", errs[0].Message, errs2[0].Message)
		}
	})
	t.Run("owner and CS read the order", func(t *testing.T) {
		data, errs := post(t, e.c, `{ order(id: "o-alice") { id totalFen totalFormatted timeline { type } } }`, as(t, "alice", auth.RoleCustomer))
		if len(errs) != 0 || jsonOf(data["order"]) != `{"id":"o-alice","timeline":[{"type":"PLACED"}],"totalFen":1205,"totalFormatted":"¥12.05"}` {
			t.Fatalf("owner: %v %v", jsonOf(data), errs)
		}
		data, errs = post(t, e.c, `{ order(id: "o-bob") { customerId } }`, as(t, "sup", auth.RoleCSSupervisor))
		if len(errs) != 0 || jsonOf(data["order"]) != `{"customerId":"bob"}` {
			t.Fatalf("cs: %v %v", data, errs)
		}
	})
	t.Run("my fields use the token subject", func(t *testing.T) {
		data, errs := post(t, e.c, `{ myOrders(status: PAID) { totalCount edges { node { id } } } }`, as(t, "bob", auth.RoleCustomer))
		if len(errs) != 0 || jsonOf(data) != `{"myOrders":{"edges":[{"node":{"id":"o-bob"}}],"totalCount":1}}` {
			t.Fatalf("%s %v", jsonOf(data), errs)
		}
		if last := e.oms.lists[len(e.oms.lists)-1]; last.CustomerID != "bob" || last.Status != "PAID" || last.First != 20 {
			t.Errorf("list request = %+v", last)
		}
	})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	mutation := `mutation { deductNonCash(input: {items: [{kind: BALANCE, amountFen: 100}]}, idempotencyKey: "k1") { errors { code } } }`
	tok := "Bearer " + token(t, "alice", auth.RoleCustomer)

	for name, req := range map[string]*http.Request{
		"form post": func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(url.Values{"query": {mutation}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(),
		"text/plain post": func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(jsonOf(map[string]string{"query": mutation})))
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(),
		"GET mutation": httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {mutation}}.Encode(), nil),
	} {
		t.Run(name, func(t *testing.T) {
			req.Header.Set("Authorization", tok)
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, req)
			if w.Code < 400 {
				t.Fatalf("status %d body %s, want refusal", w.Code, w.Body)
			}
			if len(e.pay.deducts) != 0 {
				t.Fatalf("mutation ran: %+v", e.pay.deducts)
			}
		})
	}
	t.Run("GET query still works", func(t *testing.T) {
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {`{ product(sku: "apple") { name } }`}}.Encode(), nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"name":"Apple"`) {
			t.Fatalf("status %d body %s", w.Code, w.Body)
		}
	})
	t.Run("JSON post runs the mutation", func(t *testing.T) {
		data, errs := post(t, e.c, mutation, client.AddHeader("Authorization", tok))
		if len(errs) != 0 || jsonOf(data) != `{"deductNonCash":{"errors":[]}}` || len(e.pay.deducts) != 1 {
			t.Fatalf("%v %v %d", data, errs, len(e.pay.deducts))
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		body := jsonOf(map[string]string{"query": "{ product(sku: \"" + strings.Repeat("x", 2<<20) + "\") { sku } }"})
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", w.Code)
		}
	})
}

func TestComplexityAndDepth(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.MaxDepth = 5 })
	all := `edges { cursor node { sku name priceFen priceFormatted zone warehouse taxRateBp dropShip presale bundle available stockState } }`
	_, errs := post(t, e.c, `{ products(first: 100) { `+all+` } }`)
	wantCode(t, errs, "COMPLEXITY_LIMIT_EXCEEDED")
	if len(e.inv.searches) != 0 {
		t.Fatal("inventory was asked for a refused query")
	}
	data, errs := post(t, e.c, `{ products(first: 2, filter: {inStock: true}) { totalCount pageInfo { hasNextPage endCursor } `+all+` } }`)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	conn := data["products"].(map[string]any)
	if jsonOf(conn["pageInfo"]) != `{"endCursor":"milk","hasNextPage":false}` || len(conn["edges"].([]any)) != 2 {
		t.Errorf("products = %s", jsonOf(conn))
	}

	// Depth: order.lines.product.sku is 4 deep; myOrders.edges.node.lines.product.sku is 6,
	// also when hidden in fragments.
	_, errs = post(t, e.c, `{ order(id: "o-alice") { lines { product { sku } } } }`, as(t, "alice", auth.RoleCustomer))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	_, errs = post(t, e.c, `query { myOrders { ...E } } fragment E on OrderConnection { edges { node { ... on Order { lines { product { sku } } } } } }`, as(t, "alice", auth.RoleCustomer))
	wantCode(t, errs, graph.CodeQueryTooDeep)
}

func TestIntrospectionOnlyInDevelopment(t *testing.T) {
	_, errs := post(t, newEnv(t).c, `{ __typename a: __schema { queryType { name } } }`)
	wantCode(t, errs, graph.CodeIntrospectionDisabled)
	data, errs := post(t, newEnv(t, func(o *graph.Options) { o.Development = true }).c, `{ __schema { queryType { name } } }`)
	if len(errs) != 0 || jsonOf(data) != `{"__schema":{"queryType":{"name":"Query"}}}` {
		t.Fatalf("%v %v", data, errs)
	}
}

const placeOrder = `mutation($key: String!) { placeOrder(idempotencyKey: $key, input: {
	source: APP, channel: WECHAT,
	lines: [{sku: "apple", qty: 1, unitPriceFen: 1205}, {sku: "milk", qty: 2, unitPriceFen: 1}],
	address: {name: "A", phone: "x", province: "SH", city: "SH", district: "PD", detail: "1"},
	slot: {type: NEXT_DAY, date: "2030-01-02"}, deductionIds: ["d1"]
}) { order { id status totalFen lines { sku } } errors { code message field reason } } }`

func TestPlaceOrderUserErrors(t *testing.T) {
	alice := as(t, "alice", auth.RoleCustomer)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"violations with field paths", (&httpapi.Problem{Status: 422, Code: omsclient.CodeValidation, Message: "invalid order"}).With(map[string]any{
			// As a real client decodes it from JSON.
			"violations": []any{
				map[string]any{"field": "lines[1].unit_price_fen", "code": "PRICE_MISMATCH", "message": "price is 890"},
				map[string]any{"field": "address.phone", "code": "BAD_PHONE", "message": "not a phone number"},
			}}),
			`[{"code":"VALIDATION_FAILED","field":["input","lines","1","unitPriceFen"],"message":"price is 890","reason":"PRICE_MISMATCH"},` +
				`{"code":"VALIDATION_FAILED","field":["input","address","phone"],"message":"not a phone number","reason":"BAD_PHONE"}]`},
		{"out of stock names the line", (&httpapi.Problem{Status: 409, Code: omsclient.CodeOutOfStock, Message: "out of stock"}).With(map[string]any{"skus": []any{"milk"}}),
			`[{"code":"OUT_OF_STOCK","field":["input","lines","1","sku"],"message":"milk: out of stock","reason":null}]`},
		{"key reused", &httpapi.Problem{Status: 409, Code: omsclient.CodeIdempotencyReuse, Message: "key used with other input"},
			`[{"code":"IDEMPOTENCY_KEY_REUSED","field":["idempotencyKey"],"message":"key used with other input","reason":null}]`},
		{"deduction invalid", &httpapi.Problem{Status: 422, Code: omsclient.CodeDeductionInvalid, Message: "deduction d1 is used"},
			`[{"code":"DEDUCTION_INVALID","field":["input","deductionIds"],"message":"deduction d1 is used","reason":null}]`},
		// The placement outlasted its reservation (inventory's check-back
		// released it): a typed answer, not INTERNAL.
		{"placement expired", &httpapi.Problem{Status: 409, Code: omsclient.CodePlacementExpired, Message: "placement took too long"},
			`[{"code":"PLACEMENT_EXPIRED","field":["input"],"message":"placement took too long","reason":null}]`},
		{"slot full names the slot", &httpapi.Problem{Status: 409, Code: omsclient.CodeSlotFull, Message: "delivery slot full: NEXT_DAY delivery on 2030-01-02 from WH-SH"},
			`[{"code":"SLOT_FULL","field":["input","slot"],"message":"delivery slot full: NEXT_DAY delivery on 2030-01-02 from WH-SH","reason":null}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.oms.placeErr = tc.err
			data, errs := post(t, e.c, placeOrder, alice, client.Var("key", "k-1"))
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			p := data["placeOrder"].(map[string]any)
			if p["order"] != nil || jsonOf(p["errors"]) != tc.want {
				t.Errorf("payload = %s\nwant errors %s", jsonOf(p), tc.want)
			}
		})
	}
	t.Run("success acts for the token's subject", func(t *testing.T) {
		e := newEnv(t)
		data, errs := post(t, e.c, placeOrder, alice, client.Var("key", "k-1"))
		if len(errs) != 0 || jsonOf(data) != `{"placeOrder":{"errors":[],"order":{"id":"o-new","lines":[{"sku":"apple"},{"sku":"milk"}],"status":"PENDING_PAYMENT","totalFen":1207}}}` {
			t.Fatalf("%s %v", jsonOf(data), errs)
		}
		r := e.oms.placed[0]
		if r.CustomerID != "alice" || r.IdempotencyKey != "k-1" || r.Source != "APP" || r.Channel != "WECHAT" || r.Slot.Type != "NEXT_DAY" || r.DeductionIDs[0] != "d1" {
			t.Errorf("request = %+v", r)
		}
	})
	t.Run("internal failures are hidden", func(t *testing.T) {
		e := newEnv(t)
		e.oms.placeErr = errors.New("dial tcp 10.0.0.7:3306: password=hunter2 refused")
		resp, err := e.c.RawPost(placeOrder, alice, client.Var("key", "k-1"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(resp.Errors), "hunter2") || !strings.Contains(string(resp.Errors), `"code":"INTERNAL"`) {
			t.Fatalf("errors = %s", resp.Errors)
		}
	})
	t.Run("a backend that did not answer in time is UNAVAILABLE, not INTERNAL", func(t *testing.T) {
		for _, cause := range []error{
			httpapi.Errorf(http.StatusServiceUnavailable, httpapi.CodeUnavailable, "the request did not finish in time"),
			fmt.Errorf("invoke oms: %w", context.DeadlineExceeded),
		} {
			e := newEnv(t)
			e.oms.placeErr = cause
			resp, err := e.c.RawPost(placeOrder, alice, client.Var("key", "k-1"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(resp.Errors), `"code":"UNAVAILABLE"`) {
				t.Fatalf("%v: errors = %s", cause, resp.Errors)
			}
		}
	})
	t.Run("customers cannot place ToB orders", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.c.RawPost(strings.Replace(placeOrder, "source: APP", "source: SALES_PLAN", 1), alice, client.Var("key", "k-1"))
		if err == nil || !strings.Contains(err.Error(), "GRAPHQL_VALIDATION_FAILED") {
			t.Fatalf("err = %v, want a validation failure", err)
		}
		if len(e.oms.placed) != 0 {
			t.Fatal("order placed")
		}
	})
}

func TestPaymentAndCancelUserErrors(t *testing.T) {
	alice := as(t, "alice", auth.RoleCustomer)
	pay := `mutation($id: ID!) { startCashPayment(orderId: $id, channel: ALIPAY, idempotencyKey: "p-1") {
		payment { tradeId cashierUrl amountFen amountFormatted expiresAt } errors { code field reason } } }`

	e := newEnv(t)
	data, errs := post(t, e.c, pay, alice, client.Var("id", "o-alice"))
	if len(errs) != 0 || jsonOf(data) != `{"startCashPayment":{"errors":[],"payment":{"amountFen":990,"amountFormatted":"¥9.90","cashierUrl":"https://pay.example/t1","expiresAt":"2030-01-01T00:10:00Z","tradeId":"t1"}}}` {
		t.Fatalf("%s %v", jsonOf(data), errs)
	}
	if r := e.pay.payments[0]; r.CustomerID != "alice" || r.Channel != payclient.ChannelAlipay || r.OrderID != "o-alice" {
		t.Errorf("payment request %+v", r)
	}

	data, _ = post(t, e.c, pay, alice, client.Var("id", "o-bob"))
	if jsonOf(data) != `{"startCashPayment":{"errors":[{"code":"NOT_FOUND","field":["orderId"],"reason":null}],"payment":null}}` || len(e.pay.payments) != 1 {
		t.Fatalf("paying another's order: %s", jsonOf(data))
	}

	e.pay.payErr = (&httpapi.Problem{Status: 409, Code: payclient.CodeNotPayable, Message: "too late"}).With(map[string]any{"reason": "DEADLINE_PASSED"})
	data, _ = post(t, e.c, pay, alice, client.Var("id", "o-alice"))
	if jsonOf(data) != `{"startCashPayment":{"errors":[{"code":"ORDER_NOT_PAYABLE","field":["orderId"],"reason":"DEADLINE_PASSED"}],"payment":null}}` {
		t.Fatalf("not payable: %s", jsonOf(data))
	}

	e.pay.deductErr = (&httpapi.Problem{Status: 409, Code: payclient.CodeInsufficient, Message: "balance too low"}).With(map[string]any{"kind": "BALANCE"})
	data, _ = post(t, e.c, `mutation { deductNonCash(input: {items: [{kind: BALANCE, amountFen: 99999}]}, idempotencyKey: "d-1") { deduction { id } errors { code reason } } }`, alice)
	if jsonOf(data) != `{"deductNonCash":{"deduction":null,"errors":[{"code":"INSUFFICIENT_FUNDS","reason":"BALANCE"}]}}` {
		t.Fatalf("insufficient: %s", jsonOf(data))
	}
	// PAY's own cap on a deduction's items comes back on the field it names.
	e.pay.deductErr = (&httpapi.Problem{Status: 400, Code: payclient.CodeTooMany, Message: "at most 50 items"}).With(map[string]any{"field": "items", "max": 50})
	data, _ = post(t, e.c, `mutation { deductNonCash(input: {items: [{kind: BALANCE, amountFen: 1}]}, idempotencyKey: "d-2") { deduction { id } errors { code field reason } } }`, alice)
	if jsonOf(data) != `{"deductNonCash":{"deduction":null,"errors":[{"code":"VALIDATION_FAILED","field":["input","items"],"reason":"TOO_MANY"}]}}` {
		t.Fatalf("too many items: %s", jsonOf(data))
	}

	cancel := `mutation($id: ID!) { cancelOrder(orderId: $id, idempotencyKey: "c-1") { order { status } errors { code field } } }`
	data, _ = post(t, e.c, cancel, as(t, "bob", auth.RoleCustomer), client.Var("id", "o-bob"))
	if jsonOf(data) != `{"cancelOrder":{"errors":[{"code":"ORDER_NOT_CANCELLABLE","field":["orderId"]}],"order":null}}` {
		t.Fatalf("cancel paid: %s", jsonOf(data))
	}
	data, _ = post(t, e.c, cancel, alice, client.Var("id", "o-bob"))
	if jsonOf(data) != `{"cancelOrder":{"errors":[{"code":"NOT_FOUND","field":["orderId"]}],"order":null}}` || len(e.oms.cancels) != 1 {
		t.Fatalf("cancel another's: %s (cancels %v)", jsonOf(data), e.oms.cancels)
	}
	data, _ = post(t, e.c, cancel, alice, client.Var("id", "o-alice"))
	if jsonOf(data) != `{"cancelOrder":{"errors":[],"order":{"status":"CANCELLED"}}}` {
		t.Fatalf("cancel own: %s", jsonOf(data))
	}
}

func TestIdempotencyKeyValidation(t *testing.T) {
	alice := as(t, "alice", auth.RoleCustomer)
	for _, key := range []string{"", "   ", strings.Repeat("k", 65), "a\nb"} {
		e := newEnv(t)
		data, errs := post(t, e.c, placeOrder, alice, client.Var("key", key))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		got := jsonOf(data["placeOrder"].(map[string]any)["errors"])
		if !strings.HasPrefix(got, `[{"code":"VALIDATION_FAILED","field":["idempotencyKey"]`) || len(e.oms.placed) != 0 {
			t.Errorf("key %q: errors %s, placed %d", key, got, len(e.oms.placed))
		}
	}
	e := newEnv(t)
	data, _ := post(t, e.c, placeOrder, alice, client.Var("key", strings.Repeat("k", 64)))
	if got := jsonOf(data["placeOrder"].(map[string]any)["errors"]); got != "[]" || len(e.oms.placed) != 1 {
		t.Errorf("64-char key refused: %s", got)
	}
}

func TestOrderLinesBatchProducts(t *testing.T) {
	e := newEnv(t)
	o := omsclient.Order{ID: "o-big", CustomerID: "alice", Source: omsclient.SourceApp, Status: omsclient.StatusPaid}
	for i := range 20 {
		sku := "sku-" + string(rune('a'+i))
		e.inv.products[sku] = inventoryclient.Product{SKU: sku, Name: sku, Zone: inventoryclient.ZoneAmbient, Available: int64(i)}
		o.Lines = append(o.Lines, omsclient.Line{SKU: sku, Qty: 1})
	}
	o.Lines = append(o.Lines, omsclient.Line{SKU: "sku-a", Qty: 2}) // same SKU twice: asked once
	e.oms.orders[o.ID] = o

	data, errs := post(t, e.c, `{ order(id: "o-big") { lines { sku product { sku stockState } } } }`, as(t, "alice", auth.RoleCustomer))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(e.inv.batches) != 1 || len(e.inv.batches[0]) != 20 {
		t.Fatalf("GetProducts calls = %v, want one call with 20 SKUs", e.inv.batches)
	}
	lines := data["order"].(map[string]any)["lines"].([]any)
	if len(lines) != 21 {
		t.Fatalf("lines = %d", len(lines))
	}
	for _, l := range lines {
		l := l.(map[string]any)
		if p := l["product"].(map[string]any); p["sku"] != l["sku"] {
			t.Errorf("line %v has product %v", l["sku"], p)
		}
	}
	if got := jsonOf(lines[0]); got != `{"product":{"sku":"sku-a","stockState":"OUT_OF_STOCK"},"sku":"sku-a"}` {
		t.Errorf("line 0 = %s", got)
	}

	t.Run("a delisted SKU shows null, the rest resolve", func(t *testing.T) {
		e.inv.batches = nil
		e.oms.orders["o-old"] = omsclient.Order{ID: "o-old", CustomerID: "alice", Source: "APP", Status: "PAID",
			Lines: []omsclient.Line{{SKU: "gone"}, {SKU: "apple"}}}
		data, errs := post(t, e.c, `{ order(id: "o-old") { lines { sku product { name } } } }`, as(t, "alice", auth.RoleCustomer))
		if len(errs) != 0 || jsonOf(data) != `{"order":{"lines":[{"product":null,"sku":"gone"},{"product":{"name":"Apple"},"sku":"apple"}]}}` {
			t.Fatalf("%s %v", jsonOf(data), errs)
		}
		if len(e.inv.batches) != 2 || jsonOf(e.inv.batches[1]) != `["apple"]` {
			t.Errorf("batches = %v", e.inv.batches)
		}
	})
}
