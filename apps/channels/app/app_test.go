package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// fakeOMS is OMS's accept-order API as channels sees it: it records every
// call and refuses what refuse says.
type fakeOMS struct {
	mu     sync.Mutex
	calls  []omsclient.PlaceOrderRequest
	refuse func(r omsclient.PlaceOrderRequest) error
}

func (f *fakeOMS) PlaceOrder(_ context.Context, r omsclient.PlaceOrderRequest) (omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r)
	if f.refuse != nil {
		if err := f.refuse(r); err != nil {
			return omsclient.Order{}, err
		}
	}
	return omsclient.Order{ID: "O-" + r.IdempotencyKey, Status: omsclient.StatusPaid, ToB: true}, nil
}

type fakeCatalog map[string]int64

func (c fakeCatalog) CatalogEntries(_ context.Context, skus []string) ([]inventoryclient.Product, error) {
	var out []inventoryclient.Product
	for _, s := range skus {
		if p, ok := c[s]; ok {
			out = append(out, inventoryclient.Product{SKU: s, PriceFen: money.Fen(p)})
		}
	}
	return out, nil
}

// platformAPI stands in for the platforms' own APIs: it checks every
// status call's signature as the platform would and counts each.
type platformAPI struct {
	mu       sync.Mutex
	statuses map[string]int // platform/order/status → calls
	fail     bool
	douyin   *douyinShop
	youzan   *youzanShop
}

func (p *platformAPI) InvokeRaw(_ context.Context, appID, method, path string, header map[string]string, body []byte) (int, []byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, _ := url.Parse("/" + path)
	if method == http.MethodGet && u.Path == platforms.PullPathDouyin {
		return p.douyin.search(u.Query())
	}
	if u.Path == platforms.TokenPathYouzan || u.Path == platforms.PullPathYouzan {
		return p.youzan.serve(u, body)
	}
	for _, pl := range platforms.Names {
		sp := map[string]string{platforms.Yuedian: platforms.StatusPathYuedian, platforms.Meituan: platforms.StatusPathMeituan, platforms.Douyin: platforms.StatusPathDouyin,
			platforms.Eleme: platforms.StatusPathEleme, platforms.Youzan: platforms.StatusPathYouzan}[pl]
		if u.Path != sp {
			continue
		}
		if p.fail {
			return 503, []byte(`busy`), nil
		}
		st, err := platforms.ParseStatus(pl, u.Path, u.Query(), func(h string) string { return header[h] }, body, platforms.DevKeys[pl], time.Now(), time.Minute)
		if err != nil {
			return 401, []byte(`{"code":40101,"message":"` + err.Error() + `"}`), nil
		}
		if pl == platforms.Youzan && !p.youzan.valid(st.Token) {
			return 200, []byte(`{"success":false,"code":4201,"message":"access_token invalid"}`), nil
		}
		if p.statuses == nil {
			p.statuses = map[string]int{}
		}
		p.statuses[pl+"/"+st.PlatformOrderID+"/"+st.Status]++
		switch pl {
		case platforms.Yuedian:
			return 200, []byte(`{"code":0,"message":"ok"}`), nil
		case platforms.Meituan:
			return 200, []byte(`{"data":"ok"}`), nil
		case platforms.Eleme:
			return 200, []byte(`{"id":"x","result":true,"error":null}`), nil
		case platforms.Youzan:
			return 200, []byte(`{"success":true,"code":200,"message":"successful"}`), nil
		}
		return 200, []byte(`{"err_no":0}`), nil
	}
	return 404, nil, fmt.Errorf("no route %s %s", method, path)
}

type harness struct {
	svc *app.Service
	st  *store.Store
	oms *fakeOMS
	api *platformAPI
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessAt(t, nil)
}

// newHarnessAt is newHarness on clk (nil: the system's).
func newHarnessAt(t *testing.T, clk clock.Clock) *harness {
	t.Helper()
	db, _ := testdb.New(t, "channels")
	rdb, prefix := testdb.Redis(t)
	h := &harness{st: store.New(db), oms: &fakeOMS{}, api: &platformAPI{douyin: &douyinShop{}, youzan: &youzanShop{}}}
	ep := map[string]string{}
	for _, p := range platforms.Names {
		ep[p] = "partners"
	}
	h.svc = app.New(app.Deps{Store: h.st, Orders: h.oms, Catalog: fakeCatalog{"SKU-00010": 5750, "SKU-00011": 1200}, Outside: h.api,
		Nonces: app.NewNonceStore(rdb, prefix), Keys: platforms.DevKeys, PlatformApp: ep, PullPage: 5, PullOverlap: time.Minute, Clock: clk})
	for _, m := range [][2]string{{"YD-00010", "SKU-00010"}, {"YD-00011", "SKU-00011"}, {"DY-00010", "SKU-00010"}, {"EL-00010", "SKU-00010"}, {"YZ-00010", "SKU-00010"}} {
		pl := map[string]string{"YD": platforms.Yuedian, "DY": platforms.Douyin, "EL": platforms.Eleme, "YZ": platforms.Youzan}[m[0][:2]]
		if err := h.svc.SetMapping(context.Background(), pl, m[0], m[1], "test"); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func order(id string) platforms.Order {
	return platforms.Order{Platform: platforms.Yuedian, PlatformOrderID: id, ShopID: "S1", TotalFen: 11500, PlatformTime: time.Now().UTC().Truncate(time.Second),
		Receiver: platforms.Receiver{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"},
		SlotType: platforms.SlotNextDay, SlotDate: time.Now().In(platforms.Shanghai).AddDate(0, 0, 1).Format(time.DateOnly),
		Lines: []platforms.Line{{PlatformSKU: "YD-00010", Qty: 2, UnitPriceFen: 5000}}, Raw: []byte(`{}`)}
}

func (h *harness) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := h.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// named is how often each id is named by the outbox's messages of topic;
// an id named twice fails the test.
func (h *harness) named(t *testing.T, topic string) map[string]int {
	t.Helper()
	rows, err := h.st.DB().Query(`SELECT payload FROM outbox WHERE topic=?`, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		list, err := events.IDsOf(topic, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range list {
			if out[id]++; out[id] > 1 {
				t.Fatalf("%s named twice by %s", id, topic)
			}
		}
	}
	return out
}

func (h *harness) accept(t *testing.T, o platforms.Order) string {
	t.Helper()
	a, err := h.svc.Accept(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func TestPlanningParksUnmappableOrdersWithTheirReasonWhileTheBatchFlows(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	good := h.accept(t, order("YD-GOOD"))
	unknown := order("YD-UNKNOWN")
	unknown.Lines = append(unknown.Lines, platforms.Line{PlatformSKU: "YD-NOPE", Qty: 1, UnitPriceFen: 100})
	badPhone := order("YD-PHONE")
	badPhone.Receiver.Phone = "12345"
	noDistrict := order("YD-DISTRICT")
	noDistrict.Receiver.District = " "
	past := order("YD-PAST")
	past.SlotDate = "2020-01-01"
	ids := []string{good, h.accept(t, unknown), h.accept(t, badPhone), h.accept(t, noDistrict), h.accept(t, past)}
	for i, err := range h.svc.PlanAll(ctx, ids) {
		if err != nil {
			t.Fatalf("plan %d: %v", i, err)
		}
	}
	want := []struct{ status, code, note string }{
		{domain.StagePlanned, "", ""},
		{domain.StageParked, domain.ReasonUnknownMapping, "lines[1].sku: YUEDIAN SKU YD-NOPE has no Harvest SKU"},
		{domain.StageParked, domain.ReasonBadAddress, "receiver.phone"},
		{domain.StageParked, domain.ReasonBadAddress, "receiver.district is empty"},
		{domain.StageParked, domain.ReasonBadSlot, "2020-01-01 is before today"},
	}
	for i, id := range ids {
		x, err := h.svc.Staged(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != want[i].status || x.ReasonCode != want[i].code || !strings.Contains(x.ReasonNote, want[i].note) {
			t.Errorf("%s: %s %s %q, want %+v", x.Order.PlatformOrderID, x.Status, x.ReasonCode, x.ReasonNote, want[i])
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM sales_plans`); n != 1 {
		t.Fatalf("%d plans, want 1", n)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM outbox WHERE topic='channels.plan.created'`); n != 1 {
		t.Fatalf("%d plan messages, want 1", n)
	}
	// A redelivery of the whole bulk changes nothing.
	h.svc.PlanAll(ctx, ids)
	if n := h.count(t, `SELECT COUNT(*) FROM sales_plans`); n != 1 {
		t.Fatalf("redelivery: %d plans", n)
	}
	// The plan keeps the platform's price and maps the SKU.
	x, _ := h.svc.Staged(ctx, good)
	p, err := h.svc.Plan(ctx, x.PlanID)
	if err != nil || p.CustomerID != "B-YUEDIAN" || p.Lines[0].SKU != "SKU-00010" || p.Lines[0].AgreedPriceFen != 5000 || p.AgreedFen() != 10000 {
		t.Fatalf("plan %+v %v", p, err)
	}
	// The operator maps the SKU and retries: the order is planned.
	if _, err := h.svc.Retry(ctx, good, "ops"); !errors.Is(err, domain.ErrNotRetryable) {
		t.Fatalf("retry of a planned order: %v", err)
	}
	if err := h.svc.SetMapping(ctx, platforms.Yuedian, "YD-NOPE", "SKU-00011", "ops"); err != nil {
		t.Fatal(err)
	}
	if x, err := h.svc.Retry(ctx, ids[1], "ops"); err != nil || x.Status != domain.StageReceived {
		t.Fatalf("retry: %+v %v", x, err)
	}
	h.svc.PlanAll(ctx, ids[1:2])
	if x, _ := h.svc.Staged(ctx, ids[1]); x.Status != domain.StagePlanned || x.ReasonCode != "" {
		t.Fatalf("after retry: %s %s", x.Status, x.ReasonCode)
	}
}

func TestPlanBecomesOneToBOrderAndItsPlatformHearsOfEachStatusOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := h.accept(t, order("YD-ORDER"))
	h.svc.PlanAll(ctx, []string{id})
	x, _ := h.svc.Staged(ctx, id)

	// OMS refuses first (out of stock): FAILED with OMS's code, retryable.
	h.oms.refuse = func(omsclient.PlaceOrderRequest) error {
		return httpapi.Errorf(409, omsclient.CodeOutOfStock, "out of stock").With(map[string]any{"skus": []string{"SKU-00010"}})
	}
	if err := h.svc.Order(ctx, x.PlanID); err != nil {
		t.Fatal(err)
	}
	if x, _ = h.svc.Staged(ctx, id); x.Status != domain.StageFailed || x.ReasonCode != omsclient.CodeOutOfStock || !strings.Contains(x.ReasonNote, "SKU-00010") {
		t.Fatalf("after OMS's refusal: %s %s %q", x.Status, x.ReasonCode, x.ReasonNote)
	}
	// A passing fault is returned for the broker to redeliver.
	h.oms.refuse = func(omsclient.PlaceOrderRequest) error { return errors.New("connection reset") }
	if _, err := h.svc.Retry(ctx, id, "ops"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Order(ctx, x.PlanID); err == nil {
		t.Fatal("a passing fault was swallowed")
	}
	h.oms.refuse = nil
	for range 2 { // the redelivery, then a duplicate
		if err := h.svc.Order(ctx, x.PlanID); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.oms.calls) != 3 {
		t.Fatalf("%d accept-order calls, want 3 (refused, fault, made)", len(h.oms.calls))
	}
	c := h.oms.calls[2]
	if c.Source != omsclient.SourceThirdParty || c.IdempotencyKey != "plan-"+x.PlanID || c.CustomerID != "B-YUEDIAN" ||
		c.Lines[0].UnitPriceFen != 5750 || c.Lines[0].SKU != "SKU-00010" || len(c.DeductionIDs) != 0 {
		t.Fatalf("accept-order call %+v", c)
	}
	for _, k := range h.oms.calls {
		if k.IdempotencyKey != c.IdempotencyKey {
			t.Fatalf("retries used key %s and %s", k.IdempotencyKey, c.IdempotencyKey)
		}
	}
	x, _ = h.svc.Staged(ctx, id)
	if x.Status != domain.StageOrdered || x.OrderID != "O-plan-"+x.PlanID {
		t.Fatalf("staged %s %s", x.Status, x.OrderID)
	}

	// OMS's events, each redelivered, and a second message of one change.
	for _, ev := range []struct{ consumer, msg, status string }{
		{"channels.oms.order.shipped", "m1", "SHIPPED"}, {"channels.oms.order.shipped", "m1", "SHIPPED"},
		{"channels.oms.order.shipped", "m1b", "SHIPPED"}, {"channels.oms.order.completed", "m2", "COMPLETED"},
		{"channels.oms.order.completed", "m2", "COMPLETED"},
	} {
		if err := h.svc.OrderStatus(ctx, ev.consumer, ev.msg, x.OrderID, ev.status); err != nil {
			t.Fatal(err)
		}
	}
	// An order channels did not make is none of its business.
	if err := h.svc.OrderStatus(ctx, "channels.oms.order.shipped", "m3", "O-OTHER", "SHIPPED"); err != nil {
		t.Fatal(err)
	}
	ups, _ := h.svc.StatusUpdates(ctx, id)
	if len(ups) != 3 {
		t.Fatalf("%d statuses queued, want ACCEPTED, SHIPPED, DELIVERED", len(ups))
	}
	h.api.fail = true
	if err := h.svc.SendStatus(ctx, ups[0].ID); err == nil {
		t.Fatal("a failing platform API was taken for sent")
	}
	h.api.fail = false
	for _, u := range ups {
		for range 2 {
			if err := h.svc.SendStatus(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, st := range []string{"ACCEPTED", "SHIPPED", "DELIVERED"} {
		if n := h.api.statuses["YUEDIAN/YD-ORDER/"+st]; n != 1 {
			t.Errorf("the platform heard %s %d times", st, n)
		}
	}
}

func TestStaffPlanIsValidatedAndIdempotentByKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tomorrow := time.Now().In(platforms.Shanghai).AddDate(0, 0, 1).Format(time.DateOnly)
	in := app.PlanInput{IdempotencyKey: "k1", By: "SALES:s1", Plan: domain.Plan{CustomerID: "B-ACME", Period: domain.PeriodQuarterly,
		Receiver: order("x").Receiver, SlotType: platforms.SlotNextDay, SlotDate: tomorrow,
		Lines: []domain.PlanLine{{SKU: "SKU-00010", Qty: 10, AgreedPriceFen: 5000}}}}
	bad := in
	bad.Plan.Period = "WEEKLY"
	if _, err := h.svc.CreatePlan(ctx, bad); !errors.Is(err, domain.ErrValidation) || !strings.Contains(err.Error(), "settlementPeriod") {
		t.Fatalf("weekly period: %v", err)
	}
	p1, err := h.svc.CreatePlan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := h.svc.CreatePlan(ctx, in)
	if err != nil || p2.ID != p1.ID {
		t.Fatalf("same key: %v %v", p2, err)
	}
	other := in
	other.Plan.Lines = []domain.PlanLine{{SKU: "SKU-00010", Qty: 11, AgreedPriceFen: 5000}}
	if _, err := h.svc.CreatePlan(ctx, other); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("same key, other plan: %v", err)
	}
	if err := h.svc.Order(ctx, p1.ID); err != nil {
		t.Fatal(err)
	}
	if c := h.oms.calls[0]; c.Source != omsclient.SourceSalesPlan || c.CustomerID != "B-ACME" || c.Lines[0].Qty != 10 {
		t.Fatalf("accept-order call %+v", c)
	}
	if p, _ := h.svc.Plan(ctx, p1.ID); p.Status != domain.PlanOrdered || p.OrderID == "" {
		t.Fatalf("plan %+v", p)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM status_updates`); n != 0 {
		t.Fatalf("a staff plan queued %d platform statuses", n)
	}
}
