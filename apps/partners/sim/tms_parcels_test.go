package sim_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

func TestParcelsAreCollectedDeliveredOrRefusedAndReported(t *testing.T) {
	e := newEnv(t, sim.Config{CollectDelay: time.Minute, DeliverDelay: time.Hour})
	wms := &payStub{failFirst: 1} // the first report is not taken and comes again
	e.inv.apps["wms"] = wms
	imp := pc.ParcelImport{BatchID: "B1", Carrier: "SF", Parcels: []pc.ImportedParcel{
		{ParcelID: "P1", WaybillNo: "SF1", OrderID: "O1", DeliveryOrderID: "O1-1", WeightG: 900},
		{ParcelID: "P2", WaybillNo: "SF1", OrderID: "O1", DeliveryOrderID: "O1-1", WeightG: 400,
			Lines: []pc.ParcelLine{{SKU: "A", Qty: 3}, {SKU: "B", Qty: 1}}}}}
	for i := 0; i < 2; i++ {
		var r pc.Receipt
		if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "tms/v1/parcel-imports", imp, &r); err != nil || r.Duplicate != (i == 1) {
			t.Fatalf("import %d: %+v %v", i, r, err)
		}
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "tms/v1/parcel-imports", pc.ParcelImport{BatchID: "B2", Carrier: "SF"}, nil); err == nil {
		t.Fatal("an import without parcels was taken")
	}
	state := func(id string) string {
		t.Helper()
		var p pc.ParcelState
		if err := e.inv.Invoke(e.ctx, "partners", http.MethodGet, "tms/v1/parcels/"+id, nil, &p); err != nil {
			t.Fatal(err)
		}
		return p.State
	}
	// The courier's report of a partial refusal is checked against the
	// parcel's manifest; a refusal without lines is the whole parcel.
	for _, bad := range []struct {
		parcel string
		body   map[string]any
		code   string
	}{
		{"P2", map[string]any{"outcome": "REFUSED", "lines": []pc.ParcelLine{{SKU: "C", Qty: 1}}}, pc.CodeLineNotInParcel},
		{"P2", map[string]any{"outcome": "REFUSED", "lines": []pc.ParcelLine{{SKU: "A", Qty: 4}}}, pc.CodeQtyAboveParcel},
		{"P2", map[string]any{"outcome": "REFUSED", "lines": []pc.ParcelLine{{SKU: "A", Qty: 0}}}, pc.CodeRejected},
		{"P2", map[string]any{"outcome": "REFUSED", "lines": []pc.ParcelLine{{SKU: "A", Qty: 1}, {SKU: "A", Qty: 1}}}, pc.CodeRejected},
		{"P2", map[string]any{"outcome": "DELIVERED", "lines": []pc.ParcelLine{{SKU: "A", Qty: 1}}}, pc.CodeRejected},
		{"P1", map[string]any{"outcome": "REFUSED", "lines": []pc.ParcelLine{{SKU: "A", Qty: 1}}}, pc.CodeLineNotInParcel}, // no manifest
	} {
		if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "admin/tms/parcels/"+bad.parcel+"/outcome", bad.body, nil); !httpapi.HasCode(err, bad.code) {
			t.Fatalf("%s %v: %v, want %s", bad.parcel, bad.body, err, bad.code)
		}
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "admin/tms/parcels/P2/outcome",
		map[string]any{"outcome": "REFUSED", "lines": []pc.ParcelLine{{SKU: "A", Qty: 2}}}, nil); err != nil {
		t.Fatal(err)
	}
	tick := func(d time.Duration) {
		t.Helper()
		e.clk.Advance(d)
		if err := e.s.Tick(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick(time.Second)
	if state("P1") != pc.ParcelImported || len(wms.bodies) != 0 {
		t.Fatalf("before collection: %s, %d reports", state("P1"), len(wms.bodies))
	}
	tick(2 * time.Minute) // collected (±50% of a minute); the first report fails
	if state("P1") != pc.ParcelCollected || state("P2") != pc.ParcelCollected {
		t.Fatalf("after collection: %s %s", state("P1"), state("P2"))
	}
	tick(10 * time.Second) // the failed report again
	tick(2 * time.Hour)
	tick(10 * time.Second)
	if state("P1") != pc.ParcelDelivered || state("P2") != pc.ParcelRefused {
		t.Fatalf("at the end: %s %s", state("P1"), state("P2"))
	}
	var p2 pc.ParcelState
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodGet, "tms/v1/parcels/P2", nil, &p2); err != nil ||
		len(p2.RefusedLines) != 1 || p2.RefusedLines[0] != (pc.ParcelLine{SKU: "A", Qty: 2}) {
		t.Fatalf("P2 as TMS answers: %+v %v", p2, err)
	}
	got := map[string]int{}
	for _, b := range wms.bodies[1:] { // the first was refused by WMS
		var m map[string]string
		_ = json.Unmarshal(b, &m)
		got[m["parcel_id"]]++
	}
	if got["P1"] != 2 || got["P2"] != 2 {
		t.Fatalf("reports taken per parcel %v (collected, then delivered or refused)", got)
	}
	tick(time.Hour)
	if n := len(wms.bodies); n != 5 {
		t.Fatalf("%d reports: nothing more is sent once each state is taken", n)
	}
}

// ERP books each stock movement once by id and counts the repeats.
func TestERPBooksEachMovementOnce(t *testing.T) {
	e := newEnv(t, sim.Config{})
	up := pc.MovementUpload{Movements: []pc.StockMovement{{ID: "M1", Warehouse: "WH", SKU: "A", Kind: "RECEIPT", Qty: 10, Ref: "R1"},
		{ID: "M2", Warehouse: "WH", SKU: "A", Kind: "PICK", Qty: -3, Ref: "W1"}}}
	var r pc.UploadReceipt
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "erp/v1/stock-movements", up, &r); err != nil || r.Accepted != 2 {
		t.Fatalf("upload: %+v %v", r, err)
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "erp/v1/stock-movements", up, &r); err != nil || r.Accepted != 0 || r.Duplicates != 2 {
		t.Fatalf("again: %+v %v", r, err)
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "erp/v1/stock-movements", pc.MovementUpload{}, &r); err == nil {
		t.Fatal("an empty upload was taken")
	}
	var got struct {
		Movements     int   `json:"movements"`
		NetQty        int64 `json:"net_qty"`
		MaxDeliveries int   `json:"max_deliveries"`
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodGet, "admin/erp/movements?warehouse=WH&sku=A", nil, &got); err != nil ||
		got.Movements != 2 || got.NetQty != 7 || got.MaxDeliveries != 2 {
		t.Fatalf("booked %+v %v", got, err)
	}
}

// ERP's purchase orders: created once by id (the same content again is
// the same order, other content refused), read back with their lines, an
// unknown id PO_NOT_FOUND, and malformed ones refused.
func TestERPPurchaseOrders(t *testing.T) {
	e := newEnv(t, sim.Config{})
	po := pc.PurchaseOrder{ID: "PO-1", Warehouse: "WH-SH", Supplier: "S1", Lines: []pc.PurchaseOrderLine{{SKU: "B", Qty: 5}, {SKU: "A", Qty: 10}}}
	for range 2 {
		if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "admin/erp/purchase-orders", po, nil); err != nil {
			t.Fatal(err)
		}
	}
	other := po
	other.Lines = []pc.PurchaseOrderLine{{SKU: "A", Qty: 11}}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "admin/erp/purchase-orders", other, nil); !httpapi.HasCode(err, pc.CodeRejected) {
		t.Fatalf("same id, other lines: %v", err)
	}
	for _, bad := range []pc.PurchaseOrder{{ID: "PO-2", Warehouse: "WH-SH", Supplier: "S1"},
		{ID: "PO-3", Warehouse: "WH-SH", Supplier: "S1", Lines: []pc.PurchaseOrderLine{{SKU: "A", Qty: 0}}},
		{ID: "PO-4", Warehouse: "WH-SH", Supplier: "S1", Lines: []pc.PurchaseOrderLine{{SKU: "A", Qty: 1}, {SKU: "A", Qty: 2}}}} {
		if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "admin/erp/purchase-orders", bad, nil); !httpapi.HasCode(err, pc.CodeRejected) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	var got pc.PurchaseOrder
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodGet, "erp/v1/purchase-orders/PO-1", nil, &got); err != nil ||
		got.Warehouse != "WH-SH" || len(got.Lines) != 2 || got.Lines[0] != (pc.PurchaseOrderLine{SKU: "A", Qty: 10}) {
		t.Fatalf("read: %+v %v", got, err)
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodGet, "erp/v1/purchase-orders/PO-9", nil, &got); !httpapi.HasCode(err, pc.CodePONotFound) {
		t.Fatalf("unknown: %v", err)
	}
}
