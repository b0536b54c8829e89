package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
)

// qDetail is the customer's order page: the order with its lines and its
// cancel request, which the cancel filter guards.
const qDetail = `query($id:ID!){ order(id:$id){ id status totalFen paidFen lines{ sku qty amountFen } cancelRequest{ id status refundedFen } } }`

// detailOpts are the detail run's settings.
type detailOpts struct {
	orders, withRequests, rate, workers int
	d                                   time.Duration
	redisAddr                           string
}

// detail measures order detail through the gateway, open loop at o.rate
// for o.d, over o.orders paid orders of which o.withRequests percent have
// a cancel request. Two phases on one stack: first with the cancel filter
// (its "no" answers the orders without a request from the gateway's
// mirror in memory, or from Redis out of the mirror's lease), then the
// same reads with the filter's ready mark removed, so the gateway asks
// after-sales for every order — the production path of a filter not yet
// (re)built, no switch needed; the mark is put back afterwards (the bits
// were never touched). After-sales' filter keeper is set to check hourly
// (HARVEST_AFTERSALES_FILTER_CHECK) so it does not rebuild the mark in
// the middle of the second phase. Every answer is checked: an order with
// a request must show it, one without must show none.
func detail(ctx context.Context, o detailOpts) error {
	if o.orders <= 0 || o.rate <= 0 || o.d <= 0 || o.workers <= 0 || o.withRequests < 0 || o.withRequests > 100 {
		return fmt.Errorf("-orders, -rate, -duration and -workers must be positive, -with-requests a percentage")
	}
	st, err := freshStackWith(ctx, map[string]map[string]string{"aftersales": {"HARVEST_AFTERSALES_FILTER_CHECK": "1h"},
		"partners": {"PARTNERS_CALLBACK_DELAY": "20ms", "PARTNERS_REFUND_DELAY": "20ms", "PARTNERS_TICK": "20ms"}})
	if err != nil {
		return err
	}
	defer st.Stop(context.Background())
	time.Sleep(2 * time.Second) // let seeders and subscriptions settle
	fmt.Printf("harvest-load detail on a fresh stack at %s\n", time.Now().UTC().Format(time.RFC3339))
	token := signer(st.JWTSecret())
	url := st.GraphQLURL()
	pool, err := stockedPlainPool(ctx, st, url, token, o.orders)
	if err != nil {
		return err
	}
	// Suspended, the orders stay paid and cancellable, and no pipeline
	// runs beside the reads.
	admin := gqlc.New(url, token("ADMIN", "load"))
	if err := switchPipeline(ctx, admin, true); err != nil {
		return err
	}
	fmt.Println("fulfillment suspended (suspendFulfillment as ADMIN): the orders wait, paid, and nothing runs beside the reads")
	paid, err := payOrders(ctx, st, token, pool, o.orders, 100, o.workers)
	if err != nil {
		return err
	}
	// Every hundredth order (with -with-requests 1) is cancelled by its
	// customer, through the gateway, and let finish.
	withReq := map[string]bool{}
	hc := gqlc.New(url, "")
	step := 0
	if o.withRequests > 0 {
		step = max(1, 100/o.withRequests)
	}
	for i, p := range paid {
		if step == 0 || i%step != step/2 {
			continue
		}
		var out struct {
			RequestCancel struct {
				Request *struct{ ID string }
				Errors  codes
			}
		}
		err := hc.WithToken(token("CUSTOMER", p.customer)).Do(ctx, mCancel, map[string]any{"id": p.id, "key": ids.New(), "reason": "harvest-load: order detail's 1 %"}, &out)
		if err == nil && out.RequestCancel.Request == nil {
			err = fmt.Errorf("%v", out.RequestCancel.Errors.list())
		}
		if err != nil {
			return fmt.Errorf("cancel %s: %w", p.id, err)
		}
		withReq[p.id] = true
	}
	asDB, err := sqltx.Open(ctx, st.DSN("aftersales"))
	if err != nil {
		return err
	}
	defer asDB.Close()
	if err := awaitReverseFlow(ctx, asDB, time.Now(), 5*time.Minute); err != nil {
		return err
	}
	fmt.Printf("%d orders, %d (%.1f %%) with a cancel request (REFUNDED); reading each customer's order page: %d/s for %s per phase\n",
		len(paid), len(withReq), 100*float64(len(withReq))/float64(len(paid)), o.rate, o.d)

	rdb := redis.NewClient(&redis.Options{Addr: o.redisAddr, DB: st.RedisDB()})
	defer rdb.Close()
	filter := aftersalesclient.NewCancelFilter(rdb, aftersalesclient.DefaultFilterPrefix)
	readyKey := aftersalesclient.DefaultFilterPrefix + "ready"
	if ok, err := filter.Ready(ctx); err != nil || !ok {
		return fmt.Errorf("the cancel filter is not ready on the fresh stack (%v): the first phase would not use it", err)
	}
	tokens := map[string]string{}
	for _, p := range paid {
		if tokens[p.customer] == "" {
			tokens[p.customer] = token("CUSTOMER", p.customer)
		}
	}
	// The gateway times every cancelRequest lookup by path; each phase's
	// lookups are the change of its histogram across the phase.
	metricsURL := "http://" + st.OpsAddr("gateway") + "/metrics"
	var lookups []map[string]*lookupCost
	phase := func(name string) (load.Rate, map[load.Outcome]int64, map[string]int64, map[string]int64, map[string]int64) {
		m0 := scrape(metricsURL)
		before := cpuTimes(withSelf(st.PIDs()))
		defer func() { lookups = append(lookups, lookupCosts(m0, scrape(metricsURL))) }()
		r, outcomes, reasons := load.Attack(ctx, name, url, o.rate, o.d, 0,
			func(i int64) (string, []byte) {
				p := paid[i%int64(len(paid))]
				return tokens[p.customer], load.GraphQLBody(qDetail, map[string]any{"id": p.id})
			}, func(data json.RawMessage) (load.Outcome, string) { return classifyDetail(data, withReq) })
		return r, outcomes, reasons, before, cpuTimes(withSelf(st.PIDs()))
	}
	fmt.Println("\nphase 1: the cancel filter answers the orders without a request")
	r1, out1, why1, b1, a1 := phase("order detail via gateway, filter")
	if ok, err := filter.Ready(ctx); err != nil || !ok {
		return fmt.Errorf("the cancel filter lost its ready mark during the first phase (%v)", err)
	}
	mark, err := rdb.Get(ctx, readyKey).Result()
	if err != nil {
		return err
	}
	if err := rdb.Del(ctx, readyKey).Err(); err != nil {
		return err
	}
	fmt.Println("phase 2 (baseline): the filter's ready mark removed: the gateway asks after-sales for every order" +
		" (its mirror's renewals are refused without the mark, so it reads Redis, which finds no mark: a filter not built," +
		" as production meets it)")
	time.Sleep(2 * time.Second)
	r2, out2, why2, b2, a2 := phase("order detail via gateway, ask after-sales")
	if err := rdb.Set(ctx, readyKey, mark, 0).Err(); err != nil {
		return fmt.Errorf("put the filter's ready mark back: %w", err)
	}
	// Without the mark no "no" may be believed, the mirror's neither.
	for _, path := range []string{"filter_no_memory", "filter_no_redis"} {
		if c := lookups[1][path]; c != nil && c.count > 0 {
			return fmt.Errorf("%.0f lookups answered %s with the filter's ready mark removed", c.count, path)
		}
	}
	report := func(r load.Rate, outcomes map[load.Outcome]int64, reasons map[string]int64, before, after map[string]int64, costs map[string]*lookupCost) {
		fmt.Println(r)
		fmt.Printf("  offered %d/s, achieved %.0f/s; ok %d, failed %d; p50 %s p95 %s p99 %s max %s\n", o.rate, r.PerSecond(),
			outcomes[load.OK], outcomes[load.Failed], round(r.P50), round(r.P95), round(r.P99), round(r.Max))
		for why, k := range reasons {
			fmt.Printf("  %6d × %s\n", k, why)
		}
		printCPUPerItem(before, after, r.Ops, "order page read (harvest-load included)")
		printLookupCosts(costs)
	}
	fmt.Println()
	report(r1, out1, why1, b1, a1, lookups[0])
	report(r2, out2, why2, b2, a2, lookups[1])
	// The figure: the filter's "no" (phase 1: from the gateway's
	// mirror in memory, or from Redis while the mirror was out of its
	// lease) beside asking after-sales (phase 2, every lookup), both timed
	// by the gateway.
	asked := lookups[1]["asked"]
	for _, path := range []string{"filter_no_memory", "filter_no_redis"} {
		no := lookups[0][path]
		if no.mean() > 0 && asked.mean() > 0 {
			fmt.Printf("lookup cost: asking after-sales / %s = %.1f× by mean (%s / %s), %.1f× by p99 (%s / %s); target ≥ 100×\n", path,
				float64(asked.mean())/float64(no.mean()), round(asked.mean()), round(no.mean()),
				float64(asked.quantile(0.99))/float64(no.quantile(0.99)), round(asked.quantile(0.99)), round(no.quantile(0.99)))
		}
	}
	// CPU: a lookup's own CPU cannot be told apart from the rest of the
	// read inside one process, so compare the phases per read: what
	// asking adds is phase 2's after-sales side and gateway daprd less
	// phase 1's; the filter's is its Redis.
	as1, gd1, rd1 := lookupCPU(b1, a1, r1.Ops)
	as2, gd2, rd2 := lookupCPU(b2, a2, r2.Ops)
	fmt.Printf("CPU per read: after-sales + its daprd + MariaDB %.2f ms → %.2f ms, gateway's daprd %.2f → %.2f ms, Redis %.3f → %.3f ms (phase 1 → 2)\n",
		as1, as2, gd1, gd2, rd1, rd2)
	if extra := (as2 + gd2) - (as1 + gd1); rd1 > 0 {
		fmt.Printf("  asking after-sales adds %.2f ms CPU per lookup (both sidecars, after-sales, MariaDB) against the filter's %.3f ms of Redis: %.0f×\n",
			extra, rd1, extra/rd1)
	}
	if r2.P50 > 0 && r2.P99 > 0 {
		fmt.Printf("ratio: with the filter p50 %.2f× and p99 %.2f× the baseline's (asking after-sales every time)\n",
			float64(r1.P50)/float64(r2.P50), float64(r1.P99)/float64(r2.P99))
	}
	// Timeouts of a saturated stack are figures (reported above); a wrong
	// answer about a cancel request breaks DOMAIN 5's rule and fails the run.
	if wrong := wrongAnswers(why1) + wrongAnswers(why2); wrong > 0 {
		return fmt.Errorf("%d order pages answered cancelRequest wrongly", wrong)
	}
	return nil
}

// wrongAnswers counts the reads classifyDetail found wrong about the
// cancel request.
func wrongAnswers(reasons map[string]int64) int64 {
	var n int64
	for why, k := range reasons {
		if strings.HasPrefix(why, wrongPrefix) {
			n += k
		}
	}
	return n
}

// wrongPrefix starts the reason of a read whose cancelRequest is wrong.
const wrongPrefix = "WRONG: "

// classifyDetail checks one order page: the order is there, and its
// cancelRequest is shown exactly when it has one (withReq).
func classifyDetail(data json.RawMessage, withReq map[string]bool) (load.Outcome, string) {
	var r struct {
		Order *struct {
			ID            string
			CancelRequest *struct{ ID, Status string }
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return load.Failed, "bad data"
	}
	switch {
	case r.Order == nil:
		return load.Failed, "no order"
	case withReq[r.Order.ID] && r.Order.CancelRequest == nil:
		return load.Failed, wrongPrefix + "cancelRequest missing on an order with one"
	case !withReq[r.Order.ID] && r.Order.CancelRequest != nil:
		return load.Failed, wrongPrefix + "cancelRequest on an order without one"
	}
	return load.OK, ""
}
