package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/harvest/harvest/graph/auth"
)

// dig walks a decoded GraphQL answer by keys.
func dig(v any, path ...string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// Coupon templates and the wallet through the schema, against the real
// wallet (marketing's routes and a fresh database): roles guard every
// operation, bad input is a precise user error that stores nothing, and
// a granted coupon shows in the customer's accounts.
func TestCouponTemplatesAndWallet(t *testing.T) {
	e := newEnv(t)
	mk := as(t, "mk1", auth.RoleMarketing)
	create := func(key, input string) map[string]any {
		data, errs := post(t, e.c, `mutation { createCouponTemplate(idempotencyKey: "`+key+`", input: {`+input+`}) {
			template { id title valueFen thresholdFen skus status bound } errors { code message field reason } } }`, mk)
		if len(errs) > 0 {
			t.Fatalf("create: %+v", errs)
		}
		return dig(data, "createCouponTemplate").(map[string]any)
	}
	const window = `validFrom: "2029-12-31T00:00:00Z", validTo: "2030-02-01T00:00:00Z"`

	// Only MARKETING (and ADMIN) define templates.
	_, errs := post(t, e.c, `mutation { createCouponTemplate(idempotencyKey: "x", input: {title: "t", valueFen: 100, `+window+`}) { errors { code } } }`,
		as(t, "alice", auth.RoleCustomer))
	wantCode(t, errs, "FORBIDDEN")

	for _, c := range []struct{ input, msg string }{
		{`title: "", valueFen: 100, ` + window, "title"},
		{`title: "t", valueFen: 0, ` + window, "value_fen"},
		{`title: "t", valueFen: 1000, thresholdFen: 500, ` + window, "threshold_fen"},
		{`title: "t", valueFen: 100, validFrom: "2030-02-01T00:00:00Z", validTo: "2030-01-01T00:00:00Z"`, "valid_to"},
	} {
		p := create("bad-"+c.msg, c.input)
		ues, _ := p["errors"].([]any)
		if p["template"] != nil || len(ues) != 1 || dig(ues[0], "code") != "VALIDATION_FAILED" {
			t.Fatalf("%s: %s", c.input, asJSON(p))
		}
		if msg, _ := dig(ues[0], "message").(string); !strings.Contains(msg, c.msg) {
			t.Fatalf("%s: message %q does not name %s", c.input, msg, c.msg)
		}
	}
	data, _ := post(t, e.c, `{ couponTemplates { edges { node { id } } } }`, mk)
	if n := len(dig(data, "couponTemplates", "edges").([]any)); n != 0 {
		t.Fatalf("refused templates were stored: %d", n)
	}

	p := create("k1", `title: "满99减10", valueFen: 1000, thresholdFen: 9900, skus: ["apple"], `+window)
	tpl := dig(p, "template", "id").(string)
	if again := create("k1", `title: "满99减10", valueFen: 1000, thresholdFen: 9900, skus: ["apple"], `+window); dig(again, "template", "id") != tpl {
		t.Fatalf("retry with the key made another template: %s", asJSON(again))
	}

	// Categories go through as the catalog's codes and come back sorted.
	if p := create("cat", `title: "水果满50减5", valueFen: 500, thresholdFen: 5000, categories: [FRUIT, DAIRY], `+window); asJSON(dig(p, "template", "skus")) != `[]` {
		t.Fatalf("category template: %s", asJSON(p))
	}
	data, errs = post(t, e.c, `{ couponTemplates { edges { node { title categories } } } }`, mk)
	if got := asJSON(data); len(errs) > 0 || !strings.Contains(got, `{"categories":["DAIRY","FRUIT"],"title":"水果满50减5"}`) ||
		!strings.Contains(got, `{"categories":[],"title":"满99减10"}`) {
		t.Fatalf("templates' categories: %s %v", got, errs)
	}

	// Customer service grants it to alice once per key; she sees it.
	grant := `mutation { grantCoupon(templateId: "` + tpl + `", customerId: "alice", idempotencyKey: "g1") { coupon { id status } errors { code } } }`
	data, errs = post(t, e.c, grant, as(t, "agent7", auth.RoleCSAgent))
	coupon, _ := dig(data, "grantCoupon", "coupon", "id").(string)
	if len(errs) > 0 || coupon == "" {
		t.Fatalf("grant: %v %+v", asJSON(data), errs)
	}
	data, _ = post(t, e.c, grant, as(t, "agent7", auth.RoleCSAgent))
	if dig(data, "grantCoupon", "coupon", "id") != coupon {
		t.Fatalf("second grant with the key: %s", asJSON(data))
	}
	data, errs = post(t, e.c, `{ myAccounts { balanceFen coupons { id title valueFen thresholdFen skus status } } }`, as(t, "alice", auth.RoleCustomer))
	cs, _ := dig(data, "myAccounts", "coupons").([]any)
	if len(errs) > 0 || len(cs) != 1 || dig(cs[0], "id") != coupon || dig(cs[0], "status") != "AVAILABLE" || dig(cs[0], "thresholdFen") != float64(9900) {
		t.Fatalf("alice's coupons: %s %+v", asJSON(data), errs)
	}

	// Bound: its value cannot change, it cannot be deleted.
	data, _ = post(t, e.c, `mutation { updateCouponTemplate(id: "`+tpl+`", input: {title: "t", valueFen: 2000, thresholdFen: 9900, skus: ["apple"], `+window+`}) {
		template { id } errors { code reason } } }`, mk)
	if ue := dig(data, "updateCouponTemplate", "errors").([]any); len(ue) != 1 || dig(ue[0], "code") != "COUPON_TEMPLATE_CONFLICT" || dig(ue[0], "reason") != "TEMPLATE_IN_USE" {
		t.Fatalf("value changed under a bound coupon: %s", asJSON(data))
	}
	data, _ = post(t, e.c, `mutation { deleteCouponTemplate(id: "`+tpl+`") { deletedId errors { code reason } } }`, mk)
	if ue := dig(data, "deleteCouponTemplate", "errors").([]any); len(ue) != 1 || dig(ue[0], "reason") != "TEMPLATE_IN_USE" {
		t.Fatalf("deleted a template in use: %s", asJSON(data))
	}

	// Unbinding goes through customer service's action log
	// (unbindCustomerCoupon, graph/csactions_test.go): the old mutation
	// that called marketing around it is gone from the schema.
	if _, err := e.c.RawPost(fmt.Sprintf(`mutation { unbindCoupon(couponId: %q, customerId: "alice", reason: "asked") { coupon { status } } }`, coupon),
		as(t, "agent7", auth.RoleCSAgent)); err == nil || !strings.Contains(err.Error(), "GRAPHQL_VALIDATION_FAILED") {
		t.Fatalf("unbindCoupon is still served: %v", err)
	}
	data, _ = post(t, e.c, `{ customerCoupons(customerId: "alice") { id status } }`, as(t, "agent7", auth.RoleCSAgent))
	if cs := dig(data, "customerCoupons").([]any); len(cs) != 1 || dig(cs[0], "status") != "AVAILABLE" {
		t.Fatalf("alice's coupons: %s", asJSON(data))
	}

	// An unused template can be deleted.
	other := dig(create("k2", `title: "5 off", valueFen: 500, `+window), "template", "id").(string)
	data, _ = post(t, e.c, `mutation { deleteCouponTemplate(id: "`+other+`") { deletedId errors { code } } }`, mk)
	if dig(data, "deleteCouponTemplate", "deletedId") != other {
		t.Fatalf("delete: %s", asJSON(data))
	}
	data, _ = post(t, e.c, `{ couponTemplate(id: "`+other+`") { id } }`, mk)
	if dig(data, "couponTemplate") != nil {
		t.Fatalf("deleted template still answers: %s", asJSON(data))
	}
}
