package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/inventory/app"
)

// Stock WMS received raises on-hand and sellable stock once per receipt,
// however often (and however concurrently) the event arrives; a hot SKU's
// Redis counter rises too, and a counter rebuilt from the new on-hand is
// not raised again. A SKU of another warehouse, or none, is recorded and
// sells nothing.
func TestReceivedStockRaisesSellableOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := e.svc.StockArrived(ctx, "R1", "WH-SH", "A", 7); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	wantAvail(t, e, map[string]int64{"A": 17})
	if n := e.count(t, `SELECT on_hand FROM stock WHERE sku='A'`); n != 17 {
		t.Fatalf("on hand %d after 7 received onto 10", n)
	}

	// Hot: Redis's counter is the truth and rises with MariaDB's on-hand.
	if _, err := e.svc.StockReceived(ctx, app.StockReceipt{ReceiptID: "R2", Warehouse: "WH-SH", SKU: "HOT", Qty: 5}); err != nil {
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 25})
	// Redis lost the counter: the rebuild reads the risen on-hand, and a
	// later receipt raises the rebuilt counter (its epoch is MariaDB's).
	if err := e.rdb.Del(ctx, e.prefix+"{inv}:stock:HOT").Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.hot.Rebuild(ctx, "HOT"); err != nil {
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 25})
	if err := e.svc.StockArrived(ctx, "R3", "WH-SH", "HOT", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StockArrived(ctx, "R3", "WH-SH", "HOT", 1); err != nil {
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 26})

	for i, c := range []struct{ wh, sku string }{{"WH-BJ", "B"}, {"WH-SH", "NOPE"}, {"WH-SH", "BDL"}} {
		rise, err := e.svc.StockReceived(ctx, app.StockReceipt{ReceiptID: fmt.Sprint("X", i), Warehouse: c.wh, SKU: c.sku, Qty: 3})
		if err != nil || rise.Raised || rise.Why == "" {
			t.Fatalf("%s in %s: %+v %v", c.sku, c.wh, rise, err)
		}
	}
	wantAvail(t, e, map[string]int64{"B": 5})
	if n := e.count(t, `SELECT COUNT(*) FROM received_stock`); n != 6 {
		t.Fatalf("%d receipts recorded, want 6", n)
	}
	if _, err := e.svc.StockReceived(ctx, app.StockReceipt{ReceiptID: "R9", Warehouse: "WH-SH", SKU: "A"}); err == nil {
		t.Fatal("a receipt of nothing was taken")
	}
}
