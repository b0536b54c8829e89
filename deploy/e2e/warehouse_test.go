package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
)

// operator is a warehouse operator's GraphQL client for warehouse wh.
func operator(t *testing.T, sub, wh string) *gqlc.Client {
	t.Helper()
	tok, err := st.OperatorToken(sub, wh)
	if err != nil {
		t.Fatal(err)
	}
	return gqlc.New(st.GraphQLURL(), tok)
}

// zoned is a catalog product with its temperature zone.
type zoned struct {
	product
	Warehouse string `json:"warehouse"`
	Zone      string `json:"zone"`
}

// zonedProducts finds one plain in-stock product of warehouse wh per zone
// class (ambient, chilled, frozen), skipping the SKUs in skip.
func zonedProducts(t *testing.T, c *gqlc.Client, wh string, skip []string) []zoned {
	t.Helper()
	classes := []string{"AMBIENT", "CHILLED", "FROZEN"}
	found := map[string]zoned{}
	after := ""
	for len(found) < len(classes) {
		var page struct {
			Products struct {
				Edges    []struct{ Node zoned }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		if err := c.Do(ctx(t), `query($after:String){ products(first:30, after:$after, filter:{inStock:true}){
			edges{ node{ sku priceFen available bundle presale dropShip warehouse zone } } pageInfo{ hasNextPage endCursor } } }`,
			map[string]any{"after": after}, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Products.Edges {
			p := e.Node
			if p.Warehouse != wh || p.Bundle || p.Presale || p.DropShip || p.SKU == "FLASH-001" || p.Available < 20 || slices.Contains(skip, p.SKU) {
				continue
			}
			for _, cl := range classes {
				if _, ok := found[cl]; !ok && strings.HasPrefix(p.Zone, cl) {
					found[cl] = p
				}
			}
		}
		if !page.Products.PageInfo.HasNextPage {
			break
		}
		after = page.Products.PageInfo.EndCursor
	}
	if len(found) < len(classes) {
		t.Fatalf("%s lacks an ambient, a chilled and a frozen product: %v", wh, found)
	}
	return []zoned{found["AMBIENT"], found["CHILLED"], found["FROZEN"]}
}

// do runs an operator's operation and fails on top-level errors.
func do(t *testing.T, c *gqlc.Client, q string, vars map[string]any, out any) {
	t.Helper()
	if err := c.Do(ctx(t), q, vars, out); err != nil {
		t.Fatalf("%s: %v", strings.Fields(q)[0:3], err)
	}
}

type floorErrs []struct{ Code, Message string }

// floor drives one warehouse through GraphQL as its operator would.
type floor struct {
	t       *testing.T
	wh      string
	op      *gqlc.Client
	weights map[string]int64
}

// layout creates, on WMS's API, a pick zone per product's temperature
// zone with one bin each (prefix-0, prefix-1…), and the item master rows
// with weights for the scale.
func layout(t *testing.T, wh, prefix string, ps []zoned) *floor {
	t.Helper()
	f := &floor{t: t, wh: wh, op: operator(t, "op-"+prefix, wh), weights: map[string]int64{}}
	for i, p := range ps {
		zone := "Z-" + p.Zone
		if err := invoke(ctx(t), "wms", http.MethodPost, "v1/warehouses/"+wh+"/zones", wmsclient.Zone{Code: zone, Temp: p.Zone, Area: "PICK"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := invoke(ctx(t), "wms", http.MethodPost, "v1/warehouses/"+wh+"/bins", wmsclient.Bin{Bin: fmt.Sprintf("%s-%d", prefix, i), Zone: zone}, nil); err != nil {
			t.Fatal(err)
		}
		f.weights[p.SKU] = int64(300 + 100*i)
		if err := invoke(ctx(t), "wms", http.MethodPost, "v1/items", wmsclient.Item{SKU: p.SKU, Name: p.Name, Zone: p.Zone,
			Handling: "STANDARD", UnitWeightG: f.weights[p.SKU]}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// receive puts qty of sku away into bin through receiveGoods, against a
// purchase order of its own at the ERP stand-in.
func (f *floor) receive(bin, sku string, qty int64) {
	t := f.t
	t.Helper()
	po := "PO-" + ids.New()
	if err := invoke(ctx(t), "partners", http.MethodPost, "admin/erp/purchase-orders", partnersclient.PurchaseOrder{ID: po, Warehouse: f.wh,
		Supplier: "SUP-E2E", Lines: []partnersclient.PurchaseOrderLine{{SKU: sku, Qty: qty}}}, nil); err != nil {
		t.Fatal(err)
	}
	var out struct {
		ReceiveGoods struct {
			ReceiptID string
			Errors    floorErrs
		}
	}
	do(t, f.op, `mutation($in: ReceiveGoodsInput!, $key: String!){ receiveGoods(input: $in, idempotencyKey: $key){ receiptId errors { code message } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"purchaseOrder": po, "bin": bin, "sku": sku,
			"batch": "B" + ids.New()[20:], "productionDate": time.Now().AddDate(0, 0, -3).Format(time.DateOnly),
			"expiryDate": time.Now().AddDate(0, 1, 0).Format(time.DateOnly), "qty": qty}}, &out)
	if len(out.ReceiveGoods.Errors) > 0 {
		t.Fatalf("receive %s: %+v", sku, out.ReceiveGoods.Errors)
	}
}

// placePaid places an express order of ps (qty each), subscribes to its
// updates and pays it; it returns the order and the subscription.
func placePaid(t *testing.T, c *gqlc.Client, sctx context.Context, ps []zoned, qty int64) (order, *gqlc.Subscription) {
	t.Helper()
	lines := make([]product, len(ps))
	for i, p := range ps {
		lines[i] = p.product
	}
	in := orderInput(lines, qty, nil)
	in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
	o := mustPlace(t, c, in)
	sub, err := gqlc.Subscribe(sctx, wsURL(), c.Token, sOrderUpdated, map[string]any{"id": o.ID})
	if err != nil {
		t.Fatal(err)
	}
	payAtCashier(t, c, o.ID)
	return o, sub
}

// dispatched waits for the order to reach WMS and returns its delivery
// order of the floor's warehouse and the courier.
func (f *floor) dispatched(c *gqlc.Client, o order) (string, string) {
	t := f.t
	t.Helper()
	var tl omsclient.FulfillmentTimeline
	eventually(t, 120*time.Second, "order dispatched", func() (bool, error) {
		err := invoke(ctx(t), "oms", http.MethodGet, "v1/orders/"+o.ID+"/fulfillment", nil, &tl)
		return err == nil && getOrder(t, c, o.ID).Status == omsclient.StatusDispatched, err
	})
	for _, u := range tl.Units {
		if u.ParentID != "" && u.Warehouse == f.wh {
			var wo wmsclient.Order
			if err := invoke(ctx(t), "wms", http.MethodGet, "v1/orders/"+u.ID, nil, &wo); err != nil {
				t.Fatal(err)
			}
			return u.ID, wo.Carrier
		}
	}
	t.Fatalf("no delivery order for %s: %+v", f.wh, tl.Units)
	return "", ""
}

// workOrders waits until the split made n work orders of the delivery
// order and allocation has seen each, and returns them in zone order.
func (f *floor) workOrders(deliveryOrder string, n int) []wmsclient.WorkOrder {
	t := f.t
	t.Helper()
	var wos []wmsclient.WorkOrder
	eventually(t, 30*time.Second, "work orders allocated or waiting", func() (bool, error) {
		err := invoke(ctx(t), "wms", http.MethodGet, "v1/warehouses/"+f.wh+"/orders/"+deliveryOrder+"/work-orders", nil, &wos)
		if err != nil || len(wos) != n {
			return false, fmt.Errorf("%d work orders: %v", len(wos), err)
		}
		for _, w := range wos {
			if w.Status == "ALLOCATING" {
				return false, fmt.Errorf("%s still allocating", w.ID)
			}
		}
		return true, nil
	})
	return wos
}

// status reads a work order's status and reason through GraphQL.
func (f *floor) status(id string) (string, string, error) {
	var out struct {
		WorkOrder struct{ Status, Reason string }
	}
	err := f.op.Do(ctx(f.t), `query($id: ID!){ workOrder(id: $id){ status reason } }`, map[string]any{"id": id}, &out)
	return out.WorkOrder.Status, out.WorkOrder.Reason, err
}

// pickList puts the work orders on a cart and returns it and its task ids.
func (f *floor) pickList(wos []wmsclient.WorkOrder) (string, []string) {
	t := f.t
	t.Helper()
	woIDs := make([]string, len(wos))
	for i, w := range wos {
		woIDs[i] = w.ID
	}
	var pl struct {
		CreatePickList struct {
			PickList struct {
				ID    string
				Tasks []struct{ ID string }
			}
			Errors floorErrs
		}
	}
	do(t, f.op, `mutation($ids: [ID!]!, $key: String!){ createPickList(input: {workOrderIds: $ids}, idempotencyKey: $key){
		pickList { id tasks { id } } errors { code message } } }`, map[string]any{"ids": woIDs, "key": ids.New()}, &pl)
	if len(pl.CreatePickList.Errors) > 0 {
		t.Fatalf("pick list: %+v", pl.CreatePickList.Errors)
	}
	var tasks []string
	for _, tk := range pl.CreatePickList.PickList.Tasks {
		tasks = append(tasks, tk.ID)
	}
	return pl.CreatePickList.PickList.ID, tasks
}

// step is where an RF task's picker goes next (nil: done).
type step struct {
	Bin, Sku    string
	Qty, Picked int64
}

func (f *floor) next(task string) *step {
	var tk struct{ PickTask struct{ NextStep *step } }
	do(f.t, f.op, `query($id: ID!){ pickTask(id: $id){ nextStep { bin sku qty picked } } }`, map[string]any{"id": task}, &tk)
	return tk.PickTask.NextStep
}

func (f *floor) claim(task string) {
	var claim struct {
		ClaimPickTask struct{ Errors floorErrs }
	}
	do(f.t, f.op, `mutation($id: ID!){ claimPickTask(taskId: $id){ errors { code message } } }`, map[string]any{"id": task}, &claim)
	if len(claim.ClaimPickTask.Errors) > 0 {
		f.t.Fatalf("claim: %+v", claim.ClaimPickTask.Errors)
	}
}

const mScanPick = `mutation($in: ScanPickInput!, $key: String!){ scanPick(input: $in, idempotencyKey: $key){ pickListPicked errors { code message } } }`

type scanResult struct {
	ScanPick struct {
		PickListPicked bool
		Errors         floorErrs
	}
}

// scan sends one RF scan; the error is the transport's (WMS down).
func (f *floor) scan(task, key, bin, sku string, qty int64) (scanResult, error) {
	var out scanResult
	err := f.op.Do(ctx(f.t), mScanPick, map[string]any{"key": key, "in": map[string]any{"taskId": task, "bin": bin, "sku": sku, "qty": qty}}, &out)
	return out, err
}

// pickAll claims each task and picks it bin by bin, checking that a scan
// at the wrong bin is refused; it reports whether the last scan finished
// the pick list.
func (f *floor) pickAll(tasks []string) bool {
	t := f.t
	t.Helper()
	picked := false
	for _, task := range tasks {
		f.claim(task)
		for st := f.next(task); st != nil; st = f.next(task) {
			res, err := f.scan(task, ids.New(), "NOT-"+st.Bin, st.Sku, 1)
			if err != nil || len(res.ScanPick.Errors) != 1 || res.ScanPick.Errors[0].Code != "WRONG_BIN" {
				t.Fatalf("wrong bin: %+v %v", res.ScanPick.Errors, err)
			}
			if res, err = f.scan(task, ids.New(), st.Bin, st.Sku, st.Qty-st.Picked); err != nil || len(res.ScanPick.Errors) > 0 {
				t.Fatalf("scan: %+v %v", res.ScanPick.Errors, err)
			}
			picked = picked || res.ScanPick.PickListPicked
		}
	}
	return picked
}

// qcAndPack checks every item of the cart at the bench and packs each
// work order into one box, weighed; a box far off its expected weight is
// refused first.
func (f *floor) qcAndPack(listID string) {
	t := f.t
	t.Helper()
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
	do(t, f.op, `query($id: ID!){ qcCart(pickListId: $id){ workOrders { id lines { sku picked } } } }`, map[string]any{"id": listID}, &cart)
	for _, w := range cart.QcCart.WorkOrders {
		var boxLines []map[string]any
		weight := int64(150)
		for _, l := range w.Lines {
			var qc struct {
				ScanQC struct{ Errors floorErrs }
			}
			do(t, f.op, `mutation($in: ScanQCInput!, $key: String!){ scanQC(input: $in, idempotencyKey: $key){ errors { code message } } }`,
				map[string]any{"key": ids.New(), "in": map[string]any{"pickListId": listID, "sku": l.Sku, "qty": l.Picked}}, &qc)
			if len(qc.ScanQC.Errors) > 0 {
				t.Fatalf("QC: %+v", qc.ScanQC.Errors)
			}
			boxLines = append(boxLines, map[string]any{"sku": l.Sku, "qty": l.Picked})
			weight += l.Picked * f.weights[l.Sku]
		}
		var pack struct {
			PackWorkOrder struct{ Errors floorErrs }
		}
		q := `mutation($in: PackWorkOrderInput!, $key: String!){ packWorkOrder(input: $in, idempotencyKey: $key){ errors { code message } } }`
		key := ids.New()
		do(t, f.op, q, map[string]any{"key": key, "in": map[string]any{"workOrderId": w.ID, "boxes": []any{map[string]any{"lines": boxLines, "weightG": weight * 2}}}}, &pack)
		if len(pack.PackWorkOrder.Errors) != 1 || pack.PackWorkOrder.Errors[0].Code != "WEIGHT_OUT_OF_TOLERANCE" {
			t.Fatalf("heavy box: %+v", pack.PackWorkOrder.Errors)
		}
		do(t, f.op, q, map[string]any{"key": key, "in": map[string]any{"workOrderId": w.ID, "boxes": []any{map[string]any{"lines": boxLines, "weightG": weight + 10}}}}, &pack)
		if len(pack.PackWorkOrder.Errors) > 0 {
			t.Fatalf("pack: %+v", pack.PackWorkOrder.Errors)
		}
	}
}

// handOver forms the courier's batch and returns its id and how many of
// its parcels belong to orderID.
func (f *floor) handOver(carrier, orderID string) (string, int) {
	t := f.t
	t.Helper()
	var ho struct {
		HandOver struct {
			Batch struct {
				ID      string
				Parcels []struct{ OrderID string }
			}
			Errors floorErrs
		}
	}
	do(t, f.op, `mutation($c: String!, $key: String!){ handOver(input: {carrier: $c}, idempotencyKey: $key){ batch { id parcels { orderId } } errors { code message } } }`,
		map[string]any{"c": carrier, "key": ids.New()}, &ho)
	if len(ho.HandOver.Errors) > 0 {
		t.Fatalf("handover: %+v", ho.HandOver.Errors)
	}
	mine := 0
	for _, p := range ho.HandOver.Batch.Parcels {
		if p.OrderID == orderID {
			mine++
		}
	}
	return ho.HandOver.Batch.ID, mine
}

// imported waits for TMS to hold the batch, imported exactly once.
func imported(t *testing.T, batch string) {
	t.Helper()
	eventually(t, 60*time.Second, "parcels imported into TMS", func() (bool, error) {
		got := received(t, "tms.parcel_imports", batch)
		return len(got) == 1 && got[0].Deliveries == 1, fmt.Errorf("%d imports", len(got))
	})
}

// delivered waits until the customer's subscription has shown SHIPPED,
// then COMPLETED, and the order reads COMPLETED.
func delivered(t *testing.T, c *gqlc.Client, sub *gqlc.Subscription, orderID string) {
	t.Helper()
	var seen []string
	timeout := time.After(90 * time.Second)
	for !slices.Contains(seen, "COMPLETED") {
		select {
		case data, ok := <-sub.Next:
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			var ev struct {
				OrderUpdated struct{ OrderID, Type, Status string }
			}
			_ = json.Unmarshal(data, &ev)
			if ev.OrderUpdated.OrderID == orderID {
				seen = append(seen, ev.OrderUpdated.Type)
			}
		case <-timeout:
			t.Fatalf("events %v; order now %+v", seen, getOrder(t, c, orderID))
		}
	}
	if i, j := slices.Index(seen, "SHIPPED"), slices.Index(seen, "COMPLETED"); i < 0 || i > j {
		t.Fatalf("events %v: want SHIPPED before COMPLETED", seen)
	}
	if got := getOrder(t, c, orderID); got.Status != omsclient.StatusCompleted {
		t.Fatalf("order %+v", got)
	}
}

// A paid order with ambient, chilled and frozen lines leaves as one work
// order per zone; the frozen one, without bin stock, waits with a reason
// until a goods receipt releases it; the cart is picked bin by bin on RF
// tasks, checked and packed into weighed boxes at the bench, handed over
// and imported into TMS, whose courier collects and delivers it; the
// customer sees SHIPPED, then COMPLETED. Everything through GraphQL and
// real sidecars; only the warehouse layout is set up on WMS's API.
func TestOrderLeavesTheWarehouseAndIsDelivered(t *testing.T) {
	const customer, wh = "C0031", "WH-SH"
	c := client(t, "CUSTOMER", customer)
	ps := zonedProducts(t, c, wh, nil)
	f := layout(t, wh, "E2E", ps)
	// Ambient and chilled stock exists; the frozen SKU has none yet.
	f.receive("E2E-0", ps[0].SKU, 500)
	f.receive("E2E-1", ps[1].SKU, 500)

	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The console watches the floor live, drained as events come.
	floorSub, err := gqlc.Subscribe(sctx, wsURL(), f.op.Token, `subscription { warehouseEvents { type id } }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer floorSub.Close()
	var seenMu sync.Mutex
	seen := map[string]bool{}
	go func() {
		for data := range floorSub.Next {
			var ev struct{ WarehouseEvents struct{ Type, ID string } }
			_ = json.Unmarshal(data, &ev)
			seenMu.Lock()
			seen[ev.WarehouseEvents.Type+" "+ev.WarehouseEvents.ID] = true
			seenMu.Unlock()
		}
	}()
	o, sub := placePaid(t, c, sctx, ps, 2)
	defer sub.Close()
	deliveryOrder, carrier := f.dispatched(c, o)

	// The split (one work order per zone) and the allocation, by messages.
	wos := f.workOrders(deliveryOrder, 3)
	frozen := wos[len(wos)-1]
	if !strings.HasPrefix(frozen.Zone, "FROZEN") || frozen.Status != "WAITING_STOCK" || !strings.Contains(frozen.Reason, ps[2].SKU) {
		t.Fatalf("frozen work order %+v: want WAITING_STOCK for %s", frozen, ps[2].SKU)
	}
	// Goods arrive: the receipt's message releases it, and makes the units
	// sellable in inventory.
	sellable := available(t, c, ps[2].SKU)
	f.receive("E2E-2", ps[2].SKU, 500)
	eventually(t, 30*time.Second, "received units sellable", func() (bool, error) {
		got := available(t, c, ps[2].SKU)
		return got == sellable+500, fmt.Errorf("available %d, want %d", got, sellable+500)
	})
	eventually(t, 30*time.Second, "frozen work order released", func() (bool, error) {
		st, reason, err := f.status(frozen.ID)
		return err == nil && st == "ALLOCATED", fmt.Errorf("%s %q %v", st, reason, err)
	})
	// Another warehouse's operator sees none of it.
	var none struct{ WorkOrder *struct{ ID string } }
	if err := operator(t, "op-bj", "WH-BJ").Do(ctx(t), `query($id: ID!){ workOrder(id: $id){ id } }`, map[string]any{"id": frozen.ID}, &none); err == nil ||
		!strings.Contains(err.Error(), "FORBIDDEN") {
		t.Fatalf("another warehouse's operator: %v", err)
	}

	listID, tasks := f.pickList(wos)
	if len(tasks) != 3 {
		t.Fatalf("%d RF tasks for three zones", len(tasks))
	}
	if !f.pickAll(tasks) {
		t.Fatal("the last scan did not finish the pick list")
	}
	eventually(t, 15*time.Second, "the floor's events on the console", func() (bool, error) {
		seenMu.Lock()
		defer seenMu.Unlock()
		want := []string{"WORK_ORDER_CREATED " + frozen.ID, "WORK_ORDER_SUSPENDED " + frozen.ID, "WORK_ORDER_ALLOCATED " + frozen.ID,
			"PICK_LIST_CREATED " + listID, "PICK_LIST_PICKED " + listID}
		for _, task := range tasks {
			want = append(want, "TASK_PROGRESSED "+task)
		}
		for _, w := range want {
			if !seen[w] {
				return false, fmt.Errorf("no %s", w)
			}
		}
		return true, nil
	})
	f.qcAndPack(listID)
	batch, mine := f.handOver(carrier, o.ID)
	if mine != 3 {
		t.Fatalf("%d parcels of %s handed over, want 3", mine, o.ID)
	}
	imported(t, batch)
	delivered(t, c, sub, o.ID)
	// The upload job booked the ambient SKU's receipt and pick at ERP, once each.
	eventually(t, 30*time.Second, "movements booked at ERP", func() (bool, error) {
		var got struct {
			Movements     int   `json:"movements"`
			NetQty        int64 `json:"net_qty"`
			MaxDeliveries int   `json:"max_deliveries"`
		}
		resp, err := callApp("partners", http.MethodGet, "/admin/erp/movements?warehouse="+wh+"&sku="+ps[0].SKU, "", nil)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			return false, err
		}
		n, _ := f.onHand(ps[0].SKU)
		return got.MaxDeliveries == 1 && got.NetQty == n, fmt.Errorf("ERP booked %+v, WMS holds %d", got, n)
	})
	// Inventory's, WMS's and ERP's counts reconcile once the events and
	// the upload are through (harvest-load reconcile's check).
	eventually(t, 30*time.Second, "stock reconciled", func() (bool, error) {
		var dbs []*sql.DB
		for _, app := range []string{"inventory", "wms", "partners"} {
			db, err := sql.Open("mysql", st.DSN(app))
			if err != nil {
				return false, err
			}
			defer db.Close()
			dbs = append(dbs, db)
		}
		rec, err := load.Reconcile(ctx(t), dbs[0], dbs[1], dbs[2])
		if err != nil {
			return false, err
		}
		return len(rec.Differences) == 0, errors.New(rec.String())
	})
}

// onHand is a SKU's on-hand bin stock and its PICK movements, read
// through GraphQL.
func (f *floor) onHand(sku string) (int64, int) {
	var out struct {
		BinStock       []struct{ OnHand int64 }
		StockMovements []struct{ Kind string }
	}
	do(f.t, f.op, `query($sku: String){ binStock(sku: $sku){ onHand } stockMovements(sku: $sku){ kind } }`, map[string]any{"sku": sku}, &out)
	var n int64
	for _, b := range out.BinStock {
		n += b.OnHand
	}
	picks := 0
	for _, m := range out.StockMovements {
		if m.Kind == "PICK" {
			picks++
		}
	}
	return n, picks
}

// WMS is killed (with its sidecar) while a pick scan is in flight and
// again right after the handover commits: the picker's retry with the
// same key deducts nothing twice, and the handover's event, written with
// it, still imports the parcel into TMS once after the restart.
func TestWMSKilledMidPickAndAfterHandover(t *testing.T) {
	const customer, wh = "C0032", "WH-SH"
	c := client(t, "CUSTOMER", customer)
	first := zonedProducts(t, c, wh, nil)
	ps := zonedProducts(t, c, wh, []string{first[0].SKU, first[1].SKU, first[2].SKU})[:1]
	f := layout(t, wh, "KILL", ps)
	f.receive("KILL-0", ps[0].SKU, 100)

	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o, sub := placePaid(t, c, sctx, ps, 3)
	defer sub.Close()
	deliveryOrder, carrier := f.dispatched(c, o)
	wos := f.workOrders(deliveryOrder, 1)
	listID, tasks := f.pickList(wos)
	f.claim(tasks[0])
	next := f.next(tasks[0])
	// The console follows the task: its progress event, written with the
	// scan's commit, must come out of WMS's outbox after the restart.
	taskSub, err := gqlc.Subscribe(sctx, wsURL(), f.op.Token, `subscription($t: ID){ warehouseEvents(taskId: $t) { type id stepsDone steps } }`,
		map[string]any{"t": tasks[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer taskSub.Close()
	erpStock := func() wmsclient.Stock {
		var s wmsclient.Stock
		if err := invoke(ctx(t), "wms", http.MethodGet, "v1/erp-stock/"+wh+"/"+ps[0].SKU, nil, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	erpBefore := erpStock()

	// The scan goes out; WMS dies while it is in flight or just after.
	key := ids.New()
	done := make(chan error, 1)
	go func() { _, err := f.scan(tasks[0], key, next.Bin, next.Sku, next.Qty); done <- err }()
	time.Sleep(15 * time.Millisecond)
	if err := st.Kill("wms"); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := st.Restart(ctx(t), "wms"); err != nil {
		t.Fatal(err)
	}
	// The RF handheld retries with the same key until WMS answers.
	var res scanResult
	eventually(t, 30*time.Second, "the scan retried", func() (bool, error) {
		var err error
		res, err = f.scan(tasks[0], key, next.Bin, next.Sku, next.Qty)
		return err == nil, err
	})
	if len(res.ScanPick.Errors) > 0 {
		t.Fatalf("retried scan: %+v", res.ScanPick.Errors)
	}
	if n, picks := f.onHand(ps[0].SKU); n != 100-next.Qty || picks != 1 {
		t.Fatalf("on hand %d with %d pick movements after one scan of %d from 100", n, picks, next.Qty)
	}
	if f.next(tasks[0]) != nil {
		t.Fatal("the task still has a step after its only scan")
	}
	// ERP's on-hand fell by the scan once, its occupation consumed once.
	if after := erpStock(); after.OnHand != erpBefore.OnHand-next.Qty || after.Occupied != erpBefore.Occupied-next.Qty {
		t.Fatalf("ERP stock %+v after one scan of %d from %+v", after, next.Qty, erpBefore)
	}
	progressed := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case data, ok := <-taskSub.Next:
			if !ok {
				t.Fatalf("task subscription ended: %v", taskSub.Err())
			}
			var ev struct {
				WarehouseEvents struct {
					Type, ID         string
					StepsDone, Steps int
				}
			}
			_ = json.Unmarshal(data, &ev)
			done = ev.WarehouseEvents.Type == "TASK_PROGRESSED" && ev.WarehouseEvents.ID == tasks[0] && ev.WarehouseEvents.StepsDone == ev.WarehouseEvents.Steps
		case <-progressed:
			t.Fatal("the scan's progress event never reached the console after WMS restarted")
		}
	}

	f.qcAndPack(listID)
	batch, mine := f.handOver(carrier, o.ID)
	if mine != 1 {
		t.Fatalf("%d parcels of %s handed over, want 1", mine, o.ID)
	}
	// Killed right after the handover committed, before its event may
	// have left the outbox.
	if err := st.Kill("wms"); err != nil {
		t.Fatal(err)
	}
	if err := st.Restart(ctx(t), "wms"); err != nil {
		t.Fatal(err)
	}
	imported(t, batch)
	delivered(t, c, sub, o.ID)
}

// A retail store's replenishment order short at QC ships nothing under the
// item's minimum order quantity: QC confirm finds the difference, the
// shortage is confirmed through the chain of the store's business type
// (loss record with stock transactions, put-away by rule), the good units
// go back on the shelf by an RF put-away task, and customer service reads
// the shortage on the order's timeline.
func TestStoreShortageReachesCustomerService(t *testing.T) {
	const customer, wh = "C0033", "WH-SH"
	c := client(t, "CUSTOMER", customer)
	first := zonedProducts(t, c, wh, nil)
	second := zonedProducts(t, c, wh, []string{first[0].SKU, first[1].SKU, first[2].SKU})
	ps := zonedProducts(t, c, wh, []string{first[0].SKU, first[1].SKU, first[2].SKU, second[0].SKU, second[1].SKU, second[2].SKU})[:1]
	f := layout(t, wh, "STORE", ps)
	if err := invoke(ctx(t), "wms", http.MethodPost, "v1/items", wmsclient.Item{SKU: ps[0].SKU, Name: ps[0].Name, Zone: ps[0].Zone,
		Handling: "STANDARD", UnitWeightG: f.weights[ps[0].SKU], StoreMOQ: 10}, nil); err != nil {
		t.Fatal(err)
	}
	if err := invoke(ctx(t), "wms", http.MethodPost, "v1/store-customers", wmsclient.StoreCustomer{CustomerID: customer, BusinessType: "STORE_LOSS_PUTAWAY"}, nil); err != nil {
		t.Fatal(err)
	}
	f.receive("STORE-0", ps[0].SKU, 100)

	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o, sub := placePaid(t, c, sctx, ps, 12)
	sub.Close()
	deliveryOrder, _ := f.dispatched(c, o)
	wos := f.workOrders(deliveryOrder, 1)
	listID, tasks := f.pickList(wos)
	if !f.pickAll(tasks) {
		t.Fatal("not picked")
	}
	var qc struct {
		ScanQC struct{ Errors floorErrs }
	}
	do(t, f.op, `mutation($in: ScanQCInput!, $key: String!){ scanQC(input: $in, idempotencyKey: $key){ errors { code message } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"pickListId": listID, "sku": ps[0].SKU, "qty": 8}}, &qc)
	var conf struct {
		ConfirmQC struct{ WithDifferences []string }
	}
	do(t, f.op, `mutation($id: ID!){ confirmQC(pickListId: $id){ withDifferences } }`, map[string]any{"id": listID}, &conf)
	if len(conf.ConfirmQC.WithDifferences) != 1 || conf.ConfirmQC.WithDifferences[0] != wos[0].ID {
		t.Fatalf("QC confirm: %+v", conf)
	}
	var sh struct {
		ConfirmShortage struct {
			WorkOrder struct{ Status string }
			Lines     []struct{ Ship, Short, Withheld int64 }
			Losses    int
			PutAways  int
			Errors    floorErrs
		}
	}
	do(t, f.op, `mutation($in: ConfirmShortageInput!, $key: String!){ confirmShortage(input: $in, idempotencyKey: $key){
		workOrder { status } lines { ship short withheld } losses putAways errors { code message } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"workOrderId": wos[0].ID, "reasons": []any{map[string]any{"sku": ps[0].SKU, "reason": "DAMAGED"}}}}, &sh)
	got := sh.ConfirmShortage
	if len(got.Errors) > 0 || got.WorkOrder.Status != "SHORT_CLOSED" || len(got.Lines) != 1 || got.Lines[0].Ship != 0 || got.Lines[0].Short != 4 ||
		got.Lines[0].Withheld != 8 || got.Losses != 1 || got.PutAways != 1 {
		t.Fatalf("shortage: %+v", got)
	}
	var pa struct {
		PutAwayTasks []struct {
			ID, WorkOrderID, Bin string
			Qty                  int64
		}
	}
	do(t, f.op, `{ putAwayTasks { id workOrderId bin qty } }`, nil, &pa)
	var task string
	for _, p := range pa.PutAwayTasks {
		if p.WorkOrderID == wos[0].ID && p.Bin == "STORE-0" && p.Qty == 8 {
			task = p.ID
		}
	}
	if task == "" {
		t.Fatalf("put-away tasks %+v", pa.PutAwayTasks)
	}
	var put struct {
		ConfirmPutAway struct{ Errors floorErrs }
	}
	do(t, f.op, `mutation($in: ConfirmPutAwayInput!, $key: String!){ confirmPutAway(input: $in, idempotencyKey: $key){ errors { code message } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"taskId": task, "bin": "STORE-0"}}, &put)
	if len(put.ConfirmPutAway.Errors) > 0 {
		t.Fatalf("put-away: %+v", put.ConfirmPutAway.Errors)
	}
	if n, _ := f.onHand(ps[0].SKU); n != 100-12+8 {
		t.Fatalf("on hand %d after picking 12 and putting 8 back into 100", n)
	}
	cs := client(t, "CS_AGENT", "cs-1")
	eventually(t, 30*time.Second, "the shortage on the order's timeline", func() (bool, error) {
		for _, e := range getOrder(t, cs, o.ID).Timeline {
			if e.Type == "SHORTAGE" && strings.Contains(e.Note, ps[0].SKU) && strings.Contains(e.Note, "4 short (DAMAGED)") {
				return true, nil
			}
		}
		return false, fmt.Errorf("timeline %+v", getOrder(t, cs, o.ID).Timeline)
	})
}
