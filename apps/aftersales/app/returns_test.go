package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/ids"
)

// delivered adds a delivered order of customer: line A, 3 units, and
// line B, 1 unit, with stage 5's allocation of 800 freight and 700
// non-cash (A: cash 3100, non-cash 500, freight 600; B: 1000, 200, 200),
// paid 4100 in cash on trade T-<id>.
func (e *env) delivered(id, customer string) {
	e.order(id, customer, omsclient.StatusCompleted, 4100, 700)
	e.oms.mu.Lock()
	e.oms.allocations[id] = omsclient.Allocation{OrderID: id, CustomerID: customer, FreightFen: 800, NonCashFen: 700, PaidFen: 4100,
		TradeID: "T-" + id, DeductionIDs: []string{"D-" + id},
		Address: omsclient.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"},
		Lines: []omsclient.AllocatedLine{
			{SKU: "A", Qty: 3, AmountFen: 3000, FreightFen: 600, NonCashFen: 500, CashFen: 3100},
			{SKU: "B", Qty: 1, AmountFen: 1000, FreightFen: 200, NonCashFen: 200, CashFen: 1000}}}
	e.oms.mu.Unlock()
}

func ret(order, customer, key, mode string, lines ...domain.ReturnLine) domain.ReturnInput {
	return domain.ReturnInput{OrderID: order, CustomerID: customer, IdempotencyKey: key, Reason: "the milk was sour", Mode: mode,
		Lines: lines, Photos: []string{"https://img.example.com/1.jpg"}}
}

// pushers are the service's workers over the test's database, short
// leases so a lost delivery comes back quickly.
func (e *env) pushers(store app.PushStore) *app.Pushers {
	return e.svc.Pushers(store, app.PushOptions{Timeout: time.Second, Lease: 1500 * time.Millisecond, Poll: 10 * time.Millisecond}, nil)
}

// drain runs every push type's worker until a whole round delivers
// nothing, then processes the requests.
func (e *env) drain(t *testing.T, ps *app.Pushers, requests ...string) {
	t.Helper()
	ctx := context.Background()
	for round := 0; ; round++ {
		n := 0
		for _, typ := range domain.PushTypes {
			k, _ := ps.Pass(ctx, typ)
			n += k
		}
		if n == 0 {
			break
		}
		if round > 50 {
			t.Fatal("pushes never drain")
		}
	}
	for _, id := range requests {
		if err := e.svc.Process(ctx, id); err != nil && !errors.Is(err, app.ErrNotYet) {
			t.Fatal(err)
		}
	}
}

// A refund-only return of 2 of line A's 3 units: the refund is spread
// with stage 5's allocation (2/3 of A's cash and non-cash, freight share
// inside), the customer is answered, PAY gets one audited cash refund,
// the non-cash share goes back, finance gets the voucher with PAY's
// refund id (a push written by the refund's push); REFUNDING until
// finance approves, then REFUNDED. The last unit later gives back
// exactly what is left of the line.
func TestRefundOnlyReturn(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	ps := e.pushers(e.st)
	r, err := e.svc.Return(ctx, ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if r.RefundCash() != 2066 || r.RefundNonCash() != 333 || r.RefundFreight() != 400 || r.Status() != domain.StatusAccepted {
		t.Fatalf("refund cash %s non-cash %s freight %s, %s", r.RefundCash(), r.RefundNonCash(), r.RefundFreight(), r.Status())
	}
	e.drain(t, ps, r.ID())
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunding {
		t.Fatalf("before finance: %s %v", got.Status(), steps(got))
	}
	e.pay.approveAll()
	e.drain(t, ps, r.ID())
	got, _ = e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || got.RefundedFen() != 2399 {
		t.Fatalf("after finance: %s %s %v", got.Status(), got.RefundedFen(), steps(got))
	}
	if n := len(e.pay.cashRefunds); n != 1 || e.pay.trades["O1"].RefundedFen != 2066 {
		t.Fatalf("%d cash refunds, trade refunded %s", n, e.pay.trades["O1"].RefundedFen)
	}
	for _, api := range []string{"push.messages", "fms.refund_vouchers"} {
		if ids, n := e.ptn.count(api); ids != 1 || n != 1 {
			t.Fatalf("%s: %d ids, %d deliveries", api, ids, n)
		}
	}
	// The last unit: exactly what is left of the line.
	r2, err := e.svc.Return(ctx, ret("O1", "C1", "k2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if r2.RefundCash() != 3100-2066 || r2.RefundNonCash() != 500-333 {
		t.Fatalf("last unit: cash %s non-cash %s", r2.RefundCash(), r2.RefundNonCash())
	}
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k3", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1})); !errors.Is(err, domain.ErrQtyAboveDelivered) {
		t.Fatalf("a fourth unit: %v", err)
	}
}

// A return with pickup: TMS books the courier (failing twice first: the
// push is retried), its delivery writes the warehouse's notice, whose
// delivery writes the refunds: each push reaches its receiver once.
func TestReturnWithPickupChainsItsPushes(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	e.ptn.failTMS = 2
	ps := e.svc.Pushers(e.st, app.PushOptions{Timeout: time.Second, Poll: 10 * time.Millisecond}, nil)
	r, err := e.svc.Return(ctx, ret("O1", "C1", "k1", domain.ModePickup, domain.ReturnLine{SKU: "B", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		e.drain(t, ps, r.ID())
		e.pay.approveAll()
		got, _ := e.svc.Request(ctx, "C1", r.ID())
		if got.Status() == domain.StatusRefunded {
			want := fmt.Sprint([]domain.Step{domain.StepAccepted, domain.StepPickupBooked, domain.StepWarehouseNotified, domain.StepRefundRequested,
				domain.StepRefunded})
			if fmt.Sprint(steps(got)) != want {
				t.Fatalf("steps %v, want %v", steps(got), want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("return stuck at %s %v", got.Status(), steps(got))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ids, n := e.ptn.count("tms.pickups"); ids != 1 || n != 1 {
		t.Fatalf("pickups: %d ids, %d deliveries", ids, n)
	}
	if len(e.wms.notices) != 1 || e.pay.trades["O1"].RefundedFen != 1000 || e.stock.restored["B"] != 1 {
		t.Fatalf("notices %v, refunded %s, restored %v", e.wms.notices, e.pay.trades["O1"].RefundedFen, e.stock.restored)
	}
}

// lossyFinish loses the first FinishPush of each REFUND push after PAY
// took it (the worker died between the receiver's answer and DONE).
type lossyFinish struct {
	*storeAlias
	mu   sync.Mutex
	lost map[string]bool
}

type storeAlias = store.Store

func (l *lossyFinish) FinishPush(ctx context.Context, p domain.Push, result string, follow []domain.NewPush, now time.Time) (bool, error) {
	l.mu.Lock()
	lose := p.Type == domain.PushRefund && !l.lost[p.ID]
	l.lost[p.ID] = true
	l.mu.Unlock()
	if lose {
		return false, errors.New("worker died before recording the push")
	}
	return l.storeAlias.FinishPush(ctx, p, result, follow, now)
}

// Exactly-once refunds under redelivery: the accepted event delivered
// five times at once and the refund push delivered again after a lost
// DONE leave PAY with one refund per request and the trade refunded
// the request's cash once.
func TestRefundExactlyOnceUnderRedelivery(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	ps := e.pushers(&lossyFinish{storeAlias: e.st, lost: map[string]bool{}})
	r, err := e.svc.Return(ctx, ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 3}, domain.ReturnLine{SKU: "B", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { _ = e.svc.Process(ctx, r.ID()) })
	}
	wg.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for {
		e.drain(t, ps, r.ID())
		e.pay.approveAll()
		got, _ := e.svc.Request(ctx, "C1", r.ID())
		if got.Status() == domain.StatusRefunded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stuck at %s %v", got.Status(), steps(got))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(e.pay.cashRefunds) != 1 || e.pay.refundCalls < 2 || e.pay.trades["O1"].RefundedFen != 4100 {
		t.Fatalf("%d refunds from %d calls, trade refunded %s of 4100", len(e.pay.cashRefunds), e.pay.refundCalls, e.pay.trades["O1"].RefundedFen)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM pushes WHERE request_id=? AND type='REFUND_VOUCHER'`, r.ID()); n != 1 {
		t.Fatalf("%d vouchers", n)
	}
}

// Ten returns of one unit each race for line A's three units: exactly
// three are accepted, the rest refused QTY_ABOVE_DELIVERED, and the
// three give back exactly line A's cash and non-cash, never more.
func TestConcurrentPartialReturnsNeverAbovePaid(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []*domain.Request
	var above int
	for range 10 {
		wg.Go(func() {
			r, err := e.svc.Return(ctx, ret("O1", "C1", ids.New(), domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1}))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, r)
			case errors.Is(err, domain.ErrQtyAboveDelivered):
				above++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var cash, nonCash int64
	for _, r := range won {
		cash += int64(r.RefundCash())
		nonCash += int64(r.RefundNonCash())
	}
	if len(won) != 3 || above != 7 || cash != 3100 || nonCash != 500 {
		t.Fatalf("%d accepted, %d refused; cash %d of 3100, non-cash %d of 500", len(won), above, cash, nonCash)
	}
	c, n, err := e.st.Ledger(ctx, "O1")
	if err != nil || c != 3100 || n != 500 {
		t.Fatalf("ledger %d %d %v", c, n, err)
	}
}

// Bad input is refused with its own error and writes nothing: a line not
// on the order, more units than delivered, an undelivered order, another
// customer's order, a replayed key with other lines.
func TestReturnRefusals(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	e.order("O2", "C1", omsclient.StatusShipped, 100, 0)
	cases := []struct {
		name string
		in   domain.ReturnInput
		want error
	}{
		{"line not on the order", ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "Z", Qty: 1}), domain.ErrLineNotOnOrder},
		{"above delivered", ret("O1", "C1", "k2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 2}), domain.ErrQtyAboveDelivered},
		{"not delivered", ret("O2", "C1", "k3", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1}), domain.ErrNotReturnable},
		{"another's order", ret("O1", "C2", "k4", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1}), domain.ErrNotFound},
		{"no lines", ret("O1", "C1", "k5", domain.ModeRefundOnly), domain.ErrValidation},
		{"bad mode", ret("O1", "C1", "k6", "SWAP", domain.ReturnLine{SKU: "A", Qty: 1}), domain.ErrValidation},
	}
	for _, c := range cases {
		if _, err := e.svc.Return(ctx, c.in); !errors.Is(err, c.want) {
			t.Fatalf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k7", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k7", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1})); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM requests`); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if n := e.count(t, `SELECT COALESCE(SUM(qty),0) FROM returned_units`); n != 1 {
		t.Fatalf("%d units counted returned, want 1", n)
	}
	_ = payclient.RefundSucceeded
}
