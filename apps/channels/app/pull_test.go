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

// douyinShop is a Douyin-like search over orders: signed requests only,
// orders updated in [start_time, end_time) oldest first, paged by offset;
// an order shows only once visible (the platform's index lag).
type douyinShop struct {
	orders  []shopOrder
	fetches int
}

type shopOrder struct {
	o       platforms.Order
	visible bool
}

func (d *douyinShop) search(q url.Values) (int, []byte, error) {
	d.fetches++
	if err := platforms.VerifyDouyin(q, platforms.DevKeys[platforms.Douyin], time.Now(), time.Minute); err != nil {
		return 401, []byte(`{"err_no":401,"message":"` + err.Error() + `"}`), nil
	}
	start, _ := strconv.ParseInt(q.Get("start_time"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("end_time"), 10, 64)
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("size"))
	var hit []platforms.Order
	for _, s := range d.orders {
		if ms := s.o.PlatformTime.UnixMilli(); s.visible && ms >= start && ms < end {
			hit = append(hit, s.o)
		}
	}
	slices.SortStableFunc(hit, func(a, b platforms.Order) int {
		if c := a.PlatformTime.Compare(b.PlatformTime); c != 0 {
			return c
		}
		if a.PlatformOrderID < b.PlatformOrderID {
			return -1
		}
		return 1
	})
	var p platforms.DouyinPage
	p.Data.Total, p.Data.Page, p.Data.Size = len(hit), page, size
	for i := page * size; i < len(hit) && i < (page+1)*size; i++ {
		p.Data.List = append(p.Data.List, platforms.ToDouyin(hit[i]))
	}
	b, _ := json.Marshal(p)
	return 200, b, nil
}

func TestPullKilledBetweenFetchingAPageAndSavingItsCursorLosesAndDoublesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// Douyin's clock runs three minutes ahead of Harvest's.
	base := time.Now().UTC().Add(3 * time.Minute).Truncate(time.Millisecond)
	shop := h.api.douyin
	add := func(id string, at time.Time, visible bool) {
		o := order(id)
		o.Platform, o.PlatformTime, o.Lines = platforms.Douyin, at, []platforms.Line{{PlatformSKU: "DY-00010", Qty: 1, UnitPriceFen: 5000}}
		shop.orders = append(shop.orders, shopOrder{o: o, visible: visible})
	}
	for i := range 16 {
		add(fmt.Sprintf("DY-%03d", i), base.Add(time.Duration(i-30)*time.Second), true)
	}
	for i := range 7 { // more orders of one update time than a page holds
		add(fmt.Sprintf("DY-TIE-%d", i), base.Add(-10*time.Second), true)
	}
	// Updated before the rest, indexed only after the first run.
	add("DY-LATE", base.Add(-25*time.Second), false)

	// Run 1 dies after fetching its third page, before storing it.
	kill := errors.New("killed")
	db := h.st.DB()
	rdb, prefix := testdb.Redis(t)
	ep := map[string]string{platforms.Douyin: "partners"}
	dying := app.New(app.Deps{Store: store.New(db), Outside: h.api, Nonces: app.NewNonceStore(rdb, prefix), Keys: platforms.DevKeys,
		PlatformApp: ep, PullPage: 5, PullOverlap: time.Minute,
		AfterFetch: func(_ string, page int) error {
			if page == 3 {
				return kill
			}
			return nil
		}})
	if res, err := dying.Pull(ctx, platforms.Douyin); !errors.Is(err, kill) {
		t.Fatalf("run 1: %+v %v", res, err)
	}
	taken := h.count(t, `SELECT COUNT(*) FROM staging_process`)
	if taken != 9 { // pages ask from the latest update time seen, inclusive: page 2 repeats one
		t.Fatalf("run 1 stored %d orders, want the first two pages' 9", taken)
	}
	shop.orders[len(shop.orders)-1].visible = true

	// Run 2, a new process over the same database, then run 3.
	for run := 2; run <= 3; run++ {
		res, err := h.svc.Pull(ctx, platforms.Douyin)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d: %+v", run, res)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM staging_process WHERE platform='DOUYIN'`); n != len(shop.orders) {
		t.Fatalf("%d orders staged, the shop has %d", n, len(shop.orders))
	}
	if n := h.count(t, `SELECT COUNT(DISTINCT platform_order_id) FROM staging_process`); n != len(shop.orders) {
		t.Fatalf("%d distinct orders staged", n)
	}
	if named := h.named(t, events.TopicOrderReceived); len(named) != len(shop.orders) {
		t.Fatalf("received messages name %d orders, want each of the shop's %d once", len(named), len(shop.orders))
	}
	var since time.Time
	_ = db.QueryRow(`SELECT since FROM pull_cursors WHERE platform='DOUYIN'`).Scan(&since)
	if !since.Equal(base.Add(-10 * time.Second)) {
		t.Fatalf("cursor %s, want the latest update time %s (the platform's clock)", since, base.Add(-10*time.Second))
	}
}
