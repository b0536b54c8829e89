package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	local "github.com/harvest/harvest/deploy/local"
	"github.com/harvest/harvest/deploy/local/stack"
)

// marketplace is a group buy closing (DOMAIN 6.2): the Yuedian-like
// stand-in pushes n signed orders to channels' public endpoint at rate a
// second (duplicates percent of them pushed again, at once and later),
// each timed by the platform from its request to channels' answer (its
// timeout is 3 s). channels stages each and answers; from the broker each
// becomes a sales plan, then a ToB Harvest order through OMS's accept-order
// API, and Yuedian is told ACCEPTED. Fulfillment is suspended for the run
// (suspendFulfillment), so the figures are the marketplace path's, not the
// pipeline's. The run reports the accept latency and rate, the time until
// every order was made, and counts in channels' and OMS's databases that
// none was lost or doubled; beside it, in the same run, the raw MariaDB
// insert rate of the same staging rows (load.MarketplaceStageBaseline).
func marketplace(ctx context.Context, n, rate, duplicates int, mysqlServer string, baselineD time.Duration) error {
	if n <= 0 || rate <= 0 {
		return fmt.Errorf("-orders and -rate must be positive")
	}
	if err := local.EnsureServices(ctx, os.Stderr); err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Options{Name: "load-" + ids.New()[20:], Progress: os.Stderr})
	if err != nil {
		return err
	}
	defer st.Stop(context.Background())
	fmt.Printf("harvest-load marketplace: %d Yuedian orders at %d/s (%d%% pushed twice), on a fresh stack at %s\n",
		n, rate, duplicates, time.Now().UTC().Format(time.RFC3339))
	tok := signer(st.JWTSecret())
	admin := gqlc.New(st.GraphQLURL(), tok("ADMIN", "load"))
	prods, err := catalog(ctx, st.GraphQLURL(), tok("CUSTOMER", "C0001"))
	if err != nil {
		return err
	}
	var pool []product
	for _, p := range prods {
		if p.SKU != "FLASH-001" && !p.Presale && p.Available >= 300 {
			pool = append(pool, p)
		}
	}
	if len(pool) < 10 {
		return fmt.Errorf("catalog has only %d SKUs with ample stock", len(pool))
	}
	pool = pool[:min(len(pool), 60)]
	if err := receiveStock(ctx, st, pool, 2*n); err != nil { // lines take 1 or 2 units
		return err
	}
	if err := raiseCapacity(ctx, admin, n); err != nil {
		return err
	}
	if err := switchPipeline(ctx, admin, true); err != nil {
		return err
	}
	fmt.Println("fulfillment suspended (suspendFulfillment as ADMIN): the run measures the marketplace path")
	skus := make([]sim.MarketLine, 0, len(pool))
	for _, p := range pool {
		var out struct {
			SetSkuMapping struct {
				Errors []struct{ Code, Message string }
			}
		}
		if err := admin.Do(ctx, `mutation($ps:String!,$sku:ID!){ setSkuMapping(platform: YUEDIAN, platformSku:$ps, sku:$sku){ errors{ code message } } }`,
			map[string]any{"ps": "YD-" + p.SKU, "sku": p.SKU}, &out); err != nil || len(out.SetSkuMapping.Errors) > 0 {
			return fmt.Errorf("setSkuMapping %s: %v %+v", p.SKU, err, out.SetSkuMapping.Errors)
		}
		skus = append(skus, sim.MarketLine{SKU: "YD-" + p.SKU, PriceFen: p.PriceFen * 9 / 10}) // the platform's agreed 10 % off
		time.Sleep(60 * time.Millisecond)                                                      // within the gateway's 20 mutations a second per user
	}
	fmt.Printf("%d Yuedian SKUs mapped (setSkuMapping as ADMIN)\n", len(skus))

	chDB, err := sqltx.Open(ctx, st.DSN("channels"))
	if err != nil {
		return err
	}
	defer chDB.Close()
	omsDB, err := sqltx.Open(ctx, st.DSN("oms"))
	if err != nil {
		return err
	}
	defer omsDB.Close()

	prefix := "YDL-" + strings.ToLower(ids.New()[18:]) + "-"
	// HARVEST_LOAD_PPROF: where the push's CPU goes (accept path in
	// channels, making in OMS, the stand-in's own share).
	profileApps(st, 2*time.Second, time.Duration(max(5, n/rate))*time.Second, "channels", "oms", "partners")
	cpuBefore := cpuTimes(st.PIDs())
	start := time.Now()
	type pushed struct {
		rep sim.PushReport
		err error
	}
	done := make(chan pushed, 1)
	go func() {
		var rep sim.PushReport
		err := partnersAdmin(ctx, st, "/admin/market/push", sim.PushRequest{Platform: "YUEDIAN", Count: n, Prefix: prefix, SKUs: skus,
			Rate: rate, Concurrency: 512, DuplicatePercent: duplicates}, &rep, time.Duration(n/rate)*time.Second+5*time.Minute)
		done <- pushed{rep, err}
	}()
	var rep sim.PushReport
	pushing := true
	var madeIn time.Duration
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for madeIn == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-done:
			if p.err != nil {
				return p.err
			}
			rep, pushing = p.rep, false
			// The making that follows the push, on its own.
			profilePhase(st, "-making", 0, 20*time.Second, "channels", "oms", "inventory", "partners")
			// What the push cost, making alongside included (it runs at once).
			printCPUPerItem(cpuBefore, cpuTimes(st.PIDs()), int64(rep.Sent), "push request sent and answered (making alongside)")
			fmt.Printf("  %5.1fs  pushed: %d requests, %d orders accepted, answers %v, %d past the 3 s timeout, accept p50 %.1f ms p99 %.1f ms max %.1f ms\n",
				time.Since(start).Seconds(), rep.Sent, rep.Accepted, rep.ByCode, rep.TimedOut, rep.LatencyMs["p50"], rep.LatencyMs["p99"], rep.LatencyMs["max"])
			continue
		case <-tick.C:
		}
		counts := map[string]int64{}
		rows, err := chDB.QueryContext(ctx, `SELECT status, COUNT(*) FROM staging_process WHERE platform_order_id LIKE ? GROUP BY status`, prefix+"%")
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			var c int64
			_ = rows.Scan(&s, &c)
			counts[s] = c
		}
		rows.Close()
		el := time.Since(start)
		fmt.Printf("  %5.1fs  staged %d: received %d, planned %d, ordered %d, parked %d, failed %d\n", el.Seconds(),
			counts["RECEIVED"]+counts["PLANNED"]+counts["ORDERED"]+counts["PARKED"]+counts["FAILED"], counts["RECEIVED"], counts["PLANNED"],
			counts["ORDERED"], counts["PARKED"], counts["FAILED"])
		if !pushing && counts["ORDERED"]+counts["FAILED"]+counts["PARKED"] >= int64(rep.Orders) && rep.Orders > 0 {
			madeIn = el
		}
		if el > 15*time.Minute {
			return fmt.Errorf("not every order made after %s: %v", el.Round(time.Second), counts)
		}
	}
	printCPUPerItem(cpuBefore, cpuTimes(st.PIDs()), int64(rep.Orders), "marketplace order pushed, staged, planned and ordered")

	var staged, distinct, plans, failed int64
	if err := chDB.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT platform_order_id), COALESCE(SUM(status='FAILED'),0) FROM staging_process WHERE platform_order_id LIKE ?`,
		prefix+"%").Scan(&staged, &distinct, &failed); err != nil {
		return err
	}
	if err := chDB.QueryRowContext(ctx, `SELECT COUNT(*) FROM sales_plans s JOIN staging_process p ON p.id=s.process_id WHERE p.platform_order_id LIKE ?`,
		prefix+"%").Scan(&plans); err != nil {
		return err
	}
	var orders, keys int64
	if err := omsDB.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE source='THIRD_PARTY'`).Scan(&orders); err != nil {
		return err
	}
	if err := omsDB.QueryRowContext(ctx, `SELECT COUNT(DISTINCT idem_key) FROM order_idempotency WHERE idem_key LIKE 'plan-%'`).Scan(&keys); err != nil {
		keys = -1 // the table's columns are OMS's business; the order count is the check
	}
	fmt.Printf("marketplace: %d orders pushed (%d requests with the repeats) in %s = %.0f orders/s offered; accepted %d, answers %v, repeats answered another id %d, past the timeout %d\n",
		rep.Orders, rep.Sent, rep.Duration.Round(time.Millisecond), float64(rep.Orders)/rep.Duration.Seconds(), rep.Accepted, rep.ByCode, rep.Mismatched, rep.TimedOut)
	fmt.Printf("marketplace: accept latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (the platform's clock, request to answer)\n",
		rep.LatencyMs["p50"], rep.LatencyMs["p95"], rep.LatencyMs["p99"], rep.LatencyMs["max"])
	fmt.Printf("marketplace: every order made %s after the first push = %.0f orders/s end to end; staged %d (distinct %d), plans %d, OMS THIRD_PARTY orders %d, OMS idempotency keys %d, failed %d (want %d each, 0 failed)\n",
		madeIn.Round(time.Second), float64(rep.Orders)/madeIn.Seconds(), staged, distinct, plans, orders, keys, failed, rep.Orders)
	base, err := load.MarketplaceStageBaseline(ctx, mysqlServer, 8, 200, baselineD)
	if err != nil {
		return err
	}
	fmt.Println(base)
	fmt.Printf("marketplace: accepted %.0f orders/s vs the raw staging insert rate %.0f orders/s (%.0f %%)\n",
		float64(rep.Accepted)/rep.Duration.Seconds(), base.PerSecond(), 100*float64(rep.Accepted)/rep.Duration.Seconds()/base.PerSecond())
	if staged != int64(rep.Orders) || distinct != staged || plans != staged || orders != staged || rep.Mismatched != 0 {
		return fmt.Errorf("lost or doubled: pushed %d, staged %d (distinct %d), plans %d, orders %d, mismatched answers %d",
			rep.Orders, staged, distinct, plans, orders, rep.Mismatched)
	}
	return nil
}

// partnersAdmin calls the partners stand-in's admin API on its app port
// (with its sidecar's token, as its sidecar would).
func partnersAdmin(ctx context.Context, st *stack.Stack, path string, in, out any, timeout time.Duration) error {
	b, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+st.AppAddr("partners")+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(daprx.APITokenHeader, st.AppToken("partners"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("partners %s: %d %s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}
