package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/marketing/claimstock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	local "github.com/harvest/harvest/deploy/local"
	"github.com/harvest/harvest/deploy/local/stack"
)

const mClaimCoupon = `mutation($c: ID!, $key: String!) { claimCoupon(campaignId: $c, idempotencyKey: $key) {
	claim { id status } errors { code reason } } }`

// claimsRun is a pop-up's peak on a fresh stack (DOMAIN 3.3): users
// customers tap "claim" taps times each (each tap a key of its own, so
// every tap past the first meets the limit of 1) on a campaign of stock
// coupons, through the gateway at rate taps/s. It reports the taps
// answered and the claims accepted per second, then waits until every
// accepted claim is bound or refused and checks in marketing's database:
// exactly min(stock, users) coupons bound, none oversold, no customer
// twice, Redis's counter agreeing. Beside it, in the same run, the bare
// Redis Lua decrement (the ceiling of anything built on Redis here) and
// the claim stock's own take script, one claim a call.
func claimsRun(ctx context.Context, users, taps int, stock int64, rate int, mysqlServer, redisAddr string, baselineD time.Duration) error {
	if users <= 0 || taps <= 0 || stock <= 0 || rate <= 0 {
		return fmt.Errorf("-users, -taps, -stock and -rate must be positive")
	}
	if err := local.EnsureServices(ctx, os.Stderr); err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Options{Name: "load-" + ids.New()[20:], Progress: os.Stderr})
	if err != nil {
		return err
	}
	defer st.Stop(context.Background())
	fmt.Printf("harvest-load claims: %d customers x %d taps on a stock of %d, %d taps/s, on a fresh stack at %s\n",
		users, taps, stock, rate, time.Now().UTC().Format(time.RFC3339))
	tok := signer(st.JWTSecret())
	mk := gqlc.New(st.GraphQLURL(), tok("MARKETING", "load"))
	now := time.Now().UTC()
	tplID, err := createLoadTemplate(ctx, mk, "pop-up")
	if err != nil {
		return err
	}
	var cc struct {
		CreateClaimCampaign struct {
			Campaign *struct{ ID string }
			Errors   []struct{ Code, Message string }
		}
	}
	if err := mk.Do(ctx, `mutation($in: ClaimCampaignInput!, $key: String!) { createClaimCampaign(input: $in, idempotencyKey: $key) {
		campaign { id } errors { code message } } }`, map[string]any{"key": ids.New(), "in": map[string]any{"name": "load",
		"templateId": tplID, "stock": stock, "perUserLimit": 1, "startsAt": now.Add(-time.Minute),
		"endsAt": now.Add(2 * time.Hour)}}, &cc); err != nil || cc.CreateClaimCampaign.Campaign == nil {
		return fmt.Errorf("create campaign: %v %+v", err, cc.CreateClaimCampaign.Errors)
	}
	camp := cc.CreateClaimCampaign.Campaign.ID
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = tok("CUSTOMER", fmt.Sprintf("P%07d", i))
	}
	total := users * taps
	profileApps(st, 3*time.Second, 10*time.Second, "gateway", "marketing") // 10 s into the burst
	before := cpuTimes(st.PIDs())
	r, outcomes, reasons := load.Attack(ctx, "claimCoupon via gateway (whole stack)", st.GraphQLURL(), rate, 0, uint64(total),
		func(i int64) (string, []byte) {
			// Tap t of customer u: every customer's first tap comes before
			// anyone's second, as a pop-up shown to everyone at once.
			u, t := int(i)%users, int(i)/users
			return tokens[u], load.GraphQLBody(mClaimCoupon, map[string]any{"c": camp, "key": "tap-" + strconv.Itoa(t)})
		}, classifyClaim)
	after := cpuTimes(st.PIDs())
	fmt.Println()
	fmt.Println(r)
	printCPUPerItem(before, after, r.Ops, "tap")
	fmt.Printf("  claims accepted %d (%.0f/s), refused at once %d, failed %d\n", outcomes[load.OK], float64(outcomes[load.OK])/r.Elapsed.Seconds(),
		outcomes[load.Refused], outcomes[load.Failed])
	for why, n := range reasons {
		fmt.Printf("    %-40s %d\n", why, n)
	}
	db, err := sql.Open("mysql", st.DSN("marketing"))
	if err != nil {
		return err
	}
	defer db.Close()
	settleStart := time.Now()
	for {
		var pending int64
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status='PENDING'`, camp).Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			break
		}
		if time.Since(settleStart) > 2*time.Minute {
			return fmt.Errorf("%d claims still pending 2 minutes after the burst", pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var claims, bound, coupons, distinct, maxPer, owed int64
	q := func(dst *int64, query string) error { return db.QueryRowContext(ctx, query, camp).Scan(dst) }
	for _, c := range []struct {
		dst *int64
		q   string
	}{
		{&claims, `SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=?`},
		{&bound, `SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status='BOUND'`},
		{&coupons, `SELECT COUNT(*) FROM coupons c JOIN coupon_claims k ON k.id=c.source_ref WHERE c.source='CLAIM' AND k.campaign_id=?`},
		{&distinct, `SELECT COUNT(DISTINCT customer_id) FROM coupon_claims WHERE campaign_id=? AND status='BOUND'`},
		{&maxPer, `SELECT COALESCE(MAX(n),0) FROM (SELECT COUNT(*) n FROM coupon_claims WHERE campaign_id=? GROUP BY customer_id) x`},
		{&owed, `SELECT COUNT(*) FROM claim_givebacks WHERE campaign_id=?`},
	} {
		if err := q(c.dst, c.q); err != nil {
			return err
		}
	}
	var out struct {
		ClaimCampaign struct{ StockLeft *int64 }
	}
	if err := mk.Do(ctx, `query($id: ID!) { claimCampaign(id: $id) { stockLeft } }`, map[string]any{"id": camp}, &out); err != nil {
		return err
	}
	left := int64(-1)
	if out.ClaimCampaign.StockLeft != nil {
		left = *out.ClaimCampaign.StockLeft
	}
	want := min(stock, int64(users))
	fmt.Printf("  settled %s after the burst: %d claims recorded, %d bound (want %d), %d coupons, %d distinct customers, at most %d claims a customer; "+
		"oversold %d; Redis left %d, give-backs owed %d\n", time.Since(settleStart).Round(10*time.Millisecond), claims, bound, want, coupons, distinct,
		maxPer, max(0, coupons-stock), left, owed)

	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, PoolSize: 64})
	defer rdb.Close()
	lua, err := load.RedisLuaBaseline(ctx, rdb, 64, baselineD)
	if err != nil {
		return err
	}
	cs := claimstock.New(rdb, fmt.Sprintf("load:baseline:%d:", time.Now().UnixNano()))
	scratch := "baseline"
	if _, err := cs.Create(ctx, scratch, 1<<40, 1, nil, time.Now().Add(time.Hour)); err != nil {
		return err
	}
	defer cs.Drop(context.Background(), scratch)
	take := load.Closed(ctx, "baseline: claim stock take script", 64, baselineD, func(ctx context.Context, _ int, _ int64) error {
		_, _, err := cs.Take(ctx, scratch, []string{ids.New()})
		return err
	})
	fmt.Println(lua)
	fmt.Println(take)
	fmt.Printf("ratio: the whole stack accepts claims at %.0f%% of the bare Redis Lua rate\n",
		100*float64(outcomes[load.OK])/r.Elapsed.Seconds()/lua.PerSecond())
	switch {
	case coupons > stock:
		return fmt.Errorf("oversold: %d coupons for a stock of %d", coupons, stock)
	case bound != want || coupons != bound || distinct != bound || maxPer > 1:
		return fmt.Errorf("bound %d (want %d), coupons %d, distinct %d, at most %d a customer", bound, want, coupons, distinct, maxPer)
	case left != stock-bound || owed != 0:
		return fmt.Errorf("redis left %d for %d bound of %d, %d give-backs owed", left, bound, stock, owed)
	}
	return nil
}

// classifyClaim: a claim answered (PENDING) is OK, a typed refusal (the
// limit, the stock gone) Refused, anything else Failed.
func classifyClaim(data json.RawMessage) (load.Outcome, string) {
	var d struct {
		ClaimCoupon struct {
			Claim  *struct{ ID string }
			Errors []struct{ Code, Reason string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return load.Failed, "bad data"
	}
	switch {
	case d.ClaimCoupon.Claim != nil:
		return load.OK, ""
	case len(d.ClaimCoupon.Errors) > 0 && d.ClaimCoupon.Errors[0].Code == "CLAIM_REFUSED":
		return load.Refused, "refused " + d.ClaimCoupon.Errors[0].Reason
	case len(d.ClaimCoupon.Errors) > 0:
		return load.Failed, d.ClaimCoupon.Errors[0].Code
	}
	return load.Failed, "empty answer"
}
