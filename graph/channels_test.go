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

	"github.com/harvest/harvest/apps/channels/channelsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

// fakeChannels records what the gateway asked of channels and answers
// with err when set.
type fakeChannels struct {
	mu      sync.Mutex
	err     error
	calls   []string
	plans   []channelsclient.CreatePlanRequest
	retries []channelsclient.RetryRequest
	firsts  []int
}

func (f *fakeChannels) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

var when = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func (f *fakeChannels) StagedOrders(_ context.Context, platform, status string, first int) ([]channelsclient.StagedOrder, error) {
	f.mu.Lock()
	f.firsts = append(f.firsts, first)
	f.mu.Unlock()
	if err := f.record("StagedOrders " + platform + " " + status); err != nil {
		return nil, err
	}
	return []channelsclient.StagedOrder{{ID: "m1", Platform: "YUEDIAN", PlatformOrderID: "YD1", Status: "ORDERED", OrderID: "o1",
		Lines: []channelsclient.StagedLine{{PlatformSKU: "Y-APPLE", Qty: 2, UnitPriceFen: 600}}, ReceivedAt: when, UpdatedAt: when}}, nil
}

func (f *fakeChannels) StagedOrder(_ context.Context, id string) (channelsclient.StagedOrder, error) {
	return channelsclient.StagedOrder{ID: id, Platform: "MEITUAN", Status: "PARKED", ReasonCode: "UNKNOWN_SKU_MAPPING", ReceivedAt: when, UpdatedAt: when},
		f.record("StagedOrder " + id)
}

func (f *fakeChannels) StagedByPlatform(_ context.Context, platform, platformOrderID string) (channelsclient.StagedOrder, error) {
	return channelsclient.StagedOrder{ID: "m2", Platform: platform, PlatformOrderID: platformOrderID, Status: "STAGED", ReceivedAt: when, UpdatedAt: when},
		f.record("StagedByPlatform " + platform + " " + platformOrderID)
}

func (f *fakeChannels) RetryStaged(_ context.Context, id string, r channelsclient.RetryRequest) (channelsclient.StagedOrder, error) {
	f.mu.Lock()
	f.retries = append(f.retries, r)
	f.mu.Unlock()
	return channelsclient.StagedOrder{ID: id, Platform: "YUEDIAN", Status: "STAGED", ReceivedAt: when, UpdatedAt: when}, f.record("RetryStaged " + id)
}

func (f *fakeChannels) SetMapping(_ context.Context, r channelsclient.MappingRequest) error {
	return f.record("SetMapping " + r.Platform + " " + r.PlatformSKU + " " + r.SKU + " " + r.By)
}

func (f *fakeChannels) CreatePlan(_ context.Context, r channelsclient.CreatePlanRequest) (channelsclient.Plan, error) {
	f.mu.Lock()
	f.plans = append(f.plans, r)
	f.mu.Unlock()
	if err := f.record("CreatePlan " + r.IdempotencyKey); err != nil {
		return channelsclient.Plan{}, err
	}
	return channelsclient.Plan{ID: "p1", CustomerID: r.CustomerID, Source: "STAFF", Status: "PLANNED", Address: r.Address, Slot: r.Slot,
		SettlementPeriod: r.SettlementPeriod, AgreedFen: 1000, CreatedBy: r.By, CreatedAt: when, Lines: r.Lines}, nil
}

func (f *fakeChannels) GetPlan(_ context.Context, id string) (channelsclient.Plan, error) {
	return channelsclient.Plan{ID: id, Status: "ORDERED", SettlementPeriod: "MONTHLY", CreatedAt: when}, f.record("GetPlan " + id)
}

func (f *fakeChannels) Plans(_ context.Context, customerID string, first int) ([]channelsclient.Plan, error) {
	return nil, f.record("Plans " + customerID)
}

func (f *fakeChannels) RetryPlan(_ context.Context, id string) (channelsclient.Plan, error) {
	return channelsclient.Plan{ID: id, Status: "PLANNED", SettlementPeriod: "MONTHLY", CreatedAt: when}, f.record("RetryPlan " + id)
}

func (f *fakeChannels) Statements(_ context.Context, customerID string) ([]channelsclient.Statement, error) {
	return nil, f.record("Statements " + customerID)
}

func (f *fakeChannels) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func channelsConsole(t *testing.T) (*fakeChannels, *client.Client) {
	t.Helper()
	v, err := auth.NewVerifier(secret, auth.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	ch := &fakeChannels{}
	return ch, client.New(graph.NewHandler(&graph.Resolver{Channels: ch}, graph.Options{Verifier: v}))
}

const createPlan = `mutation { createSalesPlan(idempotencyKey: "%s", input: { customerId: "B001",
	address: { name: "Li Lei", phone: "13800138000", province: "Shanghai", city: "Shanghai", district: "Pudong", detail: "1 Century Ave" },
	slot: { type: NEXT_DAY, date: "2030-01-03" }, settlementPeriod: MONTHLY, lines: [{ sku: "SKU-1", qty: 3, agreedPriceFen: 500 }] })
	{ plan { id status createdBy lines { sku qty agreedPriceFen } } errors { code field } } }`

// Only sales staff and admins reach channels; a customer's or a warehouse
// operator's call is refused before channels is asked anything.
func TestChannelsConsoleRoles(t *testing.T) {
	ch, c := channelsConsole(t)
	for _, role := range []string{auth.RoleCustomer, auth.RoleCSAgent, auth.RoleWarehouseOperator} {
		for _, q := range []string{`{ marketplaceOrders { id } }`, `{ salesPlan(id: "p1") { id } }`, `{ settlementStatements(customerId: "B001") { customerId } }`,
			strings.Replace(createPlan, "%s", "k1", 1), `mutation { retryMarketplaceOrder(id: "m1") { errors { code } } }`} {
			_, errs := post(t, c, q, as(t, "u1", role))
			wantCode(t, errs, "FORBIDDEN")
		}
	}
	if got := ch.asked(); len(got) != 0 {
		t.Fatalf("channels asked %v for refused callers", got)
	}
	for _, role := range []string{auth.RoleSales, auth.RoleAdmin} {
		if _, errs := post(t, c, `{ marketplaceOrders { id } }`, as(t, "u1", role)); len(errs) != 0 {
			t.Fatalf("%s: %+v", role, errs)
		}
	}
}

// A sales plan: the key is checked before channels is asked, the plan goes
// to channels as entered with who entered it, and channels' refusals come
// back as payload errors naming the field; anything else is INTERNAL.
func TestCreateSalesPlanThroughTheGateway(t *testing.T) {
	ch, c := channelsConsole(t)
	sales := as(t, "s7", auth.RoleSales)
	data, errs := post(t, c, strings.Replace(createPlan, "%s", "", 1), sales)
	if len(errs) != 0 || jsonOf(data["createSalesPlan"]) != `{"errors":[{"code":"VALIDATION_FAILED","field":["idempotencyKey"]}],"plan":null}` {
		t.Fatalf("no key: %v %+v", jsonOf(data), errs)
	}
	if got := ch.asked(); len(got) != 0 {
		t.Fatalf("channels asked %v for a plan without a key", got)
	}
	data, errs = post(t, c, strings.Replace(createPlan, "%s", "plan-1", 1), sales)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	want := `{"errors":[],"plan":{"createdBy":"SALES:s7","id":"p1","lines":[{"agreedPriceFen":500,"qty":3,"sku":"SKU-1"}],"status":"PLANNED"}}`
	if got := jsonOf(data["createSalesPlan"]); got != want {
		t.Fatalf("plan: %s, want %s", got, want)
	}
	r := ch.plans[0]
	if r.IdempotencyKey != "plan-1" || r.CustomerID != "B001" || r.Address.District != "Pudong" || r.Slot.Type != "NEXT_DAY" || r.Slot.Date != "2030-01-03" ||
		r.SettlementPeriod != "MONTHLY" || len(r.Lines) != 1 || r.Lines[0].AgreedPriceFen != 500 {
		t.Fatalf("channels was asked %+v", r)
	}
	for _, c2 := range []struct {
		err  error
		want string
	}{
		{httpapi.Errorf(http.StatusUnprocessableEntity, channelsclient.CodeValidation, "line 1: unknown sku"),
			`{"errors":[{"code":"VALIDATION_FAILED","field":["input"]}],"plan":null}`},
		{httpapi.Errorf(http.StatusConflict, channelsclient.CodeIdempotencyReuse, "key used for another plan"),
			`{"errors":[{"code":"IDEMPOTENCY_KEY_REUSED","field":["idempotencyKey"]}],"plan":null}`},
	} {
		ch.err = c2.err
		data, errs = post(t, c, strings.Replace(createPlan, "%s", "plan-2", 1), sales)
		if len(errs) != 0 || jsonOf(data["createSalesPlan"]) != c2.want {
			t.Fatalf("%v: %s %+v, want %s", c2.err, jsonOf(data), errs, c2.want)
		}
	}
	ch.err = errors.New("channels: connection refused")
	if _, errs = post(t, c, strings.Replace(createPlan, "%s", "plan-3", 1), sales); len(errs) != 1 || codes(errs)[0] != "INTERNAL" ||
		strings.Contains(errs[0].Message, "connection refused") {
		t.Fatalf("channels down: %+v, want INTERNAL without the cause", errs)
	}
}

// Retrying a marketplace order names who retried it; one that cannot be
// retried is INVALID_STATE on id.
func TestRetryMarketplaceOrderThroughTheGateway(t *testing.T) {
	ch, c := channelsConsole(t)
	admin := as(t, "a1", auth.RoleAdmin)
	data, errs := post(t, c, `mutation { retryMarketplaceOrder(id: "m9") { order { id status } errors { code } } }`, admin)
	if len(errs) != 0 || jsonOf(data["retryMarketplaceOrder"]) != `{"errors":[],"order":{"id":"m9","status":"STAGED"}}` {
		t.Fatalf("retry: %s %+v", jsonOf(data), errs)
	}
	if ch.retries[0].By != "ADMIN:a1" {
		t.Fatalf("retried by %q", ch.retries[0].By)
	}
	ch.err = httpapi.Errorf(http.StatusConflict, channelsclient.CodeNotRetryable, "m9 is ORDERED")
	data, _ = post(t, c, `mutation { retryMarketplaceOrder(id: "m9") { order { id } errors { code field } } }`, admin)
	if got := jsonOf(data["retryMarketplaceOrder"]); got != `{"errors":[{"code":"INVALID_STATE","field":["id"]}],"order":null}` {
		t.Fatalf("not retryable: %s", got)
	}
}

// The queries: a lookup needs an id or the platform's order id; an
// unknown one is null; the page size is bounded before channels is asked.
func TestMarketplaceQueriesThroughTheGateway(t *testing.T) {
	ch, c := channelsConsole(t)
	sales := as(t, "s1", auth.RoleSales)
	_, errs := post(t, c, `{ marketplaceOrder(platform: YUEDIAN) { id } }`, sales)
	wantCode(t, errs, "BAD_USER_INPUT")
	if errs[0].Extensions["field"] != "id" {
		t.Fatalf("field %v", errs[0].Extensions["field"])
	}
	data, errs := post(t, c, `{ marketplaceOrder(platform: YUEDIAN, platformOrderId: "YD7") { id platformOrderId status } }`, sales)
	if len(errs) != 0 || jsonOf(data["marketplaceOrder"]) != `{"id":"m2","platformOrderId":"YD7","status":"STAGED"}` {
		t.Fatalf("by platform: %s %+v", jsonOf(data), errs)
	}
	ch.err = httpapi.Errorf(http.StatusNotFound, channelsclient.CodeNotFound, "no such order")
	for _, q := range []string{`{ marketplaceOrder(id: "m404") { id } }`, `{ salesPlan(id: "p404") { id } }`} {
		data, errs = post(t, c, q, sales)
		if len(errs) != 0 || jsonOf(data) != `{"marketplaceOrder":null}` && jsonOf(data) != `{"salesPlan":null}` {
			t.Fatalf("%s: %s %+v, want null", q, jsonOf(data), errs)
		}
	}
	ch.err = nil
	for _, first := range []string{"0", "201", "-1"} {
		_, errs = post(t, c, `{ marketplaceOrders(first: `+first+`) { id } }`, sales)
		wantCode(t, errs, "BAD_USER_INPUT")
	}
	data, errs = post(t, c, `{ marketplaceOrders(platform: YUEDIAN, status: ORDERED) { id orderId lines { platformSku qty unitPriceFen } } }`, sales)
	if len(errs) != 0 || jsonOf(data["marketplaceOrders"]) != `[{"id":"m1","lines":[{"platformSku":"Y-APPLE","qty":2,"unitPriceFen":600}],"orderId":"o1"}]` {
		t.Fatalf("list: %s %+v", jsonOf(data), errs)
	}
	if len(ch.firsts) != 1 || ch.firsts[0] != 50 {
		t.Fatalf("page sizes asked %v, want one of the default 50", ch.firsts)
	}
	if got := ch.asked(); got[len(got)-1] != "StagedOrders YUEDIAN ORDERED" {
		t.Fatalf("asked %v", got)
	}
}
