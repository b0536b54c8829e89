package fulfillment

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// The load harness: BenchmarkFulfillment pushes N paid orders
// (HARVEST_FULFILLMENT_N, default 5000; 150000 for the peak-day run)
// through all sixteen stages against the real MariaDB, with every partner
// behind an in-process stand-in that answers after a random 5–50 ms
// (HARVEST_FULFILLMENT_LATENCY=min,max to change it) and deduplicates by
// id like the real ones. It reports end-to-end time and orders/s, per
// stage the runs, orders/s, its own cost (run + commit) and its deepest
// queue, the peak heap, and, as the baseline measured in the same run, the
// sum of the stages' own costs and the bound it sets on a pipeline with
// these worker counts. BenchmarkStagesDirect is the same stages called one
// after the other for each order, with no engine: the cost of the work
// itself.
//
//	HARVEST_FULFILLMENT_N=150000 go test -run '^$' -bench 'Fulfillment|StagesDirect' -benchtime 1x -timeout 30m -v ./apps/oms/fulfillment/

func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("HARVEST_FULFILLMENT_N")); err == nil && v > 0 {
		return v
	}
	return 5000
}

func benchWorld() *fakeWorld {
	w := newWorld()
	w.minLat, w.maxLat = 5*time.Millisecond, 50*time.Millisecond
	if v := os.Getenv("HARVEST_FULFILLMENT_LATENCY"); v != "" {
		a, b, _ := strings.Cut(v, ",")
		lo, _ := time.ParseDuration(a)
		hi, _ := time.ParseDuration(b)
		w.minLat, w.maxLat = lo, max(lo, hi)
	}
	for i := range 12 {
		wh := []string{"SH1", "SH2", "BJ1"}[i%3]
		sku := fmt.Sprintf("sku-%02d", i)
		w.products[sku] = inventoryclient.Product{SKU: sku, Name: "Item " + sku, PriceFen: money.Fen(500 + 350*i),
			Zone: inventoryclient.ZoneChilledHigh, TaxRateBP: 900, Warehouse: wh}
	}
	w.products["crab"] = inventoryclient.Product{SKU: "crab", Name: "Crab", PriceFen: 19900, Warehouse: "SH1", Supplier: "lake-farm", DropShip: true, TaxRateBP: 900}
	w.products["mooncake"] = inventoryclient.Product{SKU: "mooncake", Name: "Mooncake", PriceFen: 5000, Warehouse: "SH1", Presale: true, TaxRateBP: 1300}
	w.products["box"] = inventoryclient.Product{SKU: "box", Name: "Breakfast box", PriceFen: 2000, Warehouse: "SH1",
		Components: []inventoryclient.Component{{SKU: "sku-00", Qty: 1}, {SKU: "sku-03", Qty: 2}}}
	w.products["towel"] = inventoryclient.Product{SKU: "towel", Name: "Gift towel", Warehouse: "SH1", TaxRateBP: 1300}
	w.gifts = []marketingclient.GiftGrant{{CampaignID: "c1", SKU: "towel", Qty: 1}}
	return w
}

// seedOrders bulk-writes n paid orders with a realistic mix: 1–4 lines,
// mostly one warehouse, some across two; 1 in 10 with a drop-ship line, 1
// in 20 with a bundle, 1 in 20 with presale, 1 in 10 asking for an
// invoice, 1 in 30 a reissue. All are express, so none waits for 18:00.
func seedOrders(tb testing.TB, db *sql.DB, w *fakeWorld, n int, now time.Time) []string {
	tb.Helper()
	today := domain.ShanghaiDay(now)
	out := make([]string, 0, n)
	const batch = 500
	for start := 0; start < n; start += batch {
		var oq, lq strings.Builder
		oq.WriteString(`INSERT INTO orders (id, customer_id, source, channel, status, goods_fen, freight_fen, total_fen, non_cash_fen,
			cash_due_fen, paid_fen, trade_id, address, slot_type, slot_date, deduction_ids, coupon_ids, invoice_title, original_order,
			created_at, updated_at) VALUES `)
		lq.WriteString(`INSERT INTO order_lines (order_id, line_no, sku, name, qty, unit_price_fen, amount_fen) VALUES `)
		var oa, la []any
		for i := start; i < min(n, start+batch); i++ {
			id := ids.New()
			out = append(out, id)
			skus := []string{fmt.Sprintf("sku-%02d", (i*3)%12)}
			if i%3 == 0 {
				skus = append(skus, fmt.Sprintf("sku-%02d", (i*3+3)%12)) // same warehouse
			}
			if i%7 == 0 {
				skus = append(skus, fmt.Sprintf("sku-%02d", (i*3+1)%12)) // another warehouse
			}
			switch {
			case i%10 == 1:
				skus = append(skus, "crab")
			case i%20 == 2:
				skus = append(skus, "box")
			case i%20 == 5:
				skus = append(skus, "mooncake")
			}
			var goods money.Fen
			for j, s := range skus {
				p := w.products[s]
				q := int64(1 + (i+j)%3)
				goods += p.PriceFen * money.Fen(q)
				if len(la) > 0 {
					lq.WriteByte(',')
				}
				lq.WriteString("(?,?,?,?,?,?,?)")
				la = append(la, id, j, s, p.Name, q, p.PriceFen, p.PriceFen*money.Fen(q))
			}
			src, freight := "APP", money.Fen(600)
			if i%30 == 4 {
				src, freight = "REISSUE", 0
			}
			total := goods + freight
			nonCash, cash := total/4, total-total/4
			if src == "REISSUE" {
				nonCash, cash = 0, 0
			}
			inv := ""
			if i%10 == 3 {
				inv = "Harvest Trading Co."
			}
			if len(oa) > 0 {
				oq.WriteByte(',')
			}
			oq.WriteString("(?,?,?,'',?,?,?,?,?,?,?,?,?,?,?,'[]','[]',?,?,?,?)")
			orig := ""
			if src == "REISSUE" {
				orig = "orig-" + id
			}
			oa = append(oa, id, fmt.Sprintf("cust-%d", i%5000), src, string(domain.StatusPaid), goods, freight, total, nonCash, cash, cash,
				"t-"+id, `{"name":"Li Lei","phone":"13800000000","province":"上海","city":"上海","district":"浦东","detail":"世纪大道1号"}`,
				domain.SlotExpress, today, inv, orig, now, now)
		}
		if _, err := db.Exec(oq.String(), oa...); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.Exec(lq.String(), la...); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func BenchmarkFulfillment(b *testing.B) {
	n := benchN()
	for range b.N {
		b.StopTimer()
		db, _ := testdb.New(b, "oms")
		db.SetMaxOpenConns(48)
		db.SetMaxIdleConns(48)
		w := benchWorld()
		clk := clock.System{}
		orders := seedOrders(b, db, w, n, clk.Now())
		// A peak day's warehouses are sized for it: with the default
		// capacity (100 k a day) most of 150 k orders, which land mostly in
		// one warehouse, would rightly pause to tomorrow and never finish.
		en := New(Deps{DB: db, Orders: store.New(db), Partners: w, Gifts: w, Warehouse: w, Catalog: w, Clock: clk},
			Config{Config: runner.Config{Owner: "bench", MaxInFlight: 4096}, DefaultCapacity: 2 * n})
		ctx, cancel := context.WithCancel(context.Background())
		var peakHeap, peakHeld atomic.Uint64
		done := make(chan struct{})
		runDone := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { defer close(runDone); _ = en.Run(ctx) }()
		// The oms.order.paid consumer: 16 deliveries at a time.
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(len(orders)) {
						return
					}
					if _, err := en.Start(context.Background(), "paid-"+orders[i], orders[i]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		go func() {
			defer close(done)
			var ms runtime.MemStats
			for {
				var dispatched int
				_ = db.QueryRow(`SELECT COUNT(*) FROM orders WHERE status = 'DISPATCHED'`).Scan(&dispatched)
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peakHeap.Load() {
					peakHeap.Store(ms.HeapInuse)
				}
				if h := uint64(en.Held()); h > peakHeld.Load() {
					peakHeld.Store(h)
				}
				if dispatched >= n {
					return
				}
				time.Sleep(250 * time.Millisecond)
			}
		}()
		<-done
		elapsed := time.Since(start)
		b.StopTimer()
		wg.Wait()
		cancel()
		<-runDone
		report(b, en, n, elapsed, peakHeap.Load(), peakHeld.Load())
		var failed int
		_ = db.QueryRow(`SELECT COUNT(*) FROM fulfillments WHERE state IN ('FAILED','CANCELLED')`).Scan(&failed)
		if failed > 0 {
			b.Errorf("%d units failed", failed)
		}
		w.mu.Lock()
		for key, c := range w.perID {
			if c != 1 && !strings.HasPrefix(key, "catalog|") {
				b.Errorf("%s called %d times", key, c)
				break
			}
		}
		w.mu.Unlock()
	}
}

func report(b *testing.B, en *Engine, n int, elapsed time.Duration, heap, held uint64) {
	stats := en.Stats()
	var own time.Duration
	var bound time.Duration
	var lines []string
	for i, def := range en.Runner().Stages() {
		s := def.Name
		st := stats[s]
		c := st.RunTime + st.CommitTime
		own += c
		if per := c / time.Duration(st.Workers); per > bound {
			bound = per
		}
		lines = append(lines, fmt.Sprintf("%2d %-18s %-3s workers %2d  runs %7d  %8.1f/s  own %7.1fs (run %7.1fs, commit share %6.1fs) = %6.2f ms/run; commit wait %6.1f ms/run; max queue %4d/%d",
			i+1, s, st.Kind, st.Workers, st.Runs, float64(st.Runs)/elapsed.Seconds(), c.Seconds(), st.RunTime.Seconds(), st.CommitTime.Seconds(),
			float64(c.Microseconds())/1000/float64(max(st.Runs, 1)), float64(st.CommitWait.Microseconds())/1000/float64(max(st.Runs, 1)), st.MaxQueue, st.QueueSize))
	}
	b.Logf("fulfillment of %d orders: end to end %.1fs, %.1f orders/s; peak heap %.1f MiB, peak units held %d",
		n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64(heap)/(1<<20), held)
	for _, l := range lines {
		b.Log(l)
	}
	nb, no, busy := en.CommitStats()
	b.Logf("group commit: %d transactions for %d outcomes (%.1f per transaction), %.1fs busy over %d committers",
		nb, no, float64(no)/float64(max(nb, 1)), busy.Seconds(), en.Runner().Committers())
	b.Logf("baseline (same run): sum of the stages' own costs %.1fs = %.1f ms per order; with these worker counts the busiest stage alone needs %.1fs (%.0f%% of the end-to-end time)",
		own.Seconds(), float64(own.Milliseconds())/float64(n), bound.Seconds(), 100*bound.Seconds()/elapsed.Seconds())
	b.Logf("projected peak day of 150000 orders at this rate: %.1f min (target ≤ 10 min)", 150000/(float64(n)/elapsed.Seconds())/60)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "orders/s")
	b.ReportMetric(elapsed.Seconds(), "s/run")
	b.ReportMetric(float64(own.Milliseconds())/float64(n), "own-ms/order")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
}

// BenchmarkStagesDirect is the baseline: each order's stages called one
// after the other, with the same stand-ins and the same commit per stage,
// but no engine, queues, leases or concurrency. ns/op is one order's own
// cost through all its stages.
func BenchmarkStagesDirect(b *testing.B) {
	db, _ := testdb.New(b, "oms")
	w := benchWorld()
	clk := clock.System{}
	orders := seedOrders(b, db, w, b.N, clk.Now())
	en := New(Deps{DB: db, Orders: store.New(db), Partners: w, Gifts: w, Warehouse: w, Catalog: w, Clock: clk}, Config{Config: runner.Config{Owner: "direct"}})
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := en.Start(ctx, "paid-"+orders[i], orders[i]); err != nil {
			b.Fatal(err)
		}
		units, err := en.Runner().Claim(ctx, 1)
		if err != nil || len(units) != 1 {
			b.Fatalf("claim: %v %d", err, len(units))
		}
		queue := units
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			for u != nil {
				s := en.Runner().StageOf(u)
				out, next, err := en.Runner().CommitDirect(ctx, u)
				if out.Kind != runner.OutcomeNext {
					raw, _ := json.Marshal(out)
					b.Fatalf("stage %s: %s %s", s, raw, out.Note)
				}
				if err != nil {
					b.Fatal(err)
				}
				u = nil
				if len(next) > 0 {
					u = next[0]
					queue = append(queue, next[1:]...)
				}
			}
		}
	}
}
