package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

const (
	mRequestReturn = `mutation($id:ID!,$key:String!,$in:RequestReturnInput!){ requestReturn(orderId:$id, idempotencyKey:$key, input:$in){
		request{ id kind status mode refundCashFen refundNonCashFen refundFreightFen lines{ sku qty cashFen nonCashFen } } errors{ code message field } } }`
	qAfterSales = `query($id:ID!){ afterSalesRequest(id:$id){ id status refundedFen refundCashFen refundNonCashFen
		steps{ step note } pushes{ id type status attempts result lastError } } }`
)

type returnRequest struct {
	ID               string `json:"id"`
	Kind             string `json:"kind"`
	Status           string `json:"status"`
	Mode             string `json:"mode"`
	RefundedFen      int64  `json:"refundedFen"`
	RefundCashFen    int64  `json:"refundCashFen"`
	RefundNonCashFen int64  `json:"refundNonCashFen"`
	RefundFreightFen int64  `json:"refundFreightFen"`
	Lines            []struct {
		SKU        string `json:"sku"`
		Qty        int64  `json:"qty"`
		CashFen    int64  `json:"cashFen"`
		NonCashFen int64  `json:"nonCashFen"`
	} `json:"lines"`
	Steps []struct {
		Step string `json:"step"`
		Note string `json:"note"`
	} `json:"steps"`
	Pushes []struct {
		ID, Type, Status, Result, LastError string
		Attempts                            int
	} `json:"pushes"`
}

func requestReturn(t *testing.T, c *gqlc.Client, orderID, key, mode string, lines ...map[string]any) (*returnRequest, []userError) {
	t.Helper()
	var out struct {
		RequestReturn struct {
			Request *returnRequest `json:"request"`
			Errors  []userError    `json:"errors"`
		} `json:"requestReturn"`
	}
	in := map[string]any{"reason": "the milk was sour", "mode": mode, "lines": lines, "photoUrls": []string{"https://img.example.com/sour.jpg"}}
	if err := c.Do(ctx(t), mRequestReturn, map[string]any{"id": orderID, "key": key, "in": in}, &out); err != nil {
		t.Fatal(err)
	}
	return out.RequestReturn.Request, out.RequestReturn.Errors
}

func afterSales(t *testing.T, cs *gqlc.Client, id string) returnRequest {
	t.Helper()
	var out struct{ AfterSalesRequest returnRequest }
	if err := cs.Do(ctx(t), qAfterSales, map[string]any{"id": id}, &out); err != nil {
		t.Fatal(err)
	}
	return out.AfterSalesRequest
}

func line(sku string, qty int64) map[string]any { return map[string]any{"sku": sku, "qty": qty} }

// A customer returns a delivered order through GraphQL with real
// sidecars: bad returns are refused with their codes (another's order, a
// SKU not on it, more units than delivered, an undelivered order); one
// unit goes back with a pickup (TMS books the courier, WMS is told the
// goods come back, PAY's refund is audited by finance and paid back to the
// channel, the non-cash share goes back to the balance, finance gets the
// voucher, the customer the answer); then two returns race for the last
// two units: one wins. In the end the trade got back exactly what the
// returns computed, the balance is whole again, and each push reached its
// receiver exactly once.
func TestCustomerReturnsDeliveredGoods(t *testing.T) {
	const customer, wh = "C0064", "WH-SH"
	c := client(t, "CUSTOMER", customer)
	cs := client(t, "CS_AGENT", "agent-7")
	first := zonedProducts(t, c, wh, nil)
	skip := []string{first[0].SKU, first[1].SKU, first[2].SKU}
	second := zonedProducts(t, c, wh, skip)
	// The chilled one of the third round: the store-shortage test takes
	// its ambient one, and a second stock of that SKU in RTN bins would
	// send its put-away there.
	ps := zonedProducts(t, c, wh, append(skip, second[0].SKU, second[1].SKU, second[2].SKU))[1:2]
	f := layout(t, wh, "RTN", ps)
	f.receive("RTN-0", ps[0].SKU, 100)
	before := balance(t, c)

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := deduct(t, c, 100)
	in := orderInput([]product{ps[0].product}, 3, []string{d})
	in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
	o := mustPlace(t, c, in)
	sub, err := gqlc.Subscribe(sctx, wsURL(), c.Token, sOrderUpdated, map[string]any{"id": o.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	payAtCashier(t, c, o.ID)

	// Not delivered yet: refused, nothing stored.
	if r, errs := requestReturn(t, c, o.ID, ids.New(), "REFUND_ONLY", line(ps[0].SKU, 1)); r != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_RETURNABLE" {
		t.Fatalf("return before delivery: %+v %+v", r, errs)
	}
	deliveryOrder, carrier := f.dispatched(c, o)
	wos := f.workOrders(deliveryOrder, 1)
	listID, tasks := f.pickList(wos)
	if !f.pickAll(tasks) {
		t.Fatal("the pick list did not finish")
	}
	f.qcAndPack(listID)
	batch, _ := f.handOver(carrier, o.ID)
	imported(t, batch)
	delivered(t, c, sub, o.ID)

	other := client(t, "CUSTOMER", "C0065")
	for _, k := range []struct {
		c     *gqlc.Client
		lines []map[string]any
		code  string
	}{
		{other, []map[string]any{line(ps[0].SKU, 1)}, "NOT_FOUND"},
		{c, []map[string]any{line("SKU-NOT-ON-IT", 1)}, "LINE_NOT_ON_ORDER"},
		{c, []map[string]any{line(ps[0].SKU, 4)}, "QTY_ABOVE_DELIVERED"},
	} {
		if r, errs := requestReturn(t, k.c, o.ID, ids.New(), "PICKUP", k.lines...); r != nil || len(errs) != 1 || errs[0].Code != k.code {
			t.Fatalf("want %s: %+v %+v", k.code, r, errs)
		}
	}

	r1, errs := requestReturn(t, c, o.ID, ids.New(), "PICKUP", line(ps[0].SKU, 1))
	if r1 == nil || r1.Kind != "RETURN" || r1.RefundCashFen+r1.RefundNonCashFen == 0 {
		t.Fatalf("return with pickup: %+v %+v", r1, errs)
	}
	// Two returns race for the last two units: one is accepted.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []*returnRequest
	var codes []string
	for range 2 {
		wg.Go(func() {
			r, errs := requestReturn(t, c, o.ID, ids.New(), "REFUND_ONLY", line(ps[0].SKU, 2))
			mu.Lock()
			defer mu.Unlock()
			if r != nil {
				won = append(won, r)
			}
			for _, e := range errs {
				codes = append(codes, e.Code)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 || len(codes) != 1 || codes[0] != "QTY_ABOVE_DELIVERED" {
		t.Fatalf("two returns of the last two units: %d won, errors %v", len(won), codes)
	}
	r2 := won[0]
	for _, r := range []*returnRequest{r1, r2} {
		eventually(t, 90*time.Second, "return "+r.ID+" refunded", func() (bool, error) {
			got := afterSales(t, cs, r.ID)
			return got.Status == "REFUNDED", nil
		})
	}
	// The whole order came back: the trade refunded exactly what the two
	// returns computed (all it was paid), the balance whole again.
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	if len(trades) != 1 || trades[0].RefundedFen != trades[0].PaidFen || int64(trades[0].PaidFen) != r1.RefundCashFen+r2.RefundCashFen {
		t.Fatalf("trades %+v; returns' cash %d + %d", trades, r1.RefundCashFen, r2.RefundCashFen)
	}
	if r1.RefundNonCashFen+r2.RefundNonCashFen != 100 {
		t.Fatalf("non-cash refunded %d + %d, paid 100", r1.RefundNonCashFen, r2.RefundNonCashFen)
	}
	eventually(t, 30*time.Second, "balance whole again", func() (bool, error) { return balance(t, c) == before, nil })
	var refunds []payclient.Refund
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/refunds?trade="+trades[0].ID, nil, &refunds); err != nil {
		t.Fatal(err)
	}
	if len(refunds) != 2 {
		t.Fatalf("refunds of the trade: %+v", refunds)
	}
	// Every push DONE, and each reached its receiver once.
	got1 := afterSales(t, cs, r1.ID)
	want := map[string]bool{"ANSWER": true, "TMS_PICKUP": true, "WMS_RETURN": true, "REFUND": true, "NONCASH_REFUND": true, "REFUND_VOUCHER": true,
		"STOCK_RESTORE": true, "SETTLEMENT": true}
	for _, p := range got1.Pushes {
		if p.Status != "DONE" || !want[p.Type] {
			t.Fatalf("push %+v of the pickup return", p)
		}
		delete(want, p.Type)
	}
	if len(want) != 0 {
		t.Fatalf("pushes missing: %v (%+v)", want, got1.Pushes)
	}
	for _, api := range []string{"tms.pickups", "fms.refund_vouchers", "push.messages", "fms.settlements"} {
		n := 0
		for _, x := range received(t, api, o.ID) {
			if x.Deliveries != 1 && !strings.HasPrefix(x.ID, o.ID) {
				t.Fatalf("%s %s delivered %d times", api, x.ID, x.Deliveries)
			}
			if strings.Contains(x.ID, r1.ID) || strings.Contains(x.ID, r2.ID) {
				n++
			}
		}
		if want := map[string]int{"tms.pickups": 1, "fms.refund_vouchers": 2, "push.messages": 2, "fms.settlements": 2}[api]; n != want {
			t.Fatalf("%s received %d of the returns' pushes, want %d", api, n, want)
		}
	}
	t.Logf("return %s: %+v", r1.ID, got1.Steps)
	_ = context.Background
}

const qOrderRequests = `query($id:ID!){ order(id:$id){ status afterSalesRequests{ id kind status refundCashFen refundNonCashFen lines{ sku qty } } } }`

// deliverOrRefuse takes a paid order of one line of qty through the
// warehouse and hands it to the courier; refused > 0 makes the customer
// refuse that many units at the door (the TMS stand-in's outcome: all of
// them, a refusal without lines; fewer, the courier's lines), else it is
// delivered.
func deliverOrRefuse(t *testing.T, c *gqlc.Client, prefix string, skipSets int, qty, refused int64) (order, zoned) {
	t.Helper()
	const wh = "WH-SH"
	var skip []string
	for range skipSets {
		set := zonedProducts(t, c, wh, skip)
		skip = append(skip, set[0].SKU, set[1].SKU, set[2].SKU)
	}
	ps := zonedProducts(t, c, wh, skip)[:1]
	f := layout(t, wh, prefix, ps)
	f.receive(prefix+"-0", ps[0].SKU, 100)
	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	o, sub := placePaid(t, c, sctx, ps, qty)
	t.Cleanup(sub.Close)
	deliveryOrder, carrier := f.dispatched(c, o)
	listID, tasks := f.pickList(f.workOrders(deliveryOrder, 1))
	if !f.pickAll(tasks) {
		t.Fatal("the pick list did not finish")
	}
	f.qcAndPack(listID)
	batch, _ := f.handOver(carrier, o.ID)
	imported(t, batch)
	if refused == 0 {
		delivered(t, c, sub, o.ID)
		return o, ps[0]
	}
	var op struct {
		Parcels []struct {
			ParcelID string `json:"parcel_id"`
		} `json:"parcels"`
	}
	if err := invoke(ctx(t), "wms", http.MethodGet, "v1/order-parcels/"+o.ID, nil, &op); err != nil || len(op.Parcels) == 0 {
		t.Fatalf("parcels of %s: %+v %v", o.ID, op, err)
	}
	body := `{"outcome":"REFUSED"}`
	if refused < qty {
		if len(op.Parcels) != 1 {
			t.Fatalf("a partial refusal wants one parcel, %s has %d", o.ID, len(op.Parcels))
		}
		body = fmt.Sprintf(`{"outcome":"REFUSED","lines":[{"sku":%q,"qty":%d}]}`, ps[0].SKU, refused)
	}
	for _, p := range op.Parcels {
		resp, err := callApp("partners", http.MethodPost, "/admin/tms/parcels/"+p.ParcelID+"/outcome", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refuse parcel %s: %s", p.ParcelID, resp.Status)
		}
	}
	return o, ps[0]
}

// The customer refuses the parcel at the door: the TMS stand-in reports
// it, OMS publishes the refusal, and after-sales makes a rejection of
// every unit by itself (seen on order detail), whose warehouse notice
// calls for the refund: the whole trade comes back once. The customer
// cannot return the refused goods.
func TestRefusalAtTheDoorIsRefundedByItself(t *testing.T) {
	c := client(t, "CUSTOMER", "C0066")
	o, p := deliverOrRefuse(t, c, "RJT", 3, 2, 2)
	var rej struct {
		ID               string `json:"id"`
		Kind             string `json:"kind"`
		Status           string `json:"status"`
		RefundCashFen    int64  `json:"refundCashFen"`
		RefundNonCashFen int64  `json:"refundNonCashFen"`
		Lines            []struct {
			SKU string `json:"sku"`
			Qty int64  `json:"qty"`
		} `json:"lines"`
	}
	eventually(t, 90*time.Second, "rejection of "+o.ID+" refunded", func() (bool, error) {
		var out struct {
			Order struct {
				Status             string
				AfterSalesRequests []json.RawMessage
			}
		}
		if err := c.Do(ctx(t), qOrderRequests, map[string]any{"id": o.ID}, &out); err != nil {
			return false, err
		}
		if len(out.Order.AfterSalesRequests) != 1 {
			return false, nil
		}
		_ = json.Unmarshal(out.Order.AfterSalesRequests[0], &rej)
		return rej.Status == "REFUNDED", nil
	})
	if rej.Kind != "REJECTION" || len(rej.Lines) != 1 || rej.Lines[0].SKU != p.SKU || rej.Lines[0].Qty != 2 {
		t.Fatalf("rejection %+v", rej)
	}
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	if len(trades) != 1 || trades[0].RefundedFen != trades[0].PaidFen || int64(trades[0].PaidFen) != rej.RefundCashFen {
		t.Fatalf("trades %+v, rejection's cash %d", trades, rej.RefundCashFen)
	}
	if r, errs := requestReturn(t, c, o.ID, ids.New(), "REFUND_ONLY", line(p.SKU, 1)); r != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_RETURNABLE" {
		t.Fatalf("return of a refused order: %+v %+v", r, errs)
	}
}

// The customer refuses 1 of 3 units at the door (the courier's lines at
// the TMS stand-in): the rejection after-sales makes by itself holds that
// unit only, refunds its share of the trade (less than paid), and the
// courier's lines that do not match the parcel are refused at TMS.
func TestPartialRefusalAtTheDoorRejectsOnlyTheRefusedUnits(t *testing.T) {
	c := client(t, "CUSTOMER", "C0067")
	o, p := deliverOrRefuse(t, c, "RJP", 11, 3, 1)
	var rej struct {
		ID            string `json:"id"`
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		RefundCashFen int64  `json:"refundCashFen"`
		Lines         []struct {
			SKU string `json:"sku"`
			Qty int64  `json:"qty"`
		} `json:"lines"`
	}
	eventually(t, 3*time.Minute, "partial rejection of "+o.ID+" refunded", func() (bool, error) {
		var out struct {
			Order struct {
				Status             string
				AfterSalesRequests []json.RawMessage
			}
		}
		if err := c.Do(ctx(t), qOrderRequests, map[string]any{"id": o.ID}, &out); err != nil {
			return false, err
		}
		if len(out.Order.AfterSalesRequests) != 1 {
			return false, nil
		}
		_ = json.Unmarshal(out.Order.AfterSalesRequests[0], &rej)
		return rej.Status == "REFUNDED", nil
	})
	if rej.Kind != "REJECTION" || len(rej.Lines) != 1 || rej.Lines[0].SKU != p.SKU || rej.Lines[0].Qty != 1 {
		t.Fatalf("rejection %+v", rej)
	}
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	if len(trades) != 1 || int64(trades[0].RefundedFen) != rej.RefundCashFen || rej.RefundCashFen <= 0 || trades[0].RefundedFen >= trades[0].PaidFen {
		t.Fatalf("trades %+v, rejection's cash %d", trades, rej.RefundCashFen)
	}
}

// Customer service's return document through GraphQL with real
// sidecars: an agent makes it, the console's live feed shows it awaiting
// audit, the agent's own supervisor role cannot approve what they made
// (AUDITOR_IS_AUTHOR, nothing moves), another supervisor approves it and
// it runs to REFUNDED.
func TestReturnDocumentAuditedBySomeoneElse(t *testing.T) {
	c := client(t, "CUSTOMER", "C0067")
	o, p := deliverOrRefuse(t, c, "DOC", 4, 1, 0)
	author := client(t, "CS_SUPERVISOR", "sup-ann")
	other := client(t, "CS_SUPERVISOR", "sup-bob")
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	feed, err := gqlc.Subscribe(sctx, wsURL(), author.Token, `subscription { afterSalesEvents { type requestId status by } }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	var doc struct {
		CreateReturnDocument struct {
			Request *struct{ ID, Status string }
			Errors  []userError
		}
	}
	if err := author.Do(ctx(t), `mutation($id:ID!,$sku:String!){ createReturnDocument(orderId:$id, idempotencyKey:"d1", input:{ kind: RETURN,
		reason: "mould on arrival", mode: REFUND_ONLY, lines: [{ sku: $sku, qty: 1 }] }){ request{ id status } errors{ code message } } }`,
		map[string]any{"id": o.ID, "sku": p.SKU}, &doc); err != nil || doc.CreateReturnDocument.Request == nil {
		t.Fatalf("document: %+v %v", doc, err)
	}
	id := doc.CreateReturnDocument.Request.ID
	// Topics are delivered independently: the feed's events of one
	// document may arrive in any order.
	got := map[string]bool{}
	seen := func(typ string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for !got[typ] {
			select {
			case data := <-feed.Next:
				var ev struct {
					AfterSalesEvents struct{ Type, RequestID string }
				}
				_ = json.Unmarshal(data, &ev)
				if ev.AfterSalesEvents.RequestID == id {
					got[ev.AfterSalesEvents.Type] = true
				}
			case <-timeout:
				t.Fatalf("no %s of %s on the live feed (saw %v)", typ, id, got)
			}
		}
	}
	seen("DOCUMENT_SUBMITTED")
	audit := func(c *gqlc.Client) []userError {
		var out struct {
			AuditDocument struct{ Errors []userError }
		}
		if err := c.Do(ctx(t), `mutation($id:ID!){ auditDocument(id:$id, approve:true, note:"photos show mould"){ errors{ code } } }`,
			map[string]any{"id": id}, &out); err != nil {
			t.Fatal(err)
		}
		return out.AuditDocument.Errors
	}
	if errs := audit(author); len(errs) != 1 || errs[0].Code != "AUDITOR_IS_AUTHOR" {
		t.Fatalf("self-approval: %+v", errs)
	}
	if got := afterSales(t, other, id); got.Status != "AWAITING_AUDIT" || len(got.Pushes) != 0 {
		t.Fatalf("after the self-approval: %+v", got)
	}
	if errs := audit(other); len(errs) != 0 {
		t.Fatalf("approval: %+v", errs)
	}
	seen("DOCUMENT_AUDITED")
	seen("REQUEST_ACCEPTED")
	eventually(t, 90*time.Second, "document "+id+" refunded", func() (bool, error) {
		return afterSales(t, other, id).Status == "REFUNDED", nil
	})
}

// After-sales is killed while its TMS_PICKUP push is in delivery (TMS
// answers slowly): restarted, the push's lease runs out and the worker
// delivers it again; TMS holds one pickup, WMS one notice, PAY one
// refund, and the return ends REFUNDED: no push twice to any effect.
func TestAfterSalesKilledMidPush(t *testing.T) {
	c := client(t, "CUSTOMER", "C0068")
	cs := client(t, "CS_AGENT", "agent-8")
	o, p := deliverOrRefuse(t, c, "KPU", 5, 1, 0)
	setFault(t, map[string]any{"name": "tms.pickups", "delay_ms": 3000})
	t.Cleanup(func() { setFault(t, map[string]any{"name": "tms.pickups"}) })
	time.Sleep(400 * time.Millisecond) // the switch is read at most every 250 ms
	r, errs := requestReturn(t, c, o.ID, ids.New(), "PICKUP", line(p.SKU, 1))
	if r == nil {
		t.Fatalf("return: %+v", errs)
	}
	time.Sleep(time.Second) // the pickup is at TMS, unanswered
	if err := st.Kill("aftersales"); err != nil {
		t.Fatal(err)
	}
	setFault(t, map[string]any{"name": "tms.pickups"})
	if err := st.Restart(ctx(t), "aftersales"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "return "+r.ID+" refunded after the restart", func() (bool, error) {
		return afterSales(t, cs, r.ID).Status == "REFUNDED", nil
	})
	got := afterSales(t, cs, r.ID)
	for _, p := range got.Pushes {
		if p.Status != "DONE" {
			t.Fatalf("push %+v", p)
		}
		if p.Type == "TMS_PICKUP" && p.Attempts < 2 {
			t.Fatalf("the pickup push was not delivered again after the kill: %+v", p)
		}
	}
	pickups := 0
	for _, x := range received(t, "tms.pickups", o.ID) {
		if strings.HasPrefix(x.ID, r.ID) {
			pickups++
		}
	}
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil || len(trades) != 1 {
		t.Fatalf("trades %+v %v", trades, err)
	}
	var refunds []payclient.Refund
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/refunds?trade="+trades[0].ID, nil, &refunds); err != nil {
		t.Fatal(err)
	}
	if pickups != 1 || len(refunds) != 1 || trades[0].RefundedFen != trades[0].PaidFen {
		t.Fatalf("%d pickups at TMS, %d refunds, trade refunded %d of %d", pickups, len(refunds), trades[0].RefundedFen, trades[0].PaidFen)
	}
	t.Logf("pushes after the kill: %+v", got.Pushes)
}
