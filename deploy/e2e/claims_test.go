package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

type couponClaim struct {
	ID, Status string
	Reason     *string
	CouponID   *string
}

const mClaim = `mutation($c: ID!, $key: String!) { claimCoupon(campaignId: $c, idempotencyKey: $key) {
	claim { id status reason couponId } errors { code message field reason } } }`

func claimCoupon(t *testing.T, c *gqlc.Client, campaign, key string) (*couponClaim, []userError) {
	t.Helper()
	var out struct {
		ClaimCoupon struct {
			Claim  *couponClaim
			Errors []userError
		}
	}
	if err := c.Do(ctx(t), mClaim, map[string]any{"c": campaign, "key": key}, &out); err != nil {
		t.Fatal(err)
	}
	return out.ClaimCoupon.Claim, out.ClaimCoupon.Errors
}

func createClaimCampaign(t *testing.T, mk *gqlc.Client, in map[string]any) (string, []userError) {
	t.Helper()
	var out struct {
		CreateClaimCampaign struct {
			Campaign *struct{ ID string }
			Errors   []userError
		}
	}
	if err := mk.Do(ctx(t), `mutation($in: ClaimCampaignInput!, $key: String!) { createClaimCampaign(input: $in, idempotencyKey: $key) {
		campaign { id } errors { code message field reason } } }`, map[string]any{"in": in, "key": ids.New()}, &out); err != nil {
		t.Fatal(err)
	}
	if out.CreateClaimCampaign.Campaign == nil {
		return "", out.CreateClaimCampaign.Errors
	}
	return out.CreateClaimCampaign.Campaign.ID, nil
}

// Pop-up claims through the gateway and the real sidecars: customers
// racing for three coupons get exactly three between them, each claim
// answered at once and bound shortly after (at once for a customer who
// views their coupons); a retry with the key is the same claim; a second
// claim beyond the limit, a claim on an ended campaign and a campaign
// without a gift are refused with their codes.
func TestPopUpClaimsThroughTheGateway(t *testing.T) {
	mk := client(t, "MARKETING", "mk-claims")
	now := time.Now().UTC()
	var tpl struct {
		CreateCouponTemplate struct{ Template *struct{ ID string } }
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) {
		template { id } } }`, map[string]any{"key": ids.New(), "in": map[string]any{"title": "pop-up 2 off", "valueFen": 200,
		"validFrom": now.Add(-time.Hour), "validTo": now.Add(24 * time.Hour)}}, &tpl); err != nil || tpl.CreateCouponTemplate.Template == nil {
		t.Fatalf("template: %v", err)
	}
	tplID := tpl.CreateCouponTemplate.Template.ID
	if _, errs := createClaimCampaign(t, mk, map[string]any{"name": "no gift", "stock": 3, "startsAt": now, "endsAt": now.Add(time.Hour)}); len(errs) == 0 ||
		errs[0].Code != "VALIDATION_FAILED" {
		t.Fatalf("a campaign without a gift: %+v", errs)
	}
	camp, errs := createClaimCampaign(t, mk, map[string]any{"name": "pop-up", "templateId": tplID, "stock": 3, "perUserLimit": 1,
		"startsAt": now.Add(-time.Minute), "endsAt": now.Add(time.Hour)})
	if errs != nil {
		t.Fatalf("campaign: %+v", errs)
	}
	ended, errs := createClaimCampaign(t, mk, map[string]any{"name": "ended", "templateId": tplID, "stock": 3, "perUserLimit": 1,
		"startsAt": now.Add(-2 * time.Hour), "endsAt": now.Add(-time.Hour)})
	if errs != nil {
		t.Fatalf("ended campaign: %+v", errs)
	}

	customers := []string{"C0050", "C0051", "C0052", "C0053", "C0054", "C0055"}
	var mu sync.Mutex
	claims := map[string]*couponClaim{}
	outOfStock := 0
	var wg sync.WaitGroup
	for _, cust := range customers {
		wg.Go(func() {
			c := client(t, "CUSTOMER", cust)
			cl, errs := claimCoupon(t, c, camp, "tap-1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case cl != nil:
				claims[cust] = cl
			case len(errs) == 1 && errs[0].Code == "CLAIM_REFUSED" && errs[0].Reason == "OUT_OF_STOCK":
				outOfStock++
			default:
				t.Errorf("%s: %+v", cust, errs)
			}
		})
	}
	wg.Wait()
	if len(claims) < 3 {
		t.Fatalf("%d claims accepted of 6 for a stock of 3 (%d refused at once)", len(claims), outOfStock)
	}
	for cust, cl := range claims {
		c := client(t, "CUSTOMER", cust)
		again, errs := claimCoupon(t, c, camp, "tap-1")
		if again == nil || again.ID != cl.ID {
			t.Fatalf("%s retried with the key: %+v %+v, want claim %s", cust, again, errs, cl.ID)
		}
	}
	// A customer viewing their coupons sees their claim bound (on the spot
	// if the queues had not yet).
	var viewer string
	for cust := range claims {
		viewer = cust
		break
	}
	vc := client(t, "CUSTOMER", viewer)
	fromClaim := func(cs []walletCoupon) int {
		n := 0
		for _, cp := range cs {
			if cp.Source == "CLAIM" {
				n++
			}
		}
		return n
	}
	got := fromClaim(myCoupons(t, vc))
	var st struct {
		MyCouponClaim *couponClaim
	}
	if err := vc.Do(ctx(t), `query($id: ID!) { myCouponClaim(id: $id) { id status reason couponId } }`, map[string]any{"id": claims[viewer].ID}, &st); err != nil {
		t.Fatal(err)
	}
	switch cl := st.MyCouponClaim; {
	case cl == nil:
		t.Fatalf("%s: claim %s not found", viewer, claims[viewer].ID)
	case cl.Status == "BOUND" && got == 1 && cl.CouponID != nil:
	case cl.Status == "REFUSED" && got == 0: // more were accepted than the stock: refused OUT_OF_STOCK
	default:
		t.Fatalf("%s after viewing their coupons: claim %+v, %d coupons from claims", viewer, cl, got)
	}
	type counts struct {
		Claims, Pending, Bound, Refused, GivebacksOwed int64
		StockLeft                                      *int64
	}
	var last counts
	eventually(t, 30*time.Second, "every claim bound or refused", func() (bool, error) {
		var out struct{ ClaimCampaign counts }
		if err := mk.Do(ctx(t), `query($id: ID!) { claimCampaign(id: $id) { claims pending bound refused givebacksOwed stockLeft } }`,
			map[string]any{"id": camp}, &out); err != nil {
			return false, err
		}
		last = out.ClaimCampaign
		return last.Pending == 0 && last.Claims == int64(len(claims)), fmt.Errorf("%+v", last)
	})
	if last.Bound != 3 || last.StockLeft == nil || *last.StockLeft != 0 || last.GivebacksOwed != 0 {
		t.Fatalf("campaign: %+v, want exactly 3 bound and none left", last)
	}
	bound := 0
	for cust := range claims {
		c := client(t, "CUSTOMER", cust)
		n := fromClaim(myCoupons(t, c))
		bound += n
		if n > 1 {
			t.Fatalf("%s holds %d coupons of a campaign limited to 1", cust, n)
		}
		if n == 1 {
			if _, errs := claimCoupon(t, c, camp, "tap-2"); len(errs) != 1 || errs[0].Code != "CLAIM_REFUSED" ||
				(errs[0].Reason != "CLAIM_LIMIT_REACHED" && errs[0].Reason != "OUT_OF_STOCK") {
				t.Fatalf("%s claiming twice: %+v", cust, errs)
			}
		}
	}
	if bound != 3 {
		t.Fatalf("%d coupons in the wallets, want 3", bound)
	}
	if _, errs := claimCoupon(t, vc, ended, "late"); len(errs) != 1 || errs[0].Code != "CLAIM_REFUSED" || errs[0].Reason != "CAMPAIGN_ENDED" {
		t.Fatalf("claim on an ended campaign: %+v", errs)
	}
	if _, errs := claimCoupon(t, vc, "01J00000000000000000000000", "nope"); len(errs) != 1 || errs[0].Code != "NOT_FOUND" {
		t.Fatalf("claim on an unknown campaign: %+v", errs)
	}
}
