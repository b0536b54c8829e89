package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/api"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// ordersAPI mounts OMS's order routes on a fresh database holding n unpaid
// orders of customer c1, and returns their ids.
func ordersAPI(t *testing.T, n int) (http.Handler, []string) {
	t.Helper()
	db, _ := testdb.New(t, "oms")
	st := store.New(db)
	r := chi.NewRouter()
	api.Mount(r, app.New(app.Deps{Repo: st}, app.Config{}))
	now := time.Now().UTC()
	var out []string
	for range n {
		id := ids.New()
		o, err := domain.NewOrder(id, domain.Placement{CustomerID: "c1", Source: "APP",
			Lines:   []domain.LineInput{{SKU: "milk", Qty: 1, UnitPrice: 890}},
			Address: domain.Address{Name: "Li", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "1号"},
			Slot:    domain.Slot{Type: domain.SlotExpress, Date: domain.ShanghaiDay(now)}},
			map[string]domain.Product{"milk": {SKU: "milk", Name: "Milk", Price: 890}}, 0, now, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Create(context.Background(), o, app.Idempotency{CustomerID: "c1", Key: id, RequestHash: "h", OrderID: id, CreatedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return r, out
}

// The gateway's dataloader asks for many orders in one call; the route
// leaves unknown ids out and refuses more than omsclient.MaxBatchOrders.
func TestOrdersBatch(t *testing.T) {
	h, orders := ordersAPI(t, 3)
	var got struct{ Items []omsclient.Order }
	if code := call(t, h, http.MethodPost, "/v1/orders/batch", map[string]any{"ids": append(orders, "nope")}, &got); code != 200 || len(got.Items) != 3 {
		t.Fatalf("batch: %d %+v", code, got)
	}
	for _, o := range got.Items {
		if o.CustomerID != "c1" || len(o.Lines) != 1 || len(o.Timeline) == 0 {
			t.Errorf("order %+v lacks its lines or timeline", o)
		}
	}
	many := make([]string, omsclient.MaxBatchOrders+1)
	for i := range many {
		many[i] = orders[0]
	}
	var p httpapi.Problem
	if code := call(t, h, http.MethodPost, "/v1/orders/batch", map[string]any{"ids": many}, &p); code != 422 || p.Code != omsclient.CodeValidation ||
		!strings.Contains(p.Message, "ids TOO_MANY") {
		t.Fatalf("%d ids: %d %+v", len(many), code, p)
	}
	if code := call(t, h, http.MethodPost, "/v1/orders/batch", map[string]any{"ids": many[:omsclient.MaxBatchOrders]}, &got); code != 200 || len(got.Items) != 1 {
		t.Fatalf("%d ids: %d %+v", omsclient.MaxBatchOrders, code, got)
	}
}

// A cancel reason past 500 characters failed as an internal error (the
// timeline's column is 500 wide); now it is a violation of field reason,
// and the order stays as it was.
func TestCancelReasonBounded(t *testing.T) {
	h, orders := ordersAPI(t, 1)
	id := orders[0]
	var p httpapi.Problem
	code := call(t, h, http.MethodPost, "/v1/orders/"+id+"/cancel",
		omsclient.CancelRequest{CustomerID: "c1", Reason: strings.Repeat("长", omsclient.MaxCancelReason+1)}, &p)
	vs, _ := p.Details["violations"].([]any)
	if code != 422 || p.Code != omsclient.CodeValidation || len(vs) != 1 ||
		vs[0].(map[string]any)["field"] != "reason" || vs[0].(map[string]any)["code"] != omsclient.CodeReasonTooLong {
		t.Fatalf("501-character reason: %d %+v", code, p)
	}
	var o omsclient.Order
	if code := call(t, h, http.MethodGet, "/v1/orders/"+id, nil, &o); code != 200 || o.Status != omsclient.StatusPendingPayment {
		t.Fatalf("after the refused cancel: %d %+v", code, o)
	}
	reason := strings.Repeat("长", omsclient.MaxCancelReason)
	if code := call(t, h, http.MethodPost, "/v1/orders/"+id+"/cancel", omsclient.CancelRequest{CustomerID: "c1", Reason: reason}, &o); code != 200 ||
		o.Status != omsclient.StatusCancelled || o.Timeline[len(o.Timeline)-1].Note != reason {
		t.Fatalf("500-character reason: %d %+v", code, o.Status)
	}
}

// omsclient's limits are the ones OMS's domain enforces, so the gateway's
// early refusals say the same as OMS would.
func TestClientLimitsMatchDomain(t *testing.T) {
	for _, c := range []struct {
		name           string
		client, domain int
	}{
		{"lines", omsclient.MaxLines, domain.MaxLines},
		{"deductions", omsclient.MaxDeductions, domain.MaxDeductions},
		{"coupons", omsclient.MaxCoupons, domain.MaxCoupons},
		{"cancel reason", omsclient.MaxCancelReason, domain.MaxCancelNote},
	} {
		if c.client != c.domain {
			t.Errorf("%s: omsclient says %d, domain %d", c.name, c.client, c.domain)
		}
	}
}
