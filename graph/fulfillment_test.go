package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

// fakeFulfillment is OMS's fulfillment operations in memory: o-alice has a
// failed delivery order, capacities live in a map.
type fakeFulfillment struct {
	retried    []omsclient.RetryRequest
	capacities map[string]omsclient.WarehouseCapacity
	suspension omsclient.FulfillmentSuspension
}

func (f *fakeOMS) FulfillmentSuspension(context.Context) (omsclient.FulfillmentSuspension, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ful.suspension, nil
}

// SetFulfillmentSuspension answers like OMS: a reason is required to suspend.
func (f *fakeOMS) SetFulfillmentSuspension(_ context.Context, r omsclient.SuspensionRequest) (omsclient.FulfillmentSuspension, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Suspended && strings.TrimSpace(r.Reason) == "" {
		return omsclient.FulfillmentSuspension{}, &httpapi.Problem{Status: http.StatusUnprocessableEntity, Code: omsclient.CodeValidation, Message: "a reason is required"}
	}
	f.ful.suspension = omsclient.FulfillmentSuspension{Suspended: r.Suspended, Reason: r.Reason, Operator: r.Operator,
		Since: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	return f.ful.suspension, nil
}

func (f *fakeOMS) FulfillmentStages(context.Context) ([]omsclient.StageCount, error) {
	return []omsclient.StageCount{
		{Stage: "initial", Number: 1, Name: "initial", Kind: "IO", Waiting: 3, Running: 2},
		{Stage: "erp_stock", Number: 12, Name: "erp_stock", Kind: "IO", Failed: 1},
		{Stage: "warehouse_throttle", Number: 13, Name: "warehouse_throttle", Kind: "CPU", Paused: 7},
	}, nil
}

func (f *fakeOMS) FulfillmentTimeline(_ context.Context, id string) (omsclient.FulfillmentTimeline, error) {
	if id != "o-alice" {
		return omsclient.FulfillmentTimeline{}, &httpapi.Problem{Status: 404, Code: omsclient.CodeNoFulfillment, Message: "no fulfillment"}
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return omsclient.FulfillmentTimeline{OrderID: id,
		Units: []omsclient.FulfillmentUnit{
			{ID: "o-alice", Stage: "effective_time", StageName: "effective_time", State: "SPLIT", ResumeAt: at, UpdatedAt: at},
			{ID: "o-alice-1", ParentID: "o-alice", Stage: "erp_stock", StageName: "erp_stock", State: "FAILED", FailCode: "ERP_STOCK_SHORT", Warehouse: "SH1", WaybillNo: "SF1", ResumeAt: at, UpdatedAt: at},
		},
		Steps: []omsclient.FulfillmentStep{{UnitID: "o-alice", Stage: "initial", StageName: "initial", Outcome: "NEXT", Owner: "oms-1", At: at, DurationMS: 12.5}},
	}, nil
}

func (f *fakeOMS) RetryFulfillment(_ context.Context, id string, r omsclient.RetryRequest) (omsclient.RetryResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != "o-alice" || len(f.ful.retried) > 0 {
		return omsclient.RetryResult{}, &httpapi.Problem{Status: http.StatusConflict, Code: omsclient.CodeNothingToRetry, Message: "nothing failed"}
	}
	f.ful.retried = append(f.ful.retried, r)
	return omsclient.RetryResult{Retried: 1}, nil
}

func (f *fakeOMS) WarehouseCapacities(_ context.Context, day string) ([]omsclient.WarehouseCapacity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []omsclient.WarehouseCapacity
	for _, c := range f.ful.capacities {
		if c.Day == day {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeOMS) SetWarehouseCapacity(_ context.Context, c omsclient.WarehouseCapacity) (omsclient.WarehouseCapacity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ful.capacities == nil {
		f.ful.capacities = map[string]omsclient.WarehouseCapacity{}
	}
	old := f.ful.capacities[c.Warehouse+c.Day]
	c.Used = old.Used
	f.ful.capacities[c.Warehouse+c.Day] = c
	return c, nil
}

func TestFulfillmentOperations(t *testing.T) {
	e := newEnv(t)
	t.Run("customers may not see the pipeline", func(t *testing.T) {
		_, errs := post(t, e.c, `{ fulfillmentStages { number } }`, as(t, "alice", auth.RoleCustomer))
		wantCode(t, errs, graph.CodeForbidden)
		_, errs = post(t, e.c, `mutation { setWarehouseCapacity(input: {warehouse: "SH1", day: "2030-01-01", capacity: 5}) { errors { code } } }`,
			as(t, "agent", auth.RoleCSAgent))
		wantCode(t, errs, graph.CodeForbidden)
	})
	t.Run("stage counts", func(t *testing.T) {
		data, errs := post(t, e.c, `{ fulfillmentStages { number name kind waiting running paused failed } }`, as(t, "agent", auth.RoleCSAgent))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		want := `[{"failed":0,"kind":"IO","name":"initial","number":1,"paused":0,"running":2,"waiting":3},{"failed":1,"kind":"IO","name":"erp_stock","number":12,"paused":0,"running":0,"waiting":0},{"failed":0,"kind":"CPU","name":"warehouse_throttle","number":13,"paused":7,"running":0,"waiting":0}]`
		if got := jsonOf(data["fulfillmentStages"]); got != want {
			t.Errorf("stages = %s", got)
		}
	})
	t.Run("timeline", func(t *testing.T) {
		data, errs := post(t, e.c, `{ fulfillmentTimeline(orderId: "o-alice") { orderId units { id parentId state failCode warehouse waybillNo } steps { stageName outcome owner durationMs } } }`,
			as(t, "admin", auth.RoleAdmin))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		want := `{"orderId":"o-alice","steps":[{"durationMs":12.5,"outcome":"NEXT","owner":"oms-1","stageName":"initial"}],"units":[{"failCode":null,"id":"o-alice","parentId":null,"state":"SPLIT","warehouse":null,"waybillNo":null},{"failCode":"ERP_STOCK_SHORT","id":"o-alice-1","parentId":"o-alice","state":"FAILED","warehouse":"SH1","waybillNo":"SF1"}]}`
		if got := jsonOf(data["fulfillmentTimeline"]); got != want {
			t.Errorf("timeline = %s", got)
		}
		data, errs = post(t, e.c, `{ fulfillmentTimeline(orderId: "o-bob") { orderId } }`, as(t, "admin", auth.RoleAdmin))
		if len(errs) != 0 || data["fulfillmentTimeline"] != nil {
			t.Errorf("no fulfillment: %v %v", data, errs)
		}
	})
	t.Run("retry", func(t *testing.T) {
		q := `mutation { retryFulfillment(input: {orderId: "o-alice"}) { retried errors { code field } } }`
		data, errs := post(t, e.c, q, as(t, "sup", auth.RoleCSSupervisor))
		if len(errs) != 0 || jsonOf(data["retryFulfillment"]) != `{"errors":[],"retried":1}` {
			t.Fatalf("retry: %v %v", jsonOf(data), errs)
		}
		if len(e.oms.ful.retried) != 1 || e.oms.ful.retried[0].Operator != "CS_SUPERVISOR:sup" {
			t.Errorf("retried %+v", e.oms.ful.retried)
		}
		data, _ = post(t, e.c, q, as(t, "sup", auth.RoleCSSupervisor))
		if got := jsonOf(data["retryFulfillment"]); got != `{"errors":[{"code":"NOTHING_TO_RETRY","field":["input","orderId"]}],"retried":0}` {
			t.Errorf("second retry: %s", got)
		}
	})
	t.Run("suspension", func(t *testing.T) {
		_, errs := post(t, e.c, `mutation { suspendFulfillment(input: {reason: "stocktake"}) { errors { code } } }`, as(t, "sup", auth.RoleCSSupervisor))
		wantCode(t, errs, graph.CodeForbidden)
		data, errs := post(t, e.c, `mutation { suspendFulfillment(input: {reason: " "}) { suspension { suspended } errors { code field } } }`, as(t, "admin", auth.RoleAdmin))
		if got := jsonOf(data["suspendFulfillment"]); len(errs) != 0 || got != `{"errors":[{"code":"VALIDATION_FAILED","field":["input","reason"]}],"suspension":null}` {
			t.Errorf("no reason: %s %v", got, errs)
		}
		data, errs = post(t, e.c, `mutation { suspendFulfillment(input: {reason: "stocktake"}) { suspension { suspended reason operator since } errors { code } } }`, as(t, "admin", auth.RoleAdmin))
		if got := jsonOf(data["suspendFulfillment"]); len(errs) != 0 || got != `{"errors":[],"suspension":{"operator":"ADMIN:admin","reason":"stocktake","since":"2030-01-01T00:00:00Z","suspended":true}}` {
			t.Errorf("suspend: %s %v", got, errs)
		}
		data, errs = post(t, e.c, `{ fulfillmentSuspension { suspended reason } }`, as(t, "agent", auth.RoleCSAgent))
		if got := jsonOf(data["fulfillmentSuspension"]); len(errs) != 0 || got != `{"reason":"stocktake","suspended":true}` {
			t.Errorf("read: %s %v", got, errs)
		}
		data, errs = post(t, e.c, `mutation { resumeFulfillment { suspension { suspended reason operator } errors { code } } }`, as(t, "admin", auth.RoleAdmin))
		if got := jsonOf(data["resumeFulfillment"]); len(errs) != 0 || got != `{"errors":[],"suspension":{"operator":"ADMIN:admin","reason":null,"suspended":false}}` {
			t.Errorf("resume: %s %v", got, errs)
		}
	})
	t.Run("capacities", func(t *testing.T) {
		data, errs := post(t, e.c, `mutation { setWarehouseCapacity(input: {warehouse: "SH1", day: "2030-01-01", capacity: 500}) { capacity { warehouse day capacity used } errors { code } } }`,
			as(t, "admin", auth.RoleAdmin))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if got := jsonOf(data["setWarehouseCapacity"]); got != `{"capacity":{"capacity":500,"day":"2030-01-01","used":0,"warehouse":"SH1"},"errors":[]}` {
			t.Errorf("set = %s", got)
		}
		data, _ = post(t, e.c, `mutation { setWarehouseCapacity(input: {warehouse: "SH1", day: "2030-01-01", capacity: -1}) { errors { code field } } }`,
			as(t, "admin", auth.RoleAdmin))
		if got := jsonOf(data["setWarehouseCapacity"]); got != `{"errors":[{"code":"VALIDATION_FAILED","field":["input","capacity"]}]}` {
			t.Errorf("negative = %s", got)
		}
		data, errs = post(t, e.c, `{ warehouseCapacities(day: "2030-01-01") { warehouse capacity } }`, as(t, "agent", auth.RoleCSAgent))
		if len(errs) != 0 || jsonOf(data["warehouseCapacities"]) != `[{"capacity":500,"warehouse":"SH1"}]` {
			t.Errorf("read = %s %v", jsonOf(data), errs)
		}
	})
}
