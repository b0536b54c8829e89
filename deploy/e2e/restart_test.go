package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

// metric reads one sample of a Prometheus counter from an app's /metrics.
func metric(t *testing.T, app, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + st.OpsAddr(app) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prefix := name + "{" + labels + "}"
	if labels == "" {
		prefix = name
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, prefix)), 64)
			return v
		}
	}
	return 0
}

// The payment-deadline reminder is durable: oms and its sidecar are killed
// after the order is placed and restarted before the deadline, and the
// reminder (not the reconciliation sweep) still cancels the order, once.
func TestReminderFiresAfterRestart(t *testing.T) {
	c := client(t, "CUSTOMER", "C0008")
	o := mustPlace(t, c, orderInput(plainProducts(t, c, 1, 6), 1, nil))
	time.Sleep(500 * time.Millisecond) // let the reminder be registered
	if err := st.Kill("oms"); err != nil {
		t.Fatal(err)
	}
	if err := st.Restart(ctx(t), "oms"); err != nil {
		t.Fatal(err)
	}
	if time.Now().After(*o.PayBy) {
		t.Fatalf("restart took past the deadline; raise payDeadline")
	}
	got := waitStatus(t, c, o.ID, "CANCELLED", time.Until(*o.PayBy)+20*time.Second)
	n := 0
	for _, e := range got.Timeline {
		if e.Type == "EXPIRED" || e.Type == "CANCELLED" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("timeline has %d cancellations: %+v", n, got.Timeline)
	}
	if r := metric(t, "oms", "harvest_oms_orders_expired_total", `by="reminder"`); r < 1 {
		t.Fatalf("the order was not expired by the reminder after the restart (sweep caught it: %v)",
			metric(t, "oms", "harvest_oms_orders_expired_total", `by="sweep"`))
	}
}

// An event an app publishes through its outbox reaches a GraphQL
// subscription over WebSocket; and killing oms and its sidecar in the middle
// of a burst of orders loses no event: every order the gateway confirmed
// shows up on the CS console's subscription exactly as placed.
func TestKillMidBurstLosesNoOutboxEvent(t *testing.T) {
	cs := client(t, "CS_SUPERVISOR", "sup-1")
	sub, err := gqlc.Subscribe(ctx(t), wsURL(), cs.Token, sOrderEvents, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c := client(t, "CUSTOMER", "C0009")
	ps := plainProducts(t, c, 1, 7)

	var (
		mu     sync.Mutex
		placed = map[string]bool{}
		wg     sync.WaitGroup
	)
	stop := time.Now().Add(8 * time.Second)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				var out struct {
					PlaceOrder struct {
						Order *order
					}
				}
				err := c.Do(ctx(t), mPlace, map[string]any{"in": orderInput(ps, 1, nil), "key": ids.New()}, &out)
				if err == nil && out.PlaceOrder.Order != nil {
					mu.Lock()
					placed[out.PlaceOrder.Order.ID] = true
					mu.Unlock()
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	if err := st.Kill("oms"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := st.Restart(ctx(t), "oms"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(placed) < 10 {
		t.Fatalf("only %d orders placed around the crash", len(placed))
	}
	seen := map[string]int{}
	timeout := time.After(60 * time.Second)
	for missing := len(placed); missing > 0; {
		select {
		case data, ok := <-sub.Next:
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			var ev struct {
				OrderEvents struct{ OrderID, Type string }
			}
			_ = json.Unmarshal(data, &ev)
			if ev.OrderEvents.Type != "PLACED" {
				continue
			}
			id := ev.OrderEvents.OrderID
			if placed[id] && seen[id] == 0 {
				missing--
			}
			seen[id]++
		case <-timeout:
			var lost []string
			for id := range placed {
				if seen[id] == 0 {
					lost = append(lost, id)
				}
			}
			t.Fatalf("%d of %d placed orders never published PLACED: %v", len(lost), len(placed), lost)
		}
	}
}

// A reservation whose order never commits (oms died between reserving and
// committing) is released by inventory's check-back, which a Dapr cron
// binding triggers and which asks oms through service invocation.
func TestCheckBackReleasesOrphanReservation(t *testing.T) {
	c := client(t, "CUSTOMER", "C0010")
	p := plainProducts(t, c, 1, 8)[0]
	before := available(t, c, p.SKU)
	orphan := ids.New()
	req := map[string]any{"order_id": orphan, "lines": []map[string]any{{"sku": p.SKU, "qty": 2}}, "ttl": int64(time.Second)}
	var res struct{ Status string }
	if err := invoke(ctx(t), "inventory", http.MethodPost, "v1/reservations", req, &res); err != nil {
		t.Fatal(err)
	}
	if got := available(t, c, p.SKU); got != before-2 {
		t.Fatalf("reserved: available %d, want %d", got, before-2)
	}
	eventually(t, 30*time.Second, "check-back releases the orphan", func() (bool, error) {
		got := available(t, c, p.SKU)
		return got == before, fmt.Errorf("available %d, want %d", got, before)
	})
}

// setFault switches a failure on (or, all zero, off) in the partners stand-in.
func setFault(t *testing.T, f map[string]any) {
	t.Helper()
	b, _ := json.Marshal(f)
	resp, err := callApp("partners", http.MethodPost, "/admin/faults", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set fault %v: status %d", f, resp.StatusCode)
	}
}

// The channel takes the customer's money while PAY is down and its callback
// is lost: when PAY comes back, its polling (a cron binding) finds the paid
// trade, verifies it with the channel, and the order is paid exactly once.
func TestPayKilledBetweenChannelSuccessAndNotification(t *testing.T) {
	setFault(t, map[string]any{"name": "callbacks.ALIPAY", "drop_callbacks": true})
	defer setFault(t, map[string]any{"name": "callbacks.ALIPAY"})
	c := client(t, "CUSTOMER", "C0011")
	in := orderInput(plainProducts(t, c, 1, 9), 1, nil)
	in["channel"] = "ALIPAY"
	o := mustPlace(t, c, in)
	p, errs := startPayWith(t, c, o.ID, "ALIPAY")
	if p == nil {
		t.Fatalf("startCashPayment: %+v", errs)
	}
	if err := st.Kill("pay"); err != nil {
		t.Fatal(err)
	}
	if code, body := cashierPay(t, p.CashierURL, false); code != 200 {
		t.Fatalf("cashier pay: %d %s", code, body)
	}
	if err := st.Restart(ctx(t), "pay"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "order paid after PAY's restart", func() (bool, error) {
		got := getOrder(t, c, o.ID)
		return got.PaidFen == o.CashDueFen, fmt.Errorf("status %s, paid %d", got.Status, got.PaidFen)
	})
	time.Sleep(6 * time.Second) // another poll round must change nothing
	got := getOrder(t, c, o.ID)
	n := 0
	for _, e := range got.Timeline {
		if e.Type == "PAID" {
			n++
		}
	}
	if n != 1 || got.PaidFen != o.CashDueFen {
		t.Fatalf("order after more polling: paid %d, %d PAID entries", got.PaidFen, n)
	}
}
