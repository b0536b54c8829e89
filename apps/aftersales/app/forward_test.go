package app_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/redislock"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// fakeForward is OMS's accept-order API (one order per key), its
// fulfillment timelines and its pull-back (as OMS: only a paused order,
// every delivery order that reached a warehouse intercepted; one new
// order per key).
type fakeForward struct {
	mu        sync.Mutex
	oms       *fakeOMS
	placed    map[string]omsclient.PlaceOrderRequest // by key
	calls     int
	timelines map[string]omsclient.FulfillmentTimeline
	pullBacks map[string]omsclient.PullBackRequest // by key
}

func (f *fakeForward) PlaceOrder(_ context.Context, r omsclient.PlaceOrderRequest) (omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if r.Source != omsclient.SourceReissue && r.Source != omsclient.SourceExchange || r.OriginalOrder == "" {
		return omsclient.Order{}, httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "source %s", r.Source)
	}
	f.placed[r.IdempotencyKey] = r
	return omsclient.Order{ID: "N-" + r.IdempotencyKey, Source: r.Source, Status: omsclient.StatusPaid}, nil
}

func (f *fakeForward) FulfillmentTimeline(_ context.Context, id string) (omsclient.FulfillmentTimeline, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.timelines[id]
	if !ok {
		return t, httpapi.Errorf(http.StatusNotFound, omsclient.CodeNoFulfillment, "not in fulfillment")
	}
	return t, nil
}

func (f *fakeForward) PullBackOrder(_ context.Context, id string, r omsclient.PullBackRequest) (omsclient.PullBack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pullBacks[r.IdempotencyKey]; ok {
		return omsclient.PullBack{OrderID: id, NewOrderID: "PB-" + r.IdempotencyKey, Already: true}, nil
	}
	f.oms.mu.Lock()
	defer f.oms.mu.Unlock()
	if !f.oms.paused[id] {
		return omsclient.PullBack{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeNotPaused, "not paused")
	}
	for _, d := range f.oms.reached[id] {
		if !slices.Contains(r.Intercepted, d) {
			return omsclient.PullBack{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeReachedWarehouse, "%s", d)
		}
	}
	f.oms.orders[id].Status = omsclient.StatusCancelled
	f.pullBacks[r.IdempotencyKey] = r
	return omsclient.PullBack{OrderID: id, NewOrderID: "PB-" + r.IdempotencyKey}, nil
}

// fakeShortages are WMS's work orders by delivery order (none: not received).
type fakeShortages struct {
	mu  sync.Mutex
	wos map[string][]wmsclient.WorkOrder
}

func (f *fakeShortages) OrderWorkOrders(_ context.Context, wh, id string) ([]wmsclient.WorkOrder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	wos, ok := f.wos[id]
	if !ok {
		return nil, httpapi.Errorf(http.StatusNotFound, wmsclient.CodeNotFound, "no order %s", id)
	}
	return wos, nil
}

type forwardEnv struct {
	*env
	fwd   *fakeForward
	short *fakeShortages
	locks *redislock.Locker
}

func setupForward(t *testing.T) *forwardEnv {
	t.Helper()
	e := setup(t, nil)
	rdb, prefix := testdb.Redis(t)
	f := &forwardEnv{env: e, fwd: &fakeForward{oms: e.oms, placed: map[string]omsclient.PlaceOrderRequest{},
		timelines: map[string]omsclient.FulfillmentTimeline{}, pullBacks: map[string]omsclient.PullBackRequest{}},
		short: &fakeShortages{wos: map[string][]wmsclient.WorkOrder{}}, locks: redislock.New(rdb, prefix, 5*time.Second)}
	e.svc = app.New(app.Deps{Repo: e.st, Orders: e.oms, Warehouse: e.wms, Payments: e.pay, Partners: e.ptn, Stock: e.stock, Filter: e.filter,
		Forward: f.fwd, Shortages: f.short, Locks: f.locks, LockWait: 150 * time.Millisecond})
	return f
}

// deliveredWithPrices is delivered with the order's lines and unit prices
// (what a new order is placed at).
func (f *forwardEnv) deliveredWithPrices(id, customer string) {
	f.delivered(id, customer)
	f.oms.mu.Lock()
	o := f.oms.orders[id]
	o.Lines = []omsclient.Line{{SKU: "A", Qty: 3, UnitPriceFen: 1000}, {SKU: "B", Qty: 1, UnitPriceFen: 1000}}
	o.Address = f.oms.allocations[id].Address
	f.oms.mu.Unlock()
}

// shortOrder is a dispatched order whose delivery order <id>-1 reached
// warehouse WH1, where its work order waits for stock (status).
func (f *forwardEnv) shortOrder(id, customer, status string) {
	f.order(id, customer, omsclient.StatusDispatched, 4100, 700)
	f.oms.mu.Lock()
	f.oms.reached[id] = []string{id + "-1"}
	f.oms.mu.Unlock()
	f.fwd.mu.Lock()
	f.fwd.timelines[id] = omsclient.FulfillmentTimeline{OrderID: id, Units: []omsclient.FulfillmentUnit{{ID: id, State: omsclient.UnitSplit},
		{ID: id + "-1", ParentID: id, State: omsclient.UnitDone, Warehouse: "WH1"}}}
	f.fwd.mu.Unlock()
	f.short.mu.Lock()
	if status != "" {
		f.short.wos[id+"-1"] = []wmsclient.WorkOrder{{ID: "WO-" + id, Status: status, Reason: "short of A"}}
	} else {
		f.short.wos[id+"-1"] = nil // received, not split yet
	}
	f.short.mu.Unlock()
}

func fwdIn(order, key string, lines ...domain.ReturnLine) domain.ForwardInput {
	return domain.ForwardInput{OrderID: order, IdempotencyKey: key, Reason: "two eggs broken on arrival", Lines: lines}
}

func hasStep(r *domain.Request, s domain.Step) bool { return r.HasStep(s) }

// A reissue: bad input refused precisely with nothing written; the
// document waits for a supervisor other than its author; approved, one
// NEW_ORDER push places one REISSUE order at the original's prices and
// address through the accept-order API (however often it is delivered:
// the push id is OMS's key), and the document completes with the new
// order, its progress on the live feed's topic.
func TestReissueAuditedBySomeoneElseAndPlacedOnce(t *testing.T) {
	f := setupForward(t)
	ctx := context.Background()
	f.deliveredWithPrices("O1", "C1")
	f.order("O9", "C1", omsclient.StatusPaid, 100, 0)
	for _, c := range []struct {
		name string
		in   domain.ForwardInput
		want error
	}{
		{"line not on the order", fwdIn("O1", "k", domain.ReturnLine{SKU: "Z", Qty: 1}), domain.ErrLineNotOnOrder},
		{"more than ordered", fwdIn("O1", "k", domain.ReturnLine{SKU: "A", Qty: 4}), domain.ErrQtyAboveDelivered},
		{"not shipped", fwdIn("O9", "k", domain.ReturnLine{SKU: "A", Qty: 1}), domain.ErrNotShipped},
		{"no lines", fwdIn("O1", "k"), domain.ErrValidation},
		{"an outcome", func() domain.ForwardInput {
			in := fwdIn("O1", "k", domain.ReturnLine{SKU: "A", Qty: 1})
			in.Outcome = domain.OutcomeCancel
			return in
		}(), domain.ErrValidation},
		{"unknown order", fwdIn("O404", "k", domain.ReturnLine{SKU: "A", Qty: 1}), domain.ErrNotFound},
	} {
		if _, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindReissue, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("refusals wrote %d requests", n)
	}
	in := fwdIn("O1", "r1", domain.ReturnLine{SKU: "A", Qty: 2})
	d, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindReissue, in)
	if err != nil || d.Status() != domain.StatusAwaitingAudit || d.CustomerID() != "C1" || d.Kind() != domain.KindReissue {
		t.Fatalf("reissue: %+v %v", d, err)
	}
	if again, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindReissue, in); err != nil || again.ID() != d.ID() {
		t.Fatalf("replay: %v %v", again, err)
	}
	other := fwdIn("O1", "r1", domain.ReturnLine{SKU: "A", Qty: 1})
	if _, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindReissue, other); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused with other lines: %v", err)
	}
	if _, err := f.svc.Audit(ctx, d.ID(), "agent-amy", true, "ok"); !errors.Is(err, domain.ErrSelfAudit) {
		t.Fatalf("self-approval: %v", err)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM pushes`); n != 0 {
		t.Fatalf("%d pushes before the audit", n)
	}
	ps := f.pushers(f.st)
	if _, err := f.svc.Audit(ctx, d.ID(), "sup-bob", true, "photos show the damage"); err != nil {
		t.Fatal(err)
	}
	f.drain(t, ps, d.ID())
	// Delivered again (a worker that died before DONE): OMS's key holds one order.
	p, err := f.st.GetPush(ctx, d.ID()+":NEW_ORDER")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Pushers(f.st, app.PushOptions{}, nil).Pass(ctx, domain.PushNewOrder); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Request(ctx, "", d.ID())
	if err != nil {
		t.Fatal(err)
	}
	fw := got.Forward()
	if got.Status() != domain.StatusCompleted || fw.NewOrderID != "N-"+p.ID || !hasStep(got, domain.StepNewOrderPlaced) {
		t.Fatalf("reissue after its push: %s %+v %v", got.Status(), fw, steps(got))
	}
	f.fwd.mu.Lock()
	placed := f.fwd.placed[p.ID]
	n := len(f.fwd.placed)
	f.fwd.mu.Unlock()
	if n != 1 || placed.Source != omsclient.SourceReissue || placed.OriginalOrder != "O1" || placed.CustomerID != "C1" ||
		placed.Address.Phone != "13800138000" || len(placed.Lines) != 1 || placed.Lines[0] != (omsclient.LineInput{SKU: "A", Qty: 2, UnitPriceFen: 1000}) ||
		placed.FreightFen != 0 || placed.Slot.Type != omsclient.SlotExpress {
		t.Fatalf("placed %d orders: %+v", n, placed)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM outbox WHERE topic='aftersales.document.progressed' AND aggregate_id=?`, d.ID()); n != 1 {
		t.Fatalf("progress events: %d", n)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM returned_units WHERE order_id='O1'`); n != 0 {
		t.Fatalf("a reissue counted %d lines returned", n)
	}
}

// An exchange holds its units as a return (a customer's return of them
// is refused), runs the return chain with nothing refunded (pickup, the
// warehouse's notice, sellable stock restored), and only then delivers
// the same goods again (one EXCHANGE order). An undelivered order is not
// exchanged; a rejected exchange gives its units back.
func TestExchangeReturnsThenDeliversAgain(t *testing.T) {
	f := setupForward(t)
	ctx := context.Background()
	f.deliveredWithPrices("O1", "C1")
	f.order("O9", "C1", omsclient.StatusDispatched, 100, 0)
	if _, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindExchange, fwdIn("O9", "x", domain.ReturnLine{SKU: "A", Qty: 1})); !errors.Is(err, domain.ErrNotReturnable) {
		t.Fatalf("exchange of an undelivered order: %v", err)
	}
	d, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindExchange, fwdIn("O1", "x1", domain.ReturnLine{SKU: "A", Qty: 3}))
	if err != nil || d.Status() != domain.StatusAwaitingAudit || d.Mode() != domain.ModePickup {
		t.Fatalf("exchange: %+v %v", d, err)
	}
	if _, err := f.svc.Return(ctx, ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1})); !errors.Is(err, domain.ErrQtyAboveDelivered) {
		t.Fatalf("a return of the exchanged units: %v", err)
	}
	ps := f.pushers(f.st)
	if _, err := f.svc.Audit(ctx, d.ID(), "sup-bob", true, "wrong size"); err != nil {
		t.Fatal(err)
	}
	f.drain(t, ps, d.ID())
	f.drain(t, ps, d.ID()) // the new delivery's push is written by the step after the warehouse's notice
	got, err := f.svc.Request(ctx, "", d.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status() != domain.StatusCompleted || got.Forward().NewOrderID == "" ||
		!hasStep(got, domain.StepPickupBooked) || !hasStep(got, domain.StepWarehouseNotified) || !hasStep(got, domain.StepNewOrderPlaced) {
		t.Fatalf("exchange: %s %+v %v", got.Status(), got.Forward(), steps(got))
	}
	pushes, _ := f.svc.Pushes(ctx, d.ID())
	var types []domain.PushType
	for _, p := range pushes {
		types = append(types, p.Type)
		if p.Status != domain.PushDone {
			t.Errorf("push %s is %s", p.ID, p.Status)
		}
	}
	want := []domain.PushType{domain.PushAnswer, domain.PushPickup, domain.PushWMSReturn, domain.PushStockRestore, domain.PushNewOrder}
	if !slices.Equal(types, want) {
		t.Fatalf("pushes %v, want %v (nothing refunded, the new delivery after the goods' return)", types, want)
	}
	if c, n, _ := f.st.Ledger(ctx, "O1"); c != 0 || n != 0 {
		t.Fatalf("an exchange refunded %d cash, %d non-cash", c, n)
	}
	f.fwd.mu.Lock()
	placed := f.fwd.placed[d.ID()+":NEW_ORDER"]
	f.fwd.mu.Unlock()
	if placed.Source != omsclient.SourceExchange || len(placed.Lines) != 1 || placed.Lines[0].Qty != 3 {
		t.Fatalf("new delivery: %+v", placed)
	}
	f.stock.mu.Lock()
	restored := f.stock.restored["A"]
	f.stock.mu.Unlock()
	if restored != 3 {
		t.Fatalf("sellable stock restored %d of A", restored)
	}

	// A rejected exchange gives its units back.
	f.deliveredWithPrices("O2", "C2")
	d2, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindExchange, fwdIn("O2", "x2", domain.ReturnLine{SKU: "B", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Audit(ctx, d2.ID(), "sup-bob", false, "not our fault"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Return(ctx, ret("O2", "C2", "k2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1})); err != nil {
		t.Fatalf("the unit a rejected exchange gave back: %v", err)
	}
}

// A pull-back is refused with nothing written for an order none of whose
// work orders waits for stock (allocated, or not split yet at WMS), and
// while the order has an open one; approved, NEW_ORDER pauses the order,
// intercepts at WMS what reached it and has OMS end the order and make
// the new one (with the new address) once; WAIT_FOR_STOCK leaves the
// order alone; CANCEL runs the cancel flow to the refund.
func TestPullBackOutcomes(t *testing.T) {
	f := setupForward(t)
	ctx := context.Background()
	f.shortOrder("O2", "C2", "WAITING_STOCK")
	f.shortOrder("O3", "C3", "ALLOCATED")
	f.shortOrder("O4", "C4", "")
	pb := func(order, key, outcome string) domain.ForwardInput {
		return domain.ForwardInput{OrderID: order, IdempotencyKey: key, Reason: "short of A at WH1", Outcome: outcome}
	}
	for _, c := range []struct {
		name string
		in   domain.ForwardInput
		want error
	}{
		{"allocated", pb("O3", "p", domain.OutcomeWait), domain.ErrNoShortage},
		{"not split yet", pb("O4", "p", domain.OutcomeWait), domain.ErrNoShortage},
		{"no outcome", pb("O2", "p", ""), domain.ErrValidation},
		{"lines", func() domain.ForwardInput {
			in := pb("O2", "p", domain.OutcomeWait)
			in.Lines = []domain.ReturnLine{{SKU: "A", Qty: 1}}
			return in
		}(), domain.ErrValidation},
		{"an address to wait with", func() domain.ForwardInput {
			in := pb("O2", "p", domain.OutcomeWait)
			in.Address = &domain.Address{Name: "x", Phone: "1", Province: "p", City: "c", District: "d", Detail: "d"}
			return in
		}(), domain.ErrValidation},
	} {
		if _, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindPullBack, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("refusals wrote %d requests", n)
	}
	in := pb("O2", "p1", domain.OutcomeNewOrder)
	in.Address = &domain.Address{Name: "Li Lei", Phone: "13800138001", Province: "Shanghai", City: "Shanghai", District: "Xuhui", Detail: "2 Tianyaoqiao Rd"}
	d, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindPullBack, in)
	if err != nil || d.Status() != domain.StatusAwaitingAudit || d.Forward().Outcome != domain.OutcomeNewOrder || d.Forward().Address.District != "Xuhui" {
		t.Fatalf("pull-back: %+v %v", d, err)
	}
	if _, err := f.svc.CreateForwardDocument(ctx, "agent-cal", domain.KindPullBack, pb("O2", "p2", domain.OutcomeWait)); !errors.Is(err, domain.ErrPullBackOpen) {
		t.Fatalf("a second pull-back: %v", err)
	}
	if _, err := f.svc.Audit(ctx, d.ID(), "agent-amy", true, "ok"); !errors.Is(err, domain.ErrSelfAudit) {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := f.svc.Audit(ctx, d.ID(), "sup-bob", true, "the customer moved"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Process(ctx, d.ID()); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Process(ctx, d.ID()); err != nil { // a redelivery changes nothing
		t.Fatal(err)
	}
	got, err := f.svc.Request(ctx, "", d.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status() != domain.StatusCompleted || got.Forward().NewOrderID != "PB-"+d.ID() || !slices.Equal(got.InterceptedIDs(), []string{"O2-1"}) {
		t.Fatalf("pull-back: %s %+v intercepted %v %v", got.Status(), got.Forward(), got.InterceptedIDs(), steps(got))
	}
	f.fwd.mu.Lock()
	req, n := f.fwd.pullBacks[d.ID()], len(f.fwd.pullBacks)
	f.fwd.mu.Unlock()
	if n != 1 || req.Address == nil || req.Address.District != "Xuhui" {
		t.Fatalf("OMS pull-backs %d: %+v", n, req)
	}
	f.wms.mu.Lock()
	intercepted := f.wms.intercepted["O2-1"]
	f.wms.mu.Unlock()
	if intercepted == 0 {
		t.Fatal("WMS was not asked to intercept")
	}

	// WAIT_FOR_STOCK: recorded, nothing paused.
	f.shortOrder("O5", "C5", "WAITING_STOCK")
	w, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindPullBack, pb("O5", "w1", domain.OutcomeWait))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Audit(ctx, w.ID(), "sup-bob", true, "stock due tomorrow"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Process(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ = f.svc.Request(ctx, "", w.ID())
	f.oms.mu.Lock()
	paused := f.oms.paused["O5"]
	f.oms.mu.Unlock()
	if got.Status() != domain.StatusCompleted || !hasStep(got, domain.StepWaitingForStock) || paused {
		t.Fatalf("wait: %s %v paused %v", got.Status(), steps(got), paused)
	}

	// CANCEL: the reverse flow's cancel, refunded.
	f.shortOrder("O6", "C6", "WAITING_STOCK")
	c, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindPullBack, pb("O6", "c1", domain.OutcomeCancel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Audit(ctx, c.ID(), "sup-bob", true, "customer gave up"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Process(ctx, c.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ = f.svc.Request(ctx, "", c.ID())
	if got.Status() != domain.StatusRefunded || got.RefundedFen() != 4800 || f.oms.orders["O6"].Status != omsclient.StatusCancelled {
		t.Fatalf("cancel: %s refunded %d %v", got.Status(), got.RefundedFen(), steps(got))
	}
}

// The lock's timeout: while another decision holds an order's pull-back
// lock, a new pull-back of the order fails with ErrLockTimeout and
// writes nothing, and an approved pull-back's step fails the same way
// and changes nothing (the order is not even paused); once the lock is
// free, both go through.
func TestPullBackLockTimeout(t *testing.T) {
	f := setupForward(t)
	ctx := context.Background()
	f.shortOrder("O2", "C2", "WAITING_STOCK")
	_, release, err := f.locks.Acquire(ctx, "pull-back:O2", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	in := domain.ForwardInput{OrderID: "O2", IdempotencyKey: "p1", Reason: "short of A", Outcome: domain.OutcomeNewOrder}
	start := time.Now()
	if _, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindPullBack, in); !errors.Is(err, domain.ErrLockTimeout) {
		t.Fatalf("create under a held lock: %v", err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("waited %s for a lock wait of 150ms", waited)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("a timed-out pull-back wrote %d requests", n)
	}
	release()
	d, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindPullBack, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Audit(ctx, d.ID(), "sup-bob", true, "ok"); err != nil {
		t.Fatal(err)
	}
	_, release, err = f.locks.Acquire(ctx, "pull-back:O2", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Process(ctx, d.ID()); !errors.Is(err, domain.ErrLockTimeout) {
		t.Fatalf("process under a held lock: %v", err)
	}
	got, _ := f.svc.Request(ctx, "", d.ID())
	f.oms.mu.Lock()
	paused := f.oms.paused["O2"]
	f.oms.mu.Unlock()
	if got.Status() != domain.StatusAccepted || paused {
		t.Fatalf("a step without the lock moved the pull-back: %s, order paused %v", got.Status(), paused)
	}
	release()
	if err := f.svc.Process(ctx, d.ID()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Request(ctx, "", d.ID()); got.Status() != domain.StatusCompleted {
		t.Fatalf("after the lock was free: %s %v", got.Status(), steps(got))
	}
}
