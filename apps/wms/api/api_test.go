package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/group/grouptest"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/apps/wms/api"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/events"
	"github.com/harvest/harvest/apps/wms/store"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// sidecar stands in for daprd's service invocation API, so the real
// daprx.Invoker and wmsclient talk HTTP to WMS's real router.
type sidecar struct{ h http.Handler }

func (s sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/"+wmsclient.AppID+"/method/")
	if !ok {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.RequestURI = "/"+method, ""
	s.h.ServeHTTP(w, r2)
}

type env struct {
	c   *wmsclient.Client
	st  *store.Store
	svc *app.Service
}

func setup(t *testing.T) env {
	t.Helper()
	db, _ := testdb.New(t, "wms")
	// The MariaDB server is shared by everyone's tests: 16 connections
	// still race for the same rows, without crowding others out.
	db.SetMaxOpenConns(16)
	st := store.New(db)
	svc := app.New(st, clock.System{}, nil, nil)
	m := chi.NewRouter()
	api.Mount(m, svc)
	sc := httptest.NewServer(sidecar{m})
	t.Cleanup(sc.Close)
	u, _ := url.Parse(sc.URL)
	port, _ := strconv.Atoi(u.Port())
	return env{c: wmsclient.New(daprx.NewInvoker(port)), st: st, svc: svc}
}

func (e env) stock(t *testing.T, wh, sku string, onHand int64) {
	t.Helper()
	if _, err := e.c.SetStock(context.Background(), wmsclient.SetStockRequest{Warehouse: wh, SKU: sku, OnHand: onHand}); err != nil {
		t.Fatal(err)
	}
}

func (e env) occupied(t *testing.T, wh, sku string) int64 {
	t.Helper()
	s, err := e.c.GetStock(context.Background(), wh, sku)
	if err != nil {
		t.Fatal(err)
	}
	if s.Free != s.OnHand-s.Occupied {
		t.Fatalf("free %d != %d-%d", s.Free, s.OnHand, s.Occupied)
	}
	return s.Occupied
}

func (e env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func shortSKUs(err error) []string {
	var p *httpapi.Problem
	if !errors.As(err, &p) || p.Code != wmsclient.CodeStockShort {
		return nil
	}
	var out []string
	raw, _ := p.Details["skus"].([]any)
	for _, s := range raw {
		out = append(out, fmt.Sprint(s))
	}
	return out
}

func occ(id, wh string, lines ...any) wmsclient.OccupyRequest {
	r := wmsclient.OccupyRequest{DeliveryOrderID: id, OrderID: "O-" + id, Warehouse: wh}
	for i := 0; i < len(lines); i += 2 {
		r.Lines = append(r.Lines, wmsclient.Line{SKU: lines[i].(string), Qty: int64(lines[i+1].(int))})
	}
	return r
}

func TestOccupyAllOrNone(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.stock(t, "WH-SH", "A", 10)
	e.stock(t, "WH-SH", "B", 5)

	_, err := e.c.OccupyStock(ctx, occ("D1", "WH-SH", "A", 3, "B", 6))
	if got := shortSKUs(err); !reflect.DeepEqual(got, []string{"B"}) {
		t.Fatalf("short B: %v (%v)", got, err)
	}
	// An unknown SKU is short too, and every short SKU is named.
	_, err = e.c.OccupyStock(ctx, occ("D1", "WH-SH", "A", 11, "B", 1, "C", 1))
	if got := shortSKUs(err); !reflect.DeepEqual(got, []string{"A", "C"}) {
		t.Fatalf("short A, C: %v (%v)", got, err)
	}
	if e.occupied(t, "WH-SH", "A") != 0 || e.occupied(t, "WH-SH", "B") != 0 {
		t.Fatal("a failed occupation left stock occupied")
	}
	if n := e.count(t, `SELECT COUNT(*) FROM erp_occupations`); n != 0 {
		t.Fatalf("failed occupations left %d rows", n)
	}
	if _, err := e.c.OccupyStock(ctx, occ("D2", "WH-XX", "A", 1)); !httpapi.HasCode(err, wmsclient.CodeUnknownWH) {
		t.Fatalf("unknown warehouse: %v", err)
	}
	if _, err := e.c.OccupyStock(ctx, occ("D2", "WH-SH", "A", 0)); !httpapi.HasCode(err, wmsclient.CodeValidation) {
		t.Fatalf("zero qty: %v", err)
	}
	// Without its order, no cancellation could ever release it.
	noOrder := occ("D2", "WH-SH", "A", 1)
	noOrder.OrderID = ""
	if _, err := e.c.OccupyStock(ctx, noOrder); !httpapi.HasCode(err, wmsclient.CodeValidation) || !strings.Contains(err.Error(), "order_id") {
		t.Fatalf("occupation without its order: %v", err)
	}
	// The failed id can be tried again; lines of one SKU are merged.
	o, err := e.c.OccupyStock(ctx, occ("D1", "WH-SH", "A", 2, "B", 5, "A", 1))
	if err != nil || o.Status != wmsclient.OccupationOccupied {
		t.Fatalf("occupy: %+v %v", o, err)
	}
	if e.occupied(t, "WH-SH", "A") != 3 || e.occupied(t, "WH-SH", "B") != 5 {
		t.Fatal("occupation not applied")
	}
	d, err := e.c.GetOccupation(ctx, "D1")
	if err != nil || len(d.Lines) != 2 || d.Lines[0] != (wmsclient.Line{SKU: "A", Qty: 3}) {
		t.Fatalf("detail: %+v %v", d, err)
	}
	// On hand cannot go below what is occupied.
	if _, err := e.c.SetStock(ctx, wmsclient.SetStockRequest{Warehouse: "WH-SH", SKU: "B", OnHand: 4}); !httpapi.HasCode(err, wmsclient.CodeValidation) {
		t.Fatalf("below occupied: %v", err)
	}
}

func TestOccupyIdempotentAndRelease(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.stock(t, "WH-SH", "A", 10)
	req := occ("D1", "WH-SH", "A", 4)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			o, err := e.c.OccupyStock(ctx, req)
			if err == nil && o.Status != wmsclient.OccupationOccupied {
				err = fmt.Errorf("status %s", o.Status)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.occupied(t, "WH-SH", "A"); got != 4 {
		t.Fatalf("occupied %d after concurrent repeats, want 4", got)
	}
	if _, err := e.c.OccupyStock(ctx, occ("D1", "WH-SH", "A", 5)); !httpapi.HasCode(err, wmsclient.CodeConflict) {
		t.Fatalf("other lines: %v", err)
	}
	for range 2 {
		o, err := e.c.ReleaseStock(ctx, "D1")
		if err != nil || o.Status != wmsclient.OccupationReleased {
			t.Fatalf("release: %+v %v", o, err)
		}
		if got := e.occupied(t, "WH-SH", "A"); got != 0 {
			t.Fatalf("occupied %d after release", got)
		}
	}
	if o, err := e.c.OccupyStock(ctx, req); err != nil || o.Status != wmsclient.OccupationReleased || e.occupied(t, "WH-SH", "A") != 0 {
		t.Fatalf("occupy after release: %+v %v", o, err)
	}
	// A release that overtakes its occupation leaves a tombstone.
	if o, err := e.c.ReleaseStock(ctx, "D2"); err != nil || o.Status != wmsclient.OccupationReleased {
		t.Fatalf("early release: %+v %v", o, err)
	}
	if o, err := e.c.OccupyStock(ctx, occ("D2", "WH-SH", "A", 1)); err != nil || o.Status != wmsclient.OccupationReleased ||
		e.occupied(t, "WH-SH", "A") != 0 {
		t.Fatalf("late occupy: %+v %v", o, err)
	}
	if _, err := e.c.GetOccupation(ctx, "D3"); !httpapi.HasCode(err, wmsclient.CodeNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

// TestOccupyRaceForLastUnits: N delivery orders race for the last K units;
// exactly K occupy, the rest are told which SKU is short.
func TestOccupyRaceForLastUnits(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const n, k = 30, 7
	e.stock(t, "WH-SH", "A", k)
	e.stock(t, "WH-SH", "B", 1_000)
	var mu sync.Mutex
	won, short := 0, 0
	var other error
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := e.c.OccupyStock(ctx, occ(fmt.Sprintf("D%02d", i), "WH-SH", "B", 1, "A", 1))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case reflect.DeepEqual(shortSKUs(err), []string{"A"}):
				short++
			default:
				other = err
			}
		})
	}
	wg.Wait()
	if other != nil {
		t.Fatal(other)
	}
	if won != k || short != n-k {
		t.Fatalf("won %d short %d, want %d and %d", won, short, k, n-k)
	}
	if e.occupied(t, "WH-SH", "A") != k || e.occupied(t, "WH-SH", "B") != k {
		t.Fatal("occupied stock does not match the winners")
	}
}

func dispatch(id string) wmsclient.DispatchRequest {
	return wmsclient.DispatchRequest{DeliveryOrderID: id, OrderID: "O1", CustomerID: "C0001", Warehouse: "WH-SH",
		DeliveryDate: "2025-11-12", Express: true, Carrier: "SF", WaybillNo: "SF100", Name: "张三", Phone: "13800000000",
		Address: "上海市浦东新区世纪大道1号",
		Lines: []wmsclient.Line{{SKU: "A", Name: "鲜牛奶 950ml", Qty: 2, Zone: inventoryclient.ZoneChilledLow},
			{SKU: "B", Name: "速冻水饺 1kg", Qty: 1, Zone: inventoryclient.ZoneFrozenHigh}},
		Profiles: map[string]string{"invoice_title": "Harvest Ltd", "source": "APP"}}
}

func TestReceive(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	req := dispatch("D1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	receipts := map[wmsclient.Receipt]int{}
	var firstErr error
	for range 6 {
		wg.Go(func() {
			r, err := e.c.Dispatch(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			receipts[r]++
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	var id string
	fresh := 0
	for r, c := range receipts {
		if id != "" && r.WMSOrderID != id {
			t.Fatalf("two WMS order ids: %v", receipts)
		}
		id = r.WMSOrderID
		if !r.Duplicate {
			fresh += c
		}
	}
	if fresh != 1 {
		t.Fatalf("%d first receipts, want 1: %v", fresh, receipts)
	}
	for table, want := range map[string]int{"order_header": 1, "order_detail": 2, "order_delivery": 1, "order_profiles": 2} {
		if n := e.count(t, `SELECT COUNT(*) FROM `+table+` WHERE wms_order_id=?`, id); n != want {
			t.Fatalf("%s has %d rows, want %d", table, n, want)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE topic=? AND aggregate_id=?`, events.TopicOrderReceived, id); n != 1 {
		t.Fatalf("%d outbox rows, want 1", n)
	}
	for _, key := range []string{id, "D1"} {
		o, err := e.c.GetOrder(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if o.WMSOrderID != id || o.DeliveryOrderID != "D1" || o.Status != "RECEIVED" || o.WaybillNo != "SF100" || !o.Express ||
			o.Address != req.Address || !reflect.DeepEqual(o.Lines, req.Lines) || !reflect.DeepEqual(o.Profiles, req.Profiles) {
			t.Fatalf("read back %+v", o)
		}
	}
	changed := dispatch("D1")
	changed.Lines[0].Qty = 3
	if _, err := e.c.Dispatch(ctx, changed); !httpapi.HasCode(err, wmsclient.CodeConflict) {
		t.Fatalf("other content: %v", err)
	}
	bad := dispatch("D2")
	bad.DeliveryDate = "12/11/2025"
	if _, err := e.c.Dispatch(ctx, bad); !httpapi.HasCode(err, wmsclient.CodeValidation) {
		t.Fatalf("bad date: %v", err)
	}
	if _, err := e.c.GetOrder(ctx, "D2"); !httpapi.HasCode(err, wmsclient.CodeNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

type catalog struct {
	pages []inventoryclient.ProductPage
	fail  bool
	calls int
}

func (c *catalog) SearchProducts(_ context.Context, r inventoryclient.SearchRequest) (inventoryclient.ProductPage, error) {
	c.calls++
	if c.fail {
		return inventoryclient.ProductPage{}, errors.New("inventory not answering")
	}
	i := 0
	if r.After != "" {
		i, _ = strconv.Atoi(strings.TrimPrefix(r.After, "p"))
	}
	return c.pages[i], nil
}

func TestSeedFromCatalog(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	cat := &catalog{pages: []inventoryclient.ProductPage{
		{Items: []inventoryclient.Product{{SKU: "SKU-1", Warehouse: "WH-SH"}, {SKU: "BUNDLE-1", Warehouse: "WH-SH",
			Components: []inventoryclient.Component{{SKU: "SKU-1", Qty: 2}}}}, HasNext: true, EndCursor: "p1"},
		{Items: []inventoryclient.Product{{SKU: "SKU-2", Warehouse: "WH-BJ"}}},
	}}
	cat.fail = true
	if did, err := e.svc.SeedFromCatalog(ctx, cat); err == nil || did || e.count(t, `SELECT COUNT(*) FROM erp_stock`) != 0 {
		t.Fatalf("failing catalog: %v %v", did, err)
	}
	cat.fail = false
	if did, err := e.svc.SeedFromCatalog(ctx, cat); err != nil || !did {
		t.Fatalf("seed: %v %v", did, err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM erp_stock`); n != 2 {
		t.Fatalf("%d stock rows, want 2 (bundle skipped)", n)
	}
	s, err := e.c.GetStock(ctx, "WH-BJ", "SKU-2")
	if err != nil || s.OnHand != app.SeedOnHand {
		t.Fatalf("seeded stock %+v %v", s, err)
	}
	calls := cat.calls
	if did, err := e.svc.SeedFromCatalog(ctx, cat); err != nil || did || cat.calls != calls {
		t.Fatalf("second seed: %v %v, calls %d", did, err, cat.calls-calls)
	}
}

// Occupations and orders arriving together are written in groups; each
// caller still gets its own answer: a short line, an unknown warehouse, a
// repeat or a conflict fails or repeats alone, and the rest of its group
// is written.
func TestGroupedWritesKeepEachAnswer(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.stock(t, "WH-SH", "A", 1_000)
	e.stock(t, "WH-SH", "B", 3)
	if _, err := e.c.OccupyStock(ctx, occ("SEEN", "WH-SH", "A", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Dispatch(ctx, dispatch("SEEN")); err != nil {
		t.Fatal(err)
	}
	before := grouptest.Grouped(t, "harvest_wms_group_items")
	const n = 40
	var (
		wg                       sync.WaitGroup
		mu                       sync.Mutex
		okOcc, shortB, unknown   int
		repeatOcc, okOrd, dupOrd int
		conflicts                int
		other                    []error
	)
	for i := range n {
		wg.Go(func() {
			var err error
			switch {
			case i == 0:
				_, err = e.c.OccupyStock(ctx, occ("SEEN", "WH-SH", "A", 1))
				if err == nil {
					mu.Lock()
					repeatOcc++
					mu.Unlock()
					return
				}
			case i == 1:
				_, err = e.c.OccupyStock(ctx, occ("NOWHERE", "WH-XX", "A", 1))
				if httpapi.HasCode(err, wmsclient.CodeUnknownWH) {
					mu.Lock()
					unknown++
					mu.Unlock()
					return
				}
			default:
				req := occ(fmt.Sprintf("G%02d", i), "WH-SH", "A", 2)
				if i%2 == 0 {
					req = occ(req.DeliveryOrderID, "WH-SH", "A", 2, "B", 1)
				}
				_, err = e.c.OccupyStock(ctx, req)
				if reflect.DeepEqual(shortSKUs(err), []string{"B"}) {
					mu.Lock()
					shortB++
					mu.Unlock()
					return
				}
				if err == nil {
					mu.Lock()
					okOcc++
					mu.Unlock()
				}
			}
			if err != nil {
				mu.Lock()
				other = append(other, err)
				mu.Unlock()
				return
			}
		})
		wg.Go(func() {
			req := dispatch(fmt.Sprintf("G%02d", i))
			if i == 0 {
				req = dispatch("SEEN")
			}
			if i == 1 {
				req = dispatch("SEEN")
				req.Lines[0].Qty = 9
			}
			r, err := e.c.Dispatch(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case i == 1 && httpapi.HasCode(err, wmsclient.CodeConflict):
				conflicts++
			case err != nil:
				other = append(other, err)
			case r.Duplicate:
				dupOrd++
			default:
				okOrd++
			}
		})
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatal(other)
	}
	// Half of the 38 new occupations take one B each; B has 3.
	wantShort := (n-2)/2 - 3
	if repeatOcc != 1 || unknown != 1 || shortB != wantShort || okOcc != n-2-wantShort {
		t.Fatalf("occupations: repeat %d, unknown warehouse %d, short %d (want %d), taken %d", repeatOcc, unknown, shortB, wantShort, okOcc)
	}
	if dupOrd != 1 || conflicts != 1 || okOrd != n-2 {
		t.Fatalf("orders: duplicate %d, conflict %d, received %d", dupOrd, conflicts, okOrd)
	}
	if a, b := e.occupied(t, "WH-SH", "A"), e.occupied(t, "WH-SH", "B"); a != int64(1+2*okOcc) || b != 3 {
		t.Fatalf("occupied A %d (want %d), B %d (want 3)", a, 1+2*okOcc, b)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM erp_occupations WHERE status='OCCUPIED'`); got != 1+okOcc {
		t.Fatalf("%d occupations, want %d", got, 1+okOcc)
	}
	for table, want := range map[string]int{"order_header": n - 1, "order_detail": 2 * (n - 1), "order_delivery": n - 1, "order_profiles": 2 * (n - 1), "outbox": n - 1} {
		if got := e.count(t, `SELECT COUNT(*) FROM `+table); got != want {
			t.Fatalf("%s has %d rows, want %d", table, got, want)
		}
	}
	if after := grouptest.Grouped(t, "harvest_wms_group_items"); after <= before {
		t.Fatal("no call was written in a group of more than one")
	}
}
