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
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// The reverse flow's cancel of a paid order: refused while a unit still
// runs, done once paused (units CANCELLED, one oms.order.cancelled),
// repeated as Already, and refused for a delivery order that reached its
// warehouse unless WMS intercepted it.
func TestCancelPaused(t *testing.T) {
	db, _ := testdb.New(t, "oms")
	db.SetMaxOpenConns(8)
	st := store.New(db)
	eng := fulfillment.New(fulfillment.Deps{DB: db, Orders: st}, fulfillment.Config{Config: runner.Config{Owner: "api-test"}})
	r := chi.NewRouter()
	api.MountFulfillment(r, eng)
	ctx := context.Background()
	place := func() string {
		now := time.Now().UTC()
		id := ids.New()
		o, err := domain.NewOrder(id, domain.Placement{CustomerID: "c1", Source: "SALES_PLAN",
			Lines:   []domain.LineInput{{SKU: "milk", Qty: 1, UnitPrice: 890}},
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
		return id
	}
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var p httpapi.Problem
	id := place()
	cancel := "/v1/fulfillment/orders/" + id + "/cancel"
	req := omsclient.CancelPausedRequest{IdempotencyKey: "R1", Reason: "customer cancel", By: "aftersales"}
	if code := call(t, r, http.MethodPost, cancel, omsclient.CancelPausedRequest{IdempotencyKey: "R1"}, &p); code != 422 || p.Code != omsclient.CodeValidation {
		t.Errorf("no reason: %d %+v", code, p)
	}
	if code := call(t, r, http.MethodPost, cancel, req, &p); code != 409 || p.Code != omsclient.CodeNotPaused {
		t.Fatalf("cancel while running: %d %+v", code, p)
	}
	if n := count(`SELECT COUNT(*) FROM outbox WHERE topic='oms.order.cancelled'`); n != 0 {
		t.Fatalf("a refused cancel wrote %d events", n)
	}
	var op omsclient.OrderPause
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/pause", omsclient.PauseRequest{IdempotencyKey: "R1", Reason: "customer cancel"}, &op); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	var rc omsclient.ReverseCancel
	if code := call(t, r, http.MethodPost, cancel, req, &rc); code != 200 || rc.Status != omsclient.StatusCancelled || rc.Already || rc.CancelledUnits != 1 {
		t.Fatalf("cancel: %d %+v", code, rc)
	}
	if code := call(t, r, http.MethodPost, cancel, req, &rc); code != 200 || !rc.Already {
		t.Fatalf("repeat: %d %+v", code, rc)
	}
	if n := count(`SELECT COUNT(*) FROM outbox WHERE topic='oms.order.cancelled' AND aggregate_id=?`, id); n != 1 {
		t.Fatalf("cancel events: %d", n)
	}
	if n := count(`SELECT COUNT(*) FROM fulfillments WHERE order_id=? AND state='CANCELLED'`, id); n != 1 {
		t.Fatalf("cancelled units: %d", n)
	}
	var rr omsclient.ResumeResult
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/resume", omsclient.ResumeRequest{}, &rr); code != 409 {
		t.Fatalf("a cancelled order resumed: %d %+v", code, rr)
	}

	// A delivery order that reached its warehouse blocks the cancel until
	// it is named as intercepted.
	id2 := place()
	doc, err := stagesDoc("W-1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := db.Exec(`UPDATE fulfillments SET state='SPLIT' WHERE unit_id=?`, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO fulfillments (unit_id, order_id, parent_id, child_seq, stage, state, resume_at, doc, created_at, updated_at)
		VALUES (?,?,?,1,'dispatch','DONE',?,?,?,?), (?,?,?,2,'erp_stock','READY',?,?,?,?)`,
		id2+"-1", id2, id2, now, doc, now, now, id2+"-2", id2, id2, now, []byte(`{}`), now, now); err != nil {
		t.Fatal(err)
	}
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id2+"/pause", omsclient.PauseRequest{IdempotencyKey: "R2", Reason: "customer cancel"}, &op); code != 200 ||
		len(op.Dispatched) != 1 || op.Dispatched[0] != id2+"-1" {
		t.Fatalf("pause: %d %+v", code, op)
	}
	cancel2 := "/v1/fulfillment/orders/" + id2 + "/cancel"
	req2 := omsclient.CancelPausedRequest{IdempotencyKey: "R2", Reason: "customer cancel"}
	if code := call(t, r, http.MethodPost, cancel2, req2, &p); code != 409 || p.Code != omsclient.CodeReachedWarehouse {
		t.Fatalf("cancel of a dispatched delivery order: %d %+v", code, p)
	}
	req2.Intercepted = []string{id2 + "-1"}
	if code := call(t, r, http.MethodPost, cancel2, req2, &rc); code != 200 || rc.Status != omsclient.StatusCancelled || rc.CancelledUnits != 1 {
		t.Fatalf("cancel after interception: %d %+v", code, rc)
	}
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/nope/cancel", req2, &p); code != 404 || p.Code != omsclient.CodeNotFound {
		t.Fatalf("unknown order: %d %+v", code, p)
	}
}

// stagesDoc is a delivery order's stored document after dispatch.
func stagesDoc(wmsID string) ([]byte, error) {
	return stages.Encode(&stages.Doc{Child: &stages.Child{WMSID: wmsID}})
}
