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

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/local/stack"
)

// fulfill measures the fulfillment pipeline on the whole stack: n paid
// orders (THIRD_PARTY, settled with the partner, so PAID at creation) are
// placed through OMS's API over Dapr, and every one walks the sixteen
// stages with each outside system reached through Dapr service invocation
// of apps/partners, WMS and marketing — the sidecars' cost included, unlike
// the in-process BenchmarkFulfillment. It reports the end-to-end time from
// the first placement to the last order dispatched, orders/s, the deepest
// queue of each stage, OMS's peak memory, per stage its runs, mean cost
// and the sum of the stages' own costs per order (the baseline), and the
// CPU each process spent per order (placing included).
func fulfill(ctx context.Context, st *stack.Stack, n, workers int, token func(role, sub string) string) error {
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
	// Placed as a marketplace adapter would place them: through OMS's API,
	// in batches when many are in flight, so placing keeps ahead of the
	// pipeline being measured.
	inv := daprx.NewInvoker(mustPorts(st, "gateway").DaprHTTP)
	inv.Batch(omsclient.AppID, omsclient.BatchRoutes...)
	oms := omsclient.New(inv)
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	fmt.Printf("placing %d paid orders (1-3 lines over %d SKUs) through OMS's API with %d workers\n", n, len(pool), workers)

	db, err := sqltx.Open(ctx, st.DSN("oms"))
	if err != nil {
		return err
	}
	defer db.Close()

	var (
		next     atomic.Int64
		placed   atomic.Int64
		failures sync.Map
		wg       sync.WaitGroup
	)
	cpuBefore := cpuTimes(st.PIDs())
	start := time.Now()
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
					v, _ := failures.LoadOrStore(shortErr(err), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
					continue
				}
				placed.Add(1)
			}
		}()
	}

	maxWaiting := map[string]int64{}
	var stageOrder []string
	var peakRSS int64
	placingDone := make(chan struct{})
	go func() { wg.Wait(); close(placingDone) }()
	var placedIn time.Duration
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-placingDone:
			if placedIn == 0 {
				placedIn = time.Since(start)
				fmt.Printf("  placed %d in %s (%.0f/s)\n", placed.Load(), placedIn.Round(time.Millisecond), float64(placed.Load())/placedIn.Seconds())
			}
			placingDone = nil
			continue
		case <-ticker.C:
		}
		if stages, err := oms.FulfillmentStages(ctx); err == nil {
			for _, s := range stages {
				if _, ok := maxWaiting[s.Name]; !ok {
					stageOrder = append(stageOrder, s.Name)
				}
				maxWaiting[s.Name] = max(maxWaiting[s.Name], s.Waiting)
			}
		}
		if rss := rssKiB(st.PIDs()["oms"]); rss > peakRSS {
			peakRSS = rss
		}
		var done, open int64
		err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status IN ('DISPATCHED','CANCELLED')),0), COALESCE(SUM(status NOT IN ('DISPATCHED','CANCELLED')),0) FROM orders`).Scan(&done, &open)
		if err != nil {
			return err
		}
		fmt.Printf("  %s: %d done, %d in the pipeline\n", time.Since(start).Round(time.Second), done, open)
		if placedIn > 0 && open == 0 {
			break
		}
		if placedIn > 0 && time.Since(start) > placedIn+30*time.Minute {
			return fmt.Errorf("%d orders still in the pipeline 30 min after placing ended", open)
		}
	}
	elapsed := time.Since(start)
	cpuAfter := cpuTimes(st.PIDs())
	var dispatched, cancelled int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status = 'DISPATCHED'),0), COALESCE(SUM(status = 'CANCELLED'),0) FROM orders`).Scan(&dispatched, &cancelled); err != nil {
		return err
	}
	m := scrape("http://" + st.AppAddr("oms") + "/metrics")
	fmt.Println()
	fmt.Printf("fulfillment (whole stack): %d orders placed, %d dispatched, %d cancelled (fraud audit) in %s = %.1f orders/s end to end\n",
		placed.Load(), dispatched, cancelled, elapsed.Round(time.Second), float64(dispatched+cancelled)/elapsed.Seconds())
	fmt.Printf("  a 150 k-order day at this rate: %s\n", (time.Duration(150000/(float64(dispatched+cancelled)/elapsed.Seconds())) * time.Second).Round(time.Second))
	failures.Range(func(k, v any) bool {
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
	printCPUPerItem(cpuBefore, cpuAfter, dispatched+cancelled, "order, placing included")
	if d := dispatched + cancelled; d > 0 {
		fmt.Printf("baseline: the stages' own costs (runs with their commits, partner latency included) sum to %.0f ms per order\n", summed/float64(d)*1000)
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
