package load_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-chi/chi/v5"

	invapp "github.com/harvest/harvest/apps/inventory/app"
	invdomain "github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/hotstock"
	invstore "github.com/harvest/harvest/apps/inventory/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx/daprxtest"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/erp"
	"github.com/harvest/harvest/apps/wms/events"
	"github.com/harvest/harvest/apps/wms/store"
	"github.com/harvest/harvest/deploy/load"
)

type noOrders struct{}

func (noOrders) Exists(context.Context, string) (omsclient.Existence, error) {
	return omsclient.Existence{}, nil
}

// The real WMS (against the ERP stand-in) and the real inventory, each on
// its own database: goods received against a purchase order reach
// inventory by their event and the upload reaches ERP, and the three
// reconcile; a lost event, a bin changed by hand and an allocation's
// occupation gone astray each show as the difference they are.
func TestReconcileInventoryWMSAndERP(t *testing.T) {
	ctx := context.Background()
	wdb, _ := testdb.New(t, "wms")
	idb, _ := testdb.New(t, "inventory")
	pdb, _ := testdb.New(t, "partners")
	rdb, prefix := testdb.Redis(t)

	inv := daprxtest.NewLocal()
	r := chi.NewRouter()
	sim.New(pdb, inv, clock.System{}, sim.Config{}, nil).Mount(r)
	inv.Set("partners", r)
	if err := inv.Invoke(ctx, "partners", "POST", "admin/erp/purchase-orders",
		pc.PurchaseOrder{ID: "PO-1", Warehouse: "WH-SH", Supplier: "S1", Lines: []pc.PurchaseOrderLine{{SKU: "A", Qty: 100}}}, nil); err != nil {
		t.Fatal(err)
	}
	wms := app.New(store.New(wdb), clock.System{}, nil, nil)
	wms.SetOutbound(nil, nil, erp.New(pc.New(inv, "partners")))
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(wms.PutZone(ctx, "WH-SH", "A-PICK", "CHILLED_LOW", "PICK"))
	must(nil, wms.PutBin(ctx, "WH-SH", "C-01", "A-PICK"))
	must(wms.PutItem(ctx, "A", "milk", "CHILLED_LOW", "STANDARD", 500, 0))

	ist := invstore.New(idb, clock.System{})
	if err := ist.InsertCatalog(ctx, []invdomain.Product{{SKU: "A", Name: "milk", PriceFen: 990, Zone: invdomain.ZoneChilledLow, Category: invdomain.CategoryDairy, TaxRateBP: 900,
		Warehouse: "WH-SH"}}, map[string]int64{"A": 0}); err != nil {
		t.Fatal(err)
	}
	isvc := invapp.New(ist, hotstock.New(rdb, idb, prefix), noOrders{}, clock.System{}, invapp.Options{})

	receive := func(key string, qty int64) {
		t.Helper()
		_, _, err := wms.ReceiveGoods(ctx, app.ReceiptInput{Warehouse: "WH-SH", IdempotencyKey: key, PurchaseOrder: "PO-1", Bin: "C-01",
			SKU: "A", Batch: "B1", ProductionDate: "2026-01-01", ExpiryDate: "2026-02-01", Qty: qty, Operator: "op"})
		if err != nil {
			t.Fatal(err)
		}
	}
	// deliver hands inventory every wms.stock.received the outbox holds, twice.
	deliver := func() {
		t.Helper()
		rows, err := wdb.Query(`SELECT payload FROM outbox WHERE topic=?`, events.TopicStockReceived)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			var ev events.StockReceived
			if err := rows.Scan(&raw); err != nil || json.Unmarshal(raw, &ev) != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := isvc.StockArrived(ctx, ev.ReceiptID, ev.Warehouse, ev.SKU, ev.Qty); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	reconcile := func(want ...string) {
		t.Helper()
		rec, err := load.Reconcile(ctx, idb, wdb, pdb)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range rec.Differences {
			got = append(got, d.Check)
		}
		if len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) || rec.Compared == 0 {
			t.Fatalf("differences %v, want %v\n%s", got, want, rec)
		}
	}

	receive("r1", 30)
	receive("r2", 12)
	deliver()
	if _, err := wms.UploadMovements(ctx); err != nil {
		t.Fatal(err)
	}
	reconcile()
	var avail int64
	if err := idb.QueryRow(`SELECT available FROM stock WHERE sku='A'`).Scan(&avail); err != nil || avail != 42 {
		t.Fatalf("sellable %d after 42 received (%v)", avail, err)
	}

	// A receipt whose event has not reached inventory yet; then its
	// movement marked uploaded though ERP never booked it.
	receive("r3", 5)
	reconcile("RECEIVED")
	if _, err := wdb.Exec(`UPDATE inv_tran SET uploaded_at=NOW(6) WHERE uploaded_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	reconcile("ERP_BOOKED", "RECEIVED")
	deliver()
	if _, err := wdb.Exec(`UPDATE inv_tran SET uploaded_at=NULL WHERE ref IN (SELECT receipt_id FROM stock_receipts WHERE idempotency_key='r3')`); err != nil {
		t.Fatal(err)
	}
	if _, err := wms.UploadMovements(ctx); err != nil {
		t.Fatal(err)
	}
	reconcile()

	// Received at the dock: in no count until put away; then its
	// put-away's event reaches inventory like a receipt's.
	rc, _, err := wms.ReceiveGoods(ctx, app.ReceiptInput{Warehouse: "WH-SH", IdempotencyKey: "dock", PurchaseOrder: "PO-1",
		SKU: "A", Batch: "B1", ProductionDate: "2026-01-01", ExpiryDate: "2026-02-01", Qty: 4, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	reconcile()
	if _, _, err := wms.PutAwayReceipt(ctx, "WH-SH", rc.ID, "pa", "C-01", "op", 4); err != nil {
		t.Fatal(err)
	}
	reconcile("RECEIVED")
	deliver()
	if _, err := wms.UploadMovements(ctx); err != nil {
		t.Fatal(err)
	}
	reconcile()

	// A bin changed by hand, without a movement.
	if _, err := wdb.Exec(`UPDATE wms_inv SET on_hand=on_hand-1 WHERE sku='A'`); err != nil {
		t.Fatal(err)
	}
	reconcile("BINS")
	if _, err := wdb.Exec(`UPDATE wms_inv SET on_hand=on_hand+1, occupied=occupied+2 WHERE sku='A'`); err != nil {
		t.Fatal(err)
	}
	reconcile("OCCUPIED")
}
