package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/apps/wms/api"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/erp"
	"github.com/harvest/harvest/apps/wms/events"
	"github.com/harvest/harvest/apps/wms/store"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/hub"
)

// wmsSidecar serves daprd's invocation API over WMS's real router, and
// over the partners stand-in's (ERP's purchase orders) when erp is set.
type wmsSidecar struct{ h, erp http.Handler }

func (s wmsSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := s.h
	method, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/"+wmsclient.AppID+"/method/")
	if !ok && s.erp != nil {
		method, ok = strings.CutPrefix(r.URL.Path, "/v1.0/invoke/"+partnersclient.DefaultAppID+"/method/")
		h = s.erp
	}
	if !ok {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.RequestURI = "/"+method, ""
	h.ServeHTTP(w, r2)
}

// purchaseOrder creates a purchase order at the ERP stand-in (its admin route).
func purchaseOrder(t *testing.T, erp http.Handler, id, wh string, lines ...any) {
	t.Helper()
	po := partnersclient.PurchaseOrder{ID: id, Warehouse: wh, Supplier: "S1"}
	for i := 0; i < len(lines); i += 2 {
		po.Lines = append(po.Lines, partnersclient.PurchaseOrderLine{SKU: lines[i].(string), Qty: int64(lines[i+1].(int))})
	}
	body, _ := json.Marshal(po)
	rec := httptest.NewRecorder()
	erp.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/admin/erp/purchase-orders", strings.NewReader(string(body))))
	if rec.Code != http.StatusOK {
		t.Fatalf("purchase order %s: %d %s", id, rec.Code, rec.Body)
	}
}

// operatorOf authenticates as a warehouse operator of wh.
func operatorOf(t *testing.T, sub, wh string) client.Option {
	t.Helper()
	tok, err := auth.Mint(secret, auth.Identity{Subject: sub, Role: auth.RoleWarehouseOperator, Warehouse: wh}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return client.AddHeader("Authorization", "Bearer "+tok)
}

// The warehouse console through GraphQL against the real WMS (router,
// use cases, MariaDB): receipt, pick list, RF claim and scans with their
// refusals, QC, packing with weights, handover; and the warehouse scope.
// consoleAgainstWMS serves GraphQL over the real WMS (router, use cases,
// a fresh MariaDB database) through a stand-in sidecar.
func consoleAgainstWMS(t *testing.T) (*sql.DB, *app.Service, *client.Client) {
	t.Helper()
	db, _ := testdb.New(t, "wms")
	pdb, _ := testdb.New(t, "partners")
	svc := app.New(store.New(db), clock.System{}, nil, nil)
	m, pm := chi.NewRouter(), chi.NewRouter()
	api.Mount(m, svc)
	sim.New(pdb, nil, clock.System{}, sim.Config{}, nil).Mount(pm)
	sc := httptest.NewServer(wmsSidecar{h: m, erp: pm})
	t.Cleanup(sc.Close)
	u, _ := url.Parse(sc.URL)
	port, _ := strconv.Atoi(u.Port())
	svc.SetOutbound([]string{"SF"}, nil, erp.New(partnersclient.New(daprx.NewInvoker(port), "")))
	purchaseOrder(t, pm, "PO-1", "WH-SH", "AMB", 100, "FRZ", 100)
	purchaseOrder(t, pm, "PO-BJ", "WH-BJ", "AMB", 100)
	v, err := auth.NewVerifier(secret, auth.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return db, svc, client.New(graph.NewHandler(&graph.Resolver{Warehouse: wmsclient.New(daprx.NewInvoker(port))}, graph.Options{Verifier: v}))
}

func TestWarehouseConsoleAgainstWMS(t *testing.T) {
	db, svc, c := consoleAgainstWMS(t)
	ctx := context.Background()
	const wh = "WH-SH"
	for _, z := range [][3]string{{"A", "AMBIENT", "PICK"}, {"F", "FROZEN_LOW", "PICK"}} {
		if _, err := svc.PutZone(ctx, wh, z[0], z[1], z[2]); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range [][2]string{{"P-01", "A"}, {"P-02", "A"}, {"F-01", "F"}} {
		if err := svc.PutBin(ctx, wh, b[0], b[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, sku := range []string{"AMB", "FRZ"} {
		zone := map[string]string{"AMB": "AMBIENT", "FRZ": "FROZEN_LOW"}[sku]
		if _, err := svc.PutItem(ctx, sku, sku, zone, "STANDARD", 500, 0); err != nil {
			t.Fatal(err)
		}
	}
	op, other := operatorOf(t, "op1", wh), operatorOf(t, "op9", "WH-BJ")
	picker2 := operatorOf(t, "picker2", wh)
	gql := func(q string, opt client.Option) map[string]any {
		t.Helper()
		data, errs := post(t, c, q, opt)
		if len(errs) > 0 {
			t.Fatalf("%s: %+v", q, errs)
		}
		return data
	}
	payloadErrors := func(data map[string]any, field string) string {
		t.Helper()
		p := data[field].(map[string]any)
		var out []string
		for _, e := range p["errors"].([]any) {
			em := e.(map[string]any)
			s := em["code"].(string)
			if r, ok := em["reason"].(string); ok {
				s += ":" + r
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	receive := `mutation { receiveGoods(idempotencyKey: "%s", input: {purchaseOrder: "PO-1", bin: "%s", sku: "%s", batch: "B1",
		productionDate: "2026-01-01", expiryDate: "2026-06-01", qty: %d}) { receiptId duplicate errors { code message reason } } }`
	for _, r := range []struct {
		key, bin, sku string
		qty           int
	}{{"r1", "P-01", "AMB", 8}, {"r2", "F-01", "FRZ", 2}} {
		if es := payloadErrors(gql(fmt.Sprintf(receive, r.key, r.bin, r.sku, r.qty), op), "receiveGoods"); es != "" {
			t.Fatal(es)
		}
	}
	if es := payloadErrors(gql(fmt.Sprintf(receive, "r3", "F-01", "AMB", 1), op), "receiveGoods"); es != "VALIDATION_FAILED" {
		t.Fatalf("ambient into a frozen bin: %s", es)
	}
	// Against ERP's purchase order: refused precisely, nothing moves.
	for _, c := range []struct{ po, sku, want string }{
		{"PO-404", "AMB", "UNKNOWN_PURCHASE_ORDER"}, {"PO-BJ", "AMB", "PURCHASE_ORDER_OF_ANOTHER_WAREHOUSE"},
		{"PO-1", "MILK", "NOT_ON_PURCHASE_ORDER"}, {"PO-1", "AMB", "OVER_RECEIPT:92"},
	} {
		q := strings.Replace(fmt.Sprintf(receive, "r-"+c.po+c.sku, "P-01", c.sku, 93), `"PO-1"`, `"`+c.po+`"`, 1)
		if es := payloadErrors(gql(q, op), "receiveGoods"); es != c.want {
			t.Fatalf("%s of %s: %s, want %s", c.sku, c.po, es, c.want)
		}
	}
	po := gql(`{ purchaseOrder(id: "PO-1") { id supplier lines { sku ordered received remaining } } }`, op)["purchaseOrder"].(map[string]any)
	if ls := po["lines"].([]any); len(ls) != 2 || fmt.Sprint(ls[0]) != "map[ordered:100 received:8 remaining:92 sku:AMB]" {
		t.Fatalf("purchase order: %v", po)
	}
	if rs := gql(`{ goodsReceipts(purchaseOrder: "PO-1") { id sku qty bin operator } }`, op)["goodsReceipts"].([]any); len(rs) != 2 {
		t.Fatalf("receipts: %v", rs)
	}
	if d := gql(`{ purchaseOrder(id: "PO-404") { id } }`, op); d["purchaseOrder"] != nil {
		t.Fatalf("unknown purchase order: %v", d)
	}
	if _, errs := post(t, c, `{ purchaseOrder(id: "PO-BJ") { id } }`, op); len(errs) == 0 || errs[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("another warehouse's purchase order: %+v", errs)
	}
	if bs := gql(`{ binStock(bin: "F-01", expiringBefore: "2026-07-01") { bin sku batch expiryDate } }`, op)["binStock"].([]any); len(bs) != 1 {
		t.Fatalf("stock by bin and expiry: %v", bs)
	}
	// Received at the dock, then put away part by part.
	dock := gql(`mutation { receiveGoods(idempotencyKey: "dock1", input: {purchaseOrder: "PO-1", sku: "FRZ", batch: "B1",
		productionDate: "2026-01-01", expiryDate: "2026-06-01", qty: 5}) { receiptId errors { code } } }`, op)["receiveGoods"].(map[string]any)
	rid, _ := dock["receiptId"].(string)
	putAway := `mutation { putAwayReceipt(idempotencyKey: "%s", input: {receiptId: "%s", bin: "F-01", qty: 3}) {
		receipt { bin putAway atDock } errors { code } } }`
	if got := jsonOf(gql(fmt.Sprintf(putAway, "pa1", rid), op)["putAwayReceipt"]); got != `{"errors":[],"receipt":{"atDock":2,"bin":null,"putAway":3}}` {
		t.Fatalf("put-away: %s (%v)", got, dock)
	}
	if es := payloadErrors(gql(fmt.Sprintf(putAway, "pa2", rid), op), "putAwayReceipt"); es != "INVALID_STATE" {
		t.Fatalf("3 more of the 2 at the dock: %s", es)
	}
	// A dispatched order, split and allocated (the messages' use cases).
	wmsID, _, err := svc.Receive(ctx, domain.Order{DeliveryOrderID: "D1", OrderID: "O1", CustomerID: "C1", Warehouse: wh,
		Delivery: domain.Delivery{Date: "2026-02-01", Carrier: "SF", WaybillNo: "SF1", Name: "Li", Phone: "138", Address: "1 Road"},
		Lines:    []domain.Line{{SKU: "AMB", Qty: 2, Zone: "AMBIENT"}, {SKU: "FRZ", Qty: 1, Zone: "FROZEN_LOW"}}})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	if err := db.QueryRow(`SELECT msg_id FROM outbox WHERE topic=?`, events.TopicOrderReceived).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	wos, err := svc.SplitOrder(ctx, msg, wmsID)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wos {
		if _, err := svc.AllocateWorkOrder(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
	}

	data := gql(`{ workOrders(status: ALLOCATED) { edges { node { id zone status lines { sku qty } } } pageInfo { hasNextPage } } }`, op)
	if got := jsonOf(data["workOrders"]); strings.Count(got, `"id"`) != 2 || !strings.Contains(got, `"zone":"FROZEN_LOW"`) {
		t.Fatalf("work orders: %s", got)
	}
	data = gql(fmt.Sprintf(`{ workOrder(id: "%s") { picks { bin batch qty } } }`, wos[0].ID), op)
	if got := jsonOf(data["workOrder"]); got != `{"picks":[{"batch":"B1","bin":"P-01","qty":2}]}` {
		t.Fatalf("work order: %s", got)
	}
	// Another warehouse's operator is refused, whether naming it or not.
	if _, errs := post(t, c, fmt.Sprintf(`{ workOrder(id: "%s") { id } }`, wos[0].ID), other); len(errs) != 1 || codes(errs)[0] != "FORBIDDEN" {
		t.Fatalf("other warehouse's operator: %+v", errs)
	}
	if _, errs := post(t, c, `{ binStock(warehouse: "WH-BJ") { bin } }`, op); len(errs) != 1 || codes(errs)[0] != "FORBIDDEN" {
		t.Fatalf("naming another warehouse: %+v", errs)
	}
	if _, errs := post(t, c, `{ warehouseStock(warehouse: "WH-BJ") { totalCount } }`, op); len(errs) != 1 || codes(errs)[0] != "FORBIDDEN" {
		t.Fatalf("another warehouse's sellable stock: %+v", errs)
	}

	data = gql(fmt.Sprintf(`mutation { createPickList(idempotencyKey: "pl1", input: {workOrderIds: ["%s", "%s"]}) {
		pickList { id carrier workOrderIds tasks { id zone nextStep { bin sku qty } } } errors { code } } }`, wos[0].ID, wos[1].ID), op)
	pl := data["createPickList"].(map[string]any)["pickList"].(map[string]any)
	tasks := pl["tasks"].([]any)
	if len(tasks) != 2 || pl["carrier"] != "SF" {
		t.Fatalf("pick list %s", jsonOf(pl))
	}
	ambTask, frzTask := tasks[0].(map[string]any)["id"].(string), tasks[1].(map[string]any)["id"].(string)
	claim := `mutation { claimPickTask(taskId: "%s") { task { status picker } errors { code } } }`
	if got := jsonOf(gql(fmt.Sprintf(claim, ambTask), op)["claimPickTask"]); got != `{"errors":[],"task":{"picker":"op1","status":"CLAIMED"}}` {
		t.Fatal(got)
	}
	if es := payloadErrors(gql(fmt.Sprintf(claim, ambTask), picker2), "claimPickTask"); es != "TASK_TAKEN" {
		t.Fatalf("second picker: %s", es)
	}
	scan := `mutation { scanPick(idempotencyKey: "%s", input: {taskId: "%s", bin: "%s", sku: "%s", qty: %d}) {
		pickListPicked task { status nextStep { bin } } errors { code reason } } }`
	if es := payloadErrors(gql(fmt.Sprintf(scan, "s1", ambTask, "P-02", "AMB", 1), op), "scanPick"); es != "WRONG_BIN:P-01" {
		t.Fatalf("wrong bin: %s", es)
	}
	if es := payloadErrors(gql(fmt.Sprintf(scan, "s1", ambTask, "P-01", "FRZ", 1), op), "scanPick"); es != "WRONG_ITEM:AMB" {
		t.Fatalf("wrong item: %s", es)
	}
	if es := payloadErrors(gql(fmt.Sprintf(scan, "s1", ambTask, "P-01", "AMB", 3), op), "scanPick"); es != "QTY_ABOVE_REMAINING:2" {
		t.Fatalf("too many: %s", es)
	}
	if es := payloadErrors(gql(fmt.Sprintf(scan, "s1", ambTask, "P-01", "AMB", 2), op), "scanPick"); es != "" {
		t.Fatal(es)
	}
	gql(fmt.Sprintf(claim, frzTask), picker2)
	data = gql(fmt.Sprintf(scan, "s2", frzTask, "F-01", "FRZ", 1), picker2)
	if got := jsonOf(data["scanPick"]); got != `{"errors":[],"pickListPicked":true,"task":{"nextStep":null,"status":"DONE"}}` {
		t.Fatal(got)
	}

	data = gql(fmt.Sprintf(`{ qcCart(pickListId: "%s") { pickList { status } workOrders { slot lines { sku picked qced } } } }`, pl["id"]), op)
	if got := jsonOf(data["qcCart"]); got != `{"pickList":{"status":"PICKED"},"workOrders":[{"lines":[{"picked":2,"qced":0,"sku":"AMB"}],"slot":1},{"lines":[{"picked":1,"qced":0,"sku":"FRZ"}],"slot":2}]}` {
		t.Fatal(got)
	}
	qc := `mutation { scanQC(idempotencyKey: "%s", input: {pickListId: "%s", sku: "%s", qty: %d}) { slot errors { code } } }`
	if got := jsonOf(gql(fmt.Sprintf(qc, "q1", pl["id"], "FRZ", 1), op)["scanQC"]); got != `{"errors":[],"slot":2}` {
		t.Fatal(got)
	}
	gql(fmt.Sprintf(qc, "q2", pl["id"], "AMB", 2), op)
	pack := `mutation { packWorkOrder(idempotencyKey: "%s", input: {workOrderId: "%s", boxes: [{lines: [{sku: "%s", qty: %d}], weightG: %d}]}) {
		boxes { boxNo expectedWeightG weightG } errors { code } } }`
	if es := payloadErrors(gql(fmt.Sprintf(pack, "k1", wos[0].ID, "AMB", 2, 2000), op), "packWorkOrder"); es != "WEIGHT_OUT_OF_TOLERANCE" {
		t.Fatalf("heavy box: %s", es)
	}
	if got := jsonOf(gql(fmt.Sprintf(pack, "k1", wos[0].ID, "AMB", 2, 1160), op)["packWorkOrder"]); got != `{"boxes":[{"boxNo":1,"expectedWeightG":1150,"weightG":1160}],"errors":[]}` {
		t.Fatal(got)
	}
	gql(fmt.Sprintf(pack, "k2", wos[1].ID, "FRZ", 1, 650), op)
	data = gql(`mutation { handOver(idempotencyKey: "h1", input: {carrier: "SF"}) { batch { carrier parcels { orderId waybillNo } } errors { code } } }`, op)
	if got := jsonOf(data["handOver"]); got != `{"batch":{"carrier":"SF","parcels":[{"orderId":"O1","waybillNo":"SF1"},{"orderId":"O1","waybillNo":"SF1"}]},"errors":[]}` {
		t.Fatal(got)
	}
	if es := payloadErrors(gql(`mutation { handOver(idempotencyKey: "h2", input: {carrier: "SF"}) { errors { code } } }`, op), "handOver"); es != "INVALID_STATE" {
		t.Fatalf("nothing left to hand over: %s", es)
	}
	hb := gql(`{ handoverBatches(carrier: "SF") { id carrier parcels importedAt } }`, op)["handoverBatches"].([]any)
	if len(hb) != 1 || hb[0].(map[string]any)["parcels"] != float64(2) {
		t.Fatalf("handover batches: %v", hb)
	}
	id := hb[0].(map[string]any)["id"].(string)
	if got := jsonOf(gql(`{ handoverBatch(id: "`+id+`") { carrier parcels { orderId } } }`, op)); got != `{"handoverBatch":{"carrier":"SF","parcels":[{"orderId":"O1"},{"orderId":"O1"}]}}` {
		t.Fatal(got)
	}
	if _, errs := post(t, c, `{ handoverBatch(id: "`+id+`", warehouse: "WH-BJ") { id } }`, op); len(errs) == 0 || errs[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("another warehouse's batch: %+v", errs)
	}
	data = gql(`{ binStock(sku: "AMB") { bin area onHand occupied } stockMovements(sku: "AMB") { kind qty } }`, op)
	if got := jsonOf(data); got != `{"binStock":[{"area":"PICK","bin":"P-01","occupied":0,"onHand":6}],"stockMovements":[{"kind":"PICK","qty":-2},{"kind":"RECEIPT","qty":8}]}` {
		t.Fatal(got)
	}
}

// A store order short at QC, through GraphQL: QC confirm finds the
// difference, the shortage is confirmed with its reason, the chain of
// STORE_LOSS_PUTAWAY ships nothing under the MOQ and puts the good units
// back by an RF put-away task at the right bin.
func TestPartialOutboundThroughGraphQL(t *testing.T) {
	db, svc, c := consoleAgainstWMS(t)
	ctx := context.Background()
	const wh = "WH-SH"
	if _, err := svc.PutZone(ctx, wh, "A", "AMBIENT", "PICK"); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"P-01", "P-02"} {
		if err := svc.PutBin(ctx, wh, b, "A"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.PutItem(ctx, "AMB", "AMB", "AMBIENT", "STANDARD", 500, 10); err != nil {
		t.Fatal(err)
	}
	op := operatorOf(t, "op1", wh)
	gql := func(q string) map[string]any {
		t.Helper()
		data, errs := post(t, c, q, op)
		if len(errs) > 0 {
			t.Fatalf("%s: %+v", q, errs)
		}
		return data
	}
	gql(`mutation { receiveGoods(idempotencyKey: "r1", input: {purchaseOrder: "PO-1", bin: "P-01", sku: "AMB", batch: "B1",
		productionDate: "2026-01-01", expiryDate: "2026-06-01", qty: 20}) { errors { code } } }`)
	wmsID, _, err := svc.Receive(ctx, domain.Order{DeliveryOrderID: "D9", OrderID: "O9", CustomerID: "STORE-1", Warehouse: wh,
		Delivery: domain.Delivery{Date: "2026-02-01", Carrier: "ZTO", WaybillNo: "ZT9", Name: "Store 1", Phone: "021", Address: "1 Road"},
		Lines:    []domain.Line{{SKU: "AMB", Qty: 12, Zone: "AMBIENT"}}, Profiles: map[string]string{domain.ProfileBusinessType: "STORE_LOSS_PUTAWAY"}})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	if err := db.QueryRow(`SELECT msg_id FROM outbox WHERE topic=?`, events.TopicOrderReceived).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	wos, err := svc.SplitOrder(ctx, msg, wmsID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AllocateWorkOrder(ctx, wos[0].ID); err != nil {
		t.Fatal(err)
	}
	data := gql(fmt.Sprintf(`mutation { createPickList(idempotencyKey: "pl", input: {workOrderIds: ["%s"]}) { pickList { id tasks { id } } } }`, wos[0].ID))
	pl := data["createPickList"].(map[string]any)["pickList"].(map[string]any)
	task := pl["tasks"].([]any)[0].(map[string]any)["id"].(string)
	gql(fmt.Sprintf(`mutation { claimPickTask(taskId: "%s") { errors { code } } }`, task))
	gql(fmt.Sprintf(`mutation { scanPick(idempotencyKey: "s", input: {taskId: "%s", bin: "P-01", sku: "AMB", qty: 12}) { errors { code } } }`, task))
	gql(fmt.Sprintf(`mutation { scanQC(idempotencyKey: "q", input: {pickListId: "%s", sku: "AMB", qty: 8}) { errors { code } } }`, pl["id"]))
	data = gql(fmt.Sprintf(`mutation { confirmQC(pickListId: "%s") { withDifferences errors { code } } }`, pl["id"]))
	if got := jsonOf(data["confirmQC"]); got != fmt.Sprintf(`{"errors":[],"withDifferences":["%s"]}`, wos[0].ID) {
		t.Fatal(got)
	}
	data = gql(fmt.Sprintf(`mutation { confirmShortage(idempotencyKey: "c", input: {workOrderId: "%s", reasons: [{sku: "AMB", reason: MISSING}]}) {
		workOrder { status } lines { sku ordered short ship withheld reason } losses putAways errors { code } } }`, wos[0].ID))
	if got := jsonOf(data["confirmShortage"]); got != `{"errors":[],"lines":[{"ordered":12,"reason":"MISSING","ship":0,"short":4,"sku":"AMB","withheld":8}],"losses":1,"putAways":1,"workOrder":{"status":"SHORT_CLOSED"}}` {
		t.Fatal(got)
	}
	data = gql(`{ putAwayTasks { id bin sku qty status } }`)
	tasks := data["putAwayTasks"].([]any)
	if len(tasks) != 1 {
		t.Fatalf("put-away tasks %s", jsonOf(tasks))
	}
	pa := tasks[0].(map[string]any)
	put := `mutation { confirmPutAway(idempotencyKey: "p", input: {taskId: "%s", bin: "%s"}) { task { status operator } errors { code reason } } }`
	if got := jsonOf(gql(fmt.Sprintf(put, pa["id"], "P-02"))["confirmPutAway"]); got != `{"errors":[{"code":"WRONG_BIN","reason":"P-01"}],"task":null}` {
		t.Fatal(got)
	}
	if got := jsonOf(gql(fmt.Sprintf(put, pa["id"], "P-01"))["confirmPutAway"]); got != `{"errors":[],"task":{"operator":"op1","status":"DONE"}}` {
		t.Fatal(got)
	}
	data = gql(`{ binStock(sku: "AMB") { onHand occupied } stockMovements(sku: "AMB") { kind qty } }`)
	if got := jsonOf(data); got != `{"binStock":[{"occupied":0,"onHand":16}],"stockMovements":[{"kind":"PUTAWAY","qty":8},{"kind":"LOSS","qty":-4},{"kind":"PICK","qty":-12},{"kind":"RECEIPT","qty":20}]}` {
		t.Fatal(got)
	}
}

// The console's live feed: an operator sees their warehouse's work orders,
// pick lists and task progress, never another warehouse's; with taskId,
// only that task's progress.
func TestWarehouseEventsSubscription(t *testing.T) {
	v, err := auth.NewVerifier(secret, auth.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	floor := hub.NewFloor(8, nil)
	srv := httptest.NewServer(graph.NewHandler(&graph.Resolver{Floor: floor}, graph.Options{Verifier: v}))
	defer srv.Close()
	tok := func(wh string) string {
		s, err := auth.Mint(secret, auth.Identity{Subject: "op-" + wh, Role: auth.RoleWarehouseOperator, Warehouse: wh}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	all := dialWS(t, srv.URL, tok("WH-SH"))
	all.subscribe("a", `subscription { warehouseEvents { type id status reason stepsDone steps } }`)
	one := dialWS(t, srv.URL, tok("WH-SH"))
	one.subscribe("t", `subscription { warehouseEvents(taskId: "T1") { type id stepNo } }`)
	waitFor(t, "two floor subscribers", func() bool { return floor.Len() == 2 })
	send := func(topic string, payload any) {
		t.Helper()
		b, _ := json.Marshal(payload)
		if err := floor.Handle(context.Background(), daprx.Message{ID: "m", Topic: topic, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
	send(events.TopicWorkOrderSuspended, events.WorkOrder{WorkOrderID: "W-BJ", Warehouse: "WH-BJ", Status: "WAITING_STOCK"})
	send(events.TopicWorkOrderSuspended, events.WorkOrder{WorkOrderID: "W1", Warehouse: "WH-SH", Status: "WAITING_STOCK", Reason: "stock short: A"})
	if m := all.next(); string(m.Payload) != `{"data":{"warehouseEvents":{"type":"WORK_ORDER_SUSPENDED","id":"W1","status":"WAITING_STOCK","reason":"stock short: A","stepsDone":null,"steps":null}}}` {
		t.Fatalf("operator got %s", m.Payload)
	}
	send(events.TopicTaskProgressed, events.TaskProgressed{TaskID: "T2", Warehouse: "WH-SH", Status: "CLAIMED", StepNo: 1, StepsDone: 1, Steps: 3})
	send(events.TopicTaskProgressed, events.TaskProgressed{TaskID: "T1", Warehouse: "WH-SH", Status: "DONE", StepNo: 2, StepsDone: 2, Steps: 2})
	if m := all.next(); string(m.Payload) != `{"data":{"warehouseEvents":{"type":"TASK_PROGRESSED","id":"T2","status":"CLAIMED","reason":null,"stepsDone":1,"steps":3}}}` {
		t.Fatalf("operator got %s", m.Payload)
	}
	if m := one.next(); string(m.Payload) != `{"data":{"warehouseEvents":{"type":"TASK_PROGRESSED","id":"T1","stepNo":2}}}` {
		t.Fatalf("task watcher got %s", m.Payload)
	}
}
