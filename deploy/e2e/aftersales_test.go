package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/deploy/gqlc"
)

const (
	mRequestCancel = `mutation($id:ID!,$key:String!,$reason:String!){ requestCancel(orderId:$id, idempotencyKey:$key, reason:$reason){
		request{ id status } errors{ code message field } } }`
	qCancelRequest = `query($id:ID!){ order(id:$id){ id status cancelRequest{ id status refusalCode refundedFen steps{ step note } } } }`
)

type cancelRequest struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	RefusalCode string `json:"refusalCode"`
	RefundedFen int64  `json:"refundedFen"`
	Steps       []struct {
		Step string `json:"step"`
		Note string `json:"note"`
	} `json:"steps"`
}

func requestCancel(t *testing.T, c *gqlc.Client, orderID, key string) (*cancelRequest, []userError) {
	return requestCancelFor(t, c, orderID, key, "changed my mind")
}

func requestCancelFor(t *testing.T, c *gqlc.Client, orderID, key, reason string) (*cancelRequest, []userError) {
	t.Helper()
	var out struct {
		RequestCancel struct {
			Request *cancelRequest `json:"request"`
			Errors  []userError    `json:"errors"`
		} `json:"requestCancel"`
	}
	if err := c.Do(ctx(t), mRequestCancel, map[string]any{"id": orderID, "key": key, "reason": reason}, &out); err != nil {
		t.Fatal(err)
	}
	return out.RequestCancel.Request, out.RequestCancel.Errors
}

func cancelRequestOf(t *testing.T, c *gqlc.Client, orderID string) (string, *cancelRequest) {
	t.Helper()
	var out struct {
		Order struct {
			Status        string         `json:"status"`
			CancelRequest *cancelRequest `json:"cancelRequest"`
		} `json:"order"`
	}
	if err := c.Do(ctx(t), qCancelRequest, map[string]any{"id": orderID}, &out); err != nil {
		t.Fatal(err)
	}
	return out.Order.Status, out.Order.CancelRequest
}

// A customer cancels a paid order (cash and balance) through GraphQL,
// ten times at once: one request; it ends either REFUNDED (the order
// cancelled, the trade refunded in full, the balance given back) or
// REFUSED with a code (the order not cancelled, nothing refunded), never
// both and never neither. Another customer cannot cancel it.
func TestCustomerCancelsPaidOrder(t *testing.T) {
	const customer = "C0061"
	c := client(t, "CUSTOMER", customer)
	before := balance(t, c)
	d := deduct(t, c, 100)
	o := mustPlace(t, c, orderInput(plainProducts(t, c, 1, 5), 1, []string{d}))
	if _, cs := cancelRequestOf(t, c, o.ID); cs != nil {
		t.Fatalf("a fresh order shows a cancel request: %+v", cs)
	}
	payAtCashier(t, c, o.ID)
	eventually(t, 30*time.Second, "order "+o.ID+" paid", func() (bool, error) {
		s, _ := cancelRequestOf(t, c, o.ID)
		return s != "PENDING_PAYMENT", nil
	})

	other := client(t, "CUSTOMER", "C0062")
	if r, errs := requestCancel(t, other, o.ID, ids.New()); r != nil || len(errs) != 1 || errs[0].Code != "NOT_FOUND" {
		t.Fatalf("another customer's cancel: %+v %+v", r, errs)
	}

	key := ids.New()
	var wg sync.WaitGroup
	got := make([]string, 10)
	for i := range 10 {
		wg.Go(func() {
			r, errs := requestCancel(t, c, o.ID, key)
			if r == nil {
				t.Errorf("cancel %d: %+v", i, errs)
				return
			}
			got[i] = r.ID
		})
	}
	wg.Wait()
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("one cancel made several requests: %v", got)
		}
	}
	// The filter says "maybe" from the answer on: order detail shows it.
	if _, cs := cancelRequestOf(t, c, o.ID); cs == nil || cs.ID != got[0] {
		t.Fatalf("order detail right after the cancel: %+v", cs)
	}
	var final *cancelRequest
	var status string
	eventually(t, 60*time.Second, "cancel of "+o.ID+" finished", func() (bool, error) {
		status, final = cancelRequestOf(t, c, o.ID)
		return final != nil && (final.Status == "REFUNDED" || final.Status == "REFUSED"), nil
	})
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	var paid, refunded int64
	for _, tr := range trades {
		paid += int64(tr.PaidFen)
		refunded += int64(tr.RefundedFen)
	}
	switch final.Status {
	case "REFUNDED":
		if status != "CANCELLED" || paid == 0 || refunded != paid || final.RefundedFen != paid+100 {
			t.Fatalf("refunded: order %s, paid %d, refunded %d, request says %d (%+v)", status, paid, refunded, final.RefundedFen, final.Steps)
		}
		// REFUNDED means the channel confirmed the money back, not that PAY
		// reserved it (refunded_fen counts refunds still under way).
		var settled int64
		for _, tr := range trades {
			var rs []payclient.Refund
			if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/refunds?trade="+tr.ID, nil, &rs); err != nil {
				t.Fatal(err)
			}
			for _, f := range rs {
				if f.Status == payclient.RefundSucceeded {
					settled += int64(f.AmountFen)
				}
			}
		}
		if settled != paid {
			t.Fatalf("REFUNDED with %d of %d confirmed by the channel", settled, paid)
		}
		eventually(t, 30*time.Second, "balance given back", func() (bool, error) { return balance(t, c) == before, nil })
		// The cancel's pushes, as customer service sees them: the answer
		// to the customer, finance's settlement data and the unbind of
		// coupons bought with points each DONE, once; finance's stand-in
		// received the settlement once.
		cs := client(t, "CS_AGENT", "agent-cancel")
		var pushes []string
		eventually(t, 60*time.Second, "the cancel's pushes DONE", func() (bool, error) {
			pushes = pushes[:0]
			for _, p := range afterSales(t, cs, final.ID).Pushes {
				if p.Status != "DONE" {
					return false, fmt.Errorf("push %+v", p)
				}
				pushes = append(pushes, p.Type)
			}
			slices.Sort(pushes)
			return slices.Contains(pushes, "ANSWER") && slices.Contains(pushes, "SETTLEMENT") && slices.Contains(pushes, "UNBIND_POINTS_COUPONS"),
				fmt.Errorf("pushes %v", pushes)
		})
		if len(slices.Compact(slices.Clone(pushes))) != len(pushes) {
			t.Fatalf("a push type twice: %v", pushes)
		}
		n := 0
		for _, x := range received(t, "fms.settlements", o.ID) {
			if strings.Contains(x.ID, final.ID) {
				if x.Deliveries != 1 {
					t.Fatalf("settlement %s delivered %d times", x.ID, x.Deliveries)
				}
				n++
			}
		}
		if n != 1 {
			t.Fatalf("finance received %d settlements of the cancel, want 1", n)
		}
		// Whatever ERP stock its delivery orders occupied is given back:
		// by the interception, or by WMS on oms.order.cancelled.
		var tl omsclient.FulfillmentTimeline
		if err := invoke(ctx(t), "oms", http.MethodGet, "v1/orders/"+o.ID+"/fulfillment", nil, &tl); err != nil {
			t.Fatal(err)
		}
		for _, u := range tl.Units {
			if u.ParentID == "" {
				continue
			}
			eventually(t, 30*time.Second, "ERP occupation of "+u.ID+" released", func() (bool, error) {
				var occ wmsclient.OccupationDetail
				err := invoke(ctx(t), "wms", http.MethodGet, "v1/erp-stock/occupations/"+u.ID, nil, &occ)
				if httpapi.HasCode(err, wmsclient.CodeNotFound) {
					return true, nil // never occupied
				}
				return err == nil && occ.Status == wmsclient.OccupationReleased, fmt.Errorf("%+v %v", occ, err)
			})
		}
	case "REFUSED":
		if status == "CANCELLED" || refunded != 0 || final.RefusalCode == "" {
			t.Fatalf("refused: order %s, refunded %d, code %q", status, refunded, final.RefusalCode)
		}
	}
	t.Logf("cancel of %s: %s %s %+v", o.ID, final.Status, final.RefusalCode, final.Steps)
}

// After-sales dies at the worst moment of a cancel: OMS has cancelled the
// order (PAY refunds it on the event), after-sales has not recorded it.
// Restarted, it picks the request up (redelivery or sweep), OMS answers
// that the order is cancelled already, and the request ends REFUNDED with
// the money back once: the trade refunded exactly what was paid.
func TestAfterSalesKilledMidCancel(t *testing.T) {
	c := client(t, "CUSTOMER", "C0063")
	o := mustPlace(t, c, orderInput(plainProducts(t, c, 1, 6), 1, nil))
	payAtCashier(t, c, o.ID)
	eventually(t, 30*time.Second, "order "+o.ID+" paid", func() (bool, error) {
		s, _ := cancelRequestOf(t, c, o.ID)
		return s != "PENDING_PAYMENT", nil
	})
	r, errs := requestCancelFor(t, c, o.ID, ids.New(), "please "+app.CrashToken)
	if r == nil {
		t.Fatalf("requestCancel: %+v", errs)
	}
	// Order detail without cancelRequest: after-sales is down meanwhile.
	waitStatus(t, c, o.ID, "CANCELLED", 30*time.Second)
	if err := st.Restart(ctx(t), "aftersales"); err != nil {
		t.Fatal(err)
	}
	var final *cancelRequest
	eventually(t, 60*time.Second, "cancel of "+o.ID+" refunded after the restart", func() (bool, error) {
		_, final = cancelRequestOf(t, c, o.ID)
		return final != nil && final.Status == "REFUNDED", nil
	})
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	if len(trades) != 1 || trades[0].PaidFen == 0 || trades[0].RefundedFen != trades[0].PaidFen || int64(final.RefundedFen) != int64(trades[0].PaidFen) {
		t.Fatalf("trades %+v, request refunded %d", trades, final.RefundedFen)
	}
	n := 0
	for _, s := range final.Steps {
		if s.Step == "ORDER_CANCELLED" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("ORDER_CANCELLED recorded %d times: %+v", n, final.Steps)
	}
	t.Logf("steps after the crash: %+v", final.Steps)
}
