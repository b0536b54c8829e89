package fulfillment

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
)

// docsOf decodes the working documents of an order's units.
func (e *env) docsOf(orderID string) map[string]stages.Doc {
	e.t.Helper()
	rows, err := e.db.Query(`SELECT unit_id, doc FROM fulfillments WHERE order_id = ?`, orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]stages.Doc{}
	for rows.Next() {
		var id string
		var raw []byte
		var d stages.Doc
		if err := rows.Scan(&id, &raw); err != nil {
			e.t.Fatal(err)
		}
		if err := stages.Decode(raw, &d); err != nil {
			e.t.Fatal(err)
		}
		out[id] = d
	}
	return out
}

// A CS address change reaches the order and every unit's document until
// a delivery order is dispatched, then it is refused with the delivery
// orders named; SMS recipients are what stage 14 sends to; a repeat of a
// change id changes nothing; a malformed change changes nothing.
func TestChangeContactUntilDispatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	en := e.engine("a", nil)
	id := e.place(orderSpec{source: "REISSUE", lines: map[string]int64{"milk": 1, "beef": 1}})
	e.start(en, id)

	newAddr := domain.Address{Name: "Han Meimei", Phone: "13900139000", Province: "上海", City: "上海", District: "徐汇", Detail: "天钥桥路2号"}
	bad := newAddr
	bad.Phone = "call me"
	if _, err := en.ChangeContact(ctx, id, ContactChange{ChangeID: "A0", By: "cs:agent-1", Note: "moved", Address: &bad}); !errors.Is(err, domain.ErrInvalidOrder) {
		t.Fatalf("bad phone: %v", err)
	}
	if _, err := en.ChangeContact(ctx, id, ContactChange{ChangeID: "S0", By: "cs:agent-1", SMSRecipients: []string{"13900139000", "13900139000"}}); !errors.Is(err, domain.ErrInvalidOrder) {
		t.Fatalf("duplicate recipients: %v", err)
	}
	res, err := en.ChangeContact(ctx, id, ContactChange{ChangeID: "A1", By: "cs:agent-1", Note: "moved", Address: &newAddr})
	if err != nil || res.Already || res.Units == 0 || res.Order.Address() != newAddr {
		t.Fatalf("change: %+v %v", res, err)
	}
	res, err = en.ChangeContact(ctx, id, ContactChange{ChangeID: "S1", By: "cs:agent-1", Note: "her daughter too", SMSRecipients: []string{"13900139000", "13700137000"}})
	if err != nil || len(res.Order.SMSRecipients()) != 2 {
		t.Fatalf("recipients: %+v %v", res, err)
	}
	again, err := en.ChangeContact(ctx, id, ContactChange{ChangeID: "A1", By: "cs:agent-1", Note: "moved", Address: &newAddr})
	if err != nil || !again.Already {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	o, _ := e.st.Get(ctx, id)
	n := 0
	for _, ev := range o.Timeline() {
		if ev.Type == domain.EventAddressChanged {
			n++
		}
	}
	if n != 1 || o.Address() != newAddr || len(o.CustomSMSRecipients()) != 2 {
		t.Fatalf("order: %d address changes, %+v, %v", n, o.Address(), o.CustomSMSRecipients())
	}
	for uid, d := range e.docsOf(id) {
		if d.Address != newAddr || len(d.SMSRecipients) != 2 {
			t.Fatalf("unit %s doc: %+v %v", uid, d.Address, d.SMSRecipients)
		}
	}

	stop := e.run(en)
	defer stop()
	e.waitFor("dispatch", 15*time.Second, e.dispatched(id))
	for _, ph := range []string{"13900139000", "13700137000"} {
		e.world.mu.Lock()
		sent := e.world.perID["sms:REISSUE_CREATED|"+id+":reissue:sms:"+ph]
		e.world.mu.Unlock()
		if sent == 0 {
			t.Fatalf("stage 14 sent nothing to %s", ph)
		}
	}
	for uid, d := range e.docsOf(id) {
		if d.Child != nil && (d.Child.WMSID == "" || d.Address != newAddr) {
			t.Fatalf("delivery order %s went out with %+v (%q)", uid, d.Address, d.Child.WMSID)
		}
	}
	later := newAddr
	later.Detail = "somewhere else"
	_, err = en.ChangeContact(ctx, id, ContactChange{ChangeID: "A2", By: "cs:agent-1", Note: "again", Address: &later})
	var disp *ErrAddressDispatched
	if !errors.As(err, &disp) || len(disp.DeliveryOrders) == 0 {
		t.Fatalf("after dispatch: %v", err)
	}
	if o, _ := e.st.Get(ctx, id); o.Address() != newAddr {
		t.Fatalf("address after the refusal: %+v", o.Address())
	}
}

// Customer service finds orders by the address's phone, newest first,
// paged; the phone index follows an address change.
func TestOrdersByPhoneFollowAddressChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	en := e.engine("a", nil)
	a := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
	b := e.place(orderSpec{lines: map[string]int64{"egg": 1}})
	pg, err := e.st.List(ctx, app.ListQuery{Phone: "13800000000", First: 1})
	if err != nil || pg.TotalCount < 2 || len(pg.Orders) != 1 || !pg.HasNext || pg.Orders[0].ID() != b {
		t.Fatalf("first page: %v %+v", err, pg)
	}
	pg2, err := e.st.List(ctx, app.ListQuery{Phone: "13800000000", First: 1, After: pg.EndCursor})
	if err != nil || len(pg2.Orders) != 1 || pg2.Orders[0].ID() != a {
		t.Fatalf("second page: %v %+v", err, pg2)
	}
	addr := domain.Address{Name: "Li Lei", Phone: "13911112222", Province: "上海", City: "上海", District: "浦东", Detail: "世纪大道1号"}
	if _, err := en.ChangeContact(ctx, a, ContactChange{ChangeID: "A1", By: "cs:agent-1", Note: "new phone", Address: &addr}); err != nil {
		t.Fatal(err)
	}
	pg3, err := e.st.List(ctx, app.ListQuery{Phone: "13911112222", First: 10})
	if err != nil || pg3.TotalCount != 1 || pg3.Orders[0].ID() != a {
		t.Fatalf("new phone: %v %+v", err, pg3)
	}
}
