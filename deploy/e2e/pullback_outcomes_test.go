package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/deploy/local"
)

// pullBackLockKey is the Redis key after-sales' lock of an order's
// pull-back decisions lives under (apps/aftersales/main.go's prefix and
// app.pullBackLock): the test holds it as another decision would.
func pullBackLockKey(orderID string) string { return "harvest:aftersales:lock:pull-back:" + orderID }

// The pull-back's other outcomes through GraphQL with real sidecars, on
// orders waiting at WH-SH for set 10's chilled good (never received
// anywhere; customer C0098, layout prefix FPO):
//
//   - LOCK_TIMEOUT: while the order's pull-back lock is held (by the test,
//     under after-sales' own key), a pull-back is refused with the code
//     and nothing is written or paused; once the lock is free it goes in.
//   - WAIT_FOR_STOCK: approved, the shortage is recorded on the document,
//     which completes; the order stays where it is, its work order still
//     waiting, nothing refunded.
//   - CANCEL: approved, the cancel's steps run: the waiting work order is
//     intercepted, the order cancelled, its trade refunded once in full
//     to its channel and its stock reservation released.
func TestForwardDocumentPullBackWaitCancelAndLockTimeout(t *testing.T) {
	const wh = "WH-SH"
	c := client(t, "CUSTOMER", "C0098")
	agent := client(t, "CS_AGENT", "agent-ida")
	sup := client(t, "CS_SUPERVISOR", "sup-jon")
	var skip []string
	for range 10 {
		set := zonedProducts(t, c, wh, skip)
		skip = append(skip, set[0].SKU, set[1].SKU, set[2].SKU)
	}
	ps := zonedProducts(t, c, wh, skip)[1:2]
	f := layout(t, wh, "FPO", ps)
	if n, _ := f.onHand(ps[0].SKU); n != 0 {
		t.Fatalf("%s has %d units in bins; the pull-back needs a good without stock", ps[0].SKU, n)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	short := func() (order, string) {
		o, sub := placePaid(t, c, sctx, ps, 1)
		sub.Close()
		deliveryOrder, _ := f.dispatched(c, o)
		wos := f.workOrders(deliveryOrder, 1)
		if wos[0].Status != "WAITING_STOCK" {
			t.Fatalf("work order %+v: want WAITING_STOCK", wos[0])
		}
		return o, wos[0].ID
	}
	wait, waitWO := short()
	gone, goneWO := short()

	// LOCK_TIMEOUT: the lock held for longer than after-sales waits (3 s).
	rdb := redis.NewClient(&redis.Options{Addr: local.RedisAddr, DB: st.RedisDB()})
	defer rdb.Close()
	key := pullBackLockKey(wait.ID)
	if ok, err := rdb.SetNX(ctx(t), key, "held-by-the-test", time.Minute).Result(); err != nil || !ok {
		t.Fatalf("hold the lock: %v %v", ok, err)
	}
	waitIn := map[string]any{"reason": "stock is due tomorrow", "outcome": "WAIT_FOR_STOCK"}
	if d, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", wait.ID, "pw1", waitIn); d != nil || len(errs) != 1 || errs[0].Code != "LOCK_TIMEOUT" {
		t.Fatalf("pull-back while its lock is held: %+v %+v", d, errs)
	}
	if n := orderRequests(t, sup, wait.ID); n != 0 {
		t.Fatalf("a pull-back refused for its lock wrote %d requests", n)
	}
	var tl omsclient.FulfillmentTimeline
	if err := invoke(ctx(t), "oms", http.MethodGet, "v1/orders/"+wait.ID+"/fulfillment", nil, &tl); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(tl.Units, func(u omsclient.FulfillmentUnit) bool { return u.State == omsclient.UnitHeld }) {
		t.Fatalf("a pull-back refused for its lock paused the order: %+v", tl.Units)
	}
	if err := rdb.Del(ctx(t), key).Err(); err != nil {
		t.Fatal(err)
	}

	// WAIT_FOR_STOCK, the same key again now that the lock is free.
	paidWait := orderWithSource(t, c, wait.ID).PaidFen
	w, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", wait.ID, "pw1", waitIn)
	if w == nil || w.Status != "AWAITING_AUDIT" || w.Outcome != "WAIT_FOR_STOCK" {
		t.Fatalf("pull-back to wait: %+v %+v", w, errs)
	}
	if errs := auditDoc(t, sup, w.ID, true); len(errs) != 0 {
		t.Fatalf("approval: %+v", errs)
	}
	var wd document
	eventually(t, 60*time.Second, "the wait decided", func() (bool, error) {
		var err error
		wd, err = readDocument(t, sup, w.ID)
		return err == nil && wd.Status == "COMPLETED", fmt.Errorf("%+v %v", wd, err)
	})
	declaredStatus(t, sup, wd.Status)
	i := slices.IndexFunc(wd.Steps, func(s struct{ Step, Note string }) bool { return s.Step == "WAITING_FOR_STOCK" })
	if i < 0 || !strings.Contains(wd.Steps[i].Note, waitWO) || !strings.Contains(wd.Steps[i].Note, "waits for stock") || wd.NewOrderID != "" {
		t.Fatalf("the wait's record: %+v", wd)
	}
	if ws, _, err := f.status(waitWO); err != nil || ws != "WAITING_STOCK" {
		t.Fatalf("the waiting work order is %s (%v)", ws, err)
	}
	if o := orderWithSource(t, c, wait.ID); o.Status != omsclient.StatusDispatched || o.PaidFen != paidWait {
		t.Fatalf("the order after the wait: %+v", o)
	}
	if tr := tradesOf(t, wait.ID); len(tr) != 1 || tr[0].RefundedFen != 0 || len(refundsOf(t, tr[0].ID)) != 0 {
		t.Fatalf("a wait refunded: %+v", tr)
	}

	// CANCEL: the cancel's steps, refunded once, stock released.
	paid := orderWithSource(t, c, gone.ID).PaidFen
	cd, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", gone.ID, "pc1",
		map[string]any{"reason": "the customer gave up waiting", "outcome": "CANCEL"})
	if cd == nil || cd.Outcome != "CANCEL" {
		t.Fatalf("pull-back to cancel: %+v %+v", cd, errs)
	}
	if errs := auditDoc(t, sup, cd.ID, true); len(errs) != 0 {
		t.Fatalf("approval: %+v", errs)
	}
	var gd document
	eventually(t, 120*time.Second, "the pull-back's cancel refunded", func() (bool, error) {
		var err error
		gd, err = readDocument(t, sup, cd.ID)
		if err == nil && slices.Contains([]string{"REFUSED", "REJECTED"}, gd.Status) {
			t.Fatalf("the pull-back's cancel ended %s: %+v", gd.Status, gd)
		}
		return err == nil && gd.Status == "REFUNDED", fmt.Errorf("%+v %v", gd, err)
	})
	declaredStatus(t, sup, gd.Status)
	if o := orderWithSource(t, c, gone.ID); o.Status != omsclient.StatusCancelled {
		t.Fatalf("the order after the pull-back's cancel: %+v", o)
	}
	tr := tradesOf(t, gone.ID)
	eventually(t, 60*time.Second, "the trade refunded at its channel", func() (bool, error) {
		rs := refundsOf(t, tr[0].ID)
		return len(rs) == 1 && rs[0].Status == payclient.RefundSucceeded, fmt.Errorf("refunds %+v", rs)
	})
	tr = tradesOf(t, gone.ID)
	if rs := refundsOf(t, tr[0].ID); len(tr) != 1 || int64(tr[0].RefundedFen) != paid || len(rs) != 1 || int64(rs[0].AmountFen) != paid {
		t.Fatalf("the pull-back's cancel refunded: trades %+v refunds %+v (paid %d)", tr, rs, paid)
	}
	eventually(t, 30*time.Second, "the cancelled order's stock released", func() (bool, error) {
		var r inventoryclient.Reservation
		err := invoke(ctx(t), inventoryclient.AppID, http.MethodGet, "v1/reservations/"+gone.ID, nil, &r)
		return err == nil && r.Status == inventoryclient.ReservationReleased, fmt.Errorf("%+v %v", r, err)
	})
	eventually(t, 30*time.Second, "the cancelled order's work order ended", func() (bool, error) {
		ws, _, err := f.status(goneWO)
		return ws != "WAITING_STOCK" && ws != "", fmt.Errorf("work order %s: %v", ws, err)
	})
}
