package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/inventory/seed"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/local/stack"
)

// fulfill measures the fulfillment pipeline on the whole stack: n paid
// orders (THIRD_PARTY, settled with the partner, so PAID at creation) are
// placed through OMS's API over Dapr, and every one walks the sixteen
// stages with each outside system reached through Dapr service invocation
// of apps/partners, WMS and marketing — the sidecars' cost included, unlike
// the in-process BenchmarkFulfillment. It reports the end-to-end time,
// orders/s, the deepest queue of each stage, OMS's peak memory, per stage
// its runs, mean cost and the sum of the stages' own costs per order (the
// baseline), and the CPU each process spent per order.
//
// Two ways to run it:
//   - placing alongside (the default): the clock runs from the first
//     placement to the last order dispatched, and placing shares the two
//     cores with the pipeline;
//   - backlog: a peak day's paid orders wait for the pipeline. An operator
//     suspends fulfillment (suspendFulfillment, through the gateway), the
//     orders are placed and enter fulfillment, then resumeFulfillment
//     starts the clock; it stops at the last order dispatched. This is the
//     pipeline's own throughput, the figure ARCHITECTURE.md's target is
//     about, and its CPU per order has no placing in it.
func fulfill(ctx context.Context, st *stack.Stack, n, workers int, backlog bool, token func(role, sub string) string) error {
	prods, err := catalog(ctx, st.GraphQLURL(), token("CUSTOMER", "C0001"))
	if err != nil {
		return err
	}
	var pool []product
	for _, p := range prods {
		// Ample stock, and no presale: a presale line waits for its
		// effective time by design, which is not throughput.
		if p.SKU != "FLASH-001" && !p.Presale && p.Available >= 300 {
			pool = append(pool, p)
		}
	}
	if len(pool) < 10 {
		return fmt.Errorf("catalog has only %d SKUs with ample stock", len(pool))
	}
	if err := receiveStock(ctx, st, pool, n); err != nil {
		return err
	}
	// Placed as a marketplace adapter would place them: through OMS's API,
	// in batches when many are in flight, so placing keeps ahead of the
	// pipeline being measured.
	inv := daprx.NewInvoker(mustPorts(st, "gateway").DaprHTTP, daprx.WithAPIToken(st.DaprToken("gateway")))
	inv.Batch(omsclient.AppID, omsclient.BatchRoutes...)
	oms := omsclient.New(inv)
	admin := gqlc.New(st.GraphQLURL(), token("ADMIN", "load"))

	db, err := sqltx.Open(ctx, st.DSN("oms"))
	if err != nil {
		return err
	}
	defer db.Close()

	if err := raiseCapacity(ctx, admin, n); err != nil {
		return err
	}
	if backlog {
		if err := switchPipeline(ctx, admin, true); err != nil {
			return err
		}
		fmt.Println("fulfillment suspended (suspendFulfillment as ADMIN)")
	}
	fmt.Printf("placing %d paid orders (1-3 lines over %d SKUs) through OMS's API with %d workers\n", n, len(pool), workers)
	cpuBefore := cpuTimes(st.PIDs())
	start := time.Now()
	pl := placeAll(ctx, oms, pool, n, workers)
	if backlog {
		<-pl.done
		placedIn := time.Since(start)
		pl.report(placedIn)
		for {
			var entered int64
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status = 'FULFILLING'`).Scan(&entered); err != nil {
				return err
			}
			fmt.Printf("  %s: %d of %d entered fulfillment and wait\n", time.Since(start).Round(time.Second), entered, pl.placed.Load())
			if entered >= pl.placed.Load() {
				break
			}
			if time.Since(start) > placedIn+5*time.Minute {
				return fmt.Errorf("only %d of %d placed orders entered fulfillment 5 min after placing ended", entered, pl.placed.Load())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Second):
			}
		}
		printCPUPerItem(cpuBefore, cpuTimes(st.PIDs()), pl.placed.Load(), "order placed and entered (pipeline suspended)")
		cpuBefore = cpuTimes(st.PIDs())
		start = time.Now()
		if err := switchPipeline(ctx, admin, false); err != nil {
			return err
		}
		fmt.Println("fulfillment resumed (resumeFulfillment as ADMIN): the clock starts")
	}

	maxWaiting := map[string]int64{}
	var stageOrder []string
	var peakRSS int64
	// placed: placing has ended (before the clock started, for a backlog),
	// placedIn after the clock started.
	placingDone, placed := pl.done, backlog
	var placedIn time.Duration
	if backlog {
		placingDone = nil
	}
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	ticks := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-placingDone:
			placedIn, placed = time.Since(start), true
			pl.report(placedIn)
			placingDone = nil
			continue
		case <-ticker.C:
		}
		// The operators' per-stage counts read every unfinished unit's
		// row; on a peak day's backlog that is a heavy query, so the run
		// asks for them every fifth tick (10 s) only, as a console would.
		if ticks++; ticks%5 == 1 {
			if stages, err := oms.FulfillmentStages(ctx); err == nil {
				for _, s := range stages {
					if _, ok := maxWaiting[s.Name]; !ok {
						stageOrder = append(stageOrder, s.Name)
					}
					maxWaiting[s.Name] = max(maxWaiting[s.Name], s.Waiting)
				}
			}
		}
		if rss := rssKiB(st.PIDs()["oms"]); rss > peakRSS {
			peakRSS = rss
		}
		// Counted on the status index: the orders not yet out of the
		// pipeline, not a scan of every order the run made.
		var open int64
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status IN ('PENDING_PAYMENT','PAID','FULFILLING')`).Scan(&open)
		if err != nil {
			return err
		}
		done := pl.placed.Load() - open
		fmt.Printf("  %s: %d done, %d in the pipeline\n", time.Since(start).Round(time.Second), done, open)
		if placed && open == 0 {
			break
		}
		if placed && time.Since(start) > placedIn+30*time.Minute {
			return fmt.Errorf("%d orders still in the pipeline 30 min after placing ended", open)
		}
	}
	elapsed := time.Since(start)
	cpuAfter := cpuTimes(st.PIDs())
	var dispatched, cancelled int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status = 'DISPATCHED'),0), COALESCE(SUM(status = 'CANCELLED'),0) FROM orders`).Scan(&dispatched, &cancelled); err != nil {
		return err
	}
	m := scrape("http://" + st.OpsAddr("oms") + "/metrics")
	fmt.Println()
	how := "end to end, placing alongside"
	if backlog {
		how = "the pipeline alone, from resume to the last dispatched"
	}
	fmt.Printf("fulfillment (whole stack): %d orders placed, %d dispatched, %d cancelled (fraud audit) in %s = %.1f orders/s, %s\n",
		pl.placed.Load(), dispatched, cancelled, elapsed.Round(time.Second), float64(dispatched+cancelled)/elapsed.Seconds(), how)
	fmt.Printf("  a 150 k-order day at this rate: %s\n", (time.Duration(150000/(float64(dispatched+cancelled)/elapsed.Seconds())) * time.Second).Round(time.Second))
	pl.failures.Range(func(k, v any) bool {
		fmt.Printf("  placement failed %d × %s\n", v.(*atomic.Int64).Load(), k)
		return true
	})
	fmt.Printf("  oms peak RSS %d MiB\n", peakRSS/1024)
	fmt.Printf("  %-22s %8s %8s %10s %12s\n", "stage", "runs", "runs/s", "mean cost", "max waiting")
	var summed float64
	for _, name := range stageOrder {
		sum, cnt := m[`harvest_oms_fulfillment_stage_seconds_sum{stage="`+name+`"}`], m[`harvest_oms_fulfillment_stage_seconds_count{stage="`+name+`"}`]
		mean := 0.0
		if cnt > 0 {
			mean = sum / cnt
		}
		summed += sum
		fmt.Printf("  %-22s %8.0f %8.1f %9.1fms %12d\n", name, cnt, cnt/elapsed.Seconds(), mean*1000, maxWaiting[name])
	}
	what := "order, placing included"
	if backlog {
		what = "order through the pipeline"
	}
	printCPUPerItem(cpuBefore, cpuAfter, dispatched+cancelled, what)
	if d := dispatched + cancelled; d > 0 {
		fmt.Printf("baseline: the stages' own costs (runs with their commits, partner latency included) sum to %.0f ms per order\n", summed/float64(d)*1000)
	}
	return nil
}

// placing is placeAll's progress.
type placing struct {
	placed   atomic.Int64
	failures sync.Map // short error -> *atomic.Int64
	done     chan struct{}
}

// report prints how many were placed in d.
func (pl *placing) report(d time.Duration) {
	n := pl.placed.Load()
	fmt.Printf("  placed %d in %s (%.0f/s)\n", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
}

// placeAll places n paid THIRD_PARTY orders of 1-3 random lines from pool
// with workers goroutines; done closes when all were tried.
func placeAll(ctx context.Context, oms *omsclient.Client, pool []product, n, workers int) *placing {
	pl := &placing{done: make(chan struct{})}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				k := 1 + rng.IntN(3)
				picks := rng.Perm(len(pool))[:k]
				lines := make([]omsclient.LineInput, k)
				for j, x := range picks {
					lines[j] = omsclient.LineInput{SKU: pool[x].SKU, Qty: 1, UnitPriceFen: money.Fen(pool[x].PriceFen)}
				}
				req := omsclient.PlaceOrderRequest{IdempotencyKey: ids.New(), Source: "THIRD_PARTY", CustomerID: fmt.Sprintf("T%05d", i%5000),
					Lines:   lines,
					Address: omsclient.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Avenue"},
					Slot:    omsclient.Slot{Type: "EXPRESS", Date: today}}
				if i%10 == 0 {
					req.InvoiceTitle = "Harvest Load Ltd."
				}
				if _, err := oms.PlaceOrder(ctx, req); err != nil {
					v, _ := pl.failures.LoadOrStore(shortErr(err), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
					continue
				}
				pl.placed.Add(1)
			}
		}()
	}
	go func() { wg.Wait(); close(pl.done) }()
	return pl
}

// receiveStock makes sure the stock can carry n orders of up to three
// lines (two on average) over pool: the seed stocks a few hundred units
// per SKU, enough for 20 k orders, not for a peak day. Every ordinary SKU
// with stock left is brought to four times a pool SKU's mean share: a
// bundle's component is taken by its own lines and, twice over, by the
// bundle's. The run books it in its own fresh stack's stock table, on
// hand and available alike, rather than through WMS's goods receipts
// (which raise inventory by wms.stock.received): this run measures the
// pipeline, not the receiving bench; the flash-sale SKU, whose stock
// lives in Redis, is left alone.
func receiveStock(ctx context.Context, st *stack.Stack, pool []product, n int) error {
	need := int64(n) * 2 * 4 / int64(len(pool))
	db, err := sqltx.Open(ctx, st.DSN("inventory"))
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, `UPDATE stock SET on_hand = on_hand + (? - available), available = ?, updated_at = UTC_TIMESTAMP(6)
		WHERE available > 0 AND available < ? AND sku <> ?`, need, need, need, seed.FlashSKU)
	if err != nil {
		return fmt.Errorf("receive stock for the run: %w", err)
	}
	if k, _ := res.RowsAffected(); k > 0 {
		fmt.Printf("received stock for the run: %d SKUs brought to %d available\n", k, need)
	}
	return nil
}

// raiseCapacity sets every warehouse's capacity of today and tomorrow
// (Asia/Shanghai) to take all n orders, as operators do before a peak
// day: at the default capacity (100 k orders a day per warehouse) the
// throttle would rightly pause a 150 k-order day's last delivery orders
// until tomorrow.
func raiseCapacity(ctx context.Context, admin *gqlc.Client, n int) error {
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	for _, wh := range seed.Warehouses {
		for _, day := range []string{now.Format("2006-01-02"), now.AddDate(0, 0, 1).Format("2006-01-02")} {
			var out struct {
				SetWarehouseCapacity struct {
					Capacity *struct{ Capacity int }
					Errors   []struct{ Code, Message string }
				}
			}
			err := admin.Do(ctx, `mutation($wh:String!,$day:String!,$cap:Int!){ setWarehouseCapacity(input:{warehouse:$wh, day:$day, capacity:$cap}){ capacity{ capacity } errors{ code message } } }`,
				map[string]any{"wh": wh, "day": day, "cap": 2 * n}, &out)
			if err != nil {
				return fmt.Errorf("setWarehouseCapacity %s %s: %w", wh, day, err)
			}
			if r := out.SetWarehouseCapacity; len(r.Errors) > 0 || r.Capacity == nil {
				return fmt.Errorf("setWarehouseCapacity %s %s: %+v", wh, day, r.Errors)
			}
		}
	}
	fmt.Printf("warehouse capacities of today and tomorrow set to %d orders (setWarehouseCapacity as ADMIN)\n", 2*n)
	return nil
}

// switchPipeline suspends or resumes fulfillment as an operator would.
func switchPipeline(ctx context.Context, admin *gqlc.Client, suspend bool) error {
	q := `mutation { resumeFulfillment { suspension { suspended } errors { code message } } }`
	field := "resumeFulfillment"
	if suspend {
		q = `mutation { suspendFulfillment(input: {reason: "harvest-load: a peak day's paid orders wait for the pipeline"}) { suspension { suspended } errors { code message } } }`
		field = "suspendFulfillment"
	}
	var out map[string]struct {
		Suspension *struct{ Suspended bool }
		Errors     []struct{ Code, Message string }
	}
	if err := admin.Do(ctx, q, nil, &out); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	r := out[field]
	if len(r.Errors) > 0 || r.Suspension == nil || r.Suspension.Suspended != suspend {
		return fmt.Errorf("%s: %+v", field, r)
	}
	return nil
}

func mustPorts(st *stack.Stack, app string) stack.AppPorts {
	p, _ := st.Ports(app)
	return p
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// rssKiB reads a process's resident memory from /proc (0 if unknown).
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// scrape reads every sample of a Prometheus text endpoint.
func scrape(url string) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
