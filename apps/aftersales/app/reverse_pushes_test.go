package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// refusedAtDoor makes O1 (see delivered) refused at the door, with line
// A a drop-ship line of FARM-1 and line B a presale line.
func (e *env) refusedAtDoor(id string) {
	e.delivered(id, "C1")
	e.oms.mu.Lock()
	e.oms.orders[id].Status = omsclient.StatusShipped
	a := e.oms.allocations[id]
	a.Refused = true
	e.oms.allocations[id] = a
	e.oms.mu.Unlock()
	e.stock.mu.Lock()
	e.stock.products["A"] = inventoryclient.Product{SKU: "A", DropShip: true, Supplier: "FARM-1"}
	e.stock.products["B"] = inventoryclient.Product{SKU: "B", Presale: true}
	e.stock.mu.Unlock()
}

func pushOf(t *testing.T, e *env, requestID string, typ domain.PushType) domain.Push {
	t.Helper()
	ps, err := e.svc.Pushes(context.Background(), requestID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Type == typ {
			return p
		}
	}
	t.Fatalf("request %s has no %s push", requestID, typ)
	return domain.Push{}
}

// A rejection of an order with a drop-ship line and a presale line
// calls for the settlement data (the refund's lines, adding up to it),
// the supplier's purchase return of the drop-ship units (which are not
// restored to our stock), and the presale units back to purchasing:
// each delivered once however often the workers run.
func TestRejectionPushesSettlementPresaleAndPurchaseReturnOnce(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.refusedAtDoor("O1")
	ps := e.pushers(e.st)
	r, err := e.svc.Reject(ctx, "O1")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.drain(t, ps, r.ID())
	}
	for _, api := range []string{"fms.settlements", "suppliers.purchase_returns", "presale.sellable_stock"} {
		if ids, n := e.ptn.count(api); ids != 1 || n != 1 {
			t.Fatalf("%s: %d ids, %d deliveries", api, ids, n)
		}
	}
	st := e.ptn.body("fms.settlements", r.ID()+":SETTLEMENT").(partnersclient.Settlement)
	if st.Kind != "REJECTION" || st.CashFen != 4100 || st.NonCashFen != 700 || st.FreightFen != 800 || len(st.Lines) != 2 {
		t.Fatalf("settlement %+v", st)
	}
	pr := e.ptn.body("suppliers.purchase_returns", r.ID()+":DROPSHIP_RETURN:FARM-1").(partnersclient.PurchaseReturn)
	if pr.Supplier != "FARM-1" || len(pr.Lines) != 1 || pr.Lines[0].SKU != "A" || pr.Lines[0].Qty != 3 {
		t.Fatalf("purchase return %+v", pr)
	}
	pu := e.ptn.body("presale.sellable_stock", r.ID()+":PRESALE_STOCK").(partnersclient.PresaleStockUpdate)
	if pu.Kind != "REJECTION" || len(pu.Lines) != 1 || pu.Lines[0].SKU != "B" || pu.Lines[0].Qty != 1 {
		t.Fatalf("presale update %+v", pu)
	}
	if e.stock.restored["A"] != 0 || e.stock.restored["B"] != 1 {
		t.Fatalf("restored %v: the drop-ship units are the supplier's", e.stock.restored)
	}
}

// Each new push type: a receiver that fails is asked again (the push
// stays PENDING with its error, then DONE, one effect); one that refuses
// for good ends the push DEAD and the request shows PUSH_FAILED.
func TestNewPushTypesRetryAndDie(t *testing.T) {
	types := []struct {
		api string
		typ domain.PushType
	}{
		{"fms.settlements", domain.PushSettlement},
		{"suppliers.purchase_returns", domain.PushDropShipReturn},
		{"presale.sellable_stock", domain.PushPresaleStock},
	}
	for _, c := range types {
		t.Run(string(c.typ)+" retried", func(t *testing.T) {
			e := setup(t, nil)
			ctx := context.Background()
			e.refusedAtDoor("O1")
			e.ptn.fail[c.api] = 1
			ps := e.pushers(e.st)
			r, err := e.svc.Reject(ctx, "O1")
			if err != nil {
				t.Fatal(err)
			}
			e.drain(t, ps, r.ID())
			// On a slow machine the backoff may pass within the drain:
			// then the retry was made already.
			if p := pushOf(t, e, r.ID(), c.typ); p.Status == domain.PushPending && (p.Attempts != 1 || !strings.Contains(p.LastError, "down")) {
				t.Fatalf("after a failure: %+v", p)
			}
			time.Sleep(domain.PushBackoff(1) + 100*time.Millisecond)
			e.drain(t, ps, r.ID())
			if p := pushOf(t, e, r.ID(), c.typ); p.Status != domain.PushDone || p.Attempts != 2 {
				t.Fatalf("after the retry: %+v", p)
			}
			if ids, n := e.ptn.count(c.api); ids != 1 || n != 1 {
				t.Fatalf("%s: %d ids, %d deliveries", c.api, ids, n)
			}
		})
		t.Run(string(c.typ)+" refused", func(t *testing.T) {
			e := setup(t, nil)
			ctx := context.Background()
			e.refusedAtDoor("O1")
			e.ptn.refuse[c.api] = true
			ps := e.pushers(e.st)
			r, err := e.svc.Reject(ctx, "O1")
			if err != nil {
				t.Fatal(err)
			}
			e.drain(t, ps, r.ID())
			p := pushOf(t, e, r.ID(), c.typ)
			if p.Status != domain.PushDead || !strings.Contains(p.LastError, partnersclient.CodeRejected) {
				t.Fatalf("refused push: %+v", p)
			}
			got, _ := e.svc.Request(ctx, "", r.ID())
			if !got.HasStep(domain.StepPushFailed) {
				t.Fatalf("no PUSH_FAILED step: %v", steps(got))
			}
			if ids, _ := e.ptn.count(c.api); ids != 0 {
				t.Fatalf("a refused push was recorded as received")
			}
		})
	}
}

// A cancel writes, with its ORDER_CANCELLED step, the settlement data of
// the whole order and its presale units back to purchasing; no purchase
// return (a drop-ship delivery order was intercepted at its supplier).
func TestCancelPushesSettlementAndPresaleStock(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.refusedAtDoor("O1")
	e.oms.mu.Lock()
	e.oms.orders["O1"].Status = omsclient.StatusFulfilling
	e.oms.started["O1"] = true
	e.oms.mu.Unlock()
	ps := e.pushers(e.st)
	r, err := e.svc.Cancel(ctx, in("O1", "C1", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	e.drain(t, ps, r.ID())
	e.drain(t, ps, r.ID())
	st := e.ptn.body("fms.settlements", r.ID()+":SETTLEMENT").(partnersclient.Settlement)
	if st.Kind != "CANCEL" || st.CashFen != 4100 || st.NonCashFen != 700 || len(st.Lines) != 2 {
		t.Fatalf("settlement %+v", st)
	}
	if ids, n := e.ptn.count("presale.sellable_stock"); ids != 1 || n != 1 {
		t.Fatalf("presale: %d %d", ids, n)
	}
	if ids, _ := e.ptn.count("suppliers.purchase_returns"); ids != 0 {
		t.Fatal("a cancel made a purchase return")
	}
	if len(e.cpn.unbinds) != 1 || e.cpn.unbinds[r.ID()+":UNBIND_POINTS_COUPONS"] != 1 {
		t.Fatalf("points coupons unbinds %v", e.cpn.unbinds)
	}
}

// The unbind of coupons bought with points: a wallet that fails is asked
// again (one effect); one that refuses ends the push DEAD.
func TestUnbindPointsCouponsRetryAndDie(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		e := setup(t, nil)
		ctx := context.Background()
		e.order("O1", "C1", omsclient.StatusFulfilling, 100, 0)
		e.cpn.fail, e.cpn.refuse = 1, refuse
		ps := e.pushers(e.st)
		r, err := e.svc.Cancel(ctx, in("O1", "C1", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Process(ctx, r.ID()); err != nil {
			t.Fatal(err)
		}
		e.drain(t, ps, r.ID())
		p := pushOf(t, e, r.ID(), domain.PushUnbindPointsCoupons)
		if refuse {
			if p.Status != domain.PushDead || len(e.cpn.unbinds) != 0 {
				t.Fatalf("refused unbind: %+v", p)
			}
			continue
		}
		if p.Status == domain.PushPending && p.Attempts != 1 {
			t.Fatalf("after a failure: %+v", p)
		}
		time.Sleep(domain.PushBackoff(1) + 100*time.Millisecond)
		e.drain(t, ps, r.ID())
		e.drain(t, ps, r.ID())
		if p := pushOf(t, e, r.ID(), domain.PushUnbindPointsCoupons); p.Status != domain.PushDone || p.Result != "1 unbound" ||
			e.cpn.unbinds[p.ID] != 1 {
			t.Fatalf("after the retry: %+v %v", p, e.cpn.unbinds)
		}
	}
}
