package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

// dropShipProduct is a drop-ship SKU in stock, not presale.
func dropShipProduct(t *testing.T, c *gqlc.Client) product {
	t.Helper()
	var out struct {
		Products struct {
			Edges []struct{ Node product } `json:"edges"`
		} `json:"products"`
	}
	if err := c.Do(ctx(t), qProducts, map[string]any{"first": 40, "filter": map[string]any{"inStock": true}}, &out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Products.Edges {
		if p := e.Node; p.DropShip && !p.Presale && !p.Bundle && p.Available > 20 {
			return p
		}
	}
	t.Fatal("no drop-ship product in stock")
	return product{}
}

// expressOrder is one unit of p for today's express slot: no effective
// time to wait for, straight on to stage 16.
func expressOrder(p product) map[string]any {
	in := orderInput([]product{p}, 1, nil)
	in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
	return in
}

// atDispatch waits until a delivery order of the order is running stage
// 16 (dispatch).
func atDispatch(t *testing.T, orderID string) {
	t.Helper()
	eventually(t, 90*time.Second, "order "+orderID+" at stage 16", func() (bool, error) {
		var tl omsclient.FulfillmentTimeline
		if err := invoke(ctx(t), "oms", http.MethodGet, "v1/orders/"+orderID+"/fulfillment", nil, &tl); err != nil {
			return false, err
		}
		for _, u := range tl.Units {
			if u.ParentID != "" && u.Stage == "dispatch" && u.State == omsclient.UnitRunning {
				return true, nil
			}
		}
		return false, fmt.Errorf("units %+v", tl.Units)
	})
}

func supplierReceived(t *testing.T, api, ref string) []sim.Received {
	t.Helper()
	var out []sim.Received
	if err := invoke(ctx(t), "partners", http.MethodGet, "admin/received?api="+url.QueryEscape(api)+"&ref="+url.QueryEscape(ref), nil, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// cancelOutcome checks that a finished cancel is one thing: REFUNDED
// (order cancelled, the trade refunded exactly what was paid, the
// supplier holding no live order for it) or REFUSED with a code (order
// not cancelled, nothing refunded: the customer is offered a return).
func cancelOutcome(t *testing.T, c *gqlc.Client, orderID string) string {
	t.Helper()
	var final *cancelRequest
	var status string
	eventually(t, 90*time.Second, "cancel of "+orderID+" finished", func() (bool, error) {
		status, final = cancelRequestOf(t, c, orderID)
		return final != nil && (final.Status == "REFUNDED" || final.Status == "REFUSED"), nil
	})
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+orderID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	var paid, refunded int64
	for _, tr := range trades {
		paid += int64(tr.PaidFen)
		refunded += int64(tr.RefundedFen)
	}
	switch final.Status {
	case "REFUNDED":
		eventually(t, 30*time.Second, "trade of "+orderID+" refunded", func() (bool, error) {
			trades = nil
			err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+orderID, nil, &trades)
			refunded = 0
			for _, tr := range trades {
				refunded += int64(tr.RefundedFen)
			}
			return err == nil && refunded == paid, fmt.Errorf("refunded %d of %d (%v)", refunded, paid, err)
		})
		if status != "CANCELLED" || paid == 0 || final.RefusalCode != "" {
			t.Fatalf("refunded: order %s, paid %d, code %q", status, paid, final.RefusalCode)
		}
	case "REFUSED":
		if status == "CANCELLED" || refunded != 0 || final.RefusalCode == "" {
			t.Fatalf("refused: order %s, refunded %d, code %q (%+v)", status, refunded, final.RefusalCode, final.Steps)
		}
	}
	return final.Status + " " + final.RefusalCode
}

// The customer cancels while stage 16 is handing a drop-ship delivery
// order to its supplier. Held there (the supplier answers 4 s late), the
// pause finds it in hand; after-sales intercepts it at the supplier
// before the order arrives, the supplier then refuses the late order,
// and the cancel ends REFUNDED: intercepted and refunded, not a return.
// Then cancels at free-running moments: each ends refunded or refused
// (a return offered), never both, never neither.
func TestCancelWhileStage16Dispatches(t *testing.T) {
	c := client(t, "CUSTOMER", "C0071")
	p := dropShipProduct(t, c)

	setFault(t, map[string]any{"name": sim.APISuppliers, "delay_ms": 4000})
	held := mustPlace(t, c, expressOrder(p))
	payAtCashier(t, c, held.ID)
	atDispatch(t, held.ID)
	if r, errs := requestCancel(t, c, held.ID, ids.New()); r == nil {
		t.Fatalf("cancel: %+v", errs)
	}
	got := cancelOutcome(t, c, held.ID)
	setFault(t, map[string]any{"name": sim.APISuppliers})
	if got != "REFUNDED " {
		t.Fatalf("held at stage 16: %s, want REFUNDED", got)
	}
	if rs := supplierReceived(t, sim.APIInterception, held.ID); len(rs) != 1 {
		t.Fatalf("interceptions at the supplier: %+v", rs)
	}
	// The late order arrived after the tombstone: the supplier refused it.
	time.Sleep(5 * time.Second)
	if rs := supplierReceived(t, sim.APISuppliers, held.ID); len(rs) != 0 {
		t.Fatalf("the supplier took an intercepted order: %+v", rs)
	}

	outcomes := map[string]int{}
	for i := range 4 {
		o := mustPlace(t, c, expressOrder(p))
		payAtCashier(t, c, o.ID)
		eventually(t, 30*time.Second, "order "+o.ID+" paid", func() (bool, error) {
			s, _ := cancelRequestOf(t, c, o.ID)
			return s != "PENDING_PAYMENT", nil
		})
		time.Sleep(time.Duration(i) * 700 * time.Millisecond)
		if r, errs := requestCancel(t, c, o.ID, ids.New()); r == nil {
			// Shipped already: a precise refusal, nothing stored.
			if len(errs) != 1 || errs[0].Code == "" {
				t.Fatalf("cancel %d: %+v", i, errs)
			}
			outcomes["not accepted "+errs[0].Code]++
			continue
		}
		outcomes[cancelOutcome(t, c, o.ID)]++
	}
	t.Logf("free-running cancels around stage 16: %v", outcomes)
}
