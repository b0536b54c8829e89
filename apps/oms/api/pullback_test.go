package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/api"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// A pull-back's new order: refused while a unit runs or a dispatched
// delivery order is not intercepted, and for a slot in the past (nothing
// written); then the order ends PULLED_BACK without oms.order.cancelled
// (no refund, no stock given back) and the new order, source PULL_BACK,
// PAID with its oms.order.paid and the new address, is made once
// however often the key comes again.
func TestPullBackMakesTheNewOrderDirectly(t *testing.T) {
	db, _ := testdb.New(t, "oms")
	db.SetMaxOpenConns(8)
	st := store.New(db)
	eng := fulfillment.New(fulfillment.Deps{DB: db, Orders: st}, fulfillment.Config{Config: runner.Config{Owner: "api-test"}})
	r := chi.NewRouter()
	api.MountFulfillment(r, eng)
	ctx := context.Background()
	now := time.Now().UTC()
	id := ids.New()
	o, err := domain.NewOrder(id, domain.Placement{CustomerID: "c1", Source: "SALES_PLAN",
		Lines:   []domain.LineInput{{SKU: "milk", Qty: 2, UnitPrice: 890}},
		Address: domain.Address{Name: "Li", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "1号"},
		Slot:    domain.Slot{Type: domain.SlotExpress, Date: domain.ShanghaiDay(now)}},
		map[string]domain.Product{"milk": {SKU: "milk", Name: "Milk", Price: 890}}, 0, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, o, app.Idempotency{CustomerID: "c1", Key: id, RequestHash: "h", OrderID: id, CreatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := eng.Start(ctx, "m-"+id, id); !ok || err != nil {
		t.Fatalf("start: %v %v", ok, err)
	}
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	orders := func() int { return count(`SELECT COUNT(*) FROM orders`) }
	path := "/v1/fulfillment/orders/" + id + "/pull-back"
	newAddr := &omsclient.Address{Name: "Li", Phone: "13800000001", Province: "上海", City: "上海", District: "徐汇", Detail: "2号"}
	req := omsclient.PullBackRequest{IdempotencyKey: "D1", Reason: "shortage: new order", By: "aftersales", Address: newAddr}
	var p httpapi.Problem
	if code := call(t, r, http.MethodPost, path, req, &p); code != 409 || p.Code != omsclient.CodeNotPaused {
		t.Fatalf("pull-back while running: %d %+v", code, p)
	}
	var op omsclient.OrderPause
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/pause", omsclient.PauseRequest{IdempotencyKey: "D1", Reason: "pull-back"}, &op); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	past := req
	past.Slot = &omsclient.Slot{Type: omsclient.SlotExpress, Date: "2020-01-01"}
	if code := call(t, r, http.MethodPost, path, past, &p); code != 422 || p.Code != omsclient.CodeValidation {
		t.Fatalf("slot in the past: %d %+v", code, p)
	}
	if n := orders(); n != 1 {
		t.Fatalf("a refused pull-back wrote orders: %d", n)
	}
	var pb omsclient.PullBack
	if code := call(t, r, http.MethodPost, path, req, &pb); code != 200 || pb.NewOrderID == "" || pb.Already {
		t.Fatalf("pull-back: %d %+v", code, pb)
	}
	var again omsclient.PullBack
	if code := call(t, r, http.MethodPost, path, req, &again); code != 200 || !again.Already || again.NewOrderID != pb.NewOrderID {
		t.Fatalf("repeat: %d %+v, first %+v", code, again, pb)
	}
	old, err := st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if old.Status() != domain.StatusCancelled || old.CancelReason() != domain.ReasonPulledBack {
		t.Fatalf("original is %s (%s)", old.Status(), old.CancelReason())
	}
	n, err := st.Get(ctx, pb.NewOrderID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Source() != domain.SourcePullBack || n.Status() != domain.StatusPaid || n.OriginalOrder() != id || n.Address().Phone != newAddr.Phone ||
		len(n.Lines()) != 1 || n.Lines()[0].Qty != 2 || n.Total() != old.Total() {
		t.Fatalf("new order: %+v", n.Snapshot())
	}
	if c := count(`SELECT COUNT(*) FROM outbox WHERE topic='oms.order.cancelled'`); c != 0 {
		t.Fatalf("a pull-back wrote %d cancel events (PAY would refund)", c)
	}
	if c := count(`SELECT COUNT(*) FROM outbox WHERE topic='oms.order.paid' AND aggregate_id=?`, pb.NewOrderID); c != 1 {
		t.Fatalf("paid events of the new order: %d", c)
	}
	if c := orders(); c != 2 {
		t.Fatalf("orders: %d", c)
	}
	if c := count(`SELECT COUNT(*) FROM fulfillments WHERE order_id=? AND state='CANCELLED'`, id); c != 1 {
		t.Fatalf("ended units: %d", c)
	}
}

// A pull-back of an order the customer paid (cash on a trade and a
// non-cash deduction): the new order carries the payment, its trade and
// the deduction, which OMS now records as the new order's (PAY's
// check-back asks OMS which order uses it); a cancel of the new order
// would name the trade to PAY.
func TestPullBackCarriesThePayment(t *testing.T) {
	db, _ := testdb.New(t, "oms")
	st := store.New(db)
	eng := fulfillment.New(fulfillment.Deps{DB: db, Orders: st}, fulfillment.Config{Config: runner.Config{Owner: "api-test"}})
	r := chi.NewRouter()
	api.MountFulfillment(r, eng)
	ctx := context.Background()
	now := time.Now().UTC()
	id := ids.New()
	o, err := domain.NewOrder(id, domain.Placement{CustomerID: "c1", Source: "APP", DeductionIDs: []string{"D-" + id},
		Lines:   []domain.LineInput{{SKU: "milk", Qty: 2, UnitPrice: 890}},
		Address: domain.Address{Name: "Li", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "1号"},
		Slot:    domain.Slot{Type: domain.SlotExpress, Date: domain.ShanghaiDay(now)}},
		map[string]domain.Product{"milk": {SKU: "milk", Name: "Milk", Price: 890}}, 280, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.MarkPaid("T-"+id, 1500, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, o, app.Idempotency{CustomerID: "c1", Key: id, RequestHash: "h", OrderID: id, CreatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := eng.Start(ctx, "m-"+id, id); !ok || err != nil {
		t.Fatalf("start: %v %v", ok, err)
	}
	var op omsclient.OrderPause
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/pause", omsclient.PauseRequest{IdempotencyKey: "D1", Reason: "pull-back"}, &op); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	var pb omsclient.PullBack
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/pull-back",
		omsclient.PullBackRequest{IdempotencyKey: "D1", Reason: "shortage", By: "aftersales"}, &pb); code != 200 || pb.NewOrderID == "" {
		t.Fatalf("pull-back: %d %+v", code, pb)
	}
	n, err := st.Get(ctx, pb.NewOrderID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status() != domain.StatusPaid || n.Paid() != 1500 || n.NonCash() != 280 || n.TradeID() != "T-"+id || len(n.DeductionIDs()) != 1 {
		t.Fatalf("new order: %+v", n.Snapshot())
	}
	// Inventory still holds the stock under the original (no release at
	// the pull-back): the new order says so, stored, for its cancel.
	if n.StockOrder() != id {
		t.Fatalf("new order's stock is held as %q, want the original %s", n.StockOrder(), id)
	}
	var user string
	if err := db.QueryRow(`SELECT order_id FROM order_deductions WHERE deduction_id=?`, "D-"+id).Scan(&user); err != nil || user != pb.NewOrderID {
		t.Fatalf("deduction used by %q (%v), want the new order %s", user, err, pb.NewOrderID)
	}
	v := api.OrderView(n, false)
	if v.PaidFen != 1500 || v.TradeID != "T-"+id || v.ToB {
		t.Fatalf("as OMS shows it: %+v", v)
	}
}
