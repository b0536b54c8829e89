package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/deploy/gqlc"
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

type payloadErrors []struct{ Code, Message string }

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
	op := operator(t, "op-e2e", wh)
	ps := zonedProducts(t, c, wh, nil)

	// The layout: a pick zone per temperature zone with one bin each, and
	// the item master rows (weights for the scale).
	weights := map[string]int64{}
	for i, p := range ps {
		zone := "Z-" + p.Zone
		if err := invoke(ctx(t), "wms", http.MethodPost, "v1/warehouses/"+wh+"/zones", wmsclient.Zone{Code: zone, Temp: p.Zone, Area: "PICK"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := invoke(ctx(t), "wms", http.MethodPost, "v1/warehouses/"+wh+"/bins", wmsclient.Bin{Bin: fmt.Sprintf("E2E-%d", i), Zone: zone}, nil); err != nil {
			t.Fatal(err)
		}
		weights[p.SKU] = int64(300 + 100*i)
		if err := invoke(ctx(t), "wms", http.MethodPost, "v1/items", wmsclient.Item{SKU: p.SKU, Name: p.Name, Zone: p.Zone,
			Handling: "STANDARD", UnitWeightG: weights[p.SKU]}, nil); err != nil {
			t.Fatal(err)
		}
	}
	receive := func(i int, qty int64) {
		t.Helper()
		var out struct {
			ReceiveGoods struct {
				ReceiptID string
				Errors    payloadErrors
			}
		}
		do(t, op, `mutation($in: ReceiveGoodsInput!, $key: String!){ receiveGoods(input: $in, idempotencyKey: $key){ receiptId errors { code message } } }`,
			map[string]any{"key": ids.New(), "in": map[string]any{"purchaseOrder": "PO-E2E", "bin": fmt.Sprintf("E2E-%d", i), "sku": ps[i].SKU,
				"batch": "B" + ids.New()[20:], "productionDate": time.Now().AddDate(0, 0, -3).Format(time.DateOnly),
				"expiryDate": time.Now().AddDate(0, 1, 0).Format(time.DateOnly), "qty": qty}}, &out)
		if len(out.ReceiveGoods.Errors) > 0 {
			t.Fatalf("receive %s: %+v", ps[i].SKU, out.ReceiveGoods.Errors)
		}
	}
	// Ambient and chilled stock exists; the frozen SKU has none yet.
	receive(0, 500)
	receive(1, 500)

	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	in := orderInput([]product{ps[0].product, ps[1].product, ps[2].product}, 2, nil)
	in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
	o := mustPlace(t, c, in)
	sub, err := gqlc.Subscribe(sctx, wsURL(), c.Token, sOrderUpdated, map[string]any{"id": o.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	payAtCashier(t, c, o.ID)

	var tl omsclient.FulfillmentTimeline
	eventually(t, 120*time.Second, "order dispatched", func() (bool, error) {
		err := invoke(ctx(t), "oms", http.MethodGet, "v1/orders/"+o.ID+"/fulfillment", nil, &tl)
		return err == nil && getOrder(t, c, o.ID).Status == omsclient.StatusDispatched, err
	})
	var deliveryOrder string
	for _, u := range tl.Units {
		if u.ParentID != "" && u.Warehouse == wh {
			deliveryOrder = u.ID
		}
	}
	if deliveryOrder == "" {
		t.Fatalf("no delivery order for %s: %+v", wh, tl.Units)
	}

	// The split (one work order per zone) and the allocation, by messages.
	var wos []wmsclient.WorkOrder
	eventually(t, 30*time.Second, "work orders allocated or waiting", func() (bool, error) {
		err := invoke(ctx(t), "wms", http.MethodGet, "v1/warehouses/"+wh+"/orders/"+deliveryOrder+"/work-orders", nil, &wos)
		if err != nil || len(wos) != 3 {
			return false, fmt.Errorf("%d work orders: %v", len(wos), err)
		}
		for _, w := range wos {
			if w.Status == "ALLOCATING" {
				return false, fmt.Errorf("%s still allocating", w.ID)
			}
		}
		return true, nil
	})
	frozen := wos[len(wos)-1]
	if !strings.HasPrefix(frozen.Zone, "FROZEN") || frozen.Status != "WAITING_STOCK" || !strings.Contains(frozen.Reason, ps[2].SKU) {
		t.Fatalf("frozen work order %+v: want WAITING_STOCK for %s", frozen, ps[2].SKU)
	}
	// Goods arrive: the receipt's message releases it.
	receive(2, 500)
	eventually(t, 30*time.Second, "frozen work order released", func() (bool, error) {
		var out struct {
			WorkOrder struct{ Status, Reason string }
		}
		err := op.Do(ctx(t), `query($id: ID!){ workOrder(id: $id){ status reason } }`, map[string]any{"id": frozen.ID}, &out)
		return err == nil && out.WorkOrder.Status == "ALLOCATED", fmt.Errorf("%+v %v", out.WorkOrder, err)
	})
	// Another warehouse's operator sees none of it.
	var none struct{ WorkOrder *struct{ ID string } }
	if err := operator(t, "op-bj", "WH-BJ").Do(ctx(t), `query($id: ID!){ workOrder(id: $id){ id } }`, map[string]any{"id": frozen.ID}, &none); err == nil ||
		!strings.Contains(err.Error(), "FORBIDDEN") {
		t.Fatalf("another warehouse's operator: %v", err)
	}

	// The cart and its RF tasks, one per zone, picked bin by bin.
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
			Errors payloadErrors
		}
	}
	do(t, op, `mutation($ids: [ID!]!, $key: String!){ createPickList(input: {workOrderIds: $ids}, idempotencyKey: $key){
		pickList { id tasks { id } } errors { code message } } }`, map[string]any{"ids": woIDs, "key": ids.New()}, &pl)
	if len(pl.CreatePickList.Errors) > 0 || len(pl.CreatePickList.PickList.Tasks) != 3 {
		t.Fatalf("pick list: %+v", pl.CreatePickList)
	}
	listID := pl.CreatePickList.PickList.ID
	var picked bool
	for _, task := range pl.CreatePickList.PickList.Tasks {
		var claim struct {
			ClaimPickTask struct{ Errors payloadErrors }
		}
		do(t, op, `mutation($id: ID!){ claimPickTask(taskId: $id){ errors { code message } } }`, map[string]any{"id": task.ID}, &claim)
		if len(claim.ClaimPickTask.Errors) > 0 {
			t.Fatalf("claim: %+v", claim.ClaimPickTask.Errors)
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
			do(t, op, `query($id: ID!){ pickTask(id: $id){ nextStep { bin sku qty picked } } }`, map[string]any{"id": task.ID}, &tk)
			step := tk.PickTask.NextStep
			if step == nil {
				break
			}
			var scan struct {
				ScanPick struct {
					PickListPicked bool
					Errors         payloadErrors
				}
			}
			q := `mutation($in: ScanPickInput!, $key: String!){ scanPick(input: $in, idempotencyKey: $key){ pickListPicked errors { code message } } }`
			// A scan at the wrong bin is refused and moves nothing.
			do(t, op, q, map[string]any{"key": ids.New(), "in": map[string]any{"taskId": task.ID, "bin": "NOT-" + step.Bin, "sku": step.Sku, "qty": 1}}, &scan)
			if len(scan.ScanPick.Errors) != 1 || scan.ScanPick.Errors[0].Code != "WRONG_BIN" {
				t.Fatalf("wrong bin: %+v", scan.ScanPick.Errors)
			}
			do(t, op, q, map[string]any{"key": ids.New(), "in": map[string]any{"taskId": task.ID, "bin": step.Bin, "sku": step.Sku,
				"qty": step.Qty - step.Picked}}, &scan)
			if len(scan.ScanPick.Errors) > 0 {
				t.Fatalf("scan: %+v", scan.ScanPick.Errors)
			}
			picked = picked || scan.ScanPick.PickListPicked
		}
	}
	if !picked {
		t.Fatal("the last scan did not finish the pick list")
	}

	// QC at the bench, then one weighed box per work order.
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
	do(t, op, `query($id: ID!){ qcCart(pickListId: $id){ workOrders { id lines { sku picked } } } }`, map[string]any{"id": listID}, &cart)
	for _, w := range cart.QcCart.WorkOrders {
		var boxLines []map[string]any
		weight := int64(150)
		for _, l := range w.Lines {
			var qc struct {
				ScanQC struct{ Errors payloadErrors }
			}
			do(t, op, `mutation($in: ScanQCInput!, $key: String!){ scanQC(input: $in, idempotencyKey: $key){ errors { code message } } }`,
				map[string]any{"key": ids.New(), "in": map[string]any{"pickListId": listID, "sku": l.Sku, "qty": l.Picked}}, &qc)
			if len(qc.ScanQC.Errors) > 0 {
				t.Fatalf("QC: %+v", qc.ScanQC.Errors)
			}
			boxLines = append(boxLines, map[string]any{"sku": l.Sku, "qty": l.Picked})
			weight += l.Picked * weights[l.Sku]
		}
		var pack struct {
			PackWorkOrder struct{ Errors payloadErrors }
		}
		q := `mutation($in: PackWorkOrderInput!, $key: String!){ packWorkOrder(input: $in, idempotencyKey: $key){ errors { code message } } }`
		key := ids.New()
		// The express courier weighs: a box far off its expected weight is refused.
		do(t, op, q, map[string]any{"key": key, "in": map[string]any{"workOrderId": w.ID, "boxes": []any{map[string]any{"lines": boxLines, "weightG": weight * 2}}}}, &pack)
		if len(pack.PackWorkOrder.Errors) != 1 || pack.PackWorkOrder.Errors[0].Code != "WEIGHT_OUT_OF_TOLERANCE" {
			t.Fatalf("heavy box: %+v", pack.PackWorkOrder.Errors)
		}
		do(t, op, q, map[string]any{"key": key, "in": map[string]any{"workOrderId": w.ID, "boxes": []any{map[string]any{"lines": boxLines, "weightG": weight + 10}}}}, &pack)
		if len(pack.PackWorkOrder.Errors) > 0 {
			t.Fatalf("pack: %+v", pack.PackWorkOrder.Errors)
		}
	}

	// Handover: the courier's parcels form a batch, imported into TMS.
	var carrier string
	for _, u := range tl.Units {
		if u.ID == deliveryOrder {
			var wo wmsclient.Order
			if err := invoke(ctx(t), "wms", http.MethodGet, "v1/orders/"+u.ID, nil, &wo); err != nil {
				t.Fatal(err)
			}
			carrier = wo.Carrier
		}
	}
	var ho struct {
		HandOver struct {
			Batch struct {
				ID      string
				Parcels []struct{ OrderID string }
			}
			Errors payloadErrors
		}
	}
	do(t, op, `mutation($c: String!, $key: String!){ handOver(input: {carrier: $c}, idempotencyKey: $key){ batch { id parcels { orderId } } errors { code message } } }`,
		map[string]any{"c": carrier, "key": ids.New()}, &ho)
	mine := 0
	for _, p := range ho.HandOver.Batch.Parcels {
		if p.OrderID == o.ID {
			mine++
		}
	}
	if len(ho.HandOver.Errors) > 0 || mine != 3 {
		t.Fatalf("handover: %+v (%d parcels of %s)", ho.HandOver, mine, o.ID)
	}
	eventually(t, 30*time.Second, "parcels imported into TMS", func() (bool, error) {
		got := received(t, "tms.parcel_imports", ho.HandOver.Batch.ID)
		return len(got) == 1 && got[0].Deliveries == 1, fmt.Errorf("%d imports", len(got))
	})

	// The courier collects and delivers: the customer sees SHIPPED, then COMPLETED.
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
			if ev.OrderUpdated.OrderID == o.ID {
				seen = append(seen, ev.OrderUpdated.Type)
			}
		case <-timeout:
			t.Fatalf("events %v; order now %+v", seen, getOrder(t, c, o.ID))
		}
	}
	if i, j := slices.Index(seen, "SHIPPED"), slices.Index(seen, "COMPLETED"); i < 0 || i > j {
		t.Fatalf("events %v: want SHIPPED before COMPLETED", seen)
	}
	if got := getOrder(t, c, o.ID); got.Status != omsclient.StatusCompleted {
		t.Fatalf("order %+v", got)
	}
}
