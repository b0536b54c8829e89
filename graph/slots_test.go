package graph_test

import (
	"net/http"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

const setSlot = `mutation($cap: Int) { setSlotCapacity(input: {warehouse: "WH-SH", type: NEXT_DAY, date: "2030-01-02", capacity: $cap}) {
	slot { warehouse type date capacity updatedBy } errors { code message field reason } } }`

func TestSetSlotCapacity(t *testing.T) {
	t.Run("operators only, audited as role:subject", func(t *testing.T) {
		e := newEnv(t)
		_, errs := post(t, e.c, setSlot, as(t, "alice", auth.RoleCustomer), client.Var("cap", 5))
		wantCode(t, errs, graph.CodeForbidden)
		data, errs := post(t, e.c, setSlot, as(t, "w1", auth.RoleWarehouseOperator), client.Var("cap", 5))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if got := jsonOf(data["setSlotCapacity"]); got != `{"errors":[],"slot":{"capacity":5,"date":"2030-01-02","type":"NEXT_DAY","updatedBy":"WAREHOUSE_OPERATOR:w1","warehouse":"WH-SH"}}` {
			t.Fatalf("payload %s", got)
		}
		if len(e.inv.setCaps) != 1 || e.inv.setCaps[0].By != "WAREHOUSE_OPERATOR:w1" || *e.inv.setCaps[0].Capacity != 5 {
			t.Fatalf("requests %+v", e.inv.setCaps)
		}
	})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"below what is taken", (&httpapi.Problem{Status: http.StatusConflict, Code: inventoryclient.CodeCapacityBelowTaken,
			Message: "capacity 2 for WH-SH/2030-01-02/NEXT_DAY, 3 already taken"}).With(map[string]any{"taken": 3.0}),
			`[{"code":"CAPACITY_BELOW_TAKEN","field":["input","capacity"],"message":"capacity 2 for WH-SH/2030-01-02/NEXT_DAY, 3 already taken","reason":null}]`},
		{"unknown warehouse", (&httpapi.Problem{Status: http.StatusBadRequest, Code: inventoryclient.CodeValidation,
			Message: `warehouse: "WH-XX" is not a warehouse`}).With(map[string]any{"field": "warehouse"}),
			`[{"code":"VALIDATION_FAILED","field":["input","warehouse"],"message":"warehouse: \"WH-XX\" is not a warehouse","reason":null}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.inv.slotErr = tc.err
			data, errs := post(t, e.c, setSlot, as(t, "a1", auth.RoleAdmin), client.Var("cap", 2))
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if got := jsonOf(data["setSlotCapacity"].(map[string]any)["errors"]); got != tc.want {
				t.Fatalf("errors %s\nwant   %s", got, tc.want)
			}
		})
	}
}

func TestDeliverySlots(t *testing.T) {
	e := newEnv(t)
	five := int64(5)
	e.inv.slots = []inventoryclient.SlotCapacity{
		{SlotRef: inventoryclient.SlotRef{Warehouse: "WH-SH", Date: "2030-01-01", Type: "EXPRESS"}, Open: true},
		{SlotRef: inventoryclient.SlotRef{Warehouse: "WH-SH", Date: "2030-01-02", Type: "NEXT_DAY"}, Capacity: &five, Taken: 3, Open: true},
	}
	q := `{ deliverySlots(address: {province: "Shanghai", city: "Shanghai", district: "Pudong"}) { type date warehouse remaining } }`
	data, errs := post(t, e.c, q) // public, like the catalog
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if got := jsonOf(data["deliverySlots"]); got != `[{"date":"2030-01-01","remaining":null,"type":"EXPRESS","warehouse":"WH-SH"},{"date":"2030-01-02","remaining":2,"type":"NEXT_DAY","warehouse":"WH-SH"}]` {
		t.Fatalf("slots %s", got)
	}
	e.inv.slotErr = &httpapi.Problem{Status: http.StatusUnprocessableEntity, Code: inventoryclient.CodeNotServed, Message: "address outside every served area: Hebei/Shijiazhuang/Chang'an"}
	_, errs = post(t, e.c, q)
	wantCode(t, errs, graph.CodeBadUserInput)
	if errs[0].Extensions["reason"] != "NOT_SERVED" || errs[0].Extensions["field"] != "address" {
		t.Fatalf("error %+v", errs[0])
	}
}
