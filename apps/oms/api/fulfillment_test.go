package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/api"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/testdb"
)

func call(t *testing.T, h http.Handler, method, path string, body, out any) int {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req := httptest.NewRequest(method, path, &rd)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
		}
	}
	return rec.Code
}

// The operators' routes against the real database: counts, timeline,
// retry of a failed order, capacities, and the Problem codes of omsclient.
func TestFulfillmentRoutes(t *testing.T) {
	db, _ := testdb.New(t, "oms")
	db.SetMaxOpenConns(8)
	st := store.New(db)
	eng := fulfillment.New(fulfillment.Deps{DB: db, Orders: st}, fulfillment.Config{Config: runner.Config{Owner: "api-test"}})
	r := chi.NewRouter()
	api.MountFulfillment(r, eng)

	now := time.Now().UTC()
	id := ids.New()
	o, err := domain.NewOrder(id, domain.Placement{CustomerID: "c1", Source: "SALES_PLAN", OriginalOrder: "",
		Lines:   []domain.LineInput{{SKU: "milk", Qty: 1, UnitPrice: 890}},
		Address: domain.Address{Name: "Li", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "1号"},
		Slot:    domain.Slot{Type: domain.SlotExpress, Date: domain.ShanghaiDay(now)}},
		map[string]domain.Product{"milk": {SKU: "milk", Name: "Milk", Price: 890}}, 0, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(context.Background(), o, app.Idempotency{CustomerID: "c1", Key: id, RequestHash: "h", OrderID: id, CreatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := eng.Start(context.Background(), "m-"+id, id); !ok || err != nil {
		t.Fatalf("start: %v %v", ok, err)
	}
	if _, err := db.Exec(`UPDATE fulfillments SET state = 'FAILED', stage = 12, fail_code = 'ERP_STOCK_SHORT' WHERE unit_id = ?`, id); err != nil {
		t.Fatal(err)
	}

	var stages struct{ Stages []omsclient.StageCount }
	if code := call(t, r, http.MethodGet, "/v1/fulfillment/stages", nil, &stages); code != 200 || len(stages.Stages) != 16 {
		t.Fatalf("stages: %d %+v", code, stages)
	}
	if s := stages.Stages[11]; s.Name != "erp_stock" || s.Kind != "IO" || s.Failed != 1 {
		t.Errorf("stage 12 = %+v", s)
	}
	var tl omsclient.FulfillmentTimeline
	if code := call(t, r, http.MethodGet, "/v1/orders/"+id+"/fulfillment", nil, &tl); code != 200 || len(tl.Units) != 1 ||
		tl.Units[0].State != omsclient.UnitFailed || tl.Units[0].FailCode != "ERP_STOCK_SHORT" || len(tl.Steps) != 1 || tl.Steps[0].Outcome != "STARTED" {
		t.Fatalf("timeline: %d %+v", code, tl)
	}
	var res omsclient.RetryResult
	if code := call(t, r, http.MethodPost, "/v1/orders/"+id+"/fulfillment/retry", omsclient.RetryRequest{Operator: "ops"}, &res); code != 200 || res.Retried != 1 {
		t.Fatalf("retry: %d %+v", code, res)
	}
	var p httpapi.Problem
	if code := call(t, r, http.MethodPost, "/v1/orders/"+id+"/fulfillment/retry", omsclient.RetryRequest{Operator: "ops"}, &p); code != 409 || p.Code != omsclient.CodeNothingToRetry {
		t.Errorf("second retry: %d %+v", code, p)
	}
	if code := call(t, r, http.MethodGet, "/v1/orders/nope/fulfillment", nil, &p); code != 404 || p.Code != omsclient.CodeNoFulfillment {
		t.Errorf("unknown order: %d %+v", code, p)
	}
	var c omsclient.WarehouseCapacity
	if code := call(t, r, http.MethodPut, "/v1/warehouse-capacities", omsclient.WarehouseCapacity{Warehouse: "SH1", Day: "2030-01-02", Capacity: 40}, &c); code != 200 || c.Capacity != 40 {
		t.Fatalf("set capacity: %d %+v", code, c)
	}
	if code := call(t, r, http.MethodPut, "/v1/warehouse-capacities", omsclient.WarehouseCapacity{Warehouse: "SH1", Day: "tomorrow", Capacity: 40}, &p); code != 422 || p.Code != omsclient.CodeValidation {
		t.Errorf("bad day: %d %+v", code, p)
	}
	var caps struct{ Items []omsclient.WarehouseCapacity }
	if code := call(t, r, http.MethodGet, "/v1/warehouse-capacities?day=2030-01-02", nil, &caps); code != 200 || len(caps.Items) != 1 || caps.Items[0].Capacity != 40 {
		t.Errorf("capacities: %d %+v", code, caps)
	}
	var sus omsclient.FulfillmentSuspension
	if code := call(t, r, http.MethodPut, "/v1/fulfillment/suspension", omsclient.SuspensionRequest{Suspended: true, Operator: "ops"}, &p); code != 422 || p.Code != omsclient.CodeValidation {
		t.Errorf("suspend without a reason: %d %+v", code, p)
	}
	if code := call(t, r, http.MethodPut, "/v1/fulfillment/suspension", omsclient.SuspensionRequest{Suspended: true, Reason: "stocktake", Operator: "ops"}, &sus); code != 200 ||
		!sus.Suspended || sus.Reason != "stocktake" || sus.Operator != "ops" {
		t.Fatalf("suspend: %d %+v", code, sus)
	}
	if code := call(t, r, http.MethodGet, "/v1/fulfillment/suspension", nil, &sus); code != 200 || !sus.Suspended {
		t.Errorf("read suspension: %d %+v", code, sus)
	}
	if code := call(t, r, http.MethodPut, "/v1/fulfillment/suspension", omsclient.SuspensionRequest{Operator: "ops2"}, &sus); code != 200 || sus.Suspended || sus.Operator != "ops2" {
		t.Errorf("resume: %d %+v", code, sus)
	}

	// Another app pauses the order (the unit stored as stage 12 before
	// stages had names reads as erp_stock) and resumes it.
	pause := "/v1/fulfillment/orders/" + id + "/pause"
	if code := call(t, r, http.MethodPost, pause, omsclient.PauseRequest{Reason: "return"}, &p); code != 422 || p.Code != omsclient.CodeValidation {
		t.Errorf("pause without an idempotency key: %d %+v", code, p)
	}
	var op omsclient.OrderPause
	if code := call(t, r, http.MethodPost, pause, omsclient.PauseRequest{IdempotencyKey: "k1", Reason: "return", By: "aftersales"}, &op); code != 200 ||
		!op.Paused || op.Stage != "erp_stock" || len(op.Units) != 1 || op.Units[0].State != omsclient.UnitHeld || op.Dispatched == nil {
		t.Fatalf("pause: %d %+v", code, op)
	}
	if code := call(t, r, http.MethodPost, pause, omsclient.PauseRequest{IdempotencyKey: "k1", Reason: "return", By: "aftersales"}, &op); code != 200 || op.Paused {
		t.Errorf("repeated pause: %d %+v", code, op)
	}
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/nope/pause", omsclient.PauseRequest{IdempotencyKey: "k", Reason: "x"}, &p); code != 404 || p.Code != omsclient.CodeNoFulfillment {
		t.Errorf("pause of an unknown order: %d %+v", code, p)
	}
	var rr omsclient.ResumeResult
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/resume", omsclient.ResumeRequest{By: "aftersales"}, &rr); code != 200 || rr.Resumed != 1 {
		t.Errorf("resume order: %d %+v", code, rr)
	}
	if code := call(t, r, http.MethodPost, "/v1/fulfillment/orders/"+id+"/resume", omsclient.ResumeRequest{By: "aftersales"}, &p); code != 409 || p.Code != omsclient.CodeNotPaused {
		t.Errorf("resume of a running order: %d %+v", code, p)
	}
}
