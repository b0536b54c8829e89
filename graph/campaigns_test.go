package graph_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/harvest/harvest/graph/auth"
)

// Coupon campaigns through the schema against marketing's real routes: a
// campaign without a gift is refused precisely and stored nowhere, moves
// follow the campaign's states, and the progress subscription shows each
// change live until the campaign ends.
func TestCouponCampaignsAndProgress(t *testing.T) {
	e := newEnv(t)
	mk := as(t, "mk1", auth.RoleMarketing)
	data, errs := post(t, e.c, `mutation { createCouponTemplate(idempotencyKey: "t", input: {title: "10 off", valueFen: 1000,
		validFrom: "2029-12-31T00:00:00Z", validTo: "2030-02-01T00:00:00Z"}) { template { id } errors { code } } }`, mk)
	tpl, _ := dig(data, "createCouponTemplate", "template", "id").(string)
	if len(errs) > 0 || tpl == "" {
		t.Fatalf("template: %s %+v", asJSON(data), errs)
	}
	create := func(key, gift string) map[string]any {
		data, errs := post(t, e.c, `mutation { createCouponCampaign(idempotencyKey: "`+key+`", input: {name: "双11",
			conditions: {minOrders: 3, cities: ["Shanghai"]}, excludedCustomers: ["C0007"], `+gift+` stock: 500, notifySms: true,
			smsTemplate: "COUPON_GRANTED"}) { campaign { id status stock stockLeft excludedCustomers conditions { minOrders cities } }
			errors { code message field } } }`, mk)
		if len(errs) > 0 {
			t.Fatalf("create: %+v", errs)
		}
		return dig(data, "createCouponCampaign").(map[string]any)
	}
	if p := create("nogift", ""); p["campaign"] != nil || dig(p["errors"].([]any)[0], "code") != "VALIDATION_FAILED" {
		t.Fatalf("a campaign without a gift: %s", asJSON(p))
	}
	_, errs = post(t, e.c, `mutation { createCouponCampaign(idempotencyKey: "x", input: {name: "n", conditions: {}, templateId: "`+tpl+`", stock: 1}) { errors { code } } }`,
		as(t, "alice", auth.RoleCustomer))
	wantCode(t, errs, "FORBIDDEN")
	p := create("k", `templateId: "`+tpl+`",`)
	id, _ := dig(p, "campaign", "id").(string)
	if id == "" || dig(p, "campaign", "status") != "DRAFT" || dig(p, "campaign", "stockLeft") != float64(500) {
		t.Fatalf("create: %s", asJSON(p))
	}
	data, _ = post(t, e.c, `{ couponCampaigns { edges { node { id } } } }`, mk)
	if n := len(dig(data, "couponCampaigns", "edges").([]any)); n != 1 {
		t.Fatalf("%d campaigns listed, want 1 (the refused one stored nothing)", n)
	}

	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	ws := dialWS(t, srv.URL, token(t, "mk1", auth.RoleMarketing))
	ws.subscribe("p", `subscription { couponCampaignProgress(id: "`+id+`") { status progress { matched granted } } }`)
	status := func() string {
		m := ws.next()
		if m.Type != "next" {
			t.Fatalf("got %s %s", m.Type, m.Payload)
		}
		var v struct {
			Data struct {
				P struct{ Status string } `json:"couponCampaignProgress"`
			}
		}
		_ = json.Unmarshal(m.Payload, &v)
		return v.Data.P.Status
	}
	if s := status(); s != "DRAFT" {
		t.Fatalf("first state %s", s)
	}
	move := func(action string) map[string]any {
		data, errs := post(t, e.c, `mutation { moveCouponCampaign(id: "`+id+`", action: `+action+`) { campaign { status } errors { code field } } }`, mk)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return dig(data, "moveCouponCampaign").(map[string]any)
	}
	if m := move("LAUNCH"); dig(m, "campaign", "status") != "RUNNING" {
		t.Fatalf("launch: %s", asJSON(m))
	}
	if s := status(); s != "RUNNING" {
		t.Fatalf("live state after launch %s", s)
	}
	if m := move("LAUNCH"); dig(m["errors"].([]any)[0], "code") != "CAMPAIGN_STATE_CONFLICT" {
		t.Fatalf("second launch: %s", asJSON(m))
	}
	if m := move("PAUSE"); dig(m, "campaign", "status") != "PAUSED" {
		t.Fatalf("pause: %s", asJSON(m))
	}
	if s := status(); s != "PAUSED" {
		t.Fatalf("live state after pause %s", s)
	}
	if m := move("CANCEL"); dig(m, "campaign", "status") != "CANCELLED" {
		t.Fatalf("cancel: %s", asJSON(m))
	}
	if s := status(); s != "CANCELLED" {
		t.Fatalf("live state after cancel %s", s)
	}
	if m := ws.next(); m.Type != "complete" {
		t.Fatalf("after the last state: %s", m.Type)
	}
}
