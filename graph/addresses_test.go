package graph_test

import (
	"net/http"
	"testing"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

const addAddress = `mutation { addAddress(input: {address: {name: "Li Lei", phone: "13800138000", province: "Hebei", city: "Shijiazhuang",
	district: "Chang'an", detail: "1 Road"}, label: "home"}) { address { id isDefault } addresses { id } errors { code field reason } } }`

func TestAddressBookActsForTheCaller(t *testing.T) {
	e := newEnv(t)
	_, errs := post(t, e.c, `{ myAddresses { id } }`)
	wantCode(t, errs, graph.CodeUnauthenticated)
	_, errs = post(t, e.c, `{ myAddresses { id } }`, as(t, "cs1", auth.RoleCSAgent))
	wantCode(t, errs, graph.CodeForbidden)
	data, errs := post(t, e.c, `mutation { setDefaultAddress(id: "a1") { address { id isDefault } errors { code } } }`, as(t, "alice", auth.RoleCustomer))
	if len(errs) != 0 || jsonOf(data) != `{"setDefaultAddress":{"address":{"id":"a1","isDefault":true},"errors":[]}}` {
		t.Fatalf("%s %v", jsonOf(data), errs)
	}
	if len(e.oms.addrCalls) != 1 || e.oms.addrCalls[0] != "alice a1" {
		t.Fatalf("calls %v", e.oms.addrCalls)
	}

	e.oms.addrErr = (&httpapi.Problem{Status: http.StatusUnprocessableEntity, Code: omsclient.CodeValidation, Message: "invalid"}).With(map[string]any{
		"violations": []any{map[string]any{"field": "address.district", "code": "NOT_SERVED", "message": "no warehouse delivers to Hebei Shijiazhuang Chang'an"}}})
	data, errs = post(t, e.c, addAddress, as(t, "alice", auth.RoleCustomer))
	if len(errs) != 0 || jsonOf(data) != `{"addAddress":{"address":null,"addresses":[],"errors":[{"code":"VALIDATION_FAILED","field":["input","address","district"],"reason":"NOT_SERVED"}]}}` {
		t.Fatalf("%s %v", jsonOf(data), errs)
	}
	e.oms.addrErr = &httpapi.Problem{Status: http.StatusNotFound, Code: omsclient.CodeAddressNotFound, Message: "saved address not found"}
	data, errs = post(t, e.c, `mutation { removeAddress(id: "bob-1") { errors { code field } } }`, as(t, "alice", auth.RoleCustomer))
	if len(errs) != 0 || jsonOf(data) != `{"removeAddress":{"errors":[{"code":"NOT_FOUND","field":["id"]}]}}` {
		t.Fatalf("%s %v", jsonOf(data), errs)
	}
}
