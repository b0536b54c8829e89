package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	"github.com/harvest/harvest/deploy/local/stack"
)

// warehouseOpts are harvest-load warehouse's flags.
type warehouseOpts struct {
	orders, floorOrders, workers, pickers, packers int
	baselineD                                      time.Duration
	mysqlServer                                    string
}

// warehouse is the warehouse's day on a fresh stack (DOMAIN 7): a layout
// and goods received through the console against ERP purchase orders,
// then n delivery orders handed to WMS as fulfillment's dispatch does
// (its batched v1/orders), split and allocated by WMS's own messages;
// then a floor of pickers and packers takes floorOrders of the allocated
// work orders through GraphQL, cart by cart: pick list, RF claim, next
// step and scan, QC, weighed packing, and a handover per courier. Each
// step's rate and each RF call's latency are printed beside WMS's own
// use cases doing the same in process on a scratch database.
func warehouse(ctx context.Context, st *stack.Stack, o warehouseOpts) error {
	const wh = "WH-SH"
	inv := daprx.NewInvoker(mustPorts(st, "gateway").DaprHTTP, daprx.WithAPIToken(st.DaprToken("gateway")))
	opTok, err := st.OperatorToken("load-op", wh)
	if err != nil {
		return err
	}
	op := gqlc.New(st.GraphQLURL(), opTok)
	skus, err := warehouseSKUs(ctx, st, wh)
	if err != nil {
		return err
	}
	fmt.Printf("layout: %d SKUs of %s, a pick and a reserve bin each\n", len(skus), wh)
	if err := layoutAndReceive(ctx, inv, op, wh, skus, load.UnitsPerSKU(o.orders, len(skus))); err != nil {
		return err
	}
	db, err := sqltx.Open(ctx, st.DSN("wms"))
	if err != nil {
		return err
	}
	defer db.Close()

	// Intake, split and allocation.
	inv.Batch(wmsclient.AppID, wmsclient.BatchRoutes...)
	wms := wmsclient.New(inv)
	run := "LW" + ids.New()[20:]
	fmt.Printf("intake: %d delivery orders to WMS (v1/orders, batched as fulfillment's dispatch) by %d workers\n", o.orders, o.workers)
	cpu0 := cpuTimes(st.PIDs())
	start := time.Now()
	var next, failed atomic.Int64
	var lat []time.Duration
	var latMu sync.Mutex
	var wg sync.WaitGroup
	for range o.workers {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1) - 1)
				if i >= o.orders || ctx.Err() != nil {
					break
				}
				id, carrier, lines := load.WarehouseOrder(run, i, skus)
				req := wmsclient.DispatchRequest{DeliveryOrderID: id, OrderID: "O-" + id, CustomerID: "C0001", Warehouse: wh,
					DeliveryDate: time.Now().AddDate(0, 0, 1).Format(time.DateOnly), Carrier: carrier, WaybillNo: "WB-" + id,
					Name: "Li Lei", Phone: "13800138000", Address: "1 Century Avenue, Pudong, Shanghai"}
				for _, l := range lines {
					req.Lines = append(req.Lines, wmsclient.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Zone: l.Zone})
				}
				t0 := time.Now()
				if _, err := wms.Dispatch(ctx, req); err != nil {
					failed.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			latMu.Lock()
			lat = append(lat, mine...)
			latMu.Unlock()
		})
	}
	// The steps' progress, from WMS's tables, every 250 ms.
	var intakeAt, splitAt, allocAt time.Duration
	var received, unsplit, allocating, workOrders, allocated, waiting int64
	intakeDone := make(chan struct{})
	go func() { wg.Wait(); close(intakeDone) }()
	lastPrint := time.Now()
	for allocAt == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(status='RECEIVED'),0) FROM order_header WHERE delivery_order_id LIKE ?`, run+"-%").
			Scan(&received, &unsplit); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(status='ALLOCATING'),0), COALESCE(SUM(status='ALLOCATED'),0),
			COALESCE(SUM(status='WAITING_STOCK'),0) FROM sales_order`).Scan(&workOrders, &allocating, &allocated, &waiting); err != nil {
			return err
		}
		el := time.Since(start)
		select {
		case <-intakeDone:
			if intakeAt == 0 {
				intakeAt = el
			}
		default:
		}
		if intakeAt > 0 && received+failed.Load() >= int64(o.orders) && unsplit == 0 && splitAt == 0 {
			splitAt = el
		}
		if splitAt > 0 && allocating == 0 {
			allocAt = el
		}
		if time.Since(lastPrint) > 5*time.Second {
			lastPrint = time.Now()
			fmt.Printf("  %5.0fs: %d received, %d not split, %d work orders, %d allocating\n", el.Seconds(), received, unsplit, workOrders, allocating)
		}
		if el > 30*time.Minute {
			return fmt.Errorf("allocation not done after 30 min: %d received, %d unsplit, %d allocating", received, unsplit, allocating)
		}
	}
	cpu1 := cpuTimes(st.PIDs())
	p50, p99 := load.Percentiles(lat)
	fmt.Printf("intake     %7d orders        in %6.1fs = %7.0f orders/s   (v1/orders p50 %s p99 %s, %d failed)\n", received, intakeAt.Seconds(),
		float64(received)/intakeAt.Seconds(), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), failed.Load())
	fmt.Printf("split      %7d work orders   by %6.1fs = %7.0f work orders/s\n", workOrders, splitAt.Seconds(), float64(workOrders)/splitAt.Seconds())
	fmt.Printf("allocation %7d work orders   by %6.1fs = %7.0f work orders/s (%d allocated, %d waiting for stock)\n", workOrders, allocAt.Seconds(),
		float64(workOrders)/allocAt.Seconds(), allocated, waiting)
	printCPUPerItem(cpu0, cpu1, received, "order received, split and allocated")

	// The floor.
	floor, err := runFloor(ctx, st, db, wh, skus, o)
	if err != nil {
		return err
	}

	// The baseline, on the same machine, right after.
	fmt.Printf("baseline: WMS's use cases in process on a scratch database (receive, split, allocate by %d workers each for %s, then %d work orders on the floor, %d carts at once)\n",
		o.workers, o.baselineD, o.floorOrders, o.pickers)
	base, err := load.WMSOutboundBaseline(ctx, o.mysqlServer, skus, o.workers, o.baselineD, o.floorOrders, o.pickers)
	if err != nil {
		return err
	}
	fmt.Println(base.Orders)
	woRate := float64(base.WorkOrders) / base.Orders.Elapsed.Seconds()
	fmt.Printf("  = %.0f work orders/s received, split and allocated (stack: %.0f, %.0f%% of it)\n", woRate,
		float64(workOrders)/allocAt.Seconds(), 100*float64(workOrders)/allocAt.Seconds()/woRate)
	fmt.Printf("floor baseline: %d work orders on %d carts in %.1fs = %.1f work orders/s (stack: %.1f)\n", base.FloorOrders, base.FloorCarts,
		base.FloorElapsed.Seconds(), float64(base.FloorOrders)/base.FloorElapsed.Seconds(), floor.perSecond)
	printCalls(floor.calls, base.Calls)

	// What a day's 150 k orders would take at these rates.
	const day = 150_000
	orderRate := float64(received) / allocAt.Seconds()
	fmt.Printf("projection: %d orders received, split and allocated at %.0f orders/s take %s; their ~%.0f k work orders picked, packed and\n"+
		"  handed over at %.1f work orders/s (%d pickers, %d packers) take %s\n", day, orderRate,
		(time.Duration(float64(day)/orderRate) * time.Second).Round(time.Second), float64(workOrders)/float64(received)*day/1000,
		floor.perSecond, o.pickers, o.packers, (time.Duration(float64(workOrders)/float64(received)*day/floor.perSecond) * time.Second).Round(time.Minute))
	return nil
}

// warehouseSKUs picks the run's SKUs: plain stock-carrying products of wh
// in the catalog (no bundle, presale, drop-ship or flash-sale SKU), at
// most 12 per temperature zone.
func warehouseSKUs(ctx context.Context, st *stack.Stack, wh string) ([]load.WarehouseSKU, error) {
	db, err := sqltx.Open(ctx, st.DSN("inventory"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT sku, name, zone FROM (SELECT sku, name, zone, ROW_NUMBER() OVER (PARTITION BY zone ORDER BY sku) AS n
		FROM products WHERE warehouse=? AND is_bundle=0 AND presale=0 AND drop_ship=0 AND hot=0) p WHERE n <= 12 ORDER BY zone, sku`, wh)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []load.WarehouseSKU
	for rows.Next() {
		var s load.WarehouseSKU
		if err := rows.Scan(&s.SKU, &s.Name, &s.Zone); err != nil {
			return nil, err
		}
		s.WeightG = 200 + int64(len(out)%8)*100
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) < 5 {
		return nil, fmt.Errorf("only %d plain SKUs in %s", len(out), wh)
	}
	return out, nil
}

// layoutAndReceive creates the zones, bins and item master rows on WMS's
// API, a purchase order per SKU at the ERP stand-in, and receives each
// through the console: half into the pick bin, half into the reserve bin.
func layoutAndReceive(ctx context.Context, inv *daprx.Invoker, op *gqlc.Client, wh string, skus []load.WarehouseSKU, units int64) error {
	zones := map[string]bool{}
	for i, s := range skus {
		if !zones[s.Zone] {
			zones[s.Zone] = true
			for _, z := range []wmsclient.Zone{{Code: load.PickZone(s.Zone), Temp: s.Zone, Area: "PICK"}, {Code: load.ReserveZone(s.Zone), Temp: s.Zone, Area: "RESERVE"}} {
				if err := inv.Invoke(ctx, "wms", http.MethodPost, "v1/warehouses/"+wh+"/zones", z, nil); err != nil {
					return fmt.Errorf("zone %s: %w", z.Code, err)
				}
			}
		}
		for _, b := range []wmsclient.Bin{{Bin: load.PickBin(i), Zone: load.PickZone(s.Zone)}, {Bin: load.ReserveBin(i), Zone: load.ReserveZone(s.Zone)}} {
			if err := inv.Invoke(ctx, "wms", http.MethodPost, "v1/warehouses/"+wh+"/bins", b, nil); err != nil {
				return fmt.Errorf("bin %s: %w", b.Bin, err)
			}
		}
		if err := inv.Invoke(ctx, "wms", http.MethodPost, "v1/items", wmsclient.Item{SKU: s.SKU, Name: s.Name, Zone: s.Zone, Handling: "STANDARD",
			UnitWeightG: s.WeightG}, nil); err != nil {
			return fmt.Errorf("item %s: %w", s.SKU, err)
		}
		po := "PO-LOAD-" + s.SKU
		if err := inv.Invoke(ctx, "partners", http.MethodPost, "admin/erp/purchase-orders", partnersclient.PurchaseOrder{ID: po, Warehouse: wh,
			Supplier: "SUP-LOAD", Lines: []partnersclient.PurchaseOrderLine{{SKU: s.SKU, Qty: units}}}, nil); err != nil {
			return fmt.Errorf("purchase order %s: %w", po, err)
		}
		for j, bin := range []string{load.PickBin(i), load.ReserveBin(i)} {
			var out struct {
				ReceiveGoods struct {
					Errors []struct{ Code, Message string }
				}
			}
			qty := units / 2
			if j == 1 {
				qty = units - units/2
			}
			if err := limited(ctx, nil, func() error {
				return op.Do(ctx, `mutation($in: ReceiveGoodsInput!, $key: String!){ receiveGoods(input: $in, idempotencyKey: $key){ errors { code message } } }`,
					map[string]any{"key": po + "-" + bin, "in": map[string]any{"purchaseOrder": po, "bin": bin, "sku": s.SKU, "batch": "B1",
						"productionDate": time.Now().AddDate(0, 0, -2).Format(time.DateOnly), "expiryDate": time.Now().AddDate(0, 2, 0).Format(time.DateOnly),
						"qty": qty}}, &out)
			}); err != nil {
				return fmt.Errorf("receive %s: %w", s.SKU, err)
			}
			if len(out.ReceiveGoods.Errors) > 0 {
				return fmt.Errorf("receive %s: %+v", s.SKU, out.ReceiveGoods.Errors)
			}
		}
	}
	return nil
}

type floorResult struct {
	calls     map[string]load.Rate
	perSecond float64
}

// runFloor takes floorOrders allocated work orders through the floor by
// GraphQL: pickers make pick lists of up to 20 of one courier and pick
// them task by task (claim, then next step and scan until done), packers
// check and pack the picked carts, and at the end each courier's parcels
// are handed over.
func runFloor(ctx context.Context, st *stack.Stack, db *sql.DB, wh string, skus []load.WarehouseSKU, o warehouseOpts) (floorResult, error) {
	rows, err := db.QueryContext(ctx, `SELECT work_order_id, carrier FROM sales_order WHERE warehouse=? AND status='ALLOCATED' ORDER BY created_at LIMIT ?`,
		wh, o.floorOrders)
	if err != nil {
		return floorResult{}, err
	}
	byCarrier := map[string][]string{}
	n := 0
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return floorResult{}, err
		}
		byCarrier[c] = append(byCarrier[c], id)
		n++
	}
	rows.Close()
	var carts [][]string
	for _, wos := range byCarrier {
		for len(wos) > 0 {
			k := min(20, len(wos))
			carts = append(carts, wos[:k])
			wos = wos[k:]
		}
	}
	weights := map[string]int64{}
	for _, s := range skus {
		weights[s.SKU] = s.WeightG
	}
	calls := &load.CallTimes{}
	client := func(sub string) (*gqlc.Client, error) {
		tok, err := st.OperatorToken(sub, wh)
		return gqlc.New(st.GraphQLURL(), tok), err
	}
	// A call the gateway's per-user limit refused is sent again after the
	// wait it names; only the attempt that went through is timed.
	var refused atomic.Int64
	do := func(c *gqlc.Client, name, q string, vars map[string]any, out any) error {
		var took time.Duration
		err := limited(ctx, &refused, func() error {
			t0 := time.Now()
			err := c.Do(ctx, q, vars, out)
			took = time.Since(t0)
			return err
		})
		calls.Add(name, took, err)
		return err
	}
	fmt.Printf("floor: %d work orders on %d carts, %d pickers and %d packers through GraphQL\n", n, len(carts), o.pickers, o.packers)
	cpu0 := cpuTimes(st.PIDs())
	start := time.Now()
	cartCh, picked := make(chan []string), make(chan string, len(carts))
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	var pickers, packers sync.WaitGroup
	for p := range o.pickers {
		c, err := client(fmt.Sprint("picker-", p))
		if err != nil {
			return floorResult{}, err
		}
		pickers.Go(func() {
			for cart := range cartCh {
				id, err := pickCart(c, do, cart)
				if err != nil {
					fail(err)
					continue
				}
				picked <- id
			}
		})
	}
	for p := range o.packers {
		c, err := client(fmt.Sprint("packer-", p))
		if err != nil {
			return floorResult{}, err
		}
		packers.Go(func() {
			for id := range picked {
				if err := packCart(c, do, id, weights); err != nil {
					fail(err)
				}
			}
		})
	}
	for _, c := range carts {
		cartCh <- c
	}
	close(cartCh)
	pickers.Wait()
	close(picked)
	packers.Wait()
	if firstErr != nil {
		return floorResult{}, fmt.Errorf("floor: %w", firstErr)
	}
	c, err := client("dispatcher")
	if err != nil {
		return floorResult{}, err
	}
	for carrier := range byCarrier {
		var out struct {
			HandOver struct {
				Errors []struct{ Code, Message string }
			}
		}
		if err := do(c, "handOver", `mutation($c: String!, $key: String!){ handOver(input: {carrier: $c}, idempotencyKey: $key){ errors { code message } } }`,
			map[string]any{"c": carrier, "key": ids.New()}, &out); err != nil || len(out.HandOver.Errors) > 0 {
			return floorResult{}, fmt.Errorf("hand over %s: %v %+v", carrier, err, out.HandOver.Errors)
		}
	}
	el := time.Since(start)
	res := floorResult{calls: calls.Rates(el), perSecond: float64(n) / el.Seconds()}
	fmt.Printf("floor %d work orders picked, checked, packed and handed over in %.1fs = %.1f work orders/s\n", n, el.Seconds(), res.perSecond)
	fmt.Printf("  (%d mutations waited for the gateway's per-user limit, 20/s per picker or packer, and went again)\n", refused.Load())
	printCPUPerItem(cpu0, cpuTimes(st.PIDs()), int64(n), "work order through the floor")
	return res, nil
}

type doFunc func(c *gqlc.Client, name, q string, vars map[string]any, out any) error

type floorErrs []struct{ Code, Message string }

func (e floorErrs) err(what string) error {
	if len(e) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %+v", what, []struct{ Code, Message string }(e))
}

// pickCart makes a pick list of cart and picks every task of it.
func pickCart(c *gqlc.Client, do doFunc, cart []string) (string, error) {
	var pl struct {
		CreatePickList struct {
			PickList struct {
				ID    string
				Tasks []struct{ ID string }
			}
			Errors floorErrs
		}
	}
	if err := do(c, "createPickList", `mutation($ids: [ID!]!, $key: String!){ createPickList(input: {workOrderIds: $ids}, idempotencyKey: $key){
		pickList { id tasks { id } } errors { code message } } }`, map[string]any{"ids": cart, "key": ids.New()}, &pl); err != nil {
		return "", err
	}
	if err := pl.CreatePickList.Errors.err("pick list"); err != nil {
		return "", err
	}
	for _, task := range pl.CreatePickList.PickList.Tasks {
		var claim struct{ ClaimPickTask struct{ Errors floorErrs } }
		if err := do(c, "claimPickTask", `mutation($id: ID!){ claimPickTask(taskId: $id){ errors { code message } } }`, map[string]any{"id": task.ID}, &claim); err != nil {
			return "", err
		}
		if err := claim.ClaimPickTask.Errors.err("claim"); err != nil {
			return "", err
		}
		for {
			var tk struct {
				PickTask struct {
					NextStep *struct {
						Bin, Sku    string
						Qty, Picked int64
					}
				}
			}
			if err := do(c, "pickTask", `query($id: ID!){ pickTask(id: $id){ nextStep { bin sku qty picked } } }`, map[string]any{"id": task.ID}, &tk); err != nil {
				return "", err
			}
			st := tk.PickTask.NextStep
			if st == nil {
				break
			}
			var scan struct{ ScanPick struct{ Errors floorErrs } }
			if err := do(c, "scanPick", `mutation($in: ScanPickInput!, $key: String!){ scanPick(input: $in, idempotencyKey: $key){ errors { code message } } }`,
				map[string]any{"key": ids.New(), "in": map[string]any{"taskId": task.ID, "bin": st.Bin, "sku": st.Sku, "qty": st.Qty - st.Picked}}, &scan); err != nil {
				return "", err
			}
			if err := scan.ScanPick.Errors.err("scan"); err != nil {
				return "", err
			}
		}
	}
	return pl.CreatePickList.PickList.ID, nil
}

// packCart checks every line of a picked cart at the bench and packs each
// work order into one box, weighed at its items plus the carton.
func packCart(c *gqlc.Client, do doFunc, listID string, weights map[string]int64) error {
	var cart struct {
		QcCart struct {
			WorkOrders []struct {
				ID    string
				Lines []struct {
					Sku    string
					Picked int64
				}
			}
		}
	}
	if err := do(c, "qcCart", `query($id: ID!){ qcCart(pickListId: $id){ workOrders { id lines { sku picked } } } }`, map[string]any{"id": listID}, &cart); err != nil {
		return err
	}
	for _, w := range cart.QcCart.WorkOrders {
		var lines []map[string]any
		weight := int64(150)
		for _, l := range w.Lines {
			var qc struct{ ScanQC struct{ Errors floorErrs } }
			if err := do(c, "scanQC", `mutation($in: ScanQCInput!, $key: String!){ scanQC(input: $in, idempotencyKey: $key){ errors { code message } } }`,
				map[string]any{"key": ids.New(), "in": map[string]any{"pickListId": listID, "sku": l.Sku, "qty": l.Picked}}, &qc); err != nil {
				return err
			}
			if err := qc.ScanQC.Errors.err("QC"); err != nil {
				return err
			}
			lines = append(lines, map[string]any{"sku": l.Sku, "qty": l.Picked})
			weight += l.Picked * weights[l.Sku]
		}
		var pack struct{ PackWorkOrder struct{ Errors floorErrs } }
		if err := do(c, "packWorkOrder", `mutation($in: PackWorkOrderInput!, $key: String!){ packWorkOrder(input: $in, idempotencyKey: $key){ errors { code message } } }`,
			map[string]any{"key": ids.New(), "in": map[string]any{"workOrderId": w.ID, "boxes": []any{map[string]any{"lines": lines, "weightG": weight}}}}, &pack); err != nil {
			return err
		}
		if err := pack.PackWorkOrder.Errors.err("pack"); err != nil {
			return err
		}
	}
	return nil
}

// printCalls prints each floor call's count and latency on the stack
// beside the same call in process.
func printCalls(stack, base map[string]load.Rate) {
	names := make([]string, 0, len(stack))
	for n := range stack {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("  %-15s %7s %7s %10s %10s   %10s %10s\n", "RF/console call", "calls", "errors", "p50", "p99", "base p50", "base p99")
	for _, n := range names {
		s, b := stack[n], base[n]
		fmt.Printf("  %-15s %7d %7d %10s %10s   %10s %10s\n", n, s.Ops, s.Errors, s.P50.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond),
			b.P50.Round(10*time.Microsecond), b.P99.Round(10*time.Microsecond))
	}
}

// limited runs call until the gateway's per-user mutation limit does not
// refuse it (RATE_LIMITED: wait and send again), counting refusals.
func limited(ctx context.Context, refused *atomic.Int64, call func() error) error {
	for {
		err := call()
		if err == nil || !strings.Contains(err.Error(), "RATE_LIMITED") {
			return err
		}
		if refused != nil {
			refused.Add(1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
