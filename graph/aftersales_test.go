package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	asevents "github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/hub"
)

// fakeAfterSales answers as after-sales does: a cancel sets the order's
// bits in the cancel filter before it answers; another customer's order
// is NOT_FOUND. lookups counts the calls order detail made.
type fakeAfterSales struct {
	mu       sync.Mutex
	filter   *aftersalesclient.CancelFilter
	owners   map[string]string
	requests map[string]aftersalesclient.Request
	lookups  int
}

func (f *fakeAfterSales) Cancel(ctx context.Context, r aftersalesclient.CancelRequest) (aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owners[r.OrderID] != r.CustomerID {
		return aftersalesclient.Request{}, httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "order %s", r.OrderID)
	}
	if err := f.filter.Add(ctx, r.OrderID); err != nil {
		return aftersalesclient.Request{}, err
	}
	q := aftersalesclient.Request{ID: "R-" + r.OrderID, OrderID: r.OrderID, CustomerID: r.CustomerID, Kind: aftersalesclient.KindCancel,
		Status: aftersalesclient.StatusAccepted, Reason: r.Reason, Steps: []aftersalesclient.Step{{Step: "ACCEPTED", At: time.Now()}}}
	f.requests[r.OrderID] = q
	return q, nil
}

func (f *fakeAfterSales) OfCustomer(_ context.Context, customerID string, _ int) ([]aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []aftersalesclient.Request
	for _, q := range f.requests {
		if q.CustomerID == customerID {
			out = append(out, q)
		}
	}
	return out, nil
}

func (f *fakeAfterSales) CancelOfOrder(_ context.Context, customerID, orderID string) (*aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	q, ok := f.requests[orderID]
	if !ok || (customerID != "" && q.CustomerID != customerID) {
		return nil, nil
	}
	return &q, nil
}

func (f *fakeAfterSales) Return(ctx context.Context, r aftersalesclient.ReturnRequest) (aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owners[r.OrderID] != r.CustomerID {
		return aftersalesclient.Request{}, httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "order %s", r.OrderID)
	}
	for _, l := range r.Lines {
		if l.SKU != "SKU-1" {
			return aftersalesclient.Request{}, httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeLineNotOnOrder, "%s", l.SKU)
		}
		if l.Qty > 2 {
			return aftersalesclient.Request{}, httpapi.Errorf(http.StatusUnprocessableEntity, aftersalesclient.CodeQtyAboveDelivered, "2 delivered")
		}
	}
	if err := f.filter.Add(ctx, r.OrderID); err != nil {
		return aftersalesclient.Request{}, err
	}
	q := aftersalesclient.Request{ID: "RT-" + r.OrderID, OrderID: r.OrderID, CustomerID: r.CustomerID, Kind: aftersalesclient.KindReturn,
		Status: aftersalesclient.StatusAccepted, Reason: r.Reason, Mode: r.Mode, RefundCashFen: 500, Steps: []aftersalesclient.Step{{Step: "ACCEPTED", At: time.Now()}},
		Lines: []aftersalesclient.RequestLine{{SKU: "SKU-1", Qty: r.Lines[0].Qty, CashFen: 500}}}
	f.requests["return:"+r.OrderID] = q
	return q, nil
}

func (f *fakeAfterSales) OfOrder(_ context.Context, customerID, orderID string) ([]aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	var out []aftersalesclient.Request
	for _, q := range f.requests {
		if q.OrderID == orderID && (customerID == "" || q.CustomerID == customerID) {
			out = append(out, q)
		}
	}
	return out, nil
}

func (f *fakeAfterSales) Get(_ context.Context, customerID, id string) (aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, q := range f.requests {
		if q.ID == id && (customerID == "" || q.CustomerID == customerID) {
			q.Pushes = []aftersalesclient.Push{{ID: q.ID + ":ANSWER", Type: "ANSWER", Status: "DONE", Attempts: 1}}
			return q, nil
		}
	}
	return aftersalesclient.Request{}, httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "request %s", id)
}

func (f *fakeAfterSales) CreateDocument(_ context.Context, r aftersalesclient.DocumentRequest) (aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := aftersalesclient.Request{ID: "D-" + r.OrderID, OrderID: r.OrderID, CustomerID: f.owners[r.OrderID], Kind: r.Kind,
		Status: aftersalesclient.StatusAwaitingAudit, Reason: r.Reason, Mode: r.Mode, CreatedBy: r.Author}
	f.requests["doc:"+r.OrderID] = q
	return q, nil
}

// AuditDocument refuses the author, as after-sales does.
func (f *fakeAfterSales) AuditDocument(_ context.Context, id string, r aftersalesclient.AuditRequest) (aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, q := range f.requests {
		if q.ID != id {
			continue
		}
		if q.CreatedBy == r.Auditor {
			return aftersalesclient.Request{}, httpapi.Errorf(http.StatusConflict, aftersalesclient.CodeSelfAudit, "%s made %s", r.Auditor, id)
		}
		q.Status, q.AuditedBy, q.AuditNote = aftersalesclient.StatusAccepted, r.Auditor, r.Note
		f.requests[k] = q
		return q, nil
	}
	return aftersalesclient.Request{}, httpapi.Errorf(http.StatusNotFound, aftersalesclient.CodeNotFound, "document %s", id)
}

func (f *fakeAfterSales) AwaitingAudit(_ context.Context, _ int) ([]aftersalesclient.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []aftersalesclient.Request
	for _, q := range f.requests {
		if q.Status == aftersalesclient.StatusAwaitingAudit {
			out = append(out, q)
		}
	}
	return out, nil
}

// A CS agent's document is approved by a supervisor through GraphQL,
// never by its author (AUDITOR_IS_AUTHOR), and never by an agent (the
// role check); the console's live feed shows the document awaiting
// audit and its audit to agents and supervisors, not to customers.
func TestDocumentAuditAndLiveFeed(t *testing.T) {
	v, _ := auth.NewVerifier(secret, auth.DefaultPolicy())
	fa := &fakeAfterSales{owners: map[string]string{"o-bob": "bob"}, requests: map[string]aftersalesclient.Request{}}
	feed := hub.NewAfterSales(8, nil)
	res := &graph.Resolver{AfterSales: fa, AfterSalesFeed: feed}
	c := client.New(graph.NewHandler(res, graph.Options{Verifier: v}))
	data, errs := post(t, c, `mutation { createReturnDocument(orderId: "o-bob", idempotencyKey: "d1", input: { kind: RETURN, reason: "mould",
		mode: REFUND_ONLY, lines: [{ sku: "SKU-1", qty: 1 }] }) { request { id status createdBy } errors { code } } }`, as(t, "sup-ann", auth.RoleCSSupervisor))
	if len(errs) > 0 || jsonOf(data) != `{"createReturnDocument":{"errors":[],"request":{"createdBy":"sup-ann","id":"D-o-bob","status":"AWAITING_AUDIT"}}}` {
		t.Fatalf("document: %s %v", jsonOf(data), errs)
	}
	data, errs = post(t, c, `{ documentsAwaitingAudit { id } }`, as(t, "agent-1", auth.RoleCSAgent))
	if len(errs) > 0 || jsonOf(data) != `{"documentsAwaitingAudit":[{"id":"D-o-bob"}]}` {
		t.Fatalf("awaiting audit: %s %v", jsonOf(data), errs)
	}
	audit := `mutation { auditDocument(id: "D-o-bob", approve: true, note: "photos show mould") { request { status auditedBy } errors { code field } } }`
	data, _ = post(t, c, audit, as(t, "sup-ann", auth.RoleCSSupervisor))
	if jsonOf(data) != `{"auditDocument":{"errors":[{"code":"AUDITOR_IS_AUTHOR","field":["id"]}],"request":null}}` {
		t.Fatalf("self-audit: %s", jsonOf(data))
	}
	if _, errs := post(t, c, audit, as(t, "agent-1", auth.RoleCSAgent)); len(errs) == 0 {
		t.Fatal("an agent audited a document")
	}
	data, errs = post(t, c, audit, as(t, "sup-bob", auth.RoleCSSupervisor))
	if len(errs) > 0 || jsonOf(data) != `{"auditDocument":{"errors":[],"request":{"auditedBy":"sup-bob","status":"ACCEPTED"}}}` {
		t.Fatalf("audit: %s %v", jsonOf(data), errs)
	}

	srv := httptest.NewServer(graph.NewHandler(res, graph.Options{Verifier: v}))
	defer srv.Close()
	tok := func(sub, role string) string {
		s, err := auth.Mint(secret, auth.Identity{Subject: sub, Role: role}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ws := dialWS(t, srv.URL, tok("agent-1", auth.RoleCSAgent))
	ws.subscribe("a", `subscription { afterSalesEvents { type requestId orderId kind status by } }`)
	waitFor(t, "a feed subscriber", func() bool { return feed.Len() == 1 })
	for _, m := range []struct {
		topic string
		ev    any
	}{
		{asevents.TopicDocumentSubmitted, asevents.Document{RequestID: "D1", OrderID: "o-bob", Kind: "RETURN", Status: "AWAITING_AUDIT", By: "agent-1"}},
		{asevents.TopicDocumentAudited, asevents.Document{RequestID: "D1", OrderID: "o-bob", Kind: "RETURN", Status: "ACCEPTED", By: "sup-bob"}},
		{asevents.TopicRequestAccepted, asevents.RequestAccepted{RequestID: "D1", OrderID: "o-bob", Kind: "RETURN"}},
	} {
		b, _ := json.Marshal(m.ev)
		if err := feed.Handle(context.Background(), daprx.Message{ID: "m", Topic: m.topic, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{
		`{"data":{"afterSalesEvents":{"type":"DOCUMENT_SUBMITTED","requestId":"D1","orderId":"o-bob","kind":"RETURN","status":"AWAITING_AUDIT","by":"agent-1"}}}`,
		`{"data":{"afterSalesEvents":{"type":"DOCUMENT_AUDITED","requestId":"D1","orderId":"o-bob","kind":"RETURN","status":"ACCEPTED","by":"sup-bob"}}}`,
		`{"data":{"afterSalesEvents":{"type":"REQUEST_ACCEPTED","requestId":"D1","orderId":"o-bob","kind":"RETURN","status":null,"by":null}}}`,
	} {
		if m := ws.next(); string(m.Payload) != want {
			t.Fatalf("feed sent %s, want %s", m.Payload, want)
		}
	}
}

// A customer returns a delivered line through GraphQL: another's order is
// NOT_FOUND, a line not on the order and too many units have their own
// codes, a zero quantity is refused by the gateway; the return shows on
// order detail's afterSalesRequests (the filter guards it too), and

// shortLease is the fake after-sales' filter lease: its first Add waits
// until the new mirror registry is a lease old (aftersalesclient/bloom.go).
var shortLease = aftersalesclient.WithLease(100 * time.Millisecond)

// customer service reads it with its pushes.
func TestRequestReturn(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	ctx := context.Background()
	fa := &fakeAfterSales{filter: aftersalesclient.NewCancelFilter(rdb, prefix, shortLease), owners: map[string]string{"o-bob": "bob"},
		requests: map[string]aftersalesclient.Request{}}
	if _, err := fa.filter.Rebuild(ctx, func(context.Context) ([]string, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	v, _ := auth.NewVerifier(secret, auth.DefaultPolicy())
	c := client.New(graph.NewHandler(&graph.Resolver{Orders: e.oms, Addresses: e.oms, Catalog: e.inv, Payments: e.pay, Feed: e.hub,
		AfterSales: fa, CancelFilter: aftersalesclient.NewCancelFilter(rdb, prefix)}, graph.Options{Verifier: v}))
	m := func(lines string) string {
		return `mutation { requestReturn(orderId: "o-bob", idempotencyKey: "k1", input: { reason: "sour", mode: PICKUP, lines: [` + lines +
			`], photoUrls: ["https://img.example.com/1.jpg"] }) { request { kind status mode refundCashFen lines { sku qty cashFen } } errors { code field } } }`
	}
	cases := []struct{ who, lines, want string }{
		{"alice", `{ sku: "SKU-1", qty: 1 }`, `{"requestReturn":{"errors":[{"code":"NOT_FOUND","field":["orderId"]}],"request":null}}`},
		{"bob", `{ sku: "SKU-9", qty: 1 }`, `{"requestReturn":{"errors":[{"code":"LINE_NOT_ON_ORDER","field":["input","lines"]}],"request":null}}`},
		{"bob", `{ sku: "SKU-1", qty: 3 }`, `{"requestReturn":{"errors":[{"code":"QTY_ABOVE_DELIVERED","field":["input","lines"]}],"request":null}}`},
		{"bob", `{ sku: "SKU-1", qty: 0 }`, `{"requestReturn":{"errors":[{"code":"VALIDATION_FAILED","field":["input","lines","0","qty"]}],"request":null}}`},
	}
	for _, k := range cases {
		data, errs := post(t, c, m(k.lines), as2(t, k.who))
		if len(errs) > 0 || jsonOf(data) != k.want {
			t.Fatalf("%s %s: %s %v", k.who, k.lines, jsonOf(data), errs)
		}
	}
	if len(fa.requests) != 0 {
		t.Fatalf("refused returns stored %v", fa.requests)
	}
	data, errs := post(t, c, `{ order(id: "o-bob") { afterSalesRequests { kind } } }`, as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"order":{"afterSalesRequests":[]}}` || fa.lookups != 0 {
		t.Fatalf("before: %s %v lookups=%d", jsonOf(data), errs, fa.lookups)
	}
	data, errs = post(t, c, m(`{ sku: "SKU-1", qty: 2 }`), as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"requestReturn":{"errors":[],"request":{"kind":"RETURN","lines":[{"cashFen":500,"qty":2,"sku":"SKU-1"}],"mode":"PICKUP","refundCashFen":500,"status":"ACCEPTED"}}}` {
		t.Fatalf("return: %s %v", jsonOf(data), errs)
	}
	data, errs = post(t, c, `{ order(id: "o-bob") { afterSalesRequests { kind status } } }`, as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"order":{"afterSalesRequests":[{"kind":"RETURN","status":"ACCEPTED"}]}}` {
		t.Fatalf("order detail: %s %v", jsonOf(data), errs)
	}
	data, errs = post(t, c, `{ afterSalesRequest(id: "RT-o-bob") { id pushes { type status } } }`, as(t, "agent-1", auth.RoleCSAgent))
	if len(errs) > 0 || jsonOf(data) != `{"afterSalesRequest":{"id":"RT-o-bob","pushes":[{"status":"DONE","type":"ANSWER"}]}}` {
		t.Fatalf("customer service: %s %v", jsonOf(data), errs)
	}
	if _, errs := post(t, c, `{ afterSalesRequest(id: "RT-o-bob") { id } }`, as2(t, "bob")); len(errs) == 0 {
		t.Fatal("a customer read customer service's view")
	}
}

// Two gateway replicas with their own Redis connections: a cancel
// accepted through one shows on order detail through the other at once,
// and an order without one answers null without asking after-sales.
func TestCancelRequestAcrossGateways(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	ctx := context.Background()
	as := &fakeAfterSales{filter: aftersalesclient.NewCancelFilter(rdb, prefix, shortLease), owners: map[string]string{"o-alice": "alice", "o-bob": "bob"},
		requests: map[string]aftersalesclient.Request{}}
	if _, err := as.filter.Rebuild(ctx, func(context.Context) ([]string, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	v, _ := auth.NewVerifier(secret, auth.DefaultPolicy())
	replica := func() *client.Client {
		other := redis.NewClient(&redis.Options{Addr: rdb.Options().Addr})
		t.Cleanup(func() { other.Close() })
		return client.New(graph.NewHandler(&graph.Resolver{Orders: e.oms, Addresses: e.oms, Catalog: e.inv, Payments: e.pay, Feed: e.hub,
			AfterSales: as, CancelFilter: aftersalesclient.NewCancelFilter(other, prefix)}, graph.Options{Verifier: v}))
	}
	a, b := replica(), replica()
	detail := `{ order(id: "o-bob") { id cancelRequest { status steps { step } } } }`
	data, errs := post(t, b, detail, as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"order":{"cancelRequest":null,"id":"o-bob"}}` || as.lookups != 0 {
		t.Fatalf("before: %s %v lookups=%d", jsonOf(data), errs, as.lookups)
	}
	// Another customer's order: NOT_FOUND, nothing stored.
	data, _ = post(t, a, `mutation { requestCancel(orderId: "o-bob", idempotencyKey: "k1", reason: "mine?") { request { id } errors { code field } } }`, as2(t, "alice"))
	if jsonOf(data) != `{"requestCancel":{"errors":[{"code":"NOT_FOUND","field":["orderId"]}],"request":null}}` {
		t.Fatalf("another's order: %s", jsonOf(data))
	}
	data, errs = post(t, a, `mutation { requestCancel(orderId: "o-bob", idempotencyKey: "k1", reason: "changed my mind") { request { status } errors { code } } }`, as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"requestCancel":{"errors":[],"request":{"status":"ACCEPTED"}}}` {
		t.Fatalf("cancel: %s %v", jsonOf(data), errs)
	}
	data, errs = post(t, b, detail, as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"order":{"cancelRequest":{"status":"ACCEPTED","steps":[{"step":"ACCEPTED"}]},"id":"o-bob"}}` {
		t.Fatalf("through the other replica: %s %v", jsonOf(data), errs)
	}
	// No idempotency key, no reason: refused before anything is asked.
	data, _ = post(t, a, `mutation { requestCancel(orderId: "o-alice", idempotencyKey: "", reason: "x") { errors { code field } } }`, as2(t, "alice"))
	if jsonOf(data) != `{"requestCancel":{"errors":[{"code":"VALIDATION_FAILED","field":["idempotencyKey"]}]}}` {
		t.Fatalf("no key: %s", jsonOf(data))
	}
	data, errs = post(t, a, `{ myAfterSalesRequests { orderId status } }`, as2(t, "bob"))
	if len(errs) > 0 || jsonOf(data) != `{"myAfterSalesRequests":[{"orderId":"o-bob","status":"ACCEPTED"}]}` {
		t.Fatalf("list: %s %v", jsonOf(data), errs)
	}
}

func as2(t *testing.T, sub string) client.Option { return as(t, sub, auth.RoleCustomer) }
