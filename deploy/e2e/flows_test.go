package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/deploy/gqlc"
)

// A GraphQL query answered by inventory from MariaDB, through the gateway's
// sidecar and inventory's sidecar.
func TestProductsThroughTwoSidecars(t *testing.T) {
	c := client(t, "CUSTOMER", "C0001")
	var out struct {
		Products struct {
			TotalCount int64
			Edges      []struct{ Node product }
		}
	}
	if err := c.Do(ctx(t), qProducts, map[string]any{"first": 5}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Products.TotalCount < 100 || len(out.Products.Edges) != 5 {
		t.Fatalf("catalog: total %d, page %d", out.Products.TotalCount, len(out.Products.Edges))
	}
	for _, e := range out.Products.Edges {
		if e.Node.SKU == "" || e.Node.PriceFen <= 0 || e.Node.StockState == "" {
			t.Fatalf("incomplete product %+v", e.Node)
		}
	}
}

func cashierPay(t *testing.T, url string, ignoreExpire bool) (int, string) {
	t.Helper()
	u := url + "/pay"
	if ignoreExpire {
		u += "?ignore_expire=true"
	}
	resp, err := http.Post(u, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// browse → deduct non-cash → place → pay at the channel's cashier → the
// channel's signed callback → PAY verifies → OMS marks paid through its
// outbox → the customer's subscription sees PAID.
func TestPayByChannelCallback(t *testing.T) {
	c := client(t, "CUSTOMER", "C0002")
	ps := plainProducts(t, c, 2, 0)
	before := balance(t, c)
	ded := deduct(t, c, 100)
	if got := balance(t, c); got != before-100 {
		t.Fatalf("balance after deduction %d, want %d", got, before-100)
	}
	o := mustPlace(t, c, orderInput(ps, 1, []string{ded}))
	if o.Status != "PENDING_PAYMENT" || o.CashDueFen != o.TotalFen-100 {
		t.Fatalf("placed %+v", o)
	}
	// Inventory confirms the reservation from the bulk delivery of
	// order.placed, long before its check-back would (2 min).
	eventually(t, 15*time.Second, "reservation of "+o.ID+" CONFIRMED", func() (bool, error) {
		var r inventoryclient.Reservation
		err := invoke(ctx(t), inventoryclient.AppID, http.MethodGet, "v1/reservations/"+o.ID, nil, &r)
		return err == nil && r.Status == "CONFIRMED", err
	})
	// PAY takes only the orders that carry deductions (OMS publishes them on
	// a topic of their own): this one must reach it and use the deduction.
	eventually(t, 15*time.Second, "deduction "+ded+" USED by "+o.ID, func() (bool, error) {
		var d payclient.Deduction
		err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/deductions/"+ded, nil, &d)
		return err == nil && d.Status == payclient.DeductionUsed && d.OrderID == o.ID, err
	})
	sub, err := gqlc.Subscribe(ctx(t), wsURL(), c.Token, sOrderUpdated, map[string]any{"id": o.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	p, uerrs := startPay(t, c, o.ID)
	if p == nil {
		t.Fatalf("startCashPayment: %+v", uerrs)
	}
	if p.AmountFen != o.CashDueFen || p.ExpiresAt.Sub(*o.PayBy).Abs() > time.Second {
		t.Fatalf("payment %+v for order %+v: amount or time_expire wrong", p, o)
	}
	if code, body := cashierPay(t, p.CashierURL, false); code != 200 {
		t.Fatalf("cashier pay: %d %s", code, body)
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case data, ok := <-sub.Next:
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			var ev struct {
				OrderUpdated struct{ OrderID, Type, Status string }
			}
			_ = json.Unmarshal(data, &ev)
			if ev.OrderUpdated.OrderID == o.ID && ev.OrderUpdated.Type == "PAID" {
				paid := getOrder(t, c, o.ID)
				if paid.PaidFen != o.CashDueFen {
					t.Fatalf("paid %d, want %d", paid.PaidFen, o.CashDueFen)
				}
				return
			}
		case <-timeout:
			t.Fatalf("no PAID event for %s; order now %+v", o.ID, getOrder(t, c, o.ID))
		}
	}
}

// Nobody pays: the actor reminder cancels the order at its deadline, the
// stock reservation is released and the non-cash deduction reversed.
func TestUnpaidOrderExpiresAndRestores(t *testing.T) {
	c := client(t, "CUSTOMER", "C0003")
	ps := plainProducts(t, c, 1, 2)
	stock0 := available(t, c, ps[0].SKU)
	bal0 := balance(t, c)
	ded := deduct(t, c, 50)
	o := mustPlace(t, c, orderInput(ps, 3, []string{ded}))
	if got := available(t, c, ps[0].SKU); got != stock0-3 {
		t.Fatalf("available after placing %d, want %d", got, stock0-3)
	}
	waitStatus(t, c, o.ID, "CANCELLED", payDeadline+20*time.Second)
	eventually(t, 20*time.Second, "stock restored", func() (bool, error) {
		got := available(t, c, ps[0].SKU)
		return got == stock0, fmt.Errorf("available %d, want %d", got, stock0)
	})
	eventually(t, 20*time.Second, "balance restored", func() (bool, error) {
		got := balance(t, c)
		return got == bal0, fmt.Errorf("balance %d, want %d", got, bal0)
	})
}

// DOMAIN 1.4 case 2: once the deadline has passed by the clock, PAY must not
// send the customer to a channel, whether or not the expiry has run yet.
// Case 3: a customer lingering on the channel's cashier past time_expire is
// refused by the channel. Case 4: a channel that ignores time_expire takes
// money for a cancelled order: it is refunded in full and the order stays
// cancelled.
func TestDeadlineRaces(t *testing.T) {
	c := client(t, "CUSTOMER", "C0004")
	ps := plainProducts(t, c, 1, 3)
	o := mustPlace(t, c, orderInput(ps, 1, nil))
	p, uerrs := startPay(t, c, o.ID) // before the deadline: allowed
	if p == nil {
		t.Fatalf("startCashPayment before deadline: %+v", uerrs)
	}
	time.Sleep(time.Until(*o.PayBy) + 200*time.Millisecond)

	// Case 2.
	if p2, errs := startPay(t, c, o.ID); p2 != nil || len(errs) == 0 || errs[0].Code != "ORDER_NOT_PAYABLE" {
		t.Fatalf("startCashPayment after deadline: payment %+v errors %+v", p2, errs)
	}
	// Case 3.
	if code, body := cashierPay(t, p.CashierURL, false); code == 200 {
		t.Fatalf("channel accepted payment after time_expire: %s", body)
	}
	// Case 4.
	waitStatus(t, c, o.ID, "CANCELLED", 20*time.Second)
	if code, body := cashierPay(t, p.CashierURL, true); code != 200 {
		t.Fatalf("sloppy channel pay: %d %s", code, body)
	}
	eventually(t, 45*time.Second, "automatic full refund", func() (bool, error) {
		var trade struct {
			Status      string `json:"status"`
			PaidFen     int64  `json:"paid_fen"`
			RefundedFen int64  `json:"refunded_fen"`
		}
		if err := invoke(ctx(t), "pay", http.MethodGet, "v1/trades/"+p.TradeID, nil, &trade); err != nil {
			return false, err
		}
		return trade.PaidFen == o.CashDueFen && trade.RefundedFen == trade.PaidFen, fmt.Errorf("trade %+v", trade)
	})
	if got := getOrder(t, c, o.ID); got.Status != "CANCELLED" || got.PaidFen != 0 {
		t.Fatalf("order after late money: %+v", got)
	}
}

// Customers see only their own orders; CS sees any.
func TestCustomerCannotReadAnothersOrder(t *testing.T) {
	owner := client(t, "CUSTOMER", "C0005")
	o := mustPlace(t, owner, orderInput(plainProducts(t, owner, 1, 4), 1, nil))
	var out struct{ Order *order }
	err := client(t, "CUSTOMER", "C0006").Do(ctx(t), qOrder, map[string]any{"id": o.ID}, &out)
	if out.Order != nil {
		t.Fatalf("another customer read the order")
	}
	if es, ok := err.(gqlc.Errors); !ok || es[0].Code() != "NOT_FOUND" {
		t.Fatalf("want NOT_FOUND, got %v", err)
	}
	if got := getOrder(t, client(t, "CS_AGENT", "agent-1"), o.ID); got.ID != o.ID {
		t.Fatal("CS could not read the order")
	}
}

// Concurrent buyers for the last units of a SKU: exactly the units sold win.
func TestLastUnitsRace(t *testing.T) {
	c := client(t, "CUSTOMER", "C0007")
	p := plainProducts(t, c, 1, 5)[0]
	left := available(t, c, p.SKU)
	const buyers = 40
	want := int64(10)
	// Buy the stock down to 10 units first, in one order.
	if left > want {
		mustPlace(t, c, orderInput([]product{p}, left-want, nil))
	}
	var (
		mu   sync.Mutex
		wins int64
		oos  int
		wg   sync.WaitGroup
	)
	for i := 0; i < buyers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b := client(t, "CUSTOMER", fmt.Sprintf("C%04d", 20+i))
			o, errs := place(t, b, orderInput([]product{p}, 1, nil))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case o.ID != "":
				wins++
			case len(errs) > 0 && errs[0].Code == "OUT_OF_STOCK":
				oos++
			default:
				t.Errorf("buyer %d: %+v", i, errs)
			}
		}(i)
	}
	wg.Wait()
	if wins != want || oos != buyers-int(want) {
		t.Fatalf("%d won and %d were out of stock; want %d and %d", wins, oos, want, buyers-int(want))
	}
	if got := available(t, c, p.SKU); got != 0 {
		t.Fatalf("available %d after selling out", got)
	}
}
