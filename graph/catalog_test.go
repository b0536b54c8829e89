package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

const createProduct = `mutation($price: Int!) { createProduct(input: {sku: "BOX", priceFen: $price, product: {name: "Box", zone: AMBIENT,
	category: FRUIT, taxRateBp: 900, warehouse: "WH-SH", components: [{sku: "apple", qty: 2}]}}) {
	product { sku version category components { sku qty } } errors { code message field reason } } }`

func TestCatalogMutations(t *testing.T) {
	t.Run("catalog managers and admins only, audited as role:subject", func(t *testing.T) {
		e := newEnv(t)
		for _, role := range []string{auth.RoleCustomer, auth.RoleWarehouseOperator, auth.RoleMarketing} {
			_, errs := post(t, e.c, createProduct, as(t, "x", role), client.Var("price", 100))
			wantCode(t, errs, graph.CodeForbidden)
		}
		data, errs := post(t, e.c, createProduct, as(t, "m1", auth.RoleCatalogManager), client.Var("price", 100))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if got := jsonOf(data["createProduct"]); got != `{"errors":[],"product":{"category":"FRUIT","components":[{"qty":2,"sku":"apple"}],"sku":"BOX","version":1}}` {
			t.Fatalf("payload %s", got)
		}
		if r := e.inv.created; len(r) != 1 || r[0].By != "CATALOG_MANAGER:m1" || r[0].Product.PriceFen != 100 || r[0].Product.Zone != "AMBIENT" || r[0].Product.Category != "FRUIT" {
			t.Fatalf("requests %+v", r)
		}
	})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"negative price", (&httpapi.Problem{Status: http.StatusBadRequest, Code: inventoryclient.CodeValidation, Message: "price_fen: price -1 fen is negative"}).
			With(map[string]any{"field": "price_fen", "reason": "NEGATIVE_PRICE"}),
			`[{"code":"VALIDATION_FAILED","field":["input","priceFen"],"message":"price_fen: price -1 fen is negative","reason":"NEGATIVE_PRICE"}]`},
		{"bundle containing itself", (&httpapi.Problem{Status: http.StatusBadRequest, Code: inventoryclient.CodeValidation, Message: "bundle BOX cannot contain itself"}).
			With(map[string]any{"field": "components[0].sku", "reason": "BUNDLE_CONTAINS_ITSELF"}),
			`[{"code":"VALIDATION_FAILED","field":["input","product","components","0","sku"],"message":"bundle BOX cannot contain itself","reason":"BUNDLE_CONTAINS_ITSELF"}]`},
		{"exists", &httpapi.Problem{Status: http.StatusConflict, Code: inventoryclient.CodeProductExists, Message: "a product with this SKU is in the catalog"},
			`[{"code":"PRODUCT_EXISTS","field":["input","sku"],"message":"a product with this SKU is in the catalog","reason":null}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.inv.catalogErr = tc.err
			data, errs := post(t, e.c, createProduct, as(t, "a1", auth.RoleAdmin), client.Var("price", -1))
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if got := jsonOf(data["createProduct"].(map[string]any)["errors"]); got != tc.want {
				t.Fatalf("errors %s\nwant   %s", got, tc.want)
			}
		})
	}
	t.Run("an unknown zone is refused before anything runs", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.c.RawPost(`mutation { createProduct(input: {sku: "X", priceFen: 1, product: {name: "X", zone: LUKEWARM, category: FRUIT, taxRateBp: 0, warehouse: "WH-SH"}}) { errors { code } } }`,
			as(t, "a1", auth.RoleAdmin))
		if err == nil || len(e.inv.created) != 0 {
			t.Fatalf("err = %v, created %d", err, len(e.inv.created))
		}
	})
	t.Run("an unknown or missing category is refused before anything runs", func(t *testing.T) {
		e := newEnv(t)
		for _, product := range []string{`{name: "X", zone: AMBIENT, category: TOYS, taxRateBp: 0, warehouse: "WH-SH"}`,
			`{name: "X", zone: AMBIENT, taxRateBp: 0, warehouse: "WH-SH"}`} {
			_, err := e.c.RawPost(`mutation { createProduct(input: {sku: "X", priceFen: 1, product: `+product+`}) { errors { code } } }`,
				as(t, "a1", auth.RoleAdmin))
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "category") || len(e.inv.created) != 0 {
				t.Fatalf("%s: err = %v, created %d", product, err, len(e.inv.created))
			}
		}
	})
	t.Run("products by category; a product from before categories has none", func(t *testing.T) {
		e := newEnv(t)
		data, errs := post(t, e.c, `{ fruit: products(filter: {category: FRUIT}) { edges { node { sku category } } }
			all: products { edges { node { sku category } } } }`)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if got := jsonOf(data["fruit"]); got != `{"edges":[{"node":{"category":"FRUIT","sku":"apple"}}]}` {
			t.Fatalf("fruit: %s", got)
		}
		if got := jsonOf(data["all"]); !strings.Contains(got, `{"category":null,"sku":"fish"}`) || !strings.Contains(got, `{"category":"DAIRY","sku":"milk"}`) {
			t.Fatalf("all: %s", got)
		}
		if r := e.inv.searches; len(r) != 2 || r[0].Category != "FRUIT" && r[1].Category != "FRUIT" {
			t.Fatalf("searches %+v", r)
		}
	})
	t.Run("version conflict", func(t *testing.T) {
		e := newEnv(t)
		e.inv.catalogErr = (&httpapi.Problem{Status: http.StatusConflict, Code: inventoryclient.CodeVersionConflict, Message: "BOX is at version 3, not 2"}).
			With(map[string]any{"current_version": 3.0})
		data, errs := post(t, e.c, `mutation { updateProduct(sku: "BOX", expectedVersion: 2, input: {name: "Box", zone: AMBIENT, category: FRUIT, taxRateBp: 900, warehouse: "WH-SH"}) {
			product { sku } errors { code field } } }`, as(t, "a1", auth.RoleAdmin))
		if len(errs) != 0 || jsonOf(data) != `{"updateProduct":{"errors":[{"code":"VERSION_CONFLICT","field":["expectedVersion"]}],"product":null}}` {
			t.Fatalf("%s %v", jsonOf(data), errs)
		}
	})
}
