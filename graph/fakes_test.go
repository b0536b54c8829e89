package graph_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	mapi "github.com/harvest/harvest/apps/marketing/api"
	mapp "github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	mstore "github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx/daprxtest"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/hub"
)

// fakeOMS keeps orders in memory and records what it was asked.
type fakeOMS struct {
	mu        sync.Mutex
	orders    map[string]omsclient.Order
	placeErr  error
	addrErr   error
	addrCalls []string
	placed    []omsclient.PlaceOrderRequest
	cancels   []string
	gets      [][]string // the ids of each GetOrders call
	lists     []omsclient.ListRequest
	ful       fakeFulfillment
}

// addrErr fails the address-book calls; addrCalls records "customer id".
func (f *fakeOMS) book(customer, id string) (omsclient.AddressBook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrCalls = append(f.addrCalls, customer+" "+id)
	if f.addrErr != nil {
		return omsclient.AddressBook{}, f.addrErr
	}
	s := omsclient.SavedAddress{ID: "a1", IsDefault: true, Address: omsclient.Address{Name: "Li Lei", Province: "Shanghai"}}
	return omsclient.AddressBook{Address: &s, Addresses: []omsclient.SavedAddress{s}}, nil
}

func (f *fakeOMS) Addresses(_ context.Context, customer string) (omsclient.AddressBook, error) {
	return f.book(customer, "")
}

func (f *fakeOMS) AddAddress(_ context.Context, customer string, _ omsclient.SaveAddressRequest) (omsclient.AddressBook, error) {
	return f.book(customer, "")
}

func (f *fakeOMS) UpdateAddress(_ context.Context, customer, id string, _ omsclient.SaveAddressRequest) (omsclient.AddressBook, error) {
	return f.book(customer, id)
}

func (f *fakeOMS) RemoveAddress(_ context.Context, customer, id string) (omsclient.AddressBook, error) {
	return f.book(customer, id)
}

func (f *fakeOMS) SetDefaultAddress(_ context.Context, customer, id string) (omsclient.AddressBook, error) {
	return f.book(customer, id)
}

func (f *fakeOMS) PlaceOrder(_ context.Context, r omsclient.PlaceOrderRequest) (omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.placed = append(f.placed, r)
	if f.placeErr != nil {
		return omsclient.Order{}, f.placeErr
	}
	o := omsclient.Order{ID: "o-new", CustomerID: r.CustomerID, Source: r.Source, Status: omsclient.StatusPendingPayment, CreatedAt: time.Now()}
	for _, l := range r.Lines {
		o.Lines = append(o.Lines, omsclient.Line{SKU: l.SKU, Qty: l.Qty, UnitPriceFen: l.UnitPriceFen, AmountFen: l.UnitPriceFen * money.Fen(l.Qty)})
		o.TotalFen += l.UnitPriceFen * money.Fen(l.Qty)
	}
	f.orders[o.ID] = o
	return o, nil
}

func (f *fakeOMS) GetOrders(_ context.Context, ids []string) ([]omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, slices.Clone(ids))
	if len(ids) > omsclient.MaxBatchOrders {
		return nil, &httpapi.Problem{Status: 422, Code: omsclient.CodeValidation, Message: "too many ids"}
	}
	var out []omsclient.Order
	for _, id := range ids {
		if o, ok := f.orders[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fakeOMS) ListOrders(_ context.Context, r omsclient.ListRequest) (omsclient.OrderPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, r)
	var p omsclient.OrderPage
	for _, o := range f.orders {
		if (r.Phone == "" && o.CustomerID == r.CustomerID || r.Phone != "" && o.Address.Phone == r.Phone) && (r.Status == "" || r.Status == o.Status) {
			p.Items = append(p.Items, o)
		}
	}
	slices.SortFunc(p.Items, func(a, b omsclient.Order) int { return -cmpStr(a.ID, b.ID) })
	p.TotalCount = int64(len(p.Items))
	return p, nil
}

func (f *fakeOMS) CancelUnpaid(_ context.Context, id string, r omsclient.CancelRequest) (omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, id)
	o := f.orders[id]
	if o.Status != omsclient.StatusPendingPayment {
		return o, &httpapi.Problem{Status: 409, Code: omsclient.CodeNotCancellable, Message: "order is " + o.Status}
	}
	o.Status = omsclient.StatusCancelled
	f.orders[id] = o
	return o, nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fakeInventory serves a fixed catalog and counts batch calls.
type fakeInventory struct {
	mu       sync.Mutex
	products map[string]inventoryclient.Product
	batches  [][]string
	searches []inventoryclient.SearchRequest
	// slotErr fails the slot and served-area calls; setCaps records
	// capacity changes, slots answers the slot reads.
	slotErr error
	setCaps []inventoryclient.SetCapacityRequest
	setArea []inventoryclient.SetServedAreaRequest
	slots   []inventoryclient.SlotCapacity
	// catalogErr fails the catalog mutations; created records them.
	catalogErr error
	created    []inventoryclient.CreateProductRequest
}

func (f *fakeInventory) CreateProduct(_ context.Context, r inventoryclient.CreateProductRequest) (inventoryclient.Product, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, r)
	if f.catalogErr != nil {
		return inventoryclient.Product{}, f.catalogErr
	}
	return inventoryclient.Product{SKU: r.Product.SKU, Name: r.Product.Name, PriceFen: r.Product.PriceFen, Zone: r.Product.Zone,
		Category: r.Product.Category, Version: 1, Components: r.Product.Components}, nil
}

func (f *fakeInventory) UpdateProduct(_ context.Context, sku string, r inventoryclient.UpdateProductRequest) (inventoryclient.Product, error) {
	return inventoryclient.Product{SKU: sku, Name: r.Product.Name, Zone: r.Product.Zone, Category: r.Product.Category,
		Version: r.ExpectedVersion + 1}, f.catalogErr
}

func (f *fakeInventory) SchedulePrice(_ context.Context, sku string, r inventoryclient.SchedulePriceRequest) (inventoryclient.Product, error) {
	return inventoryclient.Product{SKU: sku, Zone: inventoryclient.ZoneAmbient}, f.catalogErr
}

func (f *fakeInventory) PriceHistory(context.Context, string) ([]inventoryclient.ScheduledPrice, error) {
	return nil, f.catalogErr
}

func (f *fakeInventory) CatalogChanges(context.Context, string) ([]inventoryclient.CatalogChange, error) {
	return nil, f.catalogErr
}

func (f *fakeInventory) OpenSlots(context.Context, inventoryclient.Area, int) ([]inventoryclient.SlotCapacity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slots, f.slotErr
}

func (f *fakeInventory) SlotCapacities(context.Context, []string, string, int) ([]inventoryclient.SlotCapacity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slots, f.slotErr
}

func (f *fakeInventory) SetSlotCapacity(_ context.Context, r inventoryclient.SetCapacityRequest) (inventoryclient.SlotCapacity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setCaps = append(f.setCaps, r)
	return inventoryclient.SlotCapacity{SlotRef: r.SlotRef, Capacity: r.Capacity, UpdatedBy: r.By}, f.slotErr
}

func (f *fakeInventory) ServedAreas(context.Context, string, string) ([]inventoryclient.ServedArea, error) {
	return nil, f.slotErr
}

func (f *fakeInventory) SetServedArea(_ context.Context, r inventoryclient.SetServedAreaRequest) (inventoryclient.ServedArea, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setArea = append(f.setArea, r)
	return r.ServedArea, f.slotErr
}

func (f *fakeInventory) GetProducts(_ context.Context, skus []string) ([]inventoryclient.Product, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, slices.Clone(skus))
	if len(skus) > 500 {
		return nil, &httpapi.Problem{Status: 400, Code: inventoryclient.CodeValidation, Message: "must hold 1..500 SKUs"}
	}
	var out []inventoryclient.Product
	var unknown []string
	for _, s := range skus {
		p, ok := f.products[s]
		if !ok {
			unknown = append(unknown, s)
		}
		out = append(out, p)
	}
	if len(unknown) > 0 {
		return nil, (&httpapi.Problem{Status: 404, Code: inventoryclient.CodeUnknownSKU, Message: "unknown SKUs"}).With(map[string]any{"skus": unknown})
	}
	return out, nil
}

func (f *fakeInventory) SearchProducts(_ context.Context, r inventoryclient.SearchRequest) (inventoryclient.ProductPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, r)
	var pg inventoryclient.ProductPage
	keys := make([]string, 0, len(f.products))
	for k := range f.products {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := f.products[k]
		if k <= r.After || (r.InStock && p.Available <= 0) || (r.Zone != "" && p.Zone != r.Zone) || (r.Category != "" && p.Category != r.Category) {
			continue
		}
		if len(pg.Items) == r.First {
			pg.HasNext = true
			break
		}
		pg.Items = append(pg.Items, p)
		pg.EndCursor = k
	}
	pg.TotalCount = int64(len(f.products))
	return pg, nil
}

// fakePay answers with canned errors when set, and records requests.
type fakePay struct {
	mu        sync.Mutex
	deductErr error
	payErr    error
	deducts   []payclient.DeductRequest
	payments  []payclient.StartPaymentRequest
}

func (f *fakePay) Accounts(_ context.Context, customerID string) (payclient.Accounts, error) {
	return payclient.Accounts{CustomerID: customerID, BalanceFen: 12345, Points: 50}, nil
}

func (f *fakePay) Deduct(_ context.Context, r payclient.DeductRequest) (payclient.Deduction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deducts = append(f.deducts, r)
	if f.deductErr != nil {
		return payclient.Deduction{}, f.deductErr
	}
	var total money.Fen
	for _, it := range r.Items {
		total += it.AmountFen
	}
	return payclient.Deduction{ID: "d1", CustomerID: r.CustomerID, Items: r.Items, TotalFen: total, Status: payclient.DeductionHeld}, nil
}

func (f *fakePay) StartCashPayment(_ context.Context, r payclient.StartPaymentRequest) (payclient.CashierRedirect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.payments = append(f.payments, r)
	if f.payErr != nil {
		return payclient.CashierRedirect{}, f.payErr
	}
	return payclient.CashierRedirect{TradeID: "t1", Channel: r.Channel, CashierURL: "https://pay.example/t1",
		AmountFen: 990, ExpiresAt: time.Date(2030, 1, 1, 0, 10, 0, 0, time.UTC)}, nil
}

var secret = []byte("test-secret-test-secret-test-secret")

type env struct {
	handler http.Handler
	c       *client.Client
	oms     *fakeOMS
	inv     *fakeInventory
	pay     *fakePay
	wallet  *lazyWallet
	hub     *hub.Hub
}

// lazyWallet is the real coupon wallet (marketing's routes over a fresh
// database), served in process behind marketingclient; the database is
// made on the first call, so tests that never reach the wallet pay nothing.
type lazyWallet struct {
	t    *testing.T
	once sync.Once
	inv  *daprxtest.Local
	clk  *clock.Fixed
}

func (l *lazyWallet) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	l.once.Do(func() {
		db, _ := testdb.New(l.t, "marketing")
		m := chi.NewRouter()
		st := mstore.New(db)
		mapi.MountWallet(m, mapp.NewWallet(st, nil, l.clk, nil))
		mapi.MountCampaigns(m, mapp.NewCampaigns(st, nil, nil, l.clk, nil, nil))
		l.inv = daprxtest.NewLocal()
		l.inv.Set(marketingclient.AppID, m)
	})
	return l.inv.Invoke(ctx, app, httpMethod, method, in, out)
}

func newEnv(t *testing.T, mod ...func(*graph.Options)) *env {
	t.Helper()
	v, err := auth.NewVerifier(secret, auth.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		oms: &fakeOMS{orders: map[string]omsclient.Order{
			"o-alice": {ID: "o-alice", CustomerID: "alice", Source: omsclient.SourceApp, Status: omsclient.StatusPendingPayment,
				TotalFen: 1205, Lines: []omsclient.Line{{SKU: "apple", Name: "Apple", Qty: 1, UnitPriceFen: 1205, AmountFen: 1205}},
				Timeline: []omsclient.Event{{At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Type: "PLACED"}}},
			"o-bob": {ID: "o-bob", CustomerID: "bob", Source: omsclient.SourceWeb, Status: omsclient.StatusPaid},
		}},
		inv: &fakeInventory{products: map[string]inventoryclient.Product{
			"apple": {SKU: "apple", Name: "Apple", PriceFen: 1205, Zone: inventoryclient.ZoneAmbient, Category: "FRUIT", Available: 100},
			"milk":  {SKU: "milk", Name: "Milk", PriceFen: 890, Zone: inventoryclient.ZoneChilledLow, Category: "DAIRY", Available: 3},
			"fish":  {SKU: "fish", Name: "Fish", PriceFen: 4500, Zone: inventoryclient.ZoneFrozenLow, Available: 0},
		}},
		pay:    &fakePay{},
		wallet: &lazyWallet{t: t, clk: clock.NewFixed(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))},
		hub:    hub.New(4, nil),
	}
	o := graph.Options{Verifier: v, LoaderWait: 20 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	e.handler = graph.NewHandler(&graph.Resolver{Orders: e.oms, Addresses: e.oms, Catalog: e.inv, Payments: e.pay,
		Wallet: marketingclient.New(e.wallet), Campaigns: marketingclient.New(e.wallet), Feed: e.hub}, o)
	e.c = client.New(e.handler)
	return e
}

func token(t *testing.T, sub, role string) string {
	t.Helper()
	tok, err := auth.Mint(secret, auth.Identity{Subject: sub, Role: role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func as(t *testing.T, sub, role string) client.Option {
	return client.AddHeader("Authorization", "Bearer "+token(t, sub, role))
}
