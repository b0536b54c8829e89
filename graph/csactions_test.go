package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	asevents "github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/hub"
	"github.com/harvest/harvest/graph/model"
)

// fakeCSActions answers as after-sales does: an action under a key used
// before is the first one; a used coupon is refused with marketing's
// code; a dispatched order's address is refused with OMS's.
type fakeCSActions struct {
	mu      sync.Mutex
	actions []aftersalesclient.Action
	reviews []aftersalesclient.Review
	asked   []aftersalesclient.ActionRequest
}

func (f *fakeCSActions) Act(_ context.Context, r aftersalesclient.ActionRequest) (aftersalesclient.Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r)
	switch {
	case r.CouponID == "used":
		return aftersalesclient.Action{}, httpapi.Errorf(http.StatusConflict, marketingclient.CodeCouponNotUsable, "coupon used")
	case r.Kind == aftersalesclient.ActionRetryRefund && r.OrderID == "o-alice":
		return aftersalesclient.Action{}, httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeNothingToRetry, "no failed refund")
	case r.Kind == aftersalesclient.ActionChangeAddress && r.OrderID == "o-alice":
		return aftersalesclient.Action{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeOrderDispatched, "reached SH1").
			With(map[string]any{"delivery_orders": []string{"o-alice-1"}})
	}
	a := aftersalesclient.Action{ID: "A" + r.IdempotencyKey, Kind: r.Kind, Status: "DONE", OrderID: r.OrderID, Actor: r.Actor, ActorRole: r.ActorRole,
		Reason: r.Reason, SMSRecipients: r.SMSRecipients, CreatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.actions = append(f.actions, a)
	return a, nil
}

func (f *fakeCSActions) ActionsOf(_ context.Context, orderID, customerID string, _ int) ([]aftersalesclient.Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.actions, nil
}

func (f *fakeCSActions) Review(_ context.Context, r aftersalesclient.ReviewRequest) (aftersalesclient.Review, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.OrderID != "o-bob" || r.CustomerID != "bob" {
		return aftersalesclient.Review{}, httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "order")
	}
	rv := aftersalesclient.Review{OrderID: r.OrderID, CustomerID: r.CustomerID, Rating: r.Rating, Text: r.Text}
	f.reviews = append(f.reviews, rv)
	return rv, nil
}

func (f *fakeCSActions) Reviews(_ context.Context, _, _ string, _ int) ([]aftersalesclient.Review, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reviews, nil
}

func (f *fakeCSActions) Story(_ context.Context, orderID string) (aftersalesclient.Story, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return aftersalesclient.Story{OrderID: orderID, Payments: []aftersalesclient.Payment{{ID: "T1", Channel: "WECHAT", PaidFen: 1205, Status: "SUCCEEDED"}},
		Refunds: []aftersalesclient.Refund{{ID: "R1", TradeID: "T1", AmountFen: 500, Status: "PENDING_AUDIT"}}, Actions: f.actions,
		Malicious: &aftersalesclient.Malicious{ActionID: "A9", By: "agent-1", Reason: "serial claims"}}, nil
}

// The console's queries and actions answer CS agents and supervisors
// only, the review only customers; the author is the token's subject
// (never an argument); owners' refusals come back with their codes; the
// whole story carries payments, refunds, delivery orders and actions.
func TestCSActionsRoleGatingAndStory(t *testing.T) {
	e := newEnv(t)
	fa := &fakeCSActions{}
	v, _ := auth.NewVerifier(secret, auth.DefaultPolicy())
	o := e.oms.orders["o-bob"]
	o.Address = omsclient.Address{Phone: "13800138000"}
	e.oms.orders["o-bob"] = o
	c := client.New(graph.NewHandler(&graph.Resolver{Orders: e.oms, Addresses: e.oms, Catalog: e.inv, Payments: e.pay, Feed: e.hub,
		AfterSales: &fakeAfterSales{requests: map[string]aftersalesclient.Request{}}, CSActions: fa}, graph.Options{Verifier: v}))
	agent := as(t, "agent-1", auth.RoleCSAgent)
	sup := as(t, "sup-1", auth.RoleCSSupervisor)
	customer := as2(t, "bob")
	warehouse := as(t, "op-1", auth.RoleWarehouseOperator)

	csOnly := []string{
		`{ findOrders(search: { phone: "13800138000" }) { totalCount } }`,
		`{ orderStory(orderId: "o-bob") { order { id } } }`,
		`{ customerActions(customerId: "bob") { id } }`,
		`{ reviews { rating } }`,
		`mutation { unbindCustomerCoupon(couponId: "c1", customerId: "bob", reason: "asked", idempotencyKey: "k1") { errors { code } } }`,
		`mutation { setSmsRecipients(orderId: "o-bob", phones: ["13900139000"], reason: "asked", idempotencyKey: "k2") { errors { code } } }`,
		`mutation { changeOrderAddress(orderId: "o-bob", address: { name: "B", phone: "13900139000", province: "P", city: "C", district: "D", detail: "1" }, reason: "moved", idempotencyKey: "k3") { errors { code } } }`,
		`mutation { reissueInvoice(orderId: "o-bob", title: "ACME", reason: "lost", idempotencyKey: "k4") { errors { code } } }`,
		`mutation { markOrderMalicious(orderId: "o-bob", reason: "serial claims", idempotencyKey: "k5") { errors { code } } }`,
		`mutation { retryOrderRefund(orderId: "o-bob", reason: "channel fixed", idempotencyKey: "k10") { errors { code } } }`,
	}
	for _, q := range csOnly {
		for _, who := range []client.Option{customer, warehouse} {
			if _, errs := post(t, c, q, who); len(errs) == 0 || !strings.Contains(jsonOf(errs), "FORBIDDEN") {
				t.Fatalf("%s answered a non-CS caller: %v", q, errs)
			}
		}
	}
	if len(fa.asked) != 0 {
		t.Fatalf("forbidden calls reached after-sales: %+v", fa.asked)
	}
	for i, q := range csOnly {
		who := agent
		if i%2 == 1 {
			who = sup
		}
		if data, errs := post(t, c, q, who); len(errs) > 0 {
			t.Fatalf("%s: %s %v", q, jsonOf(data), errs)
		}
	}
	for _, r := range fa.asked {
		if (r.Actor != "agent-1" || r.ActorRole != auth.RoleCSAgent) && (r.Actor != "sup-1" || r.ActorRole != auth.RoleCSSupervisor) {
			t.Fatalf("action by %q as %q", r.Actor, r.ActorRole)
		}
	}
	review := `mutation { reviewOrder(orderId: "o-bob", rating: 5, text: "cold and crisp") { review { rating } errors { code } } }`
	if _, errs := post(t, c, review, agent); len(errs) == 0 {
		t.Fatal("an agent reviewed an order")
	}
	data, errs := post(t, c, review, customer)
	if len(errs) > 0 || jsonOf(data) != `{"reviewOrder":{"errors":[],"review":{"rating":5}}}` {
		t.Fatalf("review: %s %v", jsonOf(data), errs)
	}

	// Refusals with the owners' codes; bad input refused by the gateway.
	for q, want := range map[string]string{
		`mutation { unbindCustomerCoupon(couponId: "used", customerId: "bob", reason: "asked", idempotencyKey: "k6") { errors { code field reason } } }`:                                                                                  `{"unbindCustomerCoupon":{"errors":[{"code":"COUPON_INVALID","field":["couponId"],"reason":"COUPON_NOT_AVAILABLE"}]}}`,
		`mutation { changeOrderAddress(orderId: "o-alice", address: { name: "A", phone: "13900139000", province: "P", city: "C", district: "D", detail: "1" }, reason: "moved", idempotencyKey: "k7") { errors { code field reason } } }`: `{"changeOrderAddress":{"errors":[{"code":"ORDER_DISPATCHED","field":["address"],"reason":"o-alice-1"}]}}`,
		`mutation { markOrderMalicious(orderId: "o-bob", reason: " ", idempotencyKey: "k8") { errors { code field } } }`:                                                                                                                  `{"markOrderMalicious":{"errors":[{"code":"VALIDATION_FAILED","field":["reason"]}]}}`,
		`mutation { setSmsRecipients(orderId: "o-bob", phones: [], reason: "asked", idempotencyKey: "k9") { errors { code field } } }`:                                                                                                    `{"setSmsRecipients":{"errors":[{"code":"VALIDATION_FAILED","field":["phones"]}]}}`,
		`mutation { retryOrderRefund(orderId: "o-alice", reason: "channel fixed", idempotencyKey: "k11") { errors { code field } } }`:                                                                                                     `{"retryOrderRefund":{"errors":[{"code":"NOTHING_TO_RETRY","field":["orderId"]}]}}`,
		`mutation { retryOrderRefund(orderId: "o-bob", reason: "channel fixed", idempotencyKey: "") { errors { code field } } }`:                                                                                                          `{"retryOrderRefund":{"errors":[{"code":"VALIDATION_FAILED","field":["idempotencyKey"]}]}}`,
	} {
		if data, errs := post(t, c, q, agent); len(errs) > 0 || jsonOf(data) != want {
			t.Fatalf("%s: %s %v", q, jsonOf(data), errs)
		}
	}

	data, errs = post(t, c, `{ findOrders(search: { phone: "13800138000" }) { totalCount edges { node { id } } } }`, agent)
	if len(errs) > 0 || jsonOf(data) != `{"findOrders":{"edges":[{"node":{"id":"o-bob"}}],"totalCount":1}}` {
		t.Fatalf("by phone: %s %v", jsonOf(data), errs)
	}
	if _, errs := post(t, c, `{ findOrders(search: { phone: "1", customerId: "bob" }) { totalCount } }`, agent); len(errs) == 0 {
		t.Fatal("two search keys accepted")
	}
	data, errs = post(t, c, `{ orderStory(orderId: "o-alice") { order { id } deliveryOrders { id warehouse } payments { id paidFen } refunds { id paymentId amountFen status }
		actions { kind by } malicious { by } } }`, agent)
	if len(errs) > 0 || !strings.Contains(jsonOf(data), `"deliveryOrders":[{"id":"o-alice-1","warehouse":"SH1"}]`) ||
		!strings.Contains(jsonOf(data), `"payments":[{"id":"T1","paidFen":1205}]`) ||
		!strings.Contains(jsonOf(data), `"refunds":[{"amountFen":500,"id":"R1","paymentId":"T1","status":"PENDING_AUDIT"}]`) ||
		!strings.Contains(jsonOf(data), `"kind":"MARK_MALICIOUS"`) {
		t.Fatalf("story: %s %v", jsonOf(data), errs)
	}
}

// The console's live feed carries recorded actions.
func TestFeedCarriesActions(t *testing.T) {
	ev, err := hub.DecodeAfterSales(asevents.TopicActionRecorded,
		[]byte(`{"action_id":"A1","kind":"CHANGE_ADDRESS","order_id":"o-bob","by":"agent-1","reason":"moved"}`))
	if err != nil || ev.Type != model.AfterSalesEventTypeActionRecorded || ev.RequestID != "A1" || ev.Kind != "CHANGE_ADDRESS" || *ev.By != "agent-1" {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := hub.DecodeAfterSales(asevents.TopicActionRecorded, []byte(`{"kind":"X"}`)); !errors.Is(err, daprx.ErrDrop) {
		t.Fatalf("no id: %v", err)
	}
}
