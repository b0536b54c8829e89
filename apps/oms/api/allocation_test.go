package api_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/api"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// An order's allocation is stage 5's: freight spread over the goods, the
// non-cash part over what each line costs with its freight, each line's
// cash the rest, lines summing exactly to the header; an unknown order is
// ORDER_NOT_FOUND.
func TestOrderAllocation(t *testing.T) {
	db, _ := testdb.New(t, "oms")
	st := store.New(db)
	r := chi.NewRouter()
	api.Mount(r, app.New(app.Deps{Repo: st}, app.Config{}))
	now := time.Now().UTC()
	id := ids.New()
	o, err := domain.NewOrder(id, domain.Placement{CustomerID: "c1", Source: "APP", Freight: 800,
		Lines:   []domain.LineInput{{SKU: "milk", Qty: 3, UnitPrice: 1000}, {SKU: "egg", Qty: 1, UnitPrice: 1000}},
		Address: domain.Address{Name: "Li", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "1号"},
		Slot:    domain.Slot{Type: domain.SlotExpress, Date: domain.ShanghaiDay(now)}},
		map[string]domain.Product{"milk": {SKU: "milk", Name: "Milk", Price: 1000}, "egg": {SKU: "egg", Name: "Egg", Price: 1000}}, 700, now, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(context.Background(), o, app.Idempotency{CustomerID: "c1", Key: id, RequestHash: "h", OrderID: id, CreatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	var al omsclient.Allocation
	if code := call(t, r, http.MethodGet, "/v1/orders/"+id+"/allocation", nil, &al); code != 200 || al.CustomerID != "c1" || len(al.Lines) != 2 {
		t.Fatalf("allocation: %d %+v", code, al)
	}
	// After-sales reads the same under its own prefix, and nothing else
	// of v1/orders is mounted there.
	var asAl omsclient.Allocation
	if code := call(t, r, http.MethodGet, "/"+omsclient.AfterSalesOrdersPath+"/"+id+"/allocation", nil, &asAl); code != 200 || !reflect.DeepEqual(asAl, al) {
		t.Fatalf("allocation under after-sales' prefix: %d %+v", code, asAl)
	}
	if code := call(t, r, http.MethodGet, "/"+omsclient.AfterSalesOrdersPath+"/"+id+"/payable", nil, nil); code != http.StatusNotFound {
		t.Fatalf("payable under after-sales' prefix: %d", code)
	}
	want := []omsclient.AllocatedLine{
		{SKU: "milk", Name: "Milk", Qty: 3, AmountFen: 3000, FreightFen: 600, NonCashFen: 525, CashFen: 3075},
		{SKU: "egg", Name: "Egg", Qty: 1, AmountFen: 1000, FreightFen: 200, NonCashFen: 175, CashFen: 1025},
	}
	var cash, nonCash, freight int64
	for i, l := range al.Lines {
		if l != want[i] {
			t.Fatalf("line %d: %+v, want %+v", i, l, want[i])
		}
		cash, nonCash, freight = cash+int64(l.CashFen), nonCash+int64(l.NonCashFen), freight+int64(l.FreightFen)
	}
	if freight != 800 || nonCash != 700 || cash != 4800-700 {
		t.Fatalf("sums: cash %d non-cash %d freight %d", cash, nonCash, freight)
	}
	if code := call(t, r, http.MethodGet, "/v1/orders/nope/allocation", nil, nil); code != 404 {
		t.Fatalf("unknown order: %d", code)
	}
}
