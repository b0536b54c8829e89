package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

// marketing stopped gracefully (SIGTERM to the app, then to its sidecar:
// the stack's Restart) in the middle of a pop-up claim burst through the
// gateway, then started again: every claim the gateway accepted ends
// BOUND or REFUSED (none lost, none left pending), no customer holds a
// coupon twice, every bound claim has exactly its coupon, and the stock
// is never exceeded. Customers whose tap failed while marketing was down
// tap again with the same key, as the app does, and get one answer.
//
// The binders outrun the gateway by far (256 claims a transaction), so
// left alone the queues are empty whenever the stop comes. The test holds
// the template's row lock (bindings read it LOCK IN SHARE MODE) from
// before the burst until the stop has begun: accepted claims pile up in
// the queues, and the stopping instance must hand them to the broker.
func TestClaimBurstSurvivesGracefulStopOfMarketing(t *testing.T) {
	const (
		customers = 4_000
		stock     = 3_000
		workers   = 32
	)
	mk := client(t, "MARKETING", "mk-graceful")
	now := time.Now().UTC()
	var tpl struct {
		CreateCouponTemplate struct{ Template *struct{ ID string } }
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) {
		template { id } } }`, map[string]any{"key": ids.New(), "in": map[string]any{"title": "graceful 3 off", "valueFen": 300,
		"validFrom": now.Add(-time.Hour), "validTo": now.Add(24 * time.Hour)}}, &tpl); err != nil || tpl.CreateCouponTemplate.Template == nil {
		t.Fatalf("template: %v", err)
	}
	tplID := tpl.CreateCouponTemplate.Template.ID
	camp, errs := createClaimCampaign(t, mk, map[string]any{"name": "graceful", "templateId": tplID, "stock": stock, "perUserLimit": 1,
		"startsAt": now.Add(-time.Minute), "endsAt": now.Add(time.Hour)})
	if errs != nil {
		t.Fatalf("campaign: %+v", errs)
	}

	db, err := sql.Open("mysql", st.DSN("marketing"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.BeginTx(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`SELECT id FROM coupon_templates WHERE id=? FOR UPDATE`, tplID); err != nil {
		t.Fatal(err)
	}

	// tap claims once, answering the claim, a refusal's reason, or an
	// error (marketing down, the gateway's call cut by the stop).
	tap := func(c *gqlc.Client, key string) (*couponClaim, string, error) {
		var out struct {
			ClaimCoupon struct {
				Claim  *couponClaim
				Errors []userError
			}
		}
		if err := c.Do(ctx(t), mClaim, map[string]any{"c": camp, "key": key}, &out); err != nil {
			return nil, "", err
		}
		switch r := out.ClaimCoupon; {
		case r.Claim != nil:
			return r.Claim, "", nil
		case len(r.Errors) == 1 && r.Errors[0].Code == "CLAIM_REFUSED":
			return nil, r.Errors[0].Reason, nil
		default:
			return nil, "", fmt.Errorf("%+v", r.Errors)
		}
	}
	var (
		mu       sync.Mutex
		accepted = map[string]string{} // customer → claim id
		refused  = map[string]int{}    // reason → taps
		retries  atomic.Int64
		sent     atomic.Int64
	)
	stopAt := int64(customers * 2 / 3)
	stopped := make(chan error, 1)
	stop := func() {
		// SIGTERM reaches marketing at once; the binders are let go while
		// it stops, well inside the stack's grace.
		go func() { stopped <- st.Restart(ctx(t), "marketing") }()
		time.Sleep(1500 * time.Millisecond)
		if err := lock.Rollback(); err != nil {
			t.Errorf("release the template: %v", err)
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < customers; i += workers {
				cust := fmt.Sprintf("CG%05d", i)
				c := client(t, "CUSTOMER", cust)
				if sent.Add(1) == stopAt {
					go stop()
				}
				deadline := time.Now().Add(2 * time.Minute)
				for {
					cl, reason, err := tap(c, "tap-1")
					if err == nil {
						mu.Lock()
						if cl != nil {
							accepted[cust] = cl.ID
						} else {
							refused[reason]++
						}
						mu.Unlock()
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("%s: no answer within 2 minutes: %v", cust, err)
						return
					}
					retries.Add(1)
					time.Sleep(200 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	if err := <-stopped; err != nil {
		t.Fatalf("graceful restart of marketing: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
	if retries.Load() == 0 {
		t.Logf("no tap failed during the stop: the burst may have ended before it")
	}

	var pending int64
	eventually(t, 90*time.Second, "every accepted claim bound or refused", func() (bool, error) {
		err := db.QueryRow(`SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status NOT IN ('BOUND','REFUSED')`, camp).Scan(&pending)
		return err == nil && pending == 0, fmt.Errorf("%d pending, %v", pending, err)
	})

	// Every accepted claim is there, ended, under its customer.
	rows, err := db.Query(`SELECT id, customer_id, status, COALESCE(coupon_id,'') FROM coupon_claims WHERE campaign_id=?`, camp)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ customer, status, coupon string }
	stored := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.customer, &r.status, &r.coupon); err != nil {
			t.Fatal(err)
		}
		stored[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	bound := 0
	for cust, id := range accepted {
		r, ok := stored[id]
		switch {
		case !ok:
			t.Errorf("claim %s of %s, accepted by the gateway, is lost", id, cust)
		case r.customer != cust:
			t.Errorf("claim %s accepted for %s is stored for %s", id, cust, r.customer)
		case r.status == "BOUND" && r.coupon == "":
			t.Errorf("claim %s is BOUND without a coupon", id)
		case r.status == "BOUND":
			bound++
		}
	}
	if len(stored) != len(accepted) {
		t.Errorf("%d claims stored, %d accepted: a tap answered with an error was recorded anyway and its retry answered another claim", len(stored), len(accepted))
	}

	// The wallet: one coupon per bound claim, nobody twice, stock held.
	var coupons, holders, fromBound int64
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT customer_id), COALESCE(SUM(id IN (SELECT coupon_id FROM coupon_claims
		WHERE campaign_id=? AND status='BOUND')),0) FROM coupons WHERE template_id=?`, camp, tplID).Scan(&coupons, &holders, &fromBound); err != nil {
		t.Fatal(err)
	}
	if coupons != int64(bound) || holders != coupons || fromBound != coupons {
		t.Errorf("%d coupons for %d customers (%d of bound claims), want %d each: one per bound claim, nobody twice", coupons, holders, fromBound, bound)
	}
	if bound > stock {
		t.Errorf("%d bound of a stock of %d: oversold", bound, stock)
	}
	var counts struct {
		ClaimCampaign struct {
			Bound, Refused, Pending, GivebacksOwed int64
			StockLeft                              *int64
		}
	}
	if err := mk.Do(ctx(t), `query($id: ID!) { claimCampaign(id: $id) { bound refused pending givebacksOwed stockLeft } }`,
		map[string]any{"id": camp}, &counts); err != nil {
		t.Fatal(err)
	}
	cc := counts.ClaimCampaign
	if cc.Bound != int64(bound) || cc.Pending != 0 || cc.StockLeft == nil || *cc.StockLeft+cc.Bound+cc.GivebacksOwed != stock {
		t.Errorf("campaign counts %+v (stock left %v), want %d bound and the stock accounted for", cc, cc.StockLeft, bound)
	}
	// What the stopping instance handed to the broker (its log; JSON lines).
	logs, _ := os.ReadFile(filepath.Join(st.RunDir(), "logs", "marketing.log"))
	handed := 0
	for _, m := range regexp.MustCompile(`"msg":"claims handed to the broker on stop".*?"claims":(\d+)`).FindAllStringSubmatch(string(logs), -1) {
		n, _ := strconv.Atoi(m[1])
		handed += n
	}
	if handed == 0 {
		t.Errorf("the stop handed no claim to the broker: the queues were empty, so the graceful path went untested")
	}
	t.Logf("%d customers: %d claims accepted, %d bound, refused at the tap %v; %d taps retried across the stop; %d claims handed to the broker on stop",
		customers, len(accepted), bound, refused, retries.Load(), handed)
}
