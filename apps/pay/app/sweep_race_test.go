package app_test

import (
	"context"
	"errors"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	omsapp "github.com/harvest/harvest/apps/oms/app"
	omsdomain "github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	omsstore "github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// Finding 4, money, with both sides real: PAY's and OMS's use cases over
// their own MariaDB databases, wired to each other in process (what Dapr
// invocation does between them), inventory a stand-in that stalls the
// placement after its checks. The placement reads the deduction HELD and
// stalls; PAY's sweep asks OMS, hears "no order uses it" and reverses it;
// the placement goes on and must fail, and the customer's balance is back
// exactly once, with one reversal pushed to finance.
func TestSweepRacingALatePlacementReversesOnceAndRefusesTheOrder(t *testing.T) {
	h := newHarness(t)
	omsDB, _ := testdb.New(t, "oms")
	h.credit("C1", app.Amounts{BalanceFen: 10_000})
	d, err := h.svc.Deduct(h.ctx, app.DeductInput{IdempotencyKey: "d", CustomerID: "C1", Items: []app.Item{{Kind: domain.KindBalance, AmountFen: 2_500}}})
	if err != nil {
		t.Fatal(err)
	}

	inv := &stallingInventory{at: make(chan string, 1), gate: make(chan struct{})}
	oms := omsapp.New(omsapp.Deps{Repo: omsstore.New(omsDB), Inventory: inv, Pay: payAsOMSSeesIt{h.svc}, Clock: h.clk}, omsapp.Config{})
	pay := app.New(store.New(h.db), omsAsPaySeesIt{oms}, app.WalletClient{C: marketingclient.New(h.inv)}, nil, h.inv, h.clk, nil, nil, app.Config{HoldBound: 15 * time.Minute})

	tomorrow := h.clk.Now().In(omsdomain.Shanghai).AddDate(0, 0, 1).Format("2006-01-02")
	p := omsdomain.Placement{CustomerID: "C1", Source: "APP", DeductionIDs: []string{d.ID()}, Freight: 600,
		Lines: []omsdomain.LineInput{{SKU: "SKU-A", Qty: 2, UnitPrice: 1_000}},
		Address: omsdomain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai",
			District: "Pudong", Detail: "1 Century Ave"},
		Slot: omsdomain.Slot{Type: omsdomain.SlotNextDay, Date: tomorrow}}
	errc := make(chan error, 1)
	go func() {
		_, _, err := oms.PlaceOrder(h.ctx, omsapp.PlaceOrder{IdempotencyKey: "place", Placement: p})
		errc <- err
	}()
	select {
	case <-inv.at:
	case err := <-errc:
		t.Fatalf("placement ended before its reservation: %v", err)
	}

	h.clk.Advance(16 * time.Minute) // the deduction is past its hold bound
	n, err := pay.SweepDeductions(h.ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep: reversed %d, %v", n, err)
	}
	close(inv.gate)
	err = <-errc
	var de *omsapp.DeductionError
	if !errors.As(err, &de) || de.Violations[0].Code != "DEDUCTION_RELEASED" {
		t.Fatalf("late placement: want DEDUCTION_RELEASED, got %v", err)
	}
	var orders int
	if err := omsDB.QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&orders); err != nil || orders != 0 {
		t.Fatalf("%d orders written on reversed money (%v)", orders, err)
	}
	if !inv.released() {
		t.Fatal("the failed placement did not release its stock")
	}
	// Later sweeps find nothing; the money went back once.
	if n, err := pay.SweepDeductions(h.ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
	if a := h.accounts("C1"); a.BalanceFen() != 10_000 {
		t.Fatalf("balance %d, want 10000: reversed once", a.BalanceFen())
	}
	if got, _ := h.svc.Deduction(h.ctx, d.ID()); got.Status() != domain.DeductionReversed {
		t.Fatalf("deduction %s", got.Status())
	}
	if n := h.count(`SELECT COUNT(*) FROM finance_pushes WHERE kind=? AND ref_id=?`, domain.PushNonCashReversed, d.ID()); n != 1 {
		t.Fatalf("%d reversal pushes", n)
	}
}

// payAsOMSSeesIt is PAY's API as OMS's payclient gives it.
type payAsOMSSeesIt struct{ svc *app.Service }

func (p payAsOMSSeesIt) GetDeduction(ctx context.Context, id string) (payclient.Deduction, error) {
	d, err := p.svc.Deduction(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return payclient.Deduction{}, httpapi.Errorf(http.StatusNotFound, payclient.CodeNotFound, "%s", err.Error())
	}
	if err != nil {
		return payclient.Deduction{}, err
	}
	out := payclient.Deduction{ID: d.ID(), CustomerID: d.CustomerID(), TotalFen: d.TotalFen(), Status: string(d.Status()), OrderID: d.OrderID()}
	for _, it := range d.Items() {
		out.Items = append(out.Items, payclient.DeductItem{Kind: string(it.Kind()), AmountFen: it.AmountFen(), CouponID: it.CouponID()})
	}
	return out, nil
}

func (p payAsOMSSeesIt) GetTrade(context.Context, string) (payclient.Trade, error) {
	return payclient.Trade{}, errors.New("not used here")
}

// omsAsPaySeesIt is OMS's API as PAY's omsclient gives it.
type omsAsPaySeesIt struct{ svc *omsapp.Service }

func (o omsAsPaySeesIt) Payable(context.Context, string) (omsclient.Payability, error) {
	return omsclient.Payability{}, errors.New("not used here")
}

func (o omsAsPaySeesIt) ExistsForDeduction(ctx context.Context, id string) (omsclient.Existence, error) {
	e, err := o.svc.ExistsForDeduction(ctx, id)
	return omsclient.Existence{Exists: e.Exists, Status: string(e.Status)}, err
}

func (o omsAsPaySeesIt) GetOrder(context.Context, string) (omsclient.Order, error) {
	return omsclient.Order{}, errors.New("not used here")
}

// stallingInventory reserves anything at the asked prices and stops the
// first placement after its reservation until gate closes.
type stallingInventory struct {
	at       chan string
	gate     chan struct{}
	mu       sync.Mutex
	gaveBack bool
}

func (s *stallingInventory) released() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gaveBack
}

func (s *stallingInventory) Reserve(_ context.Context, r inventoryclient.ReserveRequest) (inventoryclient.Reservation, error) {
	res := inventoryclient.Reservation{OrderID: r.OrderID, Status: inventoryclient.ReservationHeld, Lines: r.Lines}
	for _, l := range r.Lines {
		res.Products = append(res.Products, inventoryclient.Product{SKU: l.SKU, Name: l.SKU, PriceFen: r.Prices[l.SKU]})
	}
	s.at <- r.OrderID
	<-s.gate
	return res, nil
}

func (s *stallingInventory) Release(_ context.Context, orderID string) (inventoryclient.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gaveBack = true
	return inventoryclient.Reservation{OrderID: orderID, Status: inventoryclient.ReservationReleased}, nil
}
