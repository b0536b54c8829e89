package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/migrate"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/store"
)

// The warehouse load run's floor (harvest-load warehouse) and its
// baseline: the same layout, the same orders and the same floor work
// through WMS's own use cases in process, on a scratch database, with no
// sidecar, broker, gateway or network hop in front.

// WarehouseSKU is a SKU the run stocks: its temperature zone and unit weight.
type WarehouseSKU struct {
	SKU, Name, Zone string
	WeightG         int64
}

// Bins of a SKU of the run's layout: a pick bin and a reserve bin, each in
// its zone's pick or reserve area.
func PickBin(i int) string    { return fmt.Sprintf("LP-%03d", i) }
func ReserveBin(i int) string { return fmt.Sprintf("LR-%03d", i) }
func PickZone(zone string) string {
	return "LP-" + zone
}
func ReserveZone(zone string) string { return "LR-" + zone }

// Carriers the run's orders go by; SF and JD weigh every box (WMS's default
// HARVEST_WMS_WEIGH_CARRIERS).
var Carriers = []string{"SF", "JD", "ZTO", "YTO"}

// WarehouseOrder is delivery order i of the run: 1-3 lines of 1-2 units
// over skus, one of Carriers; the same i gives the same order.
func WarehouseOrder(run string, i int, skus []WarehouseSKU) (id, carrier string, lines []domain.Line) {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	n := 1 + r.IntN(3)
	seen := map[int]bool{}
	for len(lines) < n {
		k := r.IntN(len(skus))
		if seen[k] {
			continue
		}
		seen[k] = true
		s := skus[k]
		lines = append(lines, domain.Line{SKU: s.SKU, Name: s.Name, Qty: int64(1 + r.IntN(2)), Zone: s.Zone})
	}
	return fmt.Sprintf("%s-%d", run, i), Carriers[i%len(Carriers)], lines
}

// UnitsPerSKU is the stock to receive per SKU so n orders never run short
// (1.5 units × 2 lines on average, spread over the SKUs, with margin).
func UnitsPerSKU(n, skus int) int64 { return int64(n)*2*2/int64(skus) + 50 }

// WMSBaseline is what the in-process run measured.
type WMSBaseline struct {
	Orders       Rate            // orders received, split and allocated (p50/p99: a work order's receive to allocation)
	WorkOrders   int64           // made by the split
	FloorCarts   int             // carts the floor baseline took through
	FloorOrders  int             // work orders picked, checked, packed and handed over
	FloorElapsed time.Duration   // the floor baseline's wall time
	Calls        map[string]Rate // per floor call: its latency
}

// WMSOutboundBaseline measures WMS's own use cases on a scratch database
// of server: for d, orders go through receive, split and allocation, each
// step by workers of its own as the stack's consumers run them
// (baselineOutbound); then floorOrders of the allocated work orders go through
// pick lists of up to 20, RF claims and scans, QC, packing and a handover
// per carrier, floorWorkers carts at once.
func WMSOutboundBaseline(ctx context.Context, server string, skus []WarehouseSKU, workers int, d time.Duration, floorOrders, floorWorkers int) (WMSBaseline, error) {
	var out WMSBaseline
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		return out, err
	}
	cfg.DBName = fmt.Sprintf("load_wms_baseline_%d", time.Now().UnixNano()%1_000_000)
	cfg.ParseTime = true
	cfg.Params = map[string]string{"loc": "UTC"}
	dsn := cfg.FormatDSN()
	if err := migrate.EnsureDatabase(ctx, dsn); err != nil {
		return out, err
	}
	db, err := sqltx.Open(ctx, dsn)
	if err != nil {
		return out, err
	}
	defer func() {
		db.Exec("DROP DATABASE `" + cfg.DBName + "`")
		db.Close()
	}()
	if err := migrate.Up(ctx, db, "wms"); err != nil {
		return out, err
	}
	db.SetMaxOpenConns(workers + 8)
	svc := app.New(store.New(db), clock.System{}, nil, nil)
	svc.SetOutbound([]string{"SF", "JD"}, nil, baselineERP{skus: skus})
	const wh = "WH-SH"
	zones := map[string]bool{}
	for i, s := range skus {
		if !zones[s.Zone] {
			zones[s.Zone] = true
			if _, err := svc.PutZone(ctx, wh, PickZone(s.Zone), s.Zone, "PICK"); err != nil {
				return out, err
			}
			if _, err := svc.PutZone(ctx, wh, ReserveZone(s.Zone), s.Zone, "RESERVE"); err != nil {
				return out, err
			}
		}
		if err := svc.PutBin(ctx, wh, PickBin(i), PickZone(s.Zone)); err != nil {
			return out, err
		}
		if err := svc.PutBin(ctx, wh, ReserveBin(i), ReserveZone(s.Zone)); err != nil {
			return out, err
		}
		if _, err := svc.PutItem(ctx, s.SKU, s.Name, s.Zone, "STANDARD", s.WeightG, 0); err != nil {
			return out, err
		}
		// Ample stock: the baseline measures the writes, not shortages.
		for _, bin := range []string{PickBin(i), ReserveBin(i)} {
			if _, _, err := svc.ReceiveGoods(ctx, app.ReceiptInput{Warehouse: wh, IdempotencyKey: "base-" + bin, PurchaseOrder: "PO-BASE", Bin: bin,
				SKU: s.SKU, Batch: "B1", ProductionDate: "2026-01-01", ExpiryDate: "2027-01-01", Qty: 10_000_000, Operator: "load"}); err != nil {
				return out, err
			}
		}
	}
	run := "BASE" + ids.New()[20:]
	made, err := baselineOutbound(ctx, svc, wh, run, skus, workers, d, &out)
	if err != nil {
		return out, err
	}

	// The floor: carts of one carrier, up to 20 work orders each.
	byCarrier := map[string][]string{}
	taken := 0
	for _, m := range made {
		if taken >= floorOrders {
			break
		}
		byCarrier[m.carrier] = append(byCarrier[m.carrier], m.id)
		taken++
	}
	var carts [][]string
	for _, wos := range byCarrier {
		for len(wos) > 0 {
			n := min(20, len(wos))
			carts = append(carts, wos[:n])
			wos = wos[n:]
		}
	}
	weights := map[string]int64{}
	for _, s := range skus {
		weights[s.SKU] = s.WeightG
	}
	calls := &CallTimes{}
	start := time.Now()
	cartCh := make(chan []string)
	var wg sync.WaitGroup
	var floorErr error
	var errMu sync.Mutex
	for w := range floorWorkers {
		wg.Go(func() {
			for cart := range cartCh {
				if err := baselineCart(ctx, svc, wh, fmt.Sprint("picker", w), cart, weights, calls); err != nil {
					errMu.Lock()
					floorErr = err
					errMu.Unlock()
				}
			}
		})
	}
	for _, c := range carts {
		cartCh <- c
	}
	close(cartCh)
	wg.Wait()
	if floorErr != nil {
		return out, fmt.Errorf("floor baseline: %w", floorErr)
	}
	for carrier := range byCarrier {
		t0 := time.Now()
		if _, err := svc.Handover(ctx, wh, carrier, "ho-"+carrier); err != nil {
			return out, fmt.Errorf("floor baseline handover %s: %w", carrier, err)
		}
		calls.Add("handOver", time.Since(t0), nil)
	}
	out.FloorElapsed, out.FloorCarts, out.FloorOrders = time.Since(start), len(carts), taken
	out.Calls = calls.Rates(out.FloorElapsed)
	return out, nil
}

type madeWO struct{ id, carrier string }

// baselineOutbound runs the stack's three outbound steps as the stack
// does, each by its own workers, handing on as the messages would: for d,
// receivers store orders (receives arriving together commit as a group);
// splitters split each received order; allocators allocate each work
// order. The clock stops when the last work order of the orders received
// within d is allocated; a work order's latency runs from its order's
// receive to its allocation.
func baselineOutbound(ctx context.Context, svc *app.Service, wh, run string, skus []WarehouseSKU, workers int, d time.Duration, out *WMSBaseline) ([]madeWO, error) {
	type recv struct {
		wmsID, carrier string
		at             time.Time
	}
	type wo struct {
		madeWO
		at time.Time
	}
	splitCh, allocCh := make(chan recv, 1<<16), make(chan wo, 1<<17)
	var next, received, failed atomic.Int64
	var mu sync.Mutex
	var made []madeWO
	var lat []time.Duration
	start := time.Now()
	deadline := start.Add(d)
	var recvWG, splitWG, allocWG sync.WaitGroup
	for range workers {
		recvWG.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				id, carrier, lines := WarehouseOrder(run, int(next.Add(1)), skus)
				t0 := time.Now()
				wmsID, _, err := svc.Receive(ctx, domain.Order{DeliveryOrderID: id, OrderID: "O-" + id, CustomerID: "C0001", Warehouse: wh,
					Delivery: domain.Delivery{Date: "2026-12-04", Carrier: carrier, WaybillNo: "WB-" + id, Name: "Li Lei", Phone: "13800138000",
						Address: "1 Century Avenue, Pudong, Shanghai"}, Lines: lines})
				if err != nil {
					failed.Add(1)
					continue
				}
				received.Add(1)
				splitCh <- recv{wmsID: wmsID, carrier: carrier, at: t0}
			}
		})
		splitWG.Go(func() {
			for r := range splitCh {
				wos, err := svc.SplitOrder(ctx, ids.New(), r.wmsID)
				if err != nil {
					failed.Add(1)
					continue
				}
				for _, w := range wos {
					allocCh <- wo{madeWO: madeWO{id: w.ID, carrier: r.carrier}, at: r.at}
				}
			}
		})
		allocWG.Go(func() {
			for w := range allocCh {
				if _, err := svc.AllocateWorkOrder(ctx, w.id); err != nil {
					failed.Add(1)
					continue
				}
				el := time.Since(w.at)
				mu.Lock()
				made, lat = append(made, w.madeWO), append(lat, el)
				mu.Unlock()
			}
		})
	}
	recvWG.Wait()
	close(splitCh)
	splitWG.Wait()
	close(allocCh)
	allocWG.Wait()
	p50, p99 := Percentiles(lat)
	out.Orders = Rate{Name: "baseline: WMS use cases in process", Ops: received.Load(), Errors: failed.Load(), Elapsed: time.Since(start), P50: p50, P99: p99}
	out.WorkOrders = int64(len(made))
	return made, ctx.Err()
}

// baselineCart takes one cart through the floor in process: pick list,
// each task claimed and scanned step by step, QC of every line, packing
// into one box (weighed at the items' weight plus the carton).
func baselineCart(ctx context.Context, svc *app.Service, wh, picker string, cart []string, weights map[string]int64, calls *CallTimes) error {
	timed := func(name string, f func() error) error {
		t0 := time.Now()
		err := f()
		calls.Add(name, time.Since(t0), err)
		return err
	}
	var pl domain.PickList
	if err := timed("createPickList", func() (err error) { pl, err = svc.CreatePickList(ctx, wh, ids.New(), "load", cart); return }); err != nil {
		return err
	}
	for _, task := range pl.Tasks {
		if err := timed("claimPickTask", func() error { _, err := svc.ClaimTask(ctx, wh, task.ID, picker); return err }); err != nil {
			return err
		}
		for {
			var tk domain.Task
			if err := timed("pickTask", func() (err error) { tk, err = svc.Task(ctx, wh, task.ID); return }); err != nil {
				return err
			}
			st, ok := tk.Next()
			if !ok {
				break
			}
			if err := timed("scanPick", func() error {
				_, err := svc.ScanPick(ctx, wh, task.ID, picker, ids.New(), st.Bin, st.SKU, st.Qty-st.Picked)
				return err
			}); err != nil {
				return err
			}
		}
	}
	var wos []domain.WorkOrder
	if err := timed("qcCart", func() (err error) { _, wos, err = svc.QCView(ctx, wh, pl.ID); return }); err != nil {
		return err
	}
	for _, wo := range wos {
		weight := int64(domain.BoxTareG)
		var lines []domain.Line
		for _, l := range wo.Lines {
			if err := timed("scanQC", func() error { _, err := svc.QCScan(ctx, wh, pl.ID, ids.New(), l.SKU, l.Picked); return err }); err != nil {
				return err
			}
			lines = append(lines, domain.Line{SKU: l.SKU, Qty: l.Picked})
			weight += l.Picked * weights[l.SKU]
		}
		if err := timed("packWorkOrder", func() error {
			_, err := svc.Pack(ctx, wh, wo.ID, ids.New(), []app.PackInput{{Lines: lines, WeightG: weight}})
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// baselineERP answers the baseline's one purchase order (every SKU, ample)
// and books uploads nowhere: the baseline runs no upload job.
type baselineERP struct{ skus []WarehouseSKU }

func (e baselineERP) UploadMovements(context.Context, []domain.Movement) error { return nil }

func (e baselineERP) PurchaseOrder(_ context.Context, id string) (domain.PurchaseOrder, error) {
	p := domain.PurchaseOrder{ID: id, Warehouse: "WH-SH", Supplier: "BASE", Lines: map[string]int64{}}
	for _, s := range e.skus {
		p.Lines[s.SKU] = 1 << 40
	}
	return p, nil
}

// CallTimes collects the latency of named calls from many goroutines.
type CallTimes struct {
	mu   sync.Mutex
	lat  map[string][]time.Duration
	errs map[string]int64
}

// Add records one call.
func (c *CallTimes) Add(name string, d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lat == nil {
		c.lat, c.errs = map[string][]time.Duration{}, map[string]int64{}
	}
	c.lat[name] = append(c.lat[name], d)
	if err != nil {
		c.errs[name]++
	}
}

// Rates is every call's count and percentiles over elapsed.
func (c *CallTimes) Rates(elapsed time.Duration) map[string]Rate {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]Rate{}
	for name, ds := range c.lat {
		p50, p99 := Percentiles(ds)
		out[name] = Rate{Name: name, Ops: int64(len(ds)), Errors: c.errs[name], Elapsed: elapsed, P50: p50, P99: p99}
	}
	return out
}
