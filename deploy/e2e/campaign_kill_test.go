package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/local/stack"
)

// A coupon campaign's consumers killed mid-campaign (marketing and its
// sidecar SIGKILLed while BI's pages and the user messages are in flight,
// then started again): every user BI lists gets the coupon exactly once,
// none missed, none twice, the progress counting each once. On a stack of
// its own: 20,000 BI users read in pages of 250, so the kill lands in the
// middle.
func TestCampaignConsumerKilledMidCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a stack of its own")
	}
	const users = 20_000
	ks, err := stack.Start(context.Background(), stack.Options{Name: "e2e-kill-" + strings.ToLower(ids.New()[20:]), Progress: os.Stderr,
		AppEnv: map[string]map[string]string{
			"partners":  {"PARTNERS_BI_POPULATION": fmt.Sprint(users), "PARTNERS_BI_FAIL_PERCENT": "5"},
			"marketing": {"HARVEST_CAMPAIGN_PAGE": "250"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Stop(context.Background())
	tok, err := ks.Token("MARKETING", "mk-kill")
	if err != nil {
		t.Fatal(err)
	}
	mk := gqlc.New(ks.GraphQLURL(), tok)
	now := time.Now().UTC()
	var tpl struct {
		CreateCouponTemplate struct{ Template *struct{ ID string } }
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) { template { id } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"title": "kill", "valueFen": 100, "validFrom": now.Add(-time.Hour),
			"validTo": now.Add(24 * time.Hour)}}, &tpl); err != nil || tpl.CreateCouponTemplate.Template == nil {
		t.Fatalf("template: %v", err)
	}
	var cc struct {
		CreateCouponCampaign struct {
			Campaign *struct{ ID string }
			Errors   []userError
		}
	}
	excluded := []string{"C0007", "C0700", "C07000"}
	if err := mk.Do(ctx(t), `mutation($in: CouponCampaignInput!, $key: String!) { createCouponCampaign(input: $in, idempotencyKey: $key) {
		campaign { id } errors { code message } } }`, map[string]any{"key": ids.New(), "in": map[string]any{"name": "kill",
		"conditions": map[string]any{"minOrders": 0}, "excludedCustomers": excluded, "templateId": tpl.CreateCouponTemplate.Template.ID,
		"stock": users}}, &cc); err != nil || cc.CreateCouponCampaign.Campaign == nil {
		t.Fatalf("campaign: %v %+v", err, cc.CreateCouponCampaign.Errors)
	}
	id := cc.CreateCouponCampaign.Campaign.ID
	if err := mk.Do(ctx(t), `mutation($id: ID!) { moveCouponCampaign(id: $id, action: LAUNCH) { campaign { status } } }`, map[string]any{"id": id}, nil); err != nil {
		t.Fatal(err)
	}
	type progress struct{ Matched, Granted, SkippedExcluded, SkippedAlready, SkippedNoStock, Failed int64 }
	type campaign struct {
		Status   string
		BiDone   bool
		Progress progress
	}
	read := func() (campaign, error) {
		var out struct{ CouponCampaign campaign }
		err := mk.Do(ctx(t), `query($id: ID!) { couponCampaign(id: $id) { status biDone progress { matched granted skippedExcluded skippedAlready
			skippedNoStock failed } } }`, map[string]any{"id": id}, &out)
		return out.CouponCampaign, err
	}
	var at campaign
	eventually(t, 60*time.Second, "a fifth of the users granted", func() (bool, error) {
		var err error
		at, err = read()
		return at.Progress.Granted >= users/5, err
	})
	if at.Status == "COMPLETED" {
		t.Fatalf("the campaign completed before the kill: %+v", at)
	}
	if err := ks.Kill("marketing"); err != nil {
		t.Fatal(err)
	}
	if err := ks.Restart(ctx(t), "marketing"); err != nil {
		t.Fatal(err)
	}
	var last campaign
	eventually(t, 3*time.Minute, "campaign completed after the restart", func() (bool, error) {
		var err error
		last, err = read()
		return last.Status == "COMPLETED", fmt.Errorf("%+v %v", last, err)
	})
	db, err := sql.Open("mysql", ks.DSN("marketing"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var coupons, distinct, excludedBound int64
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT customer_id), COALESCE(SUM(customer_id IN (?,?,?)),0) FROM coupons
		WHERE source='CAMPAIGN' AND source_ref=?`, excluded[0], excluded[1], excluded[2], id).Scan(&coupons, &distinct, &excludedBound); err != nil {
		t.Fatal(err)
	}
	want := int64(users - 2) // C07000 is beyond BI's 20,000 users (C00001..): two excluded users are listed
	p := last.Progress
	if coupons != want || distinct != want || excludedBound != 0 {
		t.Fatalf("%d coupons for %d distinct users (%d excluded ones), want %d each and none excluded", coupons, distinct, excludedBound, want)
	}
	if p.Matched != users || p.Granted != want || p.SkippedExcluded != 2 || p.Granted+p.SkippedExcluded+p.SkippedAlready+p.SkippedNoStock+p.Failed != p.Matched {
		t.Fatalf("progress %+v after the kill, want %d matched, %d granted, 2 excluded, the sum the matched", p, users, want)
	}
	t.Logf("killed at %d granted of %d; completed with %+v", at.Progress.Granted, users, p)
}
