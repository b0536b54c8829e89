package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/gqlc"
)

const (
	qMarketOrder = `query($p:MarketplacePlatform,$o:String){ marketplaceOrder(platform:$p, platformOrderId:$o){ id status reasonCode reasonNote planId orderId way
		steps{ step note } statusUpdates{ status sentAt } } }`
	mSetMapping  = `mutation($p:MarketplacePlatform!,$ps:String!,$sku:ID!){ setSkuMapping(platform:$p, platformSku:$ps, sku:$sku){ mapping{ sku } errors{ code message } } }`
	mRetryMarket = `mutation($id:ID!){ retryMarketplaceOrder(id:$id){ order{ status } errors{ code message } } }`
	qSalesPlan   = `query($id:ID!){ salesPlan(id:$id){ id status source customerId agreedFen orderId settlementPeriod lines{ sku qty agreedPriceFen } } }`
	qOrderSource = `query($id:ID!){ order(id:$id){ id status source timeline{ type note } } }`
)

type marketOrder struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	ReasonCode    string `json:"reasonCode"`
	ReasonNote    string `json:"reasonNote"`
	PlanID        string `json:"planId"`
	OrderID       string `json:"orderId"`
	Way           string `json:"way"`
	StatusUpdates []struct {
		Status string     `json:"status"`
		SentAt *time.Time `json:"sentAt"`
	} `json:"statusUpdates"`
}

func marketplaceOrder(t *testing.T, c *gqlc.Client, platform, id string) *marketOrder {
	t.Helper()
	var out struct{ MarketplaceOrder *marketOrder }
	if err := c.Do(ctx(t), qMarketOrder, map[string]any{"p": platform, "o": id}, &out); err != nil {
		t.Fatal(err)
	}
	return out.MarketplaceOrder
}

func setMapping(t *testing.T, c *gqlc.Client, platform, psku, sku string) {
	t.Helper()
	var out struct {
		SetSkuMapping struct{ Errors []userError }
	}
	if err := c.Do(ctx(t), mSetMapping, map[string]any{"p": platform, "ps": psku, "sku": sku}, &out); err != nil || len(out.SetSkuMapping.Errors) > 0 {
		t.Fatalf("setSkuMapping: %v %+v", err, out.SetSkuMapping.Errors)
	}
}

// partners calls the stand-in's admin API on its app port.
func partners(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	resp, err := callApp("partners", method, path, "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("partners %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

// dispatchedOrder waits for Harvest order id to reach DISPATCHED (or
// beyond it) and checks it is a ToB order that never paid.
func dispatchedOrder(t *testing.T, c *gqlc.Client, id string) {
	t.Helper()
	var o struct {
		Status   string
		Source   string
		Timeline []struct{ Type, Note string }
	}
	eventually(t, 90*time.Second, "order "+id+" dispatched", func() (bool, error) {
		var out struct {
			Order *struct {
				Status   string
				Source   string
				Timeline []struct{ Type, Note string }
			}
		}
		if err := c.Do(ctx(t), qOrderSource, map[string]any{"id": id}, &out); err != nil || out.Order == nil {
			return false, err
		}
		o = *out.Order
		return slices.ContainsFunc(o.Timeline, func(e struct{ Type, Note string }) bool { return e.Type == "DISPATCHED" }), fmt.Errorf("status %s", o.Status)
	})
	if o.Source != "THIRD_PARTY" {
		t.Fatalf("order %s has source %s", id, o.Source)
	}
	for _, e := range o.Timeline {
		if e.Type == "PENDING_PAYMENT" {
			t.Fatalf("ToB order %s waited for payment: %+v", id, o.Timeline)
		}
	}
}

// statusesOf is what the platform stand-in received for its order.
func statusesOf(t *testing.T, platform, id string) map[string]int {
	t.Helper()
	var out struct{ Items []sim.MarketStatus }
	partners(t, http.MethodGet, "/admin/market/statuses?platform="+platform+"&order="+id, nil, &out)
	m := map[string]int{}
	for _, s := range out.Items {
		m[s.Status] = s.Deliveries
	}
	return m
}

// A Yuedian-like group buy pushes three orders (each twice at once and
// once more after); the good one becomes a sales plan, then a ToB Harvest
// order that reaches DISPATCHED, is delivered, and Yuedian hears ACCEPTED,
// SHIPPED and DELIVERED once each. The unmappable and the badly addressed
// ones are parked with their reasons; mapped and retried, the first flows.
func TestMarketplacePushBecomesAPlanThenADispatchedOrderAndThePlatformHearsEachStatusOnce(t *testing.T) {
	sales := client(t, "SALES", "s1")
	admin := client(t, "ADMIN", "admin")
	// The good order's SKU ships from WH-BJ, whose floor no other test
	// lays out; the others need only be in the catalog.
	const wh = "WH-BJ"
	good0 := zonedProducts(t, admin, wh, nil)[0]
	f := layout(t, wh, "CHN", []zoned{good0})
	f.receive("CHN-0", good0.SKU, 200)
	ps := plainProducts(t, admin, 2, 10)
	tag := strings.ToLower(ids.New()[18:])
	setMapping(t, sales, "YUEDIAN", "YD-"+good0.SKU, good0.SKU)
	good, unmapped, badPhone := "YDG-"+tag, "YDU-"+tag, "YDP-"+tag
	// Express today: the order goes to the warehouse at once (next-day
	// orders wait for the evening's effective time).
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	line := func(sku string) []sim.MarketLine { return []sim.MarketLine{{SKU: sku, Qty: 1, PriceFen: 3999}} }
	var rep sim.PushReport
	partners(t, http.MethodPost, "/admin/market/push", sim.PushRequest{Platform: "YUEDIAN", DuplicatePercent: 100, Orders: []sim.MarketOrder{
		{ID: good, Lines: line("YD-" + good0.SKU), SlotType: "EXPRESS", SlotDate: today}, {ID: unmapped, Lines: line("YD-" + ps[1].SKU)},
		{ID: badPhone, Lines: line("YD-" + ps[0].SKU), Phone: "555"}}}, &rep)
	if rep.Accepted != 3 || rep.Sent != 9 || rep.ByCode["200"] != 9 || rep.Mismatched != 0 {
		t.Fatalf("push report %+v", rep)
	}

	var mo *marketOrder
	eventually(t, 30*time.Second, good+" ordered", func() (bool, error) {
		mo = marketplaceOrder(t, sales, "YUEDIAN", good)
		return mo != nil && mo.Status == "ORDERED", fmt.Errorf("%+v", mo)
	})
	if mo.ID != rep.AcceptIDs[good] || mo.Way != "PUSH" {
		t.Fatalf("staged %+v, accept id %s", mo, rep.AcceptIDs[good])
	}
	var plan struct {
		SalesPlan struct {
			Status, Source, CustomerID, OrderID, SettlementPeriod string
			AgreedFen                                             int64
		}
	}
	if err := sales.Do(ctx(t), qSalesPlan, map[string]any{"id": mo.PlanID}, &plan); err != nil {
		t.Fatal(err)
	}
	if p := plan.SalesPlan; p.Status != "ORDERED" || p.Source != "MARKETPLACE" || p.CustomerID != "B-YUEDIAN" || p.AgreedFen != 3999 ||
		p.OrderID != mo.OrderID || p.SettlementPeriod != "MONTHLY" {
		t.Fatalf("sales plan %+v", p)
	}
	dispatchedOrder(t, admin, mo.OrderID)

	// The warehouse ships it, the courier delivers it.
	deliveryOrder, carrier := f.dispatched(admin, order{ID: mo.OrderID})
	listID, tasks := f.pickList(f.workOrders(deliveryOrder, 1))
	if !f.pickAll(tasks) {
		t.Fatal("the last scan did not finish the pick list")
	}
	f.qcAndPack(listID)
	batch, _ := f.handOver(carrier, mo.OrderID)
	imported(t, batch)
	waitStatus(t, admin, mo.OrderID, "COMPLETED", 90*time.Second)
	eventually(t, 30*time.Second, "Yuedian told of "+good, func() (bool, error) {
		got := statusesOf(t, "YUEDIAN", good)
		return len(got) == 3, fmt.Errorf("%v", got)
	})
	time.Sleep(2 * time.Second) // a late resend would show now
	if got := statusesOf(t, "YUEDIAN", good); got["ACCEPTED"] != 1 || got["SHIPPED"] != 1 || got["DELIVERED"] != 1 || len(got) != 3 {
		t.Fatalf("Yuedian received %v, want ACCEPTED, SHIPPED, DELIVERED once each", got)
	}
	mo = marketplaceOrder(t, sales, "YUEDIAN", good)
	for _, u := range mo.StatusUpdates {
		if u.SentAt == nil {
			t.Fatalf("status %s not marked sent: %+v", u.Status, mo.StatusUpdates)
		}
	}

	for _, c := range []struct{ id, code, note string }{{unmapped, "UNKNOWN_SKU_MAPPING", "YD-" + ps[1].SKU}, {badPhone, "BAD_ADDRESS", "receiver.phone"}} {
		eventually(t, 30*time.Second, c.id+" parked", func() (bool, error) {
			mo = marketplaceOrder(t, sales, "YUEDIAN", c.id)
			return mo != nil && mo.Status == "PARKED", fmt.Errorf("%+v", mo)
		})
		if mo.ReasonCode != c.code || !strings.Contains(mo.ReasonNote, c.note) {
			t.Fatalf("%s parked with %s %q, want %s about %s", c.id, mo.ReasonCode, mo.ReasonNote, c.code, c.note)
		}
	}
	setMapping(t, sales, "YUEDIAN", "YD-"+ps[1].SKU, ps[1].SKU)
	var retried struct {
		RetryMarketplaceOrder struct {
			Order  *struct{ Status string }
			Errors []userError
		}
	}
	mo = marketplaceOrder(t, sales, "YUEDIAN", unmapped)
	if err := sales.Do(ctx(t), mRetryMarket, map[string]any{"id": mo.ID}, &retried); err != nil || len(retried.RetryMarketplaceOrder.Errors) > 0 {
		t.Fatalf("retry: %v %+v", err, retried)
	}
	eventually(t, 30*time.Second, unmapped+" ordered after the retry", func() (bool, error) {
		mo = marketplaceOrder(t, sales, "YUEDIAN", unmapped)
		return mo.Status == "ORDERED", fmt.Errorf("%+v", mo)
	})
	// A customer may not see any of it.
	var denied struct{ MarketplaceOrder *marketOrder }
	if err := client(t, "CUSTOMER", "C0001").Do(ctx(t), qMarketOrder, map[string]any{"p": "YUEDIAN", "o": good}, &denied); err == nil || denied.MarketplaceOrder != nil {
		t.Fatalf("a customer read a marketplace order: %v %+v", err, denied)
	}
}

// The Douyin-like shop's orders are pulled page by page (5 a page in the
// test stack); channels dies after fetching the second page of its first
// pull with orders, before storing it with its cursor
// (HARVEST_CHANNELS_FAULTS). Restarted, it pulls on from its cursor:
// every order staged once, none missed, each becoming a Harvest order.
func TestDouyinPullKilledBetweenFetchingAPageAndSavingItsCursorLosesAndDoublesNothing(t *testing.T) {
	sales := client(t, "SALES", "s2")
	admin := client(t, "ADMIN", "admin")
	ps := plainProducts(t, admin, 1, 12)
	setMapping(t, sales, "DOUYIN", "DY-"+ps[0].SKU, ps[0].SKU)
	tag := strings.ToLower(ids.New()[18:])
	var orders []sim.MarketOrder
	for i := range 12 {
		orders = append(orders, sim.MarketOrder{ID: fmt.Sprintf("DY-%s-%02d", tag, i), Lines: []sim.MarketLine{{SKU: "DY-" + ps[0].SKU, Qty: 1, PriceFen: 2500}},
			SlotType: "EXPRESS", SlotDate: time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)})
	}
	partners(t, http.MethodPost, "/admin/market/douyin/orders", sim.DouyinAdd{Orders: orders}, nil)
	eventually(t, 60*time.Second, "channels crashed mid-pull", func() (bool, error) {
		_, err := os.Stat(channelsCrashFile)
		return err == nil, err
	})
	// An order updated earlier, shown by the shop's search only now: behind
	// the cursor, within the overlap.
	late := sim.MarketOrder{ID: "DY-" + tag + "-late", UpdatedAgo: 30 * time.Second, Lines: orders[0].Lines}
	partners(t, http.MethodPost, "/admin/market/douyin/orders", sim.DouyinAdd{Orders: []sim.MarketOrder{late}}, nil)
	orders = append(orders, late)
	if err := st.Restart(ctx(t), "channels"); err != nil {
		t.Fatal(err)
	}
	db, err := sqltx.Open(ctx(t), st.DSN("channels"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q, "DY-"+tag+"-%").Scan(&n); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		return n
	}
	eventually(t, 60*time.Second, "every pulled order ordered", func() (bool, error) {
		n := count(`SELECT COUNT(*) FROM staging_process WHERE platform_order_id LIKE ? AND status='ORDERED'`)
		return n == len(orders), fmt.Errorf("%d of %d ordered", n, len(orders))
	})
	if n := count(`SELECT COUNT(*) FROM staging_process WHERE platform_order_id LIKE ?`); n != len(orders) {
		t.Fatalf("%d staged rows for %d orders", n, len(orders))
	}
	if n := count(`SELECT COUNT(DISTINCT p.order_id) FROM staging_process p JOIN sales_plans s ON s.process_id=p.id WHERE p.platform_order_id LIKE ?`); n != len(orders) {
		t.Fatalf("%d Harvest orders for %d pulled orders", n, len(orders))
	}
	mo := marketplaceOrder(t, sales, "DOUYIN", orders[3].ID)
	if mo.Way != "PULL" {
		t.Fatalf("%+v", mo)
	}
	dispatchedOrder(t, admin, mo.OrderID)
	eventually(t, 60*time.Second, "Douyin told of "+orders[3].ID, func() (bool, error) {
		got := statusesOf(t, "DOUYIN", orders[3].ID)
		return got["ACCEPTED"] == 1, fmt.Errorf("%v", got)
	})
}

// Through the real stack, on channels' public port: a forged signature, a
// stale timestamp and a replayed request are refused in Yuedian's own
// codes and write nothing; twenty pushes of one order at the same moment
// (new nonces, as a platform's retries) all get the first answer; the
// stand-in's malformed bodies are refused.
func TestMarketplacePushRefusesForgeriesAndAnswersRepeatsWithTheFirstAnswer(t *testing.T) {
	sales := client(t, "SALES", "s3")
	url := "http://" + st.PublicAddr("channels") + platforms.PushPathYuedian
	k := platforms.DevKeys[platforms.Yuedian]
	tag := strings.ToLower(ids.New()[18:])
	o := platforms.Order{PlatformOrderID: "YDR-" + tag, ShopID: "S1", TotalFen: 100, PlatformTime: time.Now(),
		Receiver: platforms.Receiver{Name: "Li", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1"},
		SlotType: platforms.SlotNextDay, SlotDate: time.Now().AddDate(0, 0, 1).Format(time.DateOnly), Lines: []platforms.Line{{PlatformSKU: "YD-X", Qty: 1, UnitPriceFen: 100}}}
	body := platforms.YuedianOrderBody(o)
	send := func(k platforms.Keys, at time.Time, reuse http.Header) (int, platforms.YuedianAnswer, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		platforms.SignYuedianRequest(req, k, at, body)
		if reuse != nil {
			req.Header = reuse.Clone()
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a platforms.YuedianAnswer
		_ = json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a, req.Header
	}
	if code, a, _ := send(platforms.Keys{AppKey: k.AppKey, Secret: "forged-forged-forged"}, time.Now(), nil); code != 401 || a.Code != platforms.YdBadSign {
		t.Fatalf("forged: %d %+v", code, a)
	}
	if code, a, _ := send(k, time.Now().Add(-10*time.Minute), nil); code != 401 || a.Code != platforms.YdStale {
		t.Fatalf("stale: %d %+v", code, a)
	}
	if mo := marketplaceOrder(t, sales, "YUEDIAN", o.PlatformOrderID); mo != nil {
		t.Fatalf("a refused push was staged: %+v", mo)
	}
	code, first, signed := send(k, time.Now(), nil)
	if code != 200 || first.Data == nil {
		t.Fatalf("signed push: %d %+v", code, first)
	}
	if code, a, _ := send(k, time.Now(), signed); code != 409 || a.Code != platforms.YdReplayed {
		t.Fatalf("replayed: %d %+v", code, a)
	}
	var wg sync.WaitGroup
	answers := make([]string, 20)
	for i := range answers {
		wg.Go(func() {
			if code, a, _ := send(k, time.Now(), nil); code == 200 && a.Data != nil {
				answers[i] = a.Data.AcceptID
			}
		})
	}
	wg.Wait()
	for i, id := range answers {
		if id != first.Data.AcceptID {
			t.Fatalf("concurrent repeat %d answered %q, first %q", i, id, first.Data.AcceptID)
		}
	}
	var rep sim.PushReport
	partners(t, http.MethodPost, "/admin/market/push", sim.PushRequest{Platform: "MEITUAN", Count: 5, Prefix: "MTB-" + tag + "-",
		SKUs: []sim.MarketLine{{SKU: "MT-X", PriceFen: 100}}, MalformedPercent: 100}, &rep)
	if rep.Sent != 5 || rep.ByCode["400"] != 5 {
		t.Fatalf("malformed pushes: %+v", rep)
	}
	db, err := sqltx.Open(ctx(t), st.DSN("channels"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM staging_process WHERE platform_order_id=? OR platform_order_id LIKE ?`, o.PlatformOrderID, "MTB-"+tag+"-%").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d staged rows, want the one order (%v)", n, err)
	}
}

// An Ele.me-like push (its signed envelope, pushed three times: at once
// twice and once after) and a Youzan-like pulled order (behind an access
// token, newest first, on a clock 75 s behind and an index 2 s late) each
// become a sales plan, then a ToB Harvest order that reaches DISPATCHED;
// each platform hears ACCEPTED once.
func TestElemePushAndYouzanPullEachBecomeAPlanThenADispatchedOrderAndThePlatformHearsEachStatusOnce(t *testing.T) {
	sales := client(t, "SALES", "s4")
	admin := client(t, "ADMIN", "admin")
	ps := plainProducts(t, admin, 2, 10)
	setMapping(t, sales, "ELEME", "EL-"+ps[0].SKU, ps[0].SKU)
	setMapping(t, sales, "YOUZAN", "YZ-"+ps[1].SKU, ps[1].SKU)
	tag := strings.ToLower(ids.New()[18:])
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	el, yz := "EL-"+tag, "YZ-"+tag
	var rep sim.PushReport
	partners(t, http.MethodPost, "/admin/market/push", sim.PushRequest{Platform: "ELEME", DuplicatePercent: 100, Orders: []sim.MarketOrder{
		{ID: el, Lines: []sim.MarketLine{{SKU: "EL-" + ps[0].SKU, Qty: 1, PriceFen: 1999}}, SlotType: "EXPRESS", SlotDate: today}}}, &rep)
	if rep.Accepted != 1 || rep.Sent != 3 || rep.ByCode["200"] != 3 || rep.Mismatched != 0 || rep.TimedOut != 0 {
		t.Fatalf("Ele.me push report %+v", rep)
	}
	partners(t, http.MethodPost, "/admin/market/youzan/orders", sim.YouzanAdd{Orders: []sim.MarketOrder{
		{ID: yz, Lines: []sim.MarketLine{{SKU: "YZ-" + ps[1].SKU, Qty: 2, PriceFen: 850}}, SlotType: "EXPRESS", SlotDate: today}}}, nil)

	for _, c := range []struct{ platform, id, way string }{{"ELEME", el, "PUSH"}, {"YOUZAN", yz, "PULL"}} {
		var mo *marketOrder
		eventually(t, 60*time.Second, c.id+" ordered", func() (bool, error) {
			mo = marketplaceOrder(t, sales, c.platform, c.id)
			return mo != nil && mo.Status == "ORDERED", fmt.Errorf("%+v", mo)
		})
		if mo.Way != c.way || mo.PlanID == "" || (c.platform == "ELEME" && mo.ID != rep.AcceptIDs[el]) {
			t.Fatalf("%s staged %+v (accept ids %v)", c.platform, mo, rep.AcceptIDs)
		}
		var plan struct {
			SalesPlan struct{ Status, Source, CustomerID, OrderID string }
		}
		if err := sales.Do(ctx(t), qSalesPlan, map[string]any{"id": mo.PlanID}, &plan); err != nil {
			t.Fatal(err)
		}
		if p := plan.SalesPlan; p.Status != "ORDERED" || p.Source != "MARKETPLACE" || p.CustomerID != "B-"+c.platform || p.OrderID != mo.OrderID {
			t.Fatalf("%s sales plan %+v", c.platform, p)
		}
		dispatchedOrder(t, admin, mo.OrderID)
		eventually(t, 60*time.Second, c.platform+" told of "+c.id, func() (bool, error) {
			got := statusesOf(t, c.platform, c.id)
			return got["ACCEPTED"] == 1, fmt.Errorf("%v", got)
		})
	}
	time.Sleep(3 * time.Second) // a late resend, or the next pulls taking the order again, would show now
	for _, c := range []struct{ platform, id string }{{"ELEME", el}, {"YOUZAN", yz}} {
		if got := statusesOf(t, c.platform, c.id); got["ACCEPTED"] != 1 || len(got) != 1 {
			t.Fatalf("%s received %v, want ACCEPTED once", c.platform, got)
		}
	}
	db, err := sqltx.Open(ctx(t), st.DSN("channels"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM staging_process WHERE platform_order_id IN (?,?)`, el, yz).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d staged rows, want one per order (%v)", n, err)
	}
}
