package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

type walletCoupon struct {
	ID, Status, Source string
	ValueFen           int64
}

func myCoupons(t *testing.T, c *gqlc.Client) []walletCoupon {
	t.Helper()
	var out struct {
		MyAccounts struct{ Coupons []walletCoupon }
	}
	if err := c.Do(ctx(t), `{ myAccounts { coupons { id status source valueFen } } }`, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.MyAccounts.Coupons
}

func couponStatus(t *testing.T, c *gqlc.Client, id string) string {
	t.Helper()
	for _, cp := range myCoupons(t, c) {
		if cp.ID == id {
			return cp.Status
		}
	}
	return ""
}

func deductCoupon(t *testing.T, c *gqlc.Client, couponID string) (string, []userError) {
	t.Helper()
	var out struct {
		DeductNonCash struct {
			Deduction *struct{ ID string } `json:"deduction"`
			Errors    []userError          `json:"errors"`
		} `json:"deductNonCash"`
	}
	in := map[string]any{"items": []map[string]any{{"kind": "COUPON", "amountFen": 0, "couponId": couponID}}}
	if err := c.Do(ctx(t), mDeduct, map[string]any{"in": in, "key": ids.New()}, &out); err != nil {
		t.Fatal(err)
	}
	if out.DeductNonCash.Deduction == nil {
		return "", out.DeductNonCash.Errors
	}
	return out.DeductNonCash.Deduction.ID, nil
}

// A coupon granted by a staff campaign (BI's users, one message each,
// through the real sidecars) is in the customer's wallet, is used at
// checkout, and comes back to the wallet when the order expires unpaid.
// On the way: an excluded user gets none, another user's coupon and a
// threshold the order does not reach are refused with their codes.
func TestCampaignCouponUsedAtCheckoutComesBackOnExpiry(t *testing.T) {
	mk := client(t, "MARKETING", "mk1")
	now := time.Now().UTC()
	var tpl struct {
		CreateCouponTemplate struct {
			Template *struct{ ID string }
			Errors   []userError
		}
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) {
		template { id } errors { code message field reason } } }`, map[string]any{"key": ids.New(), "in": map[string]any{
		"title": "campaign 3 off", "valueFen": 300, "validFrom": now.Add(-time.Hour), "validTo": now.Add(24 * time.Hour)}}, &tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.CreateCouponTemplate.Template == nil {
		t.Fatalf("template: %+v", tpl.CreateCouponTemplate.Errors)
	}
	type campaign struct {
		ID, Status string
		Progress   struct{ Matched, Granted, SkippedExcluded, SmsSent int64 }
	}
	var created struct {
		CreateCouponCampaign struct {
			Campaign *campaign
			Errors   []userError
		}
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponCampaignInput!, $key: String!) { createCouponCampaign(input: $in, idempotencyKey: $key) {
		campaign { id status } errors { code message field } } }`, map[string]any{"key": ids.New(), "in": map[string]any{
		"name": "e2e", "conditions": map[string]any{"minOrders": 0}, "excludedCustomers": []string{"C0002"},
		"templateId": tpl.CreateCouponTemplate.Template.ID, "stock": 1000, "notifySms": true, "smsTemplate": "COUPON_GRANTED"}}, &created); err != nil {
		t.Fatal(err)
	}
	cc := created.CreateCouponCampaign.Campaign
	if cc == nil {
		t.Fatalf("campaign: %+v", created.CreateCouponCampaign.Errors)
	}
	if err := mk.Do(ctx(t), `mutation($id: ID!) { moveCouponCampaign(id: $id, action: LAUNCH) { campaign { status } } }`,
		map[string]any{"id": cc.ID}, nil); err != nil {
		t.Fatal(err)
	}
	var got campaign
	eventually(t, 60*time.Second, "campaign completed with every SMS", func() (bool, error) {
		var out struct{ CouponCampaign campaign }
		if err := mk.Do(ctx(t), `query($id: ID!) { couponCampaign(id: $id) { id status progress { matched granted skippedExcluded smsSent } } }`,
			map[string]any{"id": cc.ID}, &out); err != nil {
			return false, err
		}
		got = out.CouponCampaign
		return got.Status == "COMPLETED" && got.Progress.SmsSent == got.Progress.Granted, fmt.Errorf("campaign %+v", got)
	})
	// The stand-in's BI lists C0001…C0100 (all match min_orders 0); C0002 is excluded.
	if got.Progress.Matched != 100 || got.Progress.Granted != 99 || got.Progress.SkippedExcluded != 1 {
		t.Fatalf("campaign progress %+v", got.Progress)
	}
	fromCampaign := func(c *gqlc.Client) string {
		for _, cp := range myCoupons(t, c) {
			if cp.Source == "CAMPAIGN" && cp.ValueFen == 300 {
				return cp.ID
			}
		}
		return ""
	}
	if id := fromCampaign(client(t, "CUSTOMER", "C0002")); id != "" {
		t.Fatalf("excluded C0002 got coupon %s", id)
	}
	c := client(t, "CUSTOMER", "C0011")
	coupon := fromCampaign(c)
	if coupon == "" {
		t.Fatal("C0011 has no campaign coupon")
	}
	other := fromCampaign(client(t, "CUSTOMER", "C0012"))
	if _, errs := deductCoupon(t, c, other); len(errs) != 1 || errs[0].Code != "COUPON_INVALID" || errs[0].Reason != "COUPON_NOT_FOUND" {
		t.Fatalf("another customer's coupon: %+v", errs)
	}

	// At checkout: the coupon is held by the deduction, then the order.
	ded, errs := deductCoupon(t, c, coupon)
	if len(errs) > 0 {
		t.Fatalf("deduct the coupon: %+v", errs)
	}
	if st := couponStatus(t, c, coupon); st != "HELD" {
		t.Fatalf("coupon %s after the deduction", st)
	}
	ps := plainProducts(t, c, 1, 3)
	in := orderInput(ps, 1, []string{ded})
	in["couponIds"] = []string{coupon}
	o := mustPlace(t, c, in)

	// A threshold the order does not reach is refused at placement.
	var th struct {
		CreateCouponTemplate struct{ Template *struct{ ID string } }
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) { template { id } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"title": "big spender", "valueFen": 500, "thresholdFen": 100_000_000,
			"validFrom": now.Add(-time.Hour), "validTo": now.Add(24 * time.Hour)}}, &th); err != nil || th.CreateCouponTemplate.Template == nil {
		t.Fatalf("threshold template: %v", err)
	}
	var g struct {
		GrantCoupon struct{ Coupon *struct{ ID string } }
	}
	if err := client(t, "CS_AGENT", "agent1").Do(ctx(t), `mutation($t: ID!, $key: String!) { grantCoupon(templateId: $t, customerId: "C0011", idempotencyKey: $key) { coupon { id } } }`,
		map[string]any{"t": th.CreateCouponTemplate.Template.ID, "key": ids.New()}, &g); err != nil || g.GrantCoupon.Coupon == nil {
		t.Fatalf("grant: %v", err)
	}
	big := g.GrantCoupon.Coupon.ID
	ded2, errs := deductCoupon(t, c, big)
	if len(errs) > 0 {
		t.Fatalf("deduct the threshold coupon: %+v", errs)
	}
	in2 := orderInput(ps, 1, []string{ded2})
	in2["couponIds"] = []string{big}
	if _, errs := place(t, c, in2); len(errs) != 1 || errs[0].Reason != "COUPON_THRESHOLD_NOT_MET" {
		t.Fatalf("an order below the threshold: %+v", errs)
	}

	// Unpaid, the order expires; the coupon comes back to the wallet.
	waitStatus(t, c, o.ID, "CANCELLED", payDeadline+20*time.Second)
	eventually(t, 30*time.Second, "coupon back in the wallet", func() (bool, error) {
		st := couponStatus(t, c, coupon)
		return st == "AVAILABLE", fmt.Errorf("coupon %s", st)
	})
	// And usable again.
	if _, errs := deductCoupon(t, c, coupon); len(errs) > 0 {
		t.Fatalf("the coupon given back: %+v", errs)
	}
}
