package app_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/hotstock"
	"github.com/harvest/harvest/apps/inventory/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// fakeOrders stands in for OMS's existence lookup.
type fakeOrders struct {
	mu     sync.Mutex
	orders map[string]string // id -> status
	fail   map[string]bool
	asked  []string
}

func (f *fakeOrders) Exists(_ context.Context, id string) (omsclient.Existence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, id)
	if f.fail[id] {
		return omsclient.Existence{}, errors.New("oms unreachable")
	}
	st, ok := f.orders[id]
	return omsclient.Existence{Exists: ok, Status: st}, nil
}

type env struct {
	db     *sql.DB
	rdb    *redis.Client
	prefix string
	store  *store.Store
	hot    *hotstock.Stock
	svc    *app.Service
	clock  *clock.Fixed
	orders *fakeOrders
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// catalog: A(10), B(5), C(100) ordinary; HOT(20) hot; BDL = 2×A + 1×B;
// HBDL = 1×HOT + 1×C.
func newEnv(t testing.TB) *env {
	t.Helper()
	db, _ := testdb.New(t, "inventory")
	rdb, prefix := testdb.Redis(t)
	e := &env{db: db, rdb: rdb, prefix: prefix, clock: clock.NewFixed(t0), orders: &fakeOrders{orders: map[string]string{}, fail: map[string]bool{}}}
	e.store = store.New(db, e.clock)
	e.hot = hotstock.New(rdb, db, prefix)
	e.svc = app.New(e.store, e.hot, e.orders, e.clock, app.Options{OrphanGrace: time.Second})
	p := func(sku string, hot bool, comps ...domain.Component) domain.Product {
		return domain.Product{SKU: sku, Name: "product " + sku, PriceFen: 990, Zone: domain.ZoneChilledLow, Category: domain.CategoryDairy, TaxRateBP: 900,
			Warehouse: "WH-SH", Hot: hot, Components: comps}
	}
	ps := []domain.Product{p("A", false), p("B", false), p("C", false), p("HOT", true),
		p("BDL", false, domain.Component{SKU: "A", Qty: 2}, domain.Component{SKU: "B", Qty: 1}),
		p("HBDL", false, domain.Component{SKU: "HOT", Qty: 1}, domain.Component{SKU: "C", Qty: 1})}
	if err := e.store.InsertCatalog(context.Background(), ps, map[string]int64{"A": 10, "B": 5, "C": 100, "HOT": 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hot.EnsureAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

func req(t testing.TB, order string, lines ...domain.Line) domain.Request {
	t.Helper()
	r, err := domain.NewRequest(order, lines, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func l(sku string, qty int64) domain.Line { return domain.Line{SKU: sku, Qty: qty} }

// available is MariaDB's level for an ordinary SKU, Redis's for a hot one.
func (e *env) available(t testing.TB, sku string) int64 {
	t.Helper()
	ps, err := e.svc.Products(context.Background(), []string{sku})
	if err != nil {
		t.Fatal(err)
	}
	return ps[0].Available
}

func (e *env) mysqlAvailable(t testing.TB, sku string) int64 {
	t.Helper()
	var n int64
	if err := e.db.QueryRow(`SELECT available FROM stock WHERE sku = ?`, sku).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) count(t testing.TB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) writeBack(t testing.TB) {
	t.Helper()
	for {
		n, err := e.hot.WriteBackOnce(context.Background(), hotstock.WriteBackOptions{Consumer: "test", Block: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func wantAvail(t testing.TB, e *env, want map[string]int64) {
	t.Helper()
	for sku, n := range want {
		if got := e.available(t, sku); got != n {
			t.Errorf("available %s = %d, want %d", sku, got, n)
		}
	}
}
