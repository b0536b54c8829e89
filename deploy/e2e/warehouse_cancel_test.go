package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// A paid order already in the warehouse — its ERP stock occupied by stage
// 12, split and allocated in a bin, not yet on a pick list — is cancelled
// by its customer. WMS intercepts it; the interception releases the ERP
// occupation in its own transaction and gives the bin's allocation back;
// the order is refunded. (The cancel in aftersales_test.go is usually
// paused before stage 12, so it shows the release only when it is lucky.)
func TestCancelAtTheWarehouseReleasesItsStock(t *testing.T) {
	const customer, wh, prefix = "C0072", "WH-SH", "CXL"
	c := client(t, "CUSTOMER", customer)
	var skip []string
	for range 6 { // sets 0-5 belong to the other warehouse tests
		set := zonedProducts(t, c, wh, skip)
		skip = append(skip, set[0].SKU, set[1].SKU, set[2].SKU)
	}
	ps := zonedProducts(t, c, wh, skip)[2:3]
	f := layout(t, wh, prefix, ps)
	f.receive(prefix+"-0", ps[0].SKU, 50)
	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o, sub := placePaid(t, c, sctx, ps, 3)
	defer sub.Close()
	deliveryOrder, _ := f.dispatched(c, o)
	wos := f.workOrders(deliveryOrder, 1)
	if wos[0].Status != "ALLOCATED" {
		t.Fatalf("work order %s is %s (%s), want ALLOCATED", wos[0].ID, wos[0].Status, wos[0].Reason)
	}
	var occ wmsclient.OccupationDetail
	if err := invoke(ctx(t), "wms", http.MethodGet, "v1/erp-stock/occupations/"+deliveryOrder, nil, &occ); err != nil || occ.Status != wmsclient.OccupationOccupied {
		t.Fatalf("before the cancel, the ERP occupation of %s: %+v %v", deliveryOrder, occ, err)
	}
	if got := f.occupied(ps[0].SKU); got != 3 {
		t.Fatalf("before the cancel, %d units of %s occupied in bins, want 3", got, ps[0].SKU)
	}

	r, errs := requestCancel(t, c, o.ID, ids.New())
	if r == nil {
		t.Fatalf("cancel: %+v", errs)
	}
	var final *cancelRequest
	var status string
	eventually(t, 90*time.Second, "cancel of "+o.ID+" finished", func() (bool, error) {
		status, final = cancelRequestOf(t, c, o.ID)
		return final != nil && (final.Status == "REFUNDED" || final.Status == "REFUSED"), nil
	})
	if final.Status != "REFUNDED" || status != "CANCELLED" {
		t.Fatalf("a cancel before picking ended %s (%s), order %s: %+v", final.Status, final.RefusalCode, status, final.Steps)
	}
	if err := invoke(ctx(t), "wms", http.MethodGet, "v1/erp-stock/occupations/"+deliveryOrder, nil, &occ); err != nil || occ.Status != wmsclient.OccupationReleased {
		t.Fatalf("after the cancel, the ERP occupation of %s: %+v %v", deliveryOrder, occ, err)
	}
	eventually(t, 30*time.Second, "work order intercepted", func() (bool, error) {
		st, _, err := f.status(wos[0].ID)
		return st == "INTERCEPTED", fmt.Errorf("status %s: %v", st, err)
	})
	if got := f.occupied(ps[0].SKU); got != 0 {
		t.Fatalf("after the interception, %d units of %s still occupied in bins", got, ps[0].SKU)
	}
	if onHand, picks := f.onHand(ps[0].SKU); onHand != 50 || picks != 0 {
		t.Fatalf("after the interception: on hand %d (want 50), %d picks", onHand, picks)
	}
}

// occupied is a SKU's bin stock held by allocations, read through GraphQL.
func (f *floor) occupied(sku string) int64 {
	var out struct {
		BinStock []struct{ Occupied int64 }
	}
	do(f.t, f.op, `query($sku: String){ binStock(sku: $sku){ occupied } }`, map[string]any{"sku": sku}, &out)
	var n int64
	for _, b := range out.BinStock {
		n += b.Occupied
	}
	return n
}
