package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/deploy/load"
)

// The warehouse run's baseline takes real orders through WMS's use cases
// (receive, split, allocate) and the allocated work orders through the
// whole floor, every call succeeding.
func TestWMSOutboundBaselineRunsTheFloor(t *testing.T) {
	skus := []load.WarehouseSKU{{SKU: "A", Name: "rice", Zone: "AMBIENT", WeightG: 500}, {SKU: "B", Name: "milk", Zone: "CHILLED_LOW", WeightG: 300},
		{SKU: "C", Name: "dumplings", Zone: "FROZEN_LOW", WeightG: 700}, {SKU: "D", Name: "tea", Zone: "AMBIENT", WeightG: 200}}
	b, err := load.WMSOutboundBaseline(context.Background(), testdb.ServerDSN(), skus, 4, 500*time.Millisecond, 30, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b.Orders.Ops == 0 || b.Orders.Errors > 0 || b.WorkOrders < b.Orders.Ops {
		t.Fatalf("orders %+v, %d work orders", b.Orders, b.WorkOrders)
	}
	if b.FloorOrders != 30 || b.FloorCarts < 4 {
		t.Fatalf("floor: %d work orders on %d carts", b.FloorOrders, b.FloorCarts)
	}
	for _, c := range []string{"createPickList", "claimPickTask", "pickTask", "scanPick", "qcCart", "scanQC", "packWorkOrder", "handOver"} {
		if r := b.Calls[c]; r.Ops == 0 || r.Errors > 0 {
			t.Fatalf("%s: %+v", c, r)
		}
	}
	if b.Calls["packWorkOrder"].Ops != 30 {
		t.Fatalf("%d work orders packed, want 30", b.Calls["packWorkOrder"].Ops)
	}
}
