package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	local "github.com/harvest/harvest/deploy/local"
	"github.com/harvest/harvest/deploy/local/stack"
)

// campaign runs one coupon campaign to users BI users end to end on a
// fresh stack (DOMAIN 3.2: BI's export paged by the campaign consumer, one
// message per user through the broker, grants in bulks, no SMS): created
// and launched through GraphQL, timed from the launch to COMPLETED, then
// checked in marketing's database (every user exactly one coupon, the
// stock never exceeded). Beside it, in the same run, the raw write rate of
// the same grants (load.CampaignGrantBaseline). It prints the projection
// for 6 M users at the rate measured.
func campaign(ctx context.Context, users, page, bulk int, mysqlServer, redisAddr string, baselineD time.Duration) error {
	if users <= 0 || page < 1 || page > 5_000 || bulk < 0 || bulk > 1_000 {
		return fmt.Errorf("-users must be positive, -page 1..5000 and -bulk 0..1000")
	}
	mkEnv := map[string]string{"HARVEST_CAMPAIGN_PAGE": strconv.Itoa(page)}
	if bulk > 0 {
		mkEnv["HARVEST_CAMPAIGN_BULK"] = strconv.Itoa(bulk)
	}
	if err := local.EnsureServices(ctx, os.Stderr); err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Options{Name: "load-" + ids.New()[20:], Progress: os.Stderr, AppEnv: map[string]map[string]string{
		"partners":  {"PARTNERS_BI_POPULATION": strconv.Itoa(users), "PARTNERS_BI_FAIL_PERCENT": "5"},
		"marketing": mkEnv,
	}})
	if err != nil {
		return err
	}
	defer st.Stop(context.Background())
	fmt.Printf("harvest-load campaign: %d users, BI pages of %d, user bulks of up to %s, on a fresh stack at %s\n", users, page,
		cmp.Or(mkEnv["HARVEST_CAMPAIGN_BULK"], "marketing's default"), time.Now().UTC().Format(time.RFC3339))
	tok := signer(st.JWTSecret())
	mk := gqlc.New(st.GraphQLURL(), tok("MARKETING", "load"))
	tplID, err := createLoadTemplate(ctx, mk, "load")
	if err != nil {
		return err
	}
	var cc struct {
		CreateCouponCampaign struct {
			Campaign *struct{ ID string }
			Errors   []struct{ Code, Message string }
		}
	}
	if err := mk.Do(ctx, `mutation($in: CouponCampaignInput!, $key: String!) { createCouponCampaign(input: $in, idempotencyKey: $key) {
		campaign { id } errors { code message } } }`, map[string]any{"key": ids.New(), "in": map[string]any{"name": "load",
		"conditions": map[string]any{"minOrders": 0}, "templateId": tplID, "stock": users}}, &cc); err != nil ||
		cc.CreateCouponCampaign.Campaign == nil {
		return fmt.Errorf("create campaign: %v %+v", err, cc.CreateCouponCampaign.Errors)
	}
	id := cc.CreateCouponCampaign.Campaign.ID
	db, err := sql.Open("mysql", st.DSN("marketing"))
	if err != nil {
		return err
	}
	defer db.Close()
	loadBefore := loadAverage()
	cpuBefore := cpuTimes(st.PIDs())
	stmtsBefore, err := serverStatements(ctx, db)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := mk.Do(ctx, `mutation($id: ID!) { moveCouponCampaign(id: $id, action: LAUNCH) { campaign { status } } }`, map[string]any{"id": id}, nil); err != nil {
		return err
	}
	type progress struct{ Matched, Granted, SkippedAlready, SkippedNoStock int64 }
	var last struct {
		Status   string
		Progress progress
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for last.Status != "COMPLETED" {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		var out struct {
			CouponCampaign struct {
				Status   string
				Progress progress
			}
		}
		if err := mk.Do(ctx, `query($id: ID!) { couponCampaign(id: $id) { status progress { matched granted skippedAlready skippedNoStock } } }`,
			map[string]any{"id": id}, &out); err != nil {
			continue
		}
		last = out.CouponCampaign
		el := time.Since(start)
		fmt.Printf("  %6.0fs  %s  matched %d  granted %d (%.0f/s)\n", el.Seconds(), last.Status, last.Progress.Matched, last.Progress.Granted,
			float64(last.Progress.Granted)/el.Seconds())
	}
	took := time.Since(start)
	cpuAfter := cpuTimes(st.PIDs())
	stmtsAfter, err := serverStatements(ctx, db)
	if err != nil {
		return err
	}
	fmt.Printf("load average: %s at launch, %s at completion\n", loadBefore, loadAverage())
	printCPUPerItem(cpuBefore, cpuAfter, last.Progress.Granted, "grant")
	printStatementsPerItem(stmtsBefore, stmtsAfter, last.Progress.Granted, "grant")
	printBulkSizes(ctx, "http://"+st.OpsAddr("marketing")+"/metrics")
	var rows, distinct int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM coupons WHERE source='CAMPAIGN' AND source_ref=?`, id).
		Scan(&rows, &distinct); err != nil {
		return err
	}
	rate := float64(last.Progress.Granted) / took.Seconds()
	fmt.Printf("campaign: %d users granted in %s = %.0f/s; coupons %d, distinct users %d (want %d and %d); projection for 6 M: %s\n",
		last.Progress.Granted, took.Round(time.Second), rate, rows, distinct, users, users, (time.Duration(6e6/rate) * time.Second).Round(time.Second))
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	// The baseline binds bulks of the size the consumer was handed, so it
	// stays the floor of the same batched writes.
	base, err := load.CampaignGrantBaseline(ctx, mysqlServer, rdb, 4, cmp.Or(bulk, events.DefaultUserBulk), baselineD)
	if err != nil {
		return err
	}
	fmt.Println(base)
	fmt.Printf("ratio: the whole stack reaches %.0f%% of the raw grant writes\n", 100*rate/base.PerSecond())
	if rows != int64(users) || distinct != int64(users) {
		return fmt.Errorf("exactly once violated: %d coupons for %d distinct users, want %d", rows, distinct, users)
	}
	return nil
}

// createLoadTemplate makes the coupon template a load run's campaign
// gives: 1 yuan, valid from an hour ago for a day.
func createLoadTemplate(ctx context.Context, mk *gqlc.Client, title string) (string, error) {
	now := time.Now().UTC()
	var tpl struct {
		CreateCouponTemplate struct{ Template *struct{ ID string } }
	}
	if err := mk.Do(ctx, `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) { template { id } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"title": title, "valueFen": 100, "validFrom": now.Add(-time.Hour),
			"validTo": now.Add(24 * time.Hour)}}, &tpl); err != nil || tpl.CreateCouponTemplate.Template == nil {
		return "", fmt.Errorf("create template: %v", err)
	}
	return tpl.CreateCouponTemplate.Template.ID, nil
}
