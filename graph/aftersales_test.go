package graph_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
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

// Two gateway replicas with their own Redis connections: a cancel
// accepted through one shows on order detail through the other at once,
// and an order without one answers null without asking after-sales.
func TestCancelRequestAcrossGateways(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	ctx := context.Background()
	as := &fakeAfterSales{filter: aftersalesclient.NewCancelFilter(rdb, prefix), owners: map[string]string{"o-alice": "alice", "o-bob": "bob"},
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
