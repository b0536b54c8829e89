package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

func TestInterceptReceivedAndTombstone(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	// Received first: the order is marked INTERCEPTED, a repeat answers the same.
	if _, err := e.c.Dispatch(ctx, dispatch("DO-1")); err != nil {
		t.Fatal(err)
	}
	x, err := e.c.Intercept(ctx, "DO-1", wmsclient.InterceptRequest{Reason: "customer cancel"})
	if err != nil || x.Tombstone || x.WMSOrderID == "" {
		t.Fatalf("intercept received: %+v %v", x, err)
	}
	if y, err := e.c.Intercept(ctx, "DO-1", wmsclient.InterceptRequest{Reason: "again"}); err != nil || y.WMSOrderID != x.WMSOrderID || !y.At.Equal(x.At) {
		t.Fatalf("repeat: %+v %v", y, err)
	}
	o, err := e.c.GetOrder(ctx, "DO-1")
	if err != nil || o.Status != "INTERCEPTED" {
		t.Fatalf("status: %+v %v", o.Status, err)
	}
	// A repeated hand-over of the intercepted order is refused.
	if _, err := e.c.Dispatch(ctx, dispatch("DO-1")); !httpapi.HasCode(err, wmsclient.CodeIntercepted) {
		t.Fatalf("hand-over after interception: %v", err)
	}
	// Not received yet: a tombstone, and the later hand-over is refused, nothing written.
	x, err = e.c.Intercept(ctx, "DO-2", wmsclient.InterceptRequest{Reason: "customer cancel"})
	if err != nil || !x.Tombstone {
		t.Fatalf("tombstone: %+v %v", x, err)
	}
	if _, err := e.c.Dispatch(ctx, dispatch("DO-2")); !httpapi.HasCode(err, wmsclient.CodeIntercepted) {
		t.Fatalf("hand-over after tombstone: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM order_header WHERE delivery_order_id='DO-2'`); n != 0 {
		t.Fatalf("tombstoned order stored: %d", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE topic='wms.order.received'`); n != 1 {
		t.Fatalf("received events: %d, want 1 (DO-1 only)", n)
	}
	// Bad input.
	if _, err := e.c.Intercept(ctx, "DO-3", wmsclient.InterceptRequest{}); !httpapi.HasCode(err, wmsclient.CodeValidation) {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := e.st.DB().Exec(`UPDATE order_header SET status='PICKED' WHERE delivery_order_id='DO-1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Dispatch(ctx, dispatch("DO-4")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE order_header SET status='PICKED' WHERE delivery_order_id='DO-4'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Intercept(ctx, "DO-4", wmsclient.InterceptRequest{Reason: "late"}); !httpapi.HasCode(err, wmsclient.CodeTooLate) {
		t.Fatalf("too late: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM order_interceptions WHERE delivery_order_id='DO-4'`); n != 0 {
		t.Fatalf("a refused interception left a row")
	}
}

// TestInterceptRacesHandOver: an interception and a hand-over of the same
// delivery order at once end either with the order received and then
// intercepted, or refused; never received and not intercepted.
func TestInterceptRacesHandOver(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("DO-R%d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := e.c.Dispatch(ctx, dispatch(id))
			if err != nil && !httpapi.HasCode(err, wmsclient.CodeIntercepted) {
				t.Errorf("dispatch %s: %v", id, err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := e.c.Intercept(ctx, id, wmsclient.InterceptRequest{Reason: "race"}); err != nil {
				t.Errorf("intercept %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	if got := e.count(t, `SELECT COUNT(*) FROM order_header WHERE status <> 'INTERCEPTED'`); got != 0 {
		t.Fatalf("%d orders received and not intercepted", got)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM order_interceptions`); got != n {
		t.Fatalf("interceptions: %d", got)
	}
}

// A return notice is recorded once by its id: a redelivered push answers
// the first receipt, bad input is refused and writes nothing.
func TestReturnNoticeOncePerID(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	n := wmsclient.ReturnNotice{NoticeID: "R1:WMS_RETURN", OrderID: "O1", RequestID: "R1", Kind: "REJECTION",
		Lines: []wmsclient.ReturnLine{{SKU: "SKU-1", Qty: 2}}}
	first, err := e.c.NoticeReturn(ctx, n)
	if err != nil || first.Duplicate || first.Status != "EXPECTED" {
		t.Fatalf("first notice: %+v %v", first, err)
	}
	again, err := e.c.NoticeReturn(ctx, n)
	if err != nil || !again.Duplicate || !again.At.Equal(first.At) {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	bad := n
	bad.NoticeID, bad.Lines = "R2:WMS_RETURN", []wmsclient.ReturnLine{{SKU: "SKU-1", Qty: 0}}
	if _, err := e.c.NoticeReturn(ctx, bad); !httpapi.HasCode(err, "VALIDATION_FAILED") {
		t.Fatalf("zero quantity: %v", err)
	}
	if k := e.count(t, `SELECT COUNT(*) FROM return_notices`); k != 1 {
		t.Fatalf("%d notices, want 1", k)
	}
}

// An order's delivery orders in two warehouses are intercepted all or
// none: with one picked already, the call answers TOO_LATE naming it and
// the other stays as it was (received, its ERP occupation and work
// orders untouched, no interception row), so the cancel's refusal leaves
// it to ship; with none picked, both are stopped, a repeat answers the
// same, and a delivery order not received yet gets its tombstone.
func TestInterceptAllIsAllOrNone(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	for _, id := range []string{"DO-A", "DO-B", "DO-C"} {
		if _, err := e.c.Dispatch(ctx, dispatch(id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.st.DB().Exec(`UPDATE order_header SET status='PICKED' WHERE delivery_order_id='DO-B'`); err != nil {
		t.Fatal(err)
	}
	statusOf := func(id string) string {
		o, err := e.c.GetOrder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return o.Status
	}
	before := statusOf("DO-A")
	_, err := e.c.InterceptAll(ctx, wmsclient.InterceptAllRequest{DeliveryOrderIDs: []string{"DO-A", "DO-B"}, Reason: "customer cancel"})
	if !httpapi.HasCode(err, wmsclient.CodeTooLate) || !strings.Contains(err.Error(), "DO-B") {
		t.Fatalf("one too late: %v", err)
	}
	if got := statusOf("DO-A"); got != before {
		t.Fatalf("DO-A is %s after a refused interception, was %s", got, before)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM order_interceptions`); n != 0 {
		t.Fatalf("%d interception rows after a refused interception", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM sales_order s JOIN order_header h ON h.wms_order_id=s.wms_order_id
		WHERE h.delivery_order_id='DO-A' AND s.status='INTERCEPTED'`); n != 0 {
		t.Fatalf("%d work orders of DO-A intercepted", n)
	}

	xs, err := e.c.InterceptAll(ctx, wmsclient.InterceptAllRequest{DeliveryOrderIDs: []string{"DO-C", "DO-A", "DO-X"}, Reason: "customer cancel"})
	if err != nil || len(xs.Interceptions) != 3 {
		t.Fatalf("all interceptable: %+v %v", xs, err)
	}
	for _, x := range xs.Interceptions {
		if (x.DeliveryOrderID == "DO-X") != x.Tombstone {
			t.Fatalf("interception %+v", x)
		}
	}
	if statusOf("DO-A") != "INTERCEPTED" || statusOf("DO-C") != "INTERCEPTED" {
		t.Fatal("not intercepted")
	}
	again, err := e.c.InterceptAll(ctx, wmsclient.InterceptAllRequest{DeliveryOrderIDs: []string{"DO-A", "DO-C", "DO-X"}, Reason: "again"})
	if err != nil || len(again.Interceptions) != 3 || !again.Interceptions[0].At.Equal(xs.Interceptions[0].At) {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	if _, err := e.c.InterceptAll(ctx, wmsclient.InterceptAllRequest{Reason: "nothing"}); !httpapi.HasCode(err, wmsclient.CodeValidation) {
		t.Fatalf("no ids: %v", err)
	}
}
