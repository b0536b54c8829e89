package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// youzanShop is a Youzan-like shop: access tokens it issues and may
// forget, a search over [update_time_start, update_time_end] (both ends,
// to the second, Beijing time) newest first by page number from 1, an
// index that shows some orders late, and pages that fail when told.
type youzanShop struct {
	orders   []shopOrder
	issued   map[string]bool
	tokens   int
	calls    int         // search calls
	failCall int         // this search call answers 503
	onCall   func(n int) // runs before search call n is answered
}

func (y *youzanShop) valid(tok string) bool { return y.issued[tok] }

// forget drops every token (they expired on the shop's clock).
func (y *youzanShop) forget() { y.issued = map[string]bool{} }

func (y *youzanShop) serve(u *url.URL, body []byte) (int, []byte, error) {
	k := platforms.DevKeys[platforms.Youzan]
	if u.Path == platforms.TokenPathYouzan {
		var r platforms.YouzanTokenRequest
		if json.Unmarshal(body, &r) != nil || r.ClientID != k.AppKey || r.ClientSecret != k.Secret {
			return 200, []byte(`{"success":false,"code":4202,"message":"bad client"}`), nil
		}
		y.tokens++
		if y.issued == nil {
			y.issued = map[string]bool{}
		}
		tok := "tok-" + strconv.Itoa(y.tokens)
		y.issued[tok] = true
		var t platforms.YouzanToken
		t.Success, t.Code, t.Data.AccessToken, t.Data.Expires = true, 200, tok, time.Now().Add(7*24*time.Hour).UnixMilli()
		b, _ := json.Marshal(t)
		return 200, b, nil
	}
	y.calls++
	if y.onCall != nil {
		y.onCall(y.calls)
	}
	if y.calls == y.failCall {
		return 503, []byte(`upstream busy`), nil
	}
	q := u.Query()
	if !y.valid(q.Get("access_token")) {
		return 200, []byte(`{"success":false,"code":4201,"message":"access_token invalid"}`), nil
	}
	start, err1 := platforms.ParseYouzanTime(q.Get("update_time_start"))
	end, err2 := platforms.ParseYouzanTime(q.Get("update_time_end"))
	page, _ := strconv.Atoi(q.Get("page_no"))
	size, _ := strconv.Atoi(q.Get("page_size"))
	if err1 != nil || err2 != nil || page < 1 || size < 1 || size > platforms.YouzanMaxPage {
		return 200, []byte(`{"success":false,"code":4001,"message":"bad parameters"}`), nil
	}
	if page*size > platforms.YouzanMaxDepth {
		return 200, []byte(`{"success":false,"code":4301,"message":"too deep"}`), nil
	}
	var hit []platforms.Order
	for _, s := range y.orders {
		if t := s.o.PlatformTime; s.visible && !t.Before(start) && !t.After(end) {
			hit = append(hit, s.o)
		}
	}
	slices.SortStableFunc(hit, func(a, b platforms.Order) int { // newest first, then tid descending
		if c := b.PlatformTime.Compare(a.PlatformTime); c != 0 {
			return c
		}
		if a.PlatformOrderID > b.PlatformOrderID {
			return -1
		}
		return 1
	})
	var p platforms.YouzanPage
	p.Success, p.Code, p.Data.TotalResults = true, 200, len(hit)
	p.Data.FullOrderInfoList = []platforms.YouzanTrade{}
	for i := (page - 1) * size; i < len(hit) && i < page*size; i++ {
		p.Data.FullOrderInfoList = append(p.Data.FullOrderInfoList, platforms.ToYouzan(hit[i], hit[i].PlatformTime.Add(-time.Hour)))
	}
	b, _ := json.Marshal(p)
	return 200, b, nil
}

func (y *youzanShop) index(id string) int {
	return slices.IndexFunc(y.orders, func(s shopOrder) bool { return s.o.PlatformOrderID == id })
}

// The shop's clock runs four minutes behind Harvest's. Run 1 dies after
// fetching its third page, before storing it; its token expires in the
// middle. Run 2 resumes the walk where run 1 stored it; one of its pages
// fails and it stops there; while it walks, an order not yet read is
// updated (it leaves for the top, above the walk) and another is indexed
// late. Runs 3 and 4 take the rest. Every order is staged once, with one
// message each, and the cursor is the newest update time on the shop's
// clock.
func TestYouzanPullKilledBetweenFetchingAPageAndSavingItsCursorLosesAndDoublesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	shop := h.api.youzan
	base := time.Now().UTC().Add(-4 * time.Minute).Truncate(time.Second)
	add := func(id string, at time.Time, visible bool) {
		o := order(id)
		o.Platform, o.PlatformTime, o.Lines = platforms.Youzan, at, []platforms.Line{{PlatformSKU: "YZ-00010", Qty: 1, UnitPriceFen: 5000}}
		shop.orders = append(shop.orders, shopOrder{o: o, visible: visible})
	}
	for i := range 14 {
		add(fmt.Sprintf("YZ-%03d", i), base.Add(time.Duration(2*i-40)*time.Second), true)
	}
	for i := range 7 { // more orders of one second than a page holds
		add(fmt.Sprintf("YZ-TIE-%d", i), base.Add(-21*time.Second), true)
	}
	add("YZ-LATE", base.Add(-25*time.Second), false)

	kill := errors.New("killed")
	db := h.st.DB()
	rdb, prefix := testdb.Redis(t)
	dying := app.New(app.Deps{Store: store.New(db), Outside: h.api, Nonces: app.NewNonceStore(rdb, prefix), Keys: platforms.DevKeys,
		PlatformApp: map[string]string{platforms.Youzan: "partners"}, PullPage: 5, PullOverlap: time.Minute,
		AfterFetch: func(_ string, page int) error {
			if page == 3 {
				return kill
			}
			return nil
		}})
	shop.onCall = func(n int) {
		if n == 2 {
			shop.forget() // the token expired on the shop's clock
		}
	}
	if _, err := dying.Pull(ctx, platforms.Youzan); !errors.Is(err, kill) {
		t.Fatalf("run 1: %v", err)
	}
	if shop.tokens != 2 {
		t.Fatalf("%d tokens asked, want the first and one after it expired", shop.tokens)
	}
	taken := h.count(t, `SELECT COUNT(*) FROM staging_process`)
	if taken == 0 || taken >= len(shop.orders) {
		t.Fatalf("run 1 stored %d orders before dying", taken)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM pull_cursors WHERE platform='YOUZAN' AND walk_end IS NOT NULL`); n != 1 {
		t.Fatal("run 1 left no walk in progress to resume")
	}

	// Run 2: a new process. Its second search fails; before its first is
	// answered, the oldest order (not read yet) is updated, and the late
	// one is indexed.
	shop.calls, shop.failCall = 0, 2
	shop.onCall = func(n int) {
		if n == 1 {
			shop.orders[shop.index("YZ-000")].o.PlatformTime = base.Add(3 * time.Second)
			shop.orders[shop.index("YZ-LATE")].visible = true
		}
	}
	if _, err := h.svc.Pull(ctx, platforms.Youzan); err == nil {
		t.Fatal("run 2: a failing page was taken for read")
	}
	shop.onCall, shop.failCall = nil, 0
	add("YZ-NEW", base.Add(5*time.Second), true)
	for run := 3; run <= 4; run++ {
		res, err := h.svc.Pull(ctx, platforms.Youzan)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d: %+v", run, res)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM staging_process WHERE platform='YOUZAN'`); n != len(shop.orders) {
		var got []string
		rows, _ := db.Query(`SELECT platform_order_id FROM staging_process`)
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			got = append(got, s)
		}
		t.Fatalf("%d orders staged, the shop has %d: %v", n, len(shop.orders), got)
	}
	// Messages name many staged orders each (one per group); each order
	// is named by exactly one (named fails on a second).
	if named := h.named(t, events.TopicOrderReceived); len(named) != len(shop.orders) {
		t.Fatalf("%d orders named by received messages, want every one of the shop's %d", len(named), len(shop.orders))
	}
	var since time.Time
	_ = db.QueryRow(`SELECT since FROM pull_cursors WHERE platform='YOUZAN'`).Scan(&since)
	if !since.Equal(base.Add(5 * time.Second)) {
		t.Fatalf("cursor %s, want the newest update time %s (the shop's clock)", since, base.Add(5*time.Second))
	}
	// A run with nothing new reads the overlap again and takes nothing.
	res, err := h.svc.Pull(ctx, platforms.Youzan)
	if err != nil || res.Taken != 0 || res.Seen == 0 {
		t.Fatalf("a quiet run: %+v %v", res, err)
	}
}

// An Ele.me order and a Youzan order each become a ToB order, and each
// platform hears ACCEPTED, SHIPPED, DELIVERED once however often a status
// is sent; Youzan's token, forgotten between two statuses, is asked again
// and the status resent with it.
func TestElemeAndYouzanHearOfEachStatusOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, c := range []struct{ platform, sku string }{{platforms.Eleme, "EL-00010"}, {platforms.Youzan, "YZ-00010"}} {
		o := order(c.platform + "-ORDER")
		o.Platform, o.Lines = c.platform, []platforms.Line{{PlatformSKU: c.sku, Qty: 1, UnitPriceFen: 5000}}
		id := h.accept(t, o)
		if errs := h.svc.PlanAll(ctx, []string{id}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		x, _ := h.svc.Staged(ctx, id)
		if err := h.svc.Order(ctx, x.PlanID); err != nil {
			t.Fatal(err)
		}
		x, _ = h.svc.Staged(ctx, id)
		if x.OrderID == "" {
			t.Fatalf("%s: not ordered: %+v", c.platform, x)
		}
		for i, st := range []string{"SHIPPED", "SHIPPED", "COMPLETED"} {
			if err := h.svc.OrderStatus(ctx, "channels.oms.order."+st, fmt.Sprintf("%s-m%d", c.platform, i), x.OrderID, st); err != nil {
				t.Fatal(err)
			}
		}
		ups, _ := h.svc.StatusUpdates(ctx, id)
		if len(ups) != 3 {
			t.Fatalf("%s: %d statuses queued", c.platform, len(ups))
		}
		for i, u := range ups {
			if i == 1 {
				h.api.youzan.forget()
			}
			for range 2 {
				if err := h.svc.SendStatus(ctx, u.ID); err != nil {
					t.Fatalf("%s %s: %v", c.platform, u.Status, err)
				}
			}
		}
		for _, st := range []string{"ACCEPTED", "SHIPPED", "DELIVERED"} {
			if n := h.api.statuses[c.platform+"/"+o.PlatformOrderID+"/"+st]; n != 1 {
				t.Errorf("%s heard %s %d times", c.platform, st, n)
			}
		}
	}
	if h.api.youzan.tokens != 2 {
		t.Fatalf("%d Youzan tokens asked, want 2 (the first, and one after it was forgotten)", h.api.youzan.tokens)
	}
}
