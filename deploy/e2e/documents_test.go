package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

// Customer service's forward documents (reissue, exchange, pull-back)
// through GraphQL with real sidecars. Customers C0095-C0097; the goods of
// product sets 9 and 10 (sets 0-6 belong to the other warehouse tests);
// layout prefixes FRI, FEX and FPB.

const qDocument = `query($id:ID!){ afterSalesRequest(id:$id){ id kind status outcome newOrderId createdBy auditedBy
	steps{ step note } pushes{ id type status attempts result lastError } } }`

type document struct {
	ID         string
	Kind       string
	Status     string
	Outcome    string
	NewOrderID string
	CreatedBy  string
	AuditedBy  string
	Steps      []struct{ Step, Note string }
	Pushes     []struct {
		ID, Type, Status, Result, LastError string
		Attempts                            int
	}
}

func (d document) pushTypes() []string {
	var out []string
	for _, p := range d.Pushes {
		out = append(out, p.Type)
	}
	return out
}

// createDocument calls one of the forward documents' mutations (mutation
// is createReissueDocument, createExchangeDocument or
// createPullBackDocument, inputType its input's type).
func createDocument(t *testing.T, c *gqlc.Client, mutation, inputType, orderID, key string, in map[string]any) (*document, []userError) {
	t.Helper()
	q := fmt.Sprintf(`mutation($id:ID!,$key:String!,$in:%s!){ %s(orderId:$id, idempotencyKey:$key, input:$in){
		request{ id kind status outcome newOrderId createdBy } errors{ code message field } } }`, inputType, mutation)
	var out map[string]struct {
		Request *document
		Errors  []userError
	}
	if err := c.Do(ctx(t), q, map[string]any{"id": orderID, "key": key, "in": in}, &out); err != nil {
		t.Fatalf("%s: %v", mutation, err)
	}
	return out[mutation].Request, out[mutation].Errors
}

func readDocument(t *testing.T, cs *gqlc.Client, id string) (document, error) {
	var out struct{ AfterSalesRequest *document }
	if err := cs.Do(ctx(t), qDocument, map[string]any{"id": id}, &out); err != nil {
		return document{}, err
	}
	if out.AfterSalesRequest == nil {
		return document{}, fmt.Errorf("document %s not found", id)
	}
	return *out.AfterSalesRequest, nil
}

func auditDoc(t *testing.T, c *gqlc.Client, id string, approve bool) []userError {
	t.Helper()
	var out struct {
		AuditDocument struct{ Errors []userError }
	}
	if err := c.Do(ctx(t), `mutation($id:ID!,$ok:Boolean!){ auditDocument(id:$id, approve:$ok, note:"checked the photos"){ errors{ code message } } }`,
		map[string]any{"id": id, "ok": approve}, &out); err != nil {
		t.Fatal(err)
	}
	return out.AuditDocument.Errors
}

// docCompleted waits for the document to end COMPLETED with a new order,
// failing at once when it ends anything else.
func docCompleted(t *testing.T, cs *gqlc.Client, id string) document {
	t.Helper()
	var d document
	eventually(t, 120*time.Second, "document "+id+" completed", func() (bool, error) {
		var err error
		d, err = readDocument(t, cs, id)
		if err != nil {
			return false, err
		}
		if slices.Contains([]string{"REFUSED", "REJECTED", "REFUNDED", "CANCELLED"}, d.Status) {
			t.Fatalf("document %s ended %s: %+v", id, d.Status, d)
		}
		return d.Status == "COMPLETED" && d.NewOrderID != "", fmt.Errorf("%s, pushes %+v, steps %+v", d.Status, d.Pushes, d.Steps)
	})
	declaredStatus(t, cs, d.Status)
	return d
}

// declaredStatus fails unless the schema declares status as a value of
// AfterSalesStatus: the server would serve an undeclared one, which
// clients built from the schema cannot read.
func declaredStatus(t *testing.T, c *gqlc.Client, status string) {
	t.Helper()
	var out struct {
		Type struct{ EnumValues []struct{ Name string } } `json:"__type"`
	}
	if err := c.Do(ctx(t), `{ __type(name: "AfterSalesStatus"){ enumValues{ name } } }`, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(out.Type.EnumValues, func(v struct{ Name string }) bool { return v.Name == status }) {
		t.Fatalf("status %s is not a value of AfterSalesStatus in the schema: %+v", status, out.Type.EnumValues)
	}
}

// orderRequests counts the after-sales requests order detail shows.
func orderRequests(t *testing.T, cs *gqlc.Client, orderID string) int {
	t.Helper()
	var out struct {
		Order struct{ AfterSalesRequests []struct{ ID string } }
	}
	if err := cs.Do(ctx(t), `query($id:ID!){ order(id:$id){ afterSalesRequests{ id } } }`, map[string]any{"id": orderID}, &out); err != nil {
		t.Fatal(err)
	}
	return len(out.Order.AfterSalesRequests)
}

type sourcedOrder struct {
	ID, Status, Source string
	PaidFen            int64
	Timeline           []struct{ Type, Note string }
}

func orderWithSource(t *testing.T, c *gqlc.Client, id string) sourcedOrder {
	t.Helper()
	var out struct{ Order *sourcedOrder }
	if err := c.Do(ctx(t), `query($id:ID!){ order(id:$id){ id status source paidFen timeline{ type note } } }`, map[string]any{"id": id}, &out); err != nil || out.Order == nil {
		t.Fatalf("order %s: %+v %v", id, out.Order, err)
	}
	return *out.Order
}

func tradesOf(t *testing.T, orderID string) []payclient.Trade {
	t.Helper()
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+orderID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	return trades
}

func refundsOf(t *testing.T, tradeID string) []payclient.Refund {
	t.Helper()
	var refunds []payclient.Refund
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/refunds?trade="+tradeID, nil, &refunds); err != nil {
		t.Fatal(err)
	}
	return refunds
}

// A reissue of a delivered order: an agent makes it; the same person as
// supervisor cannot approve it (AUDITOR_IS_AUTHOR, nothing moves); a
// reissue of an order not shipped is refused (ORDER_NOT_SHIPPED);
// another supervisor approves; the new order, source REISSUE, goes
// through the accept-order API and stages 1-16 to DISPATCHED without any
// payment, and stage 14 texts the customer once.
func TestForwardDocumentReissueReachesDispatchAndTextsTheCustomer(t *testing.T) {
	c := client(t, "CUSTOMER", "C0095")
	o, p := deliverOrRefuse(t, c, "FRI", 9, 2, 0)
	agent := client(t, "CS_AGENT", "sup-cara")
	self := client(t, "CS_SUPERVISOR", "sup-cara")
	other := client(t, "CS_SUPERVISOR", "sup-dan")

	in := map[string]any{"reason": "two of the peaches were crushed", "lines": []map[string]any{line(p.SKU, 1)}}
	for _, k := range []struct {
		in   map[string]any
		code string
	}{
		{map[string]any{"reason": "x", "lines": []map[string]any{line("SKU-NOT-ON-IT", 1)}}, "LINE_NOT_ON_ORDER"},
		{map[string]any{"reason": "x", "lines": []map[string]any{line(p.SKU, 3)}}, "QTY_ABOVE_DELIVERED"},
	} {
		if d, errs := createDocument(t, agent, "createReissueDocument", "ReissueDocumentInput", o.ID, "bad-"+k.code, k.in); d != nil || len(errs) != 1 || errs[0].Code != k.code {
			t.Fatalf("want %s: %+v %+v", k.code, d, errs)
		}
	}
	if d, errs := createDocument(t, agent, "createReissueDocument", "ReissueDocumentInput", "O-NO-SUCH-ORDER", "r0", in); d != nil || len(errs) != 1 || errs[0].Code != "NOT_FOUND" {
		t.Fatalf("reissue of a missing order: %+v %+v", d, errs)
	}
	if n := orderRequests(t, other, o.ID); n != 0 {
		t.Fatalf("refused reissues left %d requests on the order", n)
	}
	d, errs := createDocument(t, agent, "createReissueDocument", "ReissueDocumentInput", o.ID, "r1", in)
	if d == nil || d.Kind != "REISSUE" || d.Status != "AWAITING_AUDIT" || d.CreatedBy != "sup-cara" {
		t.Fatalf("reissue: %+v %+v", d, errs)
	}
	// The author's key replays the document.
	if again, errs := createDocument(t, agent, "createReissueDocument", "ReissueDocumentInput", o.ID, "r1", in); again == nil || again.ID != d.ID {
		t.Fatalf("replay: %+v %+v", again, errs)
	}
	if errs := auditDoc(t, self, d.ID, true); len(errs) != 1 || errs[0].Code != "AUDITOR_IS_AUTHOR" {
		t.Fatalf("self-approval: %+v", errs)
	}
	if got, err := readDocument(t, other, d.ID); err != nil || got.Status != "AWAITING_AUDIT" || len(got.Pushes) != 0 {
		t.Fatalf("after the self-approval: %+v %v", got, err)
	}
	if errs := auditDoc(t, other, d.ID, true); len(errs) != 0 {
		t.Fatalf("approval: %+v", errs)
	}
	got := docCompleted(t, other, d.ID)
	if got.AuditedBy != "sup-dan" || !slices.Equal(got.pushTypes(), []string{"NEW_ORDER"}) || got.Pushes[0].Status != "DONE" ||
		got.Pushes[0].Result != got.NewOrderID || got.Pushes[0].Attempts != 1 {
		t.Fatalf("reissue done: %+v", got)
	}
	newID := got.NewOrderID
	eventually(t, 120*time.Second, "the reissue's order dispatched", func() (bool, error) {
		n := orderWithSource(t, c, newID)
		return n.Status == omsclient.StatusDispatched, fmt.Errorf("status %s", n.Status)
	})
	n := orderWithSource(t, c, newID)
	if n.Source != "REISSUE" || n.PaidFen != 0 {
		t.Fatalf("the reissue's order: %+v", n)
	}
	if tr := tradesOf(t, newID); len(tr) != 0 {
		t.Fatalf("the reissue's order was paid: %+v", tr)
	}
	// Stage 1 sends no payment message for a reissue (nobody paid);
	// stage 14 texts it once, naming the original.
	var sms []string
	for _, x := range received(t, "sms.messages", newID) {
		if x.Deliveries != 1 {
			t.Fatalf("SMS %s delivered %d times", x.ID, x.Deliveries)
		}
		if strings.Contains(string(x.Body), "ORDER_PAID") {
			t.Fatalf("the reissue's order was texted as paid: %s", x.Body)
		}
		if !strings.Contains(string(x.Body), "REISSUE_CREATED") {
			continue
		}
		sms = append(sms, x.ID)
		if !strings.Contains(string(x.Body), o.ID) {
			t.Fatalf("stage 14's SMS %s: %s", x.ID, x.Body)
		}
	}
	if !slices.Equal(sms, []string{newID + ":reissue:sms"}) {
		t.Fatalf("SMS of the reissue's order: %v", sms)
	}
	// The reissued unit counts: both units again would send one twice.
	if d, errs := createDocument(t, agent, "createReissueDocument", "ReissueDocumentInput", o.ID, "r2",
		map[string]any{"reason": "the rest was crushed too", "lines": []map[string]any{line(p.SKU, 2)}}); d != nil || len(errs) != 1 || errs[0].Code != "ALREADY_REISSUED" {
		t.Fatalf("a reissue of units reissued already: %+v %+v", d, errs)
	}
	// A delivered order is not short: no pull-back, nothing written.
	if d, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", o.ID, "pb1", map[string]any{"reason": "late",
		"outcome": "CANCEL"}); d != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_SHORT" {
		t.Fatalf("pull-back of a delivered order: %+v %+v", d, errs)
	}
	if n := orderRequests(t, other, o.ID); n != 1 {
		t.Fatalf("the order shows %d requests, want the reissue", n)
	}
	// The original's own SMS stage never ran (it was not a reissue).
	if got := received(t, "sms.messages", o.ID+":reissue"); len(got) != 0 {
		t.Fatalf("the original order texted: %+v", got)
	}
}

// An exchange of a delivered unit: approved, TMS books the pickup, the
// warehouse expects the goods back, the unit's sellable stock comes back;
// nothing is refunded; then a new order (source EXCHANGE) of the same good
// is placed and texted like a reissue.
func TestForwardDocumentExchangeTakesBackAndDeliversAgain(t *testing.T) {
	c := client(t, "CUSTOMER", "C0096")
	o, p := deliverOrRefuse(t, c, "FEX", 10, 2, 0)
	agent := client(t, "CS_AGENT", "agent-eve")
	sup := client(t, "CS_SUPERVISOR", "sup-fay")
	// An exchange of an undelivered order: refused, nothing written.
	in := map[string]any{"reason": "wrong ripeness", "lines": []map[string]any{line(p.SKU, 1)}}
	if d, errs := createDocument(t, agent, "createExchangeDocument", "ExchangeDocumentInput", o.ID, "x-bad", map[string]any{"reason": "x",
		"lines": []map[string]any{line(p.SKU, 3)}}); d != nil || len(errs) != 1 || errs[0].Code != "QTY_ABOVE_DELIVERED" {
		t.Fatalf("exchange of 3 of 2: %+v %+v", d, errs)
	}
	before := available(t, c, p.SKU)
	d, errs := createDocument(t, agent, "createExchangeDocument", "ExchangeDocumentInput", o.ID, "x1", in)
	if d == nil || d.Kind != "EXCHANGE" || d.Status != "AWAITING_AUDIT" {
		t.Fatalf("exchange: %+v %+v", d, errs)
	}
	if errs := auditDoc(t, sup, d.ID, true); len(errs) != 0 {
		t.Fatalf("approval: %+v", errs)
	}
	got := docCompleted(t, sup, d.ID)
	want := []string{"ANSWER", "TMS_PICKUP", "WMS_RETURN", "STOCK_RESTORE", "NEW_ORDER"}
	types := got.pushTypes()
	slices.Sort(types)
	slices.Sort(want)
	if !slices.Equal(types, want) {
		t.Fatalf("exchange's pushes %v, want %v (nothing refunded)", got.pushTypes(), want)
	}
	for _, x := range got.Pushes {
		if x.Status != "DONE" {
			t.Fatalf("push %+v", x)
		}
	}
	var steps []string
	for _, s := range got.Steps {
		steps = append(steps, s.Step)
	}
	for _, s := range []string{"PICKUP_BOOKED", "WAREHOUSE_NOTIFIED", "NEW_ORDER_PLACED"} {
		if !slices.Contains(steps, s) {
			t.Fatalf("exchange steps %v lack %s", steps, s)
		}
	}
	pickups := 0
	for _, x := range received(t, "tms.pickups", o.ID) {
		if strings.HasPrefix(x.ID, d.ID) {
			pickups++
			if x.Deliveries != 1 {
				t.Fatalf("pickup %s delivered %d times", x.ID, x.Deliveries)
			}
		}
	}
	if pickups != 1 {
		t.Fatalf("%d pickups at TMS for the exchange", pickups)
	}
	tr := tradesOf(t, o.ID)
	if len(tr) != 1 || tr[0].RefundedFen != 0 || len(refundsOf(t, tr[0].ID)) != 0 {
		t.Fatalf("an exchange refunded: trades %+v", tr)
	}
	n := orderWithSource(t, c, got.NewOrderID)
	if n.Source != "EXCHANGE" || n.PaidFen != 0 {
		t.Fatalf("the exchange's order: %+v", n)
	}
	var lines struct {
		Order struct {
			Lines []struct {
				SKU string
				Qty int64
			}
		}
	}
	if err := c.Do(ctx(t), `query($id:ID!){ order(id:$id){ lines{ sku qty } } }`, map[string]any{"id": got.NewOrderID}, &lines); err != nil {
		t.Fatal(err)
	}
	if len(lines.Order.Lines) != 1 || lines.Order.Lines[0].SKU != p.SKU || lines.Order.Lines[0].Qty != 1 {
		t.Fatalf("the exchange's order lines: %+v", lines.Order.Lines)
	}
	// The unit given back was restored and the new order took one again.
	eventually(t, 30*time.Second, "sellable stock as before the exchange", func() (bool, error) {
		a := available(t, c, p.SKU)
		return a == before, fmt.Errorf("available %d, before %d", a, before)
	})
	// The goods cannot be returned again: the exchange holds the unit.
	if r, errs := createDocument(t, agent, "createExchangeDocument", "ExchangeDocumentInput", o.ID, "x2", map[string]any{"reason": "again",
		"lines": []map[string]any{line(p.SKU, 2)}}); r != nil || len(errs) != 1 || errs[0].Code != "QTY_ABOVE_DELIVERED" {
		t.Fatalf("exchange of the exchanged unit again: %+v %+v", r, errs)
	}
	eventually(t, 120*time.Second, "the exchange's order texted", func() (bool, error) {
		var ids []string
		for _, x := range received(t, "sms.messages", n.ID) {
			if strings.Contains(string(x.Body), "EXCHANGE_CREATED") && strings.Contains(string(x.Body), o.ID) && x.Deliveries == 1 {
				ids = append(ids, x.ID)
			}
		}
		return slices.Equal(ids, []string{n.ID + ":reissue:sms"}), fmt.Errorf("exchange SMS %v", ids)
	})
}

// A pull-back of a paid order whose work order waits for stock (its SKU
// has no bin stock at the warehouse): bad input first (an order not
// short (in the reissue's test): ORDER_NOT_SHORT; a second pull-back while one is open:
// PULL_BACK_OPEN; nothing written); approved, NEW_ORDER ends the
// original CANCELLED (PULLED_BACK) without a refund and makes a new PAID
// order (source PULL_BACK), whose fulfillment starts.
func TestForwardDocumentPullBackToANewOrder(t *testing.T) {
	const wh = "WH-SH"
	c := client(t, "CUSTOMER", "C0097")
	agent := client(t, "CS_AGENT", "agent-gus")
	sup := client(t, "CS_SUPERVISOR", "sup-hal")
	var skip []string
	for range 10 {
		set := zonedProducts(t, c, wh, skip)
		skip = append(skip, set[0].SKU, set[1].SKU, set[2].SKU)
	}
	ps := zonedProducts(t, c, wh, skip)[1:2] // set 10's chilled good: never received anywhere
	f := layout(t, wh, "FPB", ps)
	if n, _ := f.onHand(ps[0].SKU); n != 0 {
		t.Fatalf("%s has %d units in bins; the pull-back needs a good without stock", ps[0].SKU, n)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	in := map[string]any{"reason": "the customer would rather wait at another address", "outcome": "NEW_ORDER",
		"address": map[string]any{"name": "Gus", "phone": "13800000097", "province": "Shanghai", "city": "Shanghai", "district": "Pudong", "detail": "88 Zhangyang Rd"}}

	// Paid, not yet at the warehouse (or at it, not short): not short.
	o, sub := placePaid(t, c, sctx, ps, 2)
	sub.Close()
	if d, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", "O-NO-SUCH-ORDER", "pb0", in); d != nil || len(errs) != 1 || errs[0].Code != "NOT_FOUND" {
		t.Fatalf("pull-back of a missing order: %+v %+v", d, errs)
	}
	deliveryOrder, _ := f.dispatched(c, o)
	wos := f.workOrders(deliveryOrder, 1)
	if wos[0].Status != "WAITING_STOCK" {
		t.Fatalf("work order %+v: want WAITING_STOCK", wos[0])
	}
	// A reissue of an order not shipped.
	if d, errs := createDocument(t, agent, "createReissueDocument", "ReissueDocumentInput", o.ID, "ri", map[string]any{"reason": "x",
		"lines": []map[string]any{line(ps[0].SKU, 1)}}); d != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_SHIPPED" {
		t.Fatalf("reissue of a paid order: %+v %+v", d, errs)
	}
	if d, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", o.ID, "pb-bad", map[string]any{"reason": "", "outcome": "CANCEL"}); d != nil || len(errs) != 1 || errs[0].Code != "VALIDATION_FAILED" {
		t.Fatalf("pull-back without a reason: %+v %+v", d, errs)
	}

	d, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", o.ID, "pb2", in)
	if d == nil || d.Kind != "PULL_BACK" || d.Status != "AWAITING_AUDIT" || d.Outcome != "NEW_ORDER" {
		t.Fatalf("pull-back: %+v %+v", d, errs)
	}
	if again, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", o.ID, "pb3", map[string]any{"reason": "or cancel",
		"outcome": "CANCEL"}); again != nil || len(errs) != 1 || errs[0].Code != "PULL_BACK_OPEN" {
		t.Fatalf("a second pull-back while one is open: %+v %+v", again, errs)
	}
	if n := orderRequests(t, sup, o.ID); n != 1 {
		t.Fatalf("the order shows %d requests, want the one pull-back", n)
	}
	paid := orderWithSource(t, c, o.ID).PaidFen
	if errs := auditDoc(t, sup, d.ID, true); len(errs) != 0 {
		t.Fatalf("approval: %+v", errs)
	}
	got := docCompleted(t, sup, d.ID)
	orig := orderWithSource(t, c, o.ID)
	pulled := slices.ContainsFunc(orig.Timeline, func(e struct{ Type, Note string }) bool { return e.Type == "PULLED_BACK" })
	if orig.Status != omsclient.StatusCancelled || !pulled {
		t.Fatalf("the original after the pull-back: %+v", orig)
	}
	n := orderWithSource(t, c, got.NewOrderID)
	if n.Source != "PULL_BACK" || !slices.Contains([]string{omsclient.StatusPaid, omsclient.StatusFulfilling, omsclient.StatusDispatched}, n.Status) {
		t.Fatalf("the pull-back's order: %+v", n)
	}
	// The new order carries what the customer paid; the money itself
	// stays on the original's trade (checked below).
	if n.PaidFen != paid || paid == 0 {
		t.Fatalf("the pull-back's order shows paid %d, the original paid %d", n.PaidFen, paid)
	}
	var addr struct {
		Order struct {
			Address struct{ Detail, Phone string }
		}
	}
	if err := c.Do(ctx(t), `query($id:ID!){ order(id:$id){ address{ detail phone } } }`, map[string]any{"id": n.ID}, &addr); err != nil {
		t.Fatal(err)
	}
	if addr.Order.Address.Detail != "88 Zhangyang Rd" || addr.Order.Address.Phone != "13800000097" {
		t.Fatalf("the pull-back's order address: %+v", addr.Order.Address)
	}
	// Stage 1 tells the customer the new order replaces the original (not
	// that it was paid again), at the new address's phone.
	eventually(t, 60*time.Second, "the pull-back's order texted", func() (bool, error) {
		for _, x := range received(t, "sms.messages", n.ID+":initial:sms") {
			b := string(x.Body)
			if strings.Contains(b, "ORDER_PAID") {
				t.Fatalf("the pull-back's order was texted as paid: %s", b)
			}
			if strings.Contains(b, "PULL_BACK_CREATED") && strings.Contains(b, o.ID) && strings.Contains(b, "13800000097") {
				return true, nil
			}
		}
		return false, fmt.Errorf("no PULL_BACK_CREATED SMS for %s", n.ID)
	})
	tr := tradesOf(t, o.ID)
	if len(tr) != 1 || int64(tr[0].PaidFen) != paid || tr[0].RefundedFen != 0 || len(refundsOf(t, tr[0].ID)) != 0 {
		t.Fatalf("a pull-back to a new order refunded: %+v (paid %d)", tr, paid)
	}
	// The waiting work order was intercepted: nothing of the original
	// stays at the warehouse.
	eventually(t, 30*time.Second, "the original's work order ended", func() (bool, error) {
		st, _, err := f.status(wos[0].ID)
		return st != "WAITING_STOCK" && st != "", fmt.Errorf("work order %s: %v", st, err)
	})
	// Done, it is no longer open: the new order may be pulled back in turn
	// once short, but the ended original is not short any more.
	if again, errs := createDocument(t, agent, "createPullBackDocument", "PullBackDocumentInput", o.ID, "pb4", in); again != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_SHORT" {
		t.Fatalf("pull-back of the ended original: %+v %+v", again, errs)
	}

	// The customer cancels the pull-back's order (waiting for the same
	// stock): the original's payment comes back once, from the
	// original's trade to its channel; nothing is held under the new
	// order's id.
	cr, errs := requestCancel(t, c, n.ID, ids.New())
	if cr == nil {
		t.Fatalf("cancel of the pull-back's order: %+v", errs)
	}
	var final *cancelRequest
	eventually(t, 120*time.Second, "cancel of the pull-back's order "+n.ID, func() (bool, error) {
		_, final = cancelRequestOf(t, c, n.ID)
		return final != nil && (final.Status == "REFUNDED" || final.Status == "REFUSED"), nil
	})
	if final.Status != "REFUNDED" || final.RefundedFen != paid {
		t.Fatalf("cancel of the pull-back's order: %+v (paid %d)", final, paid)
	}
	eventually(t, 60*time.Second, "the original's trade refunded at its channel", func() (bool, error) {
		rs := refundsOf(t, tr[0].ID)
		return len(rs) == 1 && rs[0].Status == payclient.RefundSucceeded, fmt.Errorf("refunds %+v", rs)
	})
	tr = tradesOf(t, o.ID)
	rs := refundsOf(t, tr[0].ID)
	if len(tr) != 1 || int64(tr[0].RefundedFen) != paid || len(rs) != 1 || int64(rs[0].AmountFen) != paid || rs[0].Reason != "ORDER_CANCELLED" {
		t.Fatalf("after the cancel of the pull-back's order: trades %+v refunds %+v (paid %d)", tr, rs, paid)
	}
	if own := tradesOf(t, n.ID); len(own) != 0 {
		t.Fatalf("trades under the pull-back's order: %+v", own)
	}
	// Customer service's story of the new order shows the money that paid
	// it (the original's trade) and the cancel's refund of it.
	st := story(t, agent, n.ID)
	if len(st.Payments) != 1 || st.Payments[0].ID != tr[0].ID || st.Payments[0].PaidFen != paid || len(st.Refunds) != 1 || st.Refunds[0].AmountFen != paid {
		t.Fatalf("story of the pull-back's order: payments %+v refunds %+v (paid %d by %s)", st.Payments, st.Refunds, paid, tr[0].ID)
	}
	// Its stock comes back too: inventory held it under the original all
	// along (the pull-back released nothing), so the cancel of the new
	// order releases the original's reservation.
	eventually(t, 30*time.Second, "the original's reservation released by the new order's cancel", func() (bool, error) {
		var r inventoryclient.Reservation
		err := invoke(ctx(t), inventoryclient.AppID, http.MethodGet, "v1/reservations/"+o.ID, nil, &r)
		return err == nil && r.Status == inventoryclient.ReservationReleased, fmt.Errorf("%+v %v", r, err)
	})
	// A second cancel of it finds the first; nothing more goes back.
	if again, _ := requestCancel(t, c, n.ID, ids.New()); again == nil || again.ID != cr.ID {
		t.Fatalf("a second cancel: %+v, first %s", again, cr.ID)
	}
	time.Sleep(3 * time.Second)
	if rs := refundsOf(t, tr[0].ID); len(rs) != 1 {
		t.Fatalf("refunds after a second cancel: %+v", rs)
	}
}
