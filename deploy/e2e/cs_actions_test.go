package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/deploy/gqlc"
)

const (
	csActionFields = `action{ id kind status orderId customerId couponId by byRole reason result smsRecipients invoiceTitle address{ phone detail } }
		errors{ code message field reason }`
	qFindOrders = `query($s:OrderSearch!){ findOrders(search:$s, first:50){ totalCount edges{ node{ id customerId status } } } }`
	qOrderStory = `query($id:ID!){ orderStory(orderId:$id){ order{ id status address{ phone detail } } timeline{ type note }
		deliveryOrders{ id warehouse } payments{ id channel paidFen refundedFen status } refunds{ id paymentId amountFen reason status }
		documents{ id kind status } actions{ id kind status by byRole reason result smsRecipients invoiceTitle address{ detail } }
		review{ orderId customerId rating text } malicious{ actionId by reason } } }`
)

type csAction struct {
	ID, Kind, Status, OrderID, CustomerID, CouponID, By, ByRole, Reason, Result, InvoiceTitle string
	SmsRecipients                                                                             []string
	Address                                                                                   *struct{ Phone, Detail string }
}

type orderStory struct {
	Order struct {
		ID, Status string
		Address    struct{ Phone, Detail string }
	}
	Timeline       []struct{ Type, Note string }
	DeliveryOrders []struct{ ID, Warehouse string }
	Payments       []struct {
		ID, Channel, Status  string
		PaidFen, RefundedFen int64
	}
	Refunds []struct {
		ID, PaymentID, Reason, Status string
		AmountFen                     int64
	}
	Documents []struct{ ID, Kind, Status string }
	Actions   []struct {
		ID, Kind, Status, By, ByRole, Reason, Result, InvoiceTitle string
		SmsRecipients                                              []string
		Address                                                    *struct{ Detail string }
	}
	Review *struct {
		OrderID, CustomerID, Text string
		Rating                    int
	}
	Malicious *struct{ ActionID, By, Reason string }
}

// csAct runs one of customer service's action mutations (field names it)
// and returns its action or its errors.
func csAct(t *testing.T, c *gqlc.Client, field, args string, vars map[string]any) (*csAction, []userError) {
	t.Helper()
	var out map[string]struct {
		Action *csAction
		Errors []userError
	}
	if err := c.Do(ctx(t), "mutation"+args+"{ "+field+" { "+csActionFields+" } }", vars, &out); err != nil {
		t.Fatalf("%s: %v", field, err)
	}
	return out[strings.SplitN(field, "(", 2)[0]].Action, out[strings.SplitN(field, "(", 2)[0]].Errors
}

func story(t *testing.T, cs *gqlc.Client, orderID string) orderStory {
	t.Helper()
	var out struct{ OrderStory *orderStory }
	if err := cs.Do(ctx(t), qOrderStory, map[string]any{"id": orderID}, &out); err != nil || out.OrderStory == nil {
		t.Fatalf("orderStory %s: %+v %v", orderID, out, err)
	}
	return *out.OrderStory
}

func foundOrders(t *testing.T, c *gqlc.Client, search map[string]any) ([]string, error) {
	t.Helper()
	var out struct {
		FindOrders struct {
			TotalCount int
			Edges      []struct {
				Node struct{ ID, CustomerID, Status string }
			}
		}
	}
	if err := c.Do(ctx(t), qFindOrders, map[string]any{"s": search}, &out); err != nil {
		return nil, err
	}
	var got []string
	for _, e := range out.FindOrders.Edges {
		got = append(got, e.Node.ID)
	}
	return got, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// suspendFulfillment switches OMS's pipeline; while it is suspended a
// paid order waits at the first stage, before any warehouse has it.
func suspendFulfillment(t *testing.T, admin *gqlc.Client, suspend bool) {
	t.Helper()
	q := `mutation { resumeFulfillment { suspension { suspended } errors { code } } }`
	if suspend {
		q = `mutation { suspendFulfillment(input: {reason: "e2e: customer service edits orders"}) { suspension { suspended } errors { code } } }`
	}
	var out map[string]struct {
		Suspension *struct{ Suspended bool }
		Errors     []userError
	}
	if err := admin.Do(ctx(t), q, nil, &out); err != nil {
		t.Fatal(err)
	}
	for f, r := range out {
		if len(r.Errors) > 0 || r.Suspension == nil || r.Suspension.Suspended != suspend {
			t.Fatalf("%s: %+v", f, r)
		}
	}
}

// Customer service's actions through GraphQL with the real stack: an
// agent finds a paid order by the customer's phone and id (a customer may
// not); changes its address while no warehouse has it (the same key twice
// is one action), sets its SMS recipients, and after dispatch the address
// change is refused with ORDER_DISPATCHED and nothing changes; unbinds a
// customer's coupon, re-issues an invoice, marks a delivered order
// malicious (the customer's return of it is then refused); the customer
// reviews the delivered order once; the stories show the payments, the
// refund of a cancelled order, the actions with who and why, the review
// and the mark; a supervisor's live feed hears ACTION_RECORDED.
func TestCustomerServiceActionsThroughTheStack(t *testing.T) {
	const customer, phone = "C0081", "13900810081"
	c := client(t, "CUSTOMER", customer)
	agent := client(t, "CS_AGENT", "agent-81")
	sup := client(t, "CS_SUPERVISOR", "sup-81")
	admin := client(t, "ADMIN", "ops-81")

	sctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	feed, err := gqlc.Subscribe(sctx, wsURL(), sup.Token, `subscription { afterSalesEvents { type requestId orderId kind status by } }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()

	// Product set 8 (deliverOrRefuse below takes set 7's first).
	var skip []string
	for range 8 {
		set := zonedProducts(t, c, "WH-SH", skip)
		skip = append(skip, set[0].SKU, set[1].SKU, set[2].SKU)
	}
	ps := zonedProducts(t, c, "WH-SH", skip)

	// Two paid orders held before any warehouse: A (with an invoice
	// title, edited, then dispatched) and B (cancelled and refunded).
	suspendFulfillment(t, admin, true)
	resumed := false
	defer func() {
		if !resumed {
			suspendFulfillment(t, admin, false) // never leave the shared stack suspended
		}
	}()
	time.Sleep(1500 * time.Millisecond) // past the instances' view of the switch (1 s)
	placeWith := func(p zoned) order {
		in := orderInput([]product{p.product}, 1, nil)
		in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
		in["address"].(map[string]any)["phone"] = phone
		in["invoiceTitle"] = "Harvest E2E Trading Co."
		o := mustPlace(t, c, in)
		payAtCashier(t, c, o.ID)
		return o
	}
	a, b := placeWith(ps[0]), placeWith(ps[1])
	// Both entered fulfillment and wait at its first stage.
	waitStatus(t, c, a.ID, omsclient.StatusFulfilling, 30*time.Second)
	waitStatus(t, c, b.ID, omsclient.StatusFulfilling, 30*time.Second)

	// 1. Finding orders: by phone and by customer; a customer may not.
	for _, s := range []map[string]any{{"phone": phone}, {"customerId": customer}, {"id": a.ID}} {
		got, err := foundOrders(t, agent, s)
		if err != nil || !contains(got, a.ID) || (s["id"] == nil && !contains(got, b.ID)) {
			t.Fatalf("findOrders %v: %v %v (want %s, %s)", s, got, err, a.ID, b.ID)
		}
	}
	if got, err := foundOrders(t, agent, map[string]any{"phone": "13900819999"}); err != nil || len(got) != 0 {
		t.Fatalf("findOrders by another phone: %v %v", got, err)
	}
	if _, err := foundOrders(t, c, map[string]any{"customerId": customer}); err == nil || !strings.Contains(err.Error(), "FORBIDDEN") {
		t.Fatalf("a customer's findOrders: %v", err)
	}
	var cust struct{ OrderStory *orderStory }
	if err := c.Do(ctx(t), qOrderStory, map[string]any{"id": a.ID}, &cust); err == nil || !strings.Contains(err.Error(), "FORBIDDEN") {
		t.Fatalf("a customer's orderStory: %+v %v", cust, err)
	}

	// 2. Address and SMS recipients before a warehouse has the order.
	const mChangeAddress = `($id:ID!,$addr:AddressInput!,$key:String!)`
	addr := map[string]any{"name": "Han Meimei", "phone": phone, "province": "Shanghai", "city": "Shanghai", "district": "Xuhui",
		"detail": "88 Caoxi Road, flat 1201"}
	changeKey := ids.New()
	changeAddr := func(key string, addr map[string]any) (*csAction, []userError) {
		return csAct(t, agent, `changeOrderAddress(orderId:$id, address:$addr, reason:"customer moved", idempotencyKey:$key)`, mChangeAddress,
			map[string]any{"id": a.ID, "addr": addr, "key": key})
	}
	if held := story(t, agent, a.ID); len(held.DeliveryOrders) != 0 {
		t.Fatalf("%s reached a warehouse while fulfillment was suspended: %+v", a.ID, held.DeliveryOrders)
	}
	ch1, errs := changeAddr(changeKey, addr)
	if ch1 == nil || ch1.Status != "DONE" || ch1.Kind != "CHANGE_ADDRESS" || ch1.By != "agent-81" || ch1.ByRole != "CS_AGENT" ||
		ch1.CustomerID != customer || ch1.Address == nil || ch1.Address.Detail != addr["detail"] || strings.Contains(ch1.Result, "changed; 0 ") {
		t.Fatalf("changeOrderAddress: %+v %+v", ch1, errs)
	}
	if ch2, errs := changeAddr(changeKey, addr); ch2 == nil || ch2.ID != ch1.ID {
		t.Fatalf("the same key again: %+v %+v (first %s)", ch2, errs, ch1.ID)
	}
	other := map[string]any{"name": "Han Meimei", "phone": phone, "province": "Shanghai", "city": "Shanghai", "district": "Minhang", "detail": "1 Elsewhere"}
	if x, errs := changeAddr(changeKey, other); x != nil || len(errs) != 1 || errs[0].Code != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("the key with another address: %+v %+v", x, errs)
	}
	if got := story(t, agent, a.ID).Order.Address.Detail; got != addr["detail"] {
		t.Fatalf("the order's address after the change: %q", got)
	}
	sms, errs := csAct(t, agent, `setSmsRecipients(orderId:$id, phones:["13900810082","13900810083"], reason:"gift: tell the recipient too", idempotencyKey:$key)`,
		`($id:ID!,$key:String!)`, map[string]any{"id": a.ID, "key": ids.New()})
	if sms == nil || sms.Status != "DONE" || len(sms.SmsRecipients) != 2 || !strings.Contains(sms.Result, "13900810083") {
		t.Fatalf("setSmsRecipients: %+v %+v", sms, errs)
	}
	if x, errs := csAct(t, agent, `setSmsRecipients(orderId:$id, phones:["12345"], reason:"typo", idempotencyKey:$key)`,
		`($id:ID!,$key:String!)`, map[string]any{"id": a.ID, "key": ids.New()}); x != nil || len(errs) != 1 || errs[0].Code != "VALIDATION_FAILED" {
		t.Fatalf("a bad phone: %+v %+v", x, errs)
	}

	// B is cancelled by its customer while no warehouse has it: refunded.
	if r, errs := requestCancel(t, c, b.ID, ids.New()); r == nil {
		t.Fatalf("requestCancel %s: %+v", b.ID, errs)
	}
	eventually(t, 90*time.Second, "cancel of "+b.ID+" refunded", func() (bool, error) {
		_, r := cancelRequestOf(t, c, b.ID)
		return r != nil && r.Status == "REFUNDED", nil
	})

	suspendFulfillment(t, admin, false)
	resumed = true
	eventually(t, 120*time.Second, a.ID+" dispatched", func() (bool, error) {
		return len(story(t, agent, a.ID).DeliveryOrders) > 0 && getOrder(t, c, a.ID).Status == omsclient.StatusDispatched, nil
	})
	before := story(t, agent, a.ID)
	// The warehouse got the changed address (the units' documents took it).
	for _, d := range before.DeliveryOrders {
		var wo wmsclient.Order
		if err := invoke(ctx(t), "wms", http.MethodGet, "v1/orders/"+d.ID, nil, &wo); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(wo.Address, "88 Caoxi Road") || wo.Phone != phone {
			t.Fatalf("WMS has %s with address %q %q", d.ID, wo.Address, wo.Phone)
		}
	}
	if x, errs := changeAddr(ids.New(), other); x != nil || len(errs) != 1 || errs[0].Code != "ORDER_DISPATCHED" || errs[0].Reason == "" {
		t.Fatalf("address change after dispatch: %+v %+v", x, errs)
	}
	after := story(t, agent, a.ID)
	if after.Order.Address.Detail != addr["detail"] || len(after.Actions) != len(before.Actions) {
		t.Fatalf("after the refused change: address %q, %d actions (before %d)", after.Order.Address.Detail, len(after.Actions), len(before.Actions))
	}

	// 3. Re-issue A's invoice (its own title); B, cancelled, has nothing to invoice.
	inv, errs := csAct(t, agent, `reissueInvoice(orderId:$id, reason:"the first invoice was lost", idempotencyKey:$key)`,
		`($id:ID!,$key:String!)`, map[string]any{"id": a.ID, "key": ids.New()})
	if inv == nil || inv.Status != "DONE" || !strings.Contains(inv.Result, "Harvest E2E Trading Co.") {
		t.Fatalf("reissueInvoice: %+v %+v", inv, errs)
	}
	invoices := map[string]int{}
	for _, x := range received(t, "invoice.invoices", a.ID) {
		invoices[x.ID] = x.Deliveries
	}
	if invoices[inv.ID] != 1 {
		t.Fatalf("the invoicing system received %v, want the re-issue %s once", invoices, inv.ID)
	}
	if x, errs := csAct(t, agent, `reissueInvoice(orderId:$id, title:"X Co.", reason:"asked", idempotencyKey:$key)`,
		`($id:ID!,$key:String!)`, map[string]any{"id": b.ID, "key": ids.New()}); x != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_INVOICEABLE" {
		t.Fatalf("reissueInvoice of a cancelled order: %+v %+v", x, errs)
	}

	// C: delivered (COMPLETED). Not yet reviewable before that: A.
	if rv, errs := reviewOrder(t, c, a.ID, 4, "fine"); rv != nil || len(errs) != 1 || errs[0].Code != "ORDER_NOT_REVIEWABLE" {
		t.Fatalf("review of an undelivered order: %+v %+v", rv, errs)
	}
	o, p := deliverOrRefuse(t, c, "CSA", 7, 2, 0)
	waitStatus(t, c, o.ID, "COMPLETED", 60*time.Second)

	// A coupon granted to the customer, unbound by the agent about C.
	mk := client(t, "MARKETING", "mk-81")
	now := time.Now().UTC()
	var tpl struct {
		CreateCouponTemplate struct{ Template *struct{ ID string } }
	}
	if err := mk.Do(ctx(t), `mutation($in: CouponTemplateInput!, $key: String!) { createCouponTemplate(input: $in, idempotencyKey: $key) { template { id } } }`,
		map[string]any{"key": ids.New(), "in": map[string]any{"title": "sorry 2 off", "valueFen": 200, "validFrom": now.Add(-time.Hour),
			"validTo": now.Add(24 * time.Hour)}}, &tpl); err != nil || tpl.CreateCouponTemplate.Template == nil {
		t.Fatalf("template: %+v %v", tpl, err)
	}
	var g struct {
		GrantCoupon struct{ Coupon *struct{ ID string } }
	}
	if err := agent.Do(ctx(t), `mutation($t: ID!, $c: ID!, $key: String!) { grantCoupon(templateId: $t, customerId: $c, idempotencyKey: $key) { coupon { id } } }`,
		map[string]any{"t": tpl.CreateCouponTemplate.Template.ID, "c": customer, "key": ids.New()}, &g); err != nil || g.GrantCoupon.Coupon == nil {
		t.Fatalf("grant: %+v %v", g, err)
	}
	coupon := g.GrantCoupon.Coupon.ID
	if s := couponStatus(t, c, coupon); s != "AVAILABLE" {
		t.Fatalf("granted coupon %s", s)
	}
	const unbindArgs = `($cp:ID!,$c:ID!,$o:ID,$key:String!)`
	unbind := func(cust, key string) (*csAction, []userError) {
		return csAct(t, agent, `unbindCustomerCoupon(couponId:$cp, customerId:$c, orderId:$o, reason:"granted twice by mistake", idempotencyKey:$key)`,
			unbindArgs, map[string]any{"cp": coupon, "c": cust, "o": o.ID, "key": key})
	}
	if x, errs := unbind("C0082", ids.New()); x != nil || len(errs) != 1 || errs[0].Code != "COUPON_INVALID" || errs[0].Reason != "COUPON_NOT_FOUND" {
		t.Fatalf("unbind under another customer: %+v %+v", x, errs)
	}
	if s := couponStatus(t, c, coupon); s != "AVAILABLE" {
		t.Fatalf("coupon %s after a refused unbind", s)
	}
	ub, errs := unbind(customer, ids.New())
	if ub == nil || ub.Status != "DONE" || ub.CouponID != coupon || !strings.Contains(ub.Result, "UNBOUND") {
		t.Fatalf("unbindCustomerCoupon: %+v %+v", ub, errs)
	}
	if s := couponStatus(t, c, coupon); s != "UNBOUND" {
		t.Fatalf("coupon %s after the unbind", s)
	}
	// A held coupon (taken by a checkout's deduction) stays with the customer.
	if err := agent.Do(ctx(t), `mutation($t: ID!, $c: ID!, $key: String!) { grantCoupon(templateId: $t, customerId: $c, idempotencyKey: $key) { coupon { id } } }`,
		map[string]any{"t": tpl.CreateCouponTemplate.Template.ID, "c": customer, "key": ids.New()}, &g); err != nil || g.GrantCoupon.Coupon == nil {
		t.Fatalf("second grant: %+v %v", g, err)
	}
	held := g.GrantCoupon.Coupon.ID
	if _, errs := deductCoupon(t, c, held); len(errs) > 0 {
		t.Fatalf("deduct the second coupon: %+v", errs)
	}
	if x, errs := csAct(t, agent, `unbindCustomerCoupon(couponId:$cp, customerId:$c, reason:"granted twice", idempotencyKey:$key)`,
		`($cp:ID!,$c:ID!,$key:String!)`, map[string]any{"cp": held, "c": customer, "key": ids.New()}); x != nil || len(errs) != 1 ||
		errs[0].Code != "COUPON_INVALID" || errs[0].Reason != "COUPON_NOT_AVAILABLE" {
		t.Fatalf("unbind of a held coupon: %+v %+v", x, errs)
	}
	if s := couponStatus(t, c, held); s != "HELD" {
		t.Fatalf("held coupon %s after a refused unbind", s)
	}

	// 4. The customer reviews C once; CS reads it.
	rv, errs := reviewOrder(t, c, o.ID, 5, "crisp and cold on arrival")
	if rv == nil || rv.Rating != 5 || rv.CustomerID != customer {
		t.Fatalf("reviewOrder: %+v %+v", rv, errs)
	}
	if again, errs := reviewOrder(t, c, o.ID, 5, "crisp and cold on arrival"); again == nil || again.Text != rv.Text {
		t.Fatalf("the same review again: %+v %+v", again, errs)
	}
	if x, errs := reviewOrder(t, c, o.ID, 1, "changed my mind"); x != nil || len(errs) != 1 || errs[0].Code != "ALREADY_REVIEWED" {
		t.Fatalf("a second review: %+v %+v", x, errs)
	}
	if x, errs := reviewOrder(t, client(t, "CUSTOMER", "C0082"), o.ID, 3, "not mine"); x != nil || len(errs) != 1 || errs[0].Code != "NOT_FOUND" {
		t.Fatalf("another customer's review: %+v %+v", x, errs)
	}
	var revs struct {
		Reviews []struct {
			OrderID, CustomerID, Text string
			Rating                    int
		}
	}
	if err := agent.Do(ctx(t), `query($o:ID){ reviews(orderId:$o){ orderId customerId rating text } }`, map[string]any{"o": o.ID}, &revs); err != nil ||
		len(revs.Reviews) != 1 || revs.Reviews[0].Text != "crisp and cold on arrival" || revs.Reviews[0].Rating != 5 {
		t.Fatalf("reviews of %s: %+v %v", o.ID, revs, err)
	}
	if err := c.Do(ctx(t), `query($o:ID){ reviews(orderId:$o){ orderId } }`, map[string]any{"o": o.ID}, &revs); err == nil ||
		!strings.Contains(err.Error(), "FORBIDDEN") {
		t.Fatalf("a customer's reviews: %v", err)
	}

	// 3. C marked malicious: the customer's return of it is refused.
	mal, errs := csAct(t, sup, `markOrderMalicious(orderId:$id, reason:"third false claim this month", idempotencyKey:$key)`,
		`($id:ID!,$key:String!)`, map[string]any{"id": o.ID, "key": ids.New()})
	if mal == nil || mal.Status != "DONE" || mal.By != "sup-81" || mal.CustomerID != customer {
		t.Fatalf("markOrderMalicious: %+v %+v", mal, errs)
	}
	if r, errs := requestReturn(t, c, o.ID, ids.New(), "REFUND_ONLY", line(p.SKU, 1)); r != nil || len(errs) != 1 || errs[0].Code != "ORDER_MARKED_MALICIOUS" {
		t.Fatalf("return of a malicious order: %+v %+v", r, errs)
	}

	// 6. The supervisor's feed heard the mark (and the agent's actions).
	heard := map[string]string{}
	timeout := time.After(30 * time.Second)
	for heard[mal.ID] == "" || heard[ub.ID] == "" {
		select {
		case data := <-feed.Next:
			var ev struct {
				AfterSalesEvents struct{ Type, RequestID, OrderID, Kind, By string }
			}
			_ = json.Unmarshal(data, &ev)
			if e := ev.AfterSalesEvents; e.Type == "ACTION_RECORDED" {
				heard[e.RequestID] = e.Kind + " by " + e.By + " on " + e.OrderID
			}
		case <-timeout:
			t.Fatalf("ACTION_RECORDED of %s and %s not on the live feed (heard %v)", mal.ID, ub.ID, heard)
		}
	}
	if heard[mal.ID] != "MARK_MALICIOUS by sup-81 on "+o.ID || heard[ub.ID] != "UNBIND_COUPON by agent-81 on "+o.ID {
		t.Fatalf("live feed: %v", heard)
	}

	// 5. The stories.
	sa := story(t, agent, a.ID)
	kinds := map[string]int{}
	for _, x := range sa.Actions {
		kinds[x.Kind]++
		if x.Status != "DONE" || x.By != "agent-81" || x.ByRole != "CS_AGENT" || x.Reason == "" || x.Result == "" {
			t.Fatalf("action of %s: %+v", a.ID, x)
		}
	}
	if len(sa.Actions) != 3 || kinds["CHANGE_ADDRESS"] != 1 || kinds["SET_SMS_RECIPIENTS"] != 1 || kinds["REISSUE_INVOICE"] != 1 {
		t.Fatalf("actions of %s: %+v", a.ID, sa.Actions)
	}
	if len(sa.Payments) != 1 || sa.Payments[0].Status != "SUCCEEDED" || sa.Payments[0].PaidFen == 0 || len(sa.Refunds) != 0 ||
		sa.Review != nil || sa.Malicious != nil {
		t.Fatalf("story of %s: %+v", a.ID, sa)
	}
	sb := story(t, agent, b.ID)
	if len(sb.Payments) != 1 || len(sb.Refunds) != 1 || sb.Refunds[0].PaymentID != sb.Payments[0].ID || sb.Refunds[0].Status != "SUCCEEDED" ||
		sb.Refunds[0].AmountFen != sb.Payments[0].PaidFen || sb.Payments[0].RefundedFen != sb.Payments[0].PaidFen ||
		len(sb.Documents) != 1 || sb.Documents[0].Kind != "CANCEL" || sb.Order.Status != "CANCELLED" {
		t.Fatalf("story of the cancelled %s: %+v", b.ID, sb)
	}
	sc := story(t, agent, o.ID)
	if sc.Review == nil || sc.Review.Rating != 5 || sc.Review.CustomerID != customer || sc.Malicious == nil || sc.Malicious.ActionID != mal.ID ||
		sc.Malicious.By != "sup-81" || sc.Malicious.Reason != "third false claim this month" || len(sc.Payments) != 1 || len(sc.DeliveryOrders) == 0 {
		t.Fatalf("story of the delivered %s: %+v", o.ID, sc)
	}
	if len(sc.Actions) != 2 || sc.Actions[0].ID != mal.ID || sc.Actions[1].Kind != "UNBIND_COUPON" || sc.Actions[1].Reason != "granted twice by mistake" {
		t.Fatalf("actions of %s (newest first): %+v", o.ID, sc.Actions)
	}
}

func reviewOrder(t *testing.T, c *gqlc.Client, orderID string, rating int, text string) (*struct {
	OrderID, CustomerID, Text string
	Rating                    int
}, []userError) {
	t.Helper()
	var out struct {
		ReviewOrder struct {
			Review *struct {
				OrderID, CustomerID, Text string
				Rating                    int
			}
			Errors []userError
		}
	}
	if err := c.Do(ctx(t), `mutation($id:ID!,$r:Int!,$t:String!){ reviewOrder(orderId:$id, rating:$r, text:$t){ review{ orderId customerId rating text }
		errors{ code message field reason } } }`, map[string]any{"id": orderID, "r": rating, "t": text}, &out); err != nil {
		t.Fatal(err)
	}
	return out.ReviewOrder.Review, out.ReviewOrder.Errors
}
