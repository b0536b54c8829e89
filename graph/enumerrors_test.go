package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/harvest/harvest/graph/auth"
)

// An unknown ProductCategory or Zone is refused by GraphQL's validation
// before any resolver runs; the refusal carries the services' precise
// code and the value's place (extensions.field), in a literal and in a
// variable alike, and nothing is created. Other validation errors keep
// gqlgen's own code.
func TestUnknownCategoryAndZoneHavePreciseCodes(t *testing.T) {
	e := newEnv(t)
	admin := token(t, "a1", auth.RoleAdmin)
	// Validation answers 422, which the test client takes for a failure
	// of its own: the errors are read from the response.
	post := func(query string, vars map[string]any) []gqlErr {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		var resp struct{ Errors []gqlErr }
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
		}
		return resp.Errors
	}
	const window = `validFrom: "2029-12-31T00:00:00Z", validTo: "2030-02-01T00:00:00Z"`
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		code, field string
	}{
		{"category literal", `mutation { createProduct(input: {sku: "X", priceFen: 1, product: {name: "X", zone: AMBIENT, category: TOYS,
			taxRateBp: 0, warehouse: "WH-SH"}}) { errors { code } } }`, nil,
			"UNKNOWN_CATEGORY", `["createProduct","input","product","category"]`},
		{"zone literal under an alias", `mutation { p: createProduct(input: {sku: "X", priceFen: 1, product: {name: "X", zone: LUKEWARM, category: FRUIT,
			taxRateBp: 0, warehouse: "WH-SH"}}) { errors { code } } }`, nil,
			"UNKNOWN_ZONE", `["p","input","product","zone"]`},
		{"category in a list", `mutation { createCouponTemplate(idempotencyKey: "k", input: {title: "t", valueFen: 100, categories: [FRUIT, TOYS], ` +
			window + `}) { errors { code } } }`, nil,
			"UNKNOWN_CATEGORY", `["createCouponTemplate","input","categories","1"]`},
		{"category string literal", `mutation { createCouponTemplate(idempotencyKey: "k", input: {title: "t", valueFen: 100, categories: ["FRUIT"], ` +
			window + `}) { errors { code } } }`, nil,
			"UNKNOWN_CATEGORY", `["createCouponTemplate","input","categories","0"]`},
		{"category variable", `mutation($in: CreateProductInput!) { createProduct(input: $in) { errors { code } } }`,
			map[string]any{"in": map[string]any{"sku": "X", "priceFen": 1, "product": map[string]any{"name": "X", "zone": "AMBIENT",
				"category": "TOYS", "taxRateBp": 0, "warehouse": "WH-SH"}}},
			"UNKNOWN_CATEGORY", `["$in","product","category"]`},
		{"zone variable", `mutation($z: Zone!) { createProduct(input: {sku: "X", priceFen: 1, product: {name: "X", zone: $z, category: FRUIT,
			taxRateBp: 0, warehouse: "WH-SH"}}) { errors { code } } }`, map[string]any{"z": "LUKEWARM"},
			"UNKNOWN_ZONE", `["$z"]`},
		{"another enum keeps gqlgen's code", `mutation { createProduct(input: {sku: "X", priceFen: 1, product: {name: "X", zone: AMBIENT, category: FRUIT,
			taxRateBp: 0, warehouse: "WH-SH", bogus: 1}}) { errors { code } } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", `null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := post(tc.query, tc.vars)
			wantCode(t, errs, tc.code)
			if got := asJSON(errs[0].Extensions["field"]); got != tc.field {
				t.Errorf("field %s, want %s (%+v)", got, tc.field, errs[0])
			}
		})
	}
	if len(e.inv.created) != 0 {
		t.Fatalf("created %d products", len(e.inv.created))
	}
}
