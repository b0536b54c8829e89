package app_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	omsapp "github.com/harvest/harvest/apps/oms/app"
	omsdomain "github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	omsstore "github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// Finding 4, stock, with both sides real: inventory's and OMS's use cases
// over their own MariaDB databases, wired to each other in process. A
// placement takes all 10 units of A and stalls past its reservation's TTL;
// the check-back asks OMS, hears "no such order" and releases the units;
// another customer buys them. The stalled placement then goes on and must
// fail: one order for the 10 units, the late reservation released, no
// stock below zero.
func TestCheckBackRacingALatePlacementNeverOversells(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	omsDB, _ := testdb.New(t, "oms")
	inv := &invAsOMSSeesIt{stall: make(chan string, 1), gate: make(chan struct{})}
	oms := omsapp.New(omsapp.Deps{Repo: omsstore.New(omsDB), Inventory: inv, Pay: noPay{}, Clock: e.clock}, omsapp.Config{})
	e.svc = app.New(e.store, e.hot, omsAsInventorySeesIt{oms}, e.clock, app.Options{OrphanGrace: time.Second})
	inv.svc = e.svc

	place := func(customer, key string) error {
		tomorrow := e.clock.Now().In(omsdomain.Shanghai).AddDate(0, 0, 1).Format("2006-01-02")
		_, _, err := oms.PlaceOrder(ctx, omsapp.PlaceOrder{IdempotencyKey: key, Placement: omsdomain.Placement{
			CustomerID: customer, Source: "SALES_PLAN", Lines: []omsdomain.LineInput{{SKU: "A", Qty: 10, UnitPrice: 990}},
			Address: omsdomain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai",
				District: "Pudong", Detail: "1 Century Ave"},
			Slot: omsdomain.Slot{Type: omsdomain.SlotNextDay, Date: tomorrow}}})
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- place("C1", "late") }()
	var late string
	select {
	case late = <-inv.stall:
	case err := <-errc:
		t.Fatalf("placement ended before its reservation: %v", err)
	}
	if got := e.mysqlAvailable(t, "A"); got != 0 {
		t.Fatalf("A available %d while reserved", got)
	}

	e.clock.Advance(oms.Config().ReserveTTL + time.Second)
	rep, err := e.svc.CheckBack(ctx)
	if err != nil || rep.Released != 1 {
		t.Fatalf("check-back: %+v %v", rep, err)
	}
	if err := place("C2", "winner"); err != nil {
		t.Fatalf("the released units could not be bought: %v", err)
	}

	close(inv.gate)
	if err := <-errc; !errors.Is(err, omsapp.ErrPlacementVoided) {
		t.Fatalf("late placement: want ErrPlacementVoided, got %v", err)
	}
	var orders int
	if err := omsDB.QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&orders); err != nil || orders != 1 {
		t.Fatalf("%d orders for 10 units sold once (%v): oversold", orders, err)
	}
	if got := e.mysqlAvailable(t, "A"); got != 0 {
		t.Fatalf("A available %d, want 0", got)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM stock WHERE available < 0`); n != 0 {
		t.Fatalf("%d SKUs below zero", n)
	}
	if r, err := e.svc.Reservation(ctx, late); err != nil || r.Status() != domain.Released {
		t.Fatalf("late reservation: %+v %v", r, err)
	}
	// A second check-back changes nothing.
	if rep, err := e.svc.CheckBack(ctx); err != nil || rep.Released != 0 {
		t.Fatalf("second check-back: %+v %v", rep, err)
	}
}

// invAsOMSSeesIt is inventory's API as OMS's inventoryclient gives it;
// the first reservation stalls after it is made, until gate closes.
type invAsOMSSeesIt struct {
	svc     *app.Service
	stall   chan string
	gate    chan struct{}
	stalled atomic.Bool
}

func (i *invAsOMSSeesIt) Reserve(ctx context.Context, r inventoryclient.ReserveRequest) (inventoryclient.Reservation, error) {
	lines := make([]domain.Line, len(r.Lines))
	for k, l := range r.Lines {
		lines[k] = domain.Line{SKU: l.SKU, Qty: l.Qty}
	}
	req, err := domain.NewRequest(r.OrderID, lines, r.TTL)
	if err != nil {
		return inventoryclient.Reservation{}, err
	}
	req = req.WithPrices(r.Prices)
	res, catalog, err := i.svc.ReservePriced(ctx, req)
	if err != nil {
		return inventoryclient.Reservation{}, err
	}
	out := inventoryclient.Reservation{OrderID: res.OrderID(), Status: string(res.Status()), Lines: r.Lines, ExpiresAt: res.ExpiresAt()}
	for _, p := range catalog {
		out.Products = append(out.Products, inventoryclient.Product{SKU: p.SKU, Name: p.Name, PriceFen: p.PriceFen})
	}
	if i.stalled.CompareAndSwap(false, true) { // only the first placement stalls
		i.stall <- r.OrderID
		<-i.gate
	}
	return out, nil
}

func (i *invAsOMSSeesIt) Release(ctx context.Context, orderID string) (inventoryclient.Reservation, error) {
	res, err := i.svc.Release(ctx, orderID)
	return inventoryclient.Reservation{OrderID: res.OrderID(), Status: string(res.Status())}, err
}

// omsAsInventorySeesIt is OMS's check-back answer as omsclient gives it.
type omsAsInventorySeesIt struct{ svc *omsapp.Service }

func (o omsAsInventorySeesIt) Exists(ctx context.Context, id string) (omsclient.Existence, error) {
	e, err := o.svc.Exists(ctx, id)
	return omsclient.Existence{Exists: e.Exists, Status: string(e.Status)}, err
}

// noPay: the orders here take no non-cash deductions.
type noPay struct{}

func (noPay) GetDeduction(context.Context, string) (payclient.Deduction, error) {
	return payclient.Deduction{}, errors.New("no deductions here")
}

func (noPay) GetTrade(context.Context, string) (payclient.Trade, error) {
	return payclient.Trade{}, errors.New("no trades here")
}
