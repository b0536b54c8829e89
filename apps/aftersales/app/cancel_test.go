package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
)

func in(order, customer, key string) domain.CancelInput {
	return domain.CancelInput{OrderID: order, CustomerID: customer, IdempotencyKey: key, Reason: "changed my mind"}
}

func steps(r *domain.Request) []domain.Step {
	var out []domain.Step
	for _, s := range r.Steps() {
		out = append(out, s.Step)
	}
	return out
}

// Before any delivery order reached a warehouse: paused, cancelled in OMS
// once, refunded in full (cash and non-cash) once, each step recorded.
func TestCancelBeforeWarehouse(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusFulfilling, 5750, 1000)
	r, err := e.svc.Cancel(ctx, in("O1", "C1", "k1"))
	if err != nil || r.Status() != domain.StatusAccepted {
		t.Fatalf("cancel: %v %v", r, err)
	}
	// The filter holds the order the moment the cancel is answered.
	if maybe, err := e.filter.MayHave(ctx, "O1"); !maybe || err != nil {
		t.Fatalf("filter after accept: %v %v", maybe, err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE topic='aftersales.request.accepted'`); n != 1 {
		t.Fatalf("accepted events: %d", n)
	}
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || got.RefundedFen() != 6750 {
		t.Fatalf("after process: %s %s %v", got.Status(), got.RefundedFen(), steps(got))
	}
	want := fmt.Sprint([]domain.Step{domain.StepAccepted, domain.StepPaused, domain.StepCancelled, domain.StepRefunded})
	if fmt.Sprint(steps(got)) != want {
		t.Fatalf("steps %v, want %v", steps(got), want)
	}
	// Processing again (a redelivery) does nothing more.
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	if e.oms.cancels != 1 || e.pay.refunds != 1 || len(e.wms.intercepted) != 0 {
		t.Fatalf("cancels %d refunds %d interceptions %v", e.oms.cancels, e.pay.refunds, e.wms.intercepted)
	}
}

// cancelWaitingOnPay is customer C1's cancel of a paid order (100 fen)
// processed as far as it goes while PAY holds its refund back: CANCELLED.
func cancelWaitingOnPay(t *testing.T, e *env, orderID, key string) *domain.Request {
	t.Helper()
	ctx := context.Background()
	e.order(orderID, "C1", omsclient.StatusPaid, 100, 0)
	e.pay.holdBack = true
	r, err := e.svc.Cancel(ctx, in(orderID, "C1", key))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx, r.ID()); !errors.Is(err, app.ErrNotYet) {
		t.Fatalf("process with the refund under way: %v", err)
	}
	return r
}

// A paid order not yet in fulfillment is cancelled without a pause; a
// refund PAY has not finished keeps the request CANCELLED (ErrNotYet).
func TestCancelBeforeFulfillmentWaitsForRefund(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	r := cancelWaitingOnPay(t, e, "O1", "k1")
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("status %s", got.Status())
	}
	e.pay.holdBack = false
	e.pay.refundAll("O1")
	if n, err := e.svc.Sweep(ctx, -1, 10); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusRefunded || got.RefundedFen() != 100 {
		t.Fatalf("after sweep: %s %s", got.Status(), got.RefundedFen())
	}
}

// PAY's refund event moves the waiting cancel on at once (no sweep): a
// refund event ahead of the refund's success leaves it waiting, the one
// after it finishes it, and a redelivery changes nothing more; an event
// for an order whose request is done, or that has none, is no error.
func TestRefundSucceededMovesTheWaitingCancelOn(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	r := cancelWaitingOnPay(t, e, "O1", "k1")
	if err := e.svc.RefundSucceeded(ctx, "O1"); !errors.Is(err, app.ErrNotYet) {
		t.Fatalf("refund event before the refund succeeded: %v, want ErrNotYet", err)
	}
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("status %s before the refund succeeded", got.Status())
	}
	e.pay.holdBack = false
	e.pay.refundAll("O1")
	for range 2 { // delivered twice
		if err := e.svc.RefundSucceeded(ctx, "O1"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || got.RefundedFen() != 100 {
		t.Fatalf("after the refund event: %s %s", got.Status(), got.RefundedFen())
	}
	// Refunded once.
	if want := fmt.Sprint([]domain.Step{domain.StepAccepted, domain.StepPaused, domain.StepCancelled, domain.StepRefunded}); fmt.Sprint(steps(got)) != want {
		t.Fatalf("steps %v, want %v", steps(got), want)
	}
	if err := e.svc.RefundSucceeded(ctx, "O-none"); err != nil {
		t.Fatalf("refund event of an order without requests: %v", err)
	}
}

// The sweep leaves a cancel waiting on PAY alone ten times longer than a
// request whose own step was cut short: PAY's refund event moves it on.
func TestSweepWaitsLongerForRequestsWaitingOnPay(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	waiting := cancelWaitingOnPay(t, e, "O1", "k1")
	e.order("O2", "C1", omsclient.StatusPaid, 100, 0)
	cutShort, err := e.svc.Cancel(ctx, in("O2", "C1", "k2")) // its event lost
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if n, err := e.svc.Sweep(ctx, time.Second, 10); err != nil || n != 1 {
		t.Fatalf("sweep after 1.1s idle: %d requests, %v; want only the one cut short", n, err)
	}
	if got, _ := e.svc.Request(ctx, "C1", cutShort.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("request cut short: %s after the sweep", got.Status())
	}
	if got, _ := e.svc.Request(ctx, "C1", waiting.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("request waiting on PAY: %s", got.Status())
	}
}

// A delivery order at the warehouse is intercepted there first; one past
// interception refuses the cancel with its code and lets fulfillment go on.
func TestCancelAtWarehouse(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["O1"] = []string{"O1-1", "O1-2"}
	r, _ := e.svc.Cancel(ctx, in("O1", "C1", "k1"))
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || fmt.Sprint(got.InterceptedIDs()) != "[O1-1 O1-2]" || e.oms.cancels != 1 {
		t.Fatalf("intercepted cancel: %s %v %v", got.Status(), got.InterceptedIDs(), steps(got))
	}

	e.order("O2", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["O2"] = []string{"O2-1"}
	e.wms.tooLate["O2-1"] = true
	r, _ = e.svc.Cancel(ctx, in("O2", "C1", "k2"))
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefused || got.RefusalCode() != aftersalesclient.RefusedAtWarehouse || e.oms.orders["O2"].Status != omsclient.StatusDispatched ||
		e.oms.paused["O2"] || e.pay.trades["O2"].RefundedFen != 0 {
		t.Fatalf("too late: %s %s paused=%v %v", got.Status(), got.RefusalCode(), e.oms.paused["O2"], steps(got))
	}

	// A drop-ship delivery order is intercepted at its supplier (first,
	// each recorded at once), never asked of WMS; one the supplier
	// shipped refuses the cancel.
	e.order("O3", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["O3"] = []string{"O3-1", "O3-2"}
	e.oms.supplier["O3-1"] = "FARM-1"
	r, _ = e.svc.Cancel(ctx, in("O3", "C1", "k3"))
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Request(ctx, "C1", r.ID())
	if ids, _ := e.ptn.count("suppliers.interceptions"); got.Status() != domain.StatusRefunded || ids != 1 || e.wms.intercepted["O3-1"] != 0 ||
		e.wms.intercepted["O3-2"] != 1 || fmt.Sprint(got.InterceptedIDs()) != "[O3-1 O3-2]" {
		t.Fatalf("drop-ship intercepted: %s %v %d %v", got.Status(), got.InterceptedIDs(), ids, steps(got))
	}
	e.order("O4", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["O4"] = []string{"O4-1"}
	e.oms.supplier["O4-1"] = "FARM-1"
	e.ptn.shipped["O4-1"] = true
	r, _ = e.svc.Cancel(ctx, in("O4", "C1", "k4"))
	_ = e.svc.Process(ctx, r.ID())
	if got, _ = e.svc.Request(ctx, "C1", r.ID()); got.RefusalCode() != aftersalesclient.RefusedAtSupplier || e.oms.paused["O4"] ||
		e.oms.orders["O4"].Status != omsclient.StatusDispatched {
		t.Fatalf("drop-ship shipped: %s %s %v", got.Status(), got.RefusalCode(), steps(got))
	}
	// A supplier that does not answer is asked again: the request waits.
	e.order("O5", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["O5"] = []string{"O5-1"}
	e.oms.supplier["O5-1"] = "FARM-1"
	e.ptn.fail["suppliers.interceptions"] = 1
	r, _ = e.svc.Cancel(ctx, in("O5", "C1", "k5"))
	if err := e.svc.Process(ctx, r.ID()); err == nil {
		t.Fatal("a failed supplier interception went on")
	}
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	if got, _ = e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusRefunded {
		t.Fatalf("after the supplier came back: %s %v", got.Status(), steps(got))
	}
}

// Bad input is refused with a precise error and writes nothing.
func TestCancelRefusals(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusFulfilling, 100, 0)
	e.order("O2", "C1", omsclient.StatusPendingPayment, 100, 0)
	e.order("O3", "C1", omsclient.StatusShipped, 100, 0)
	if built, err := e.svc.RebuildFilter(ctx); !built || err != nil {
		t.Fatalf("build the empty filter: %v %v", built, err)
	}
	cases := []struct {
		name string
		in   domain.CancelInput
		want error
	}{
		{"another customer's order", in("O1", "C2", "k"), domain.ErrNotFound},
		{"no such order", in("O9", "C1", "k"), domain.ErrNotFound},
		{"unpaid", in("O2", "C1", "k"), domain.ErrNotCancellable},
		{"shipped", in("O3", "C1", "k"), domain.ErrNotCancellable},
		{"no key", in("O1", "C1", ""), domain.ErrValidation},
		{"no reason", domain.CancelInput{OrderID: "O1", CustomerID: "C1", IdempotencyKey: "k"}, domain.ErrValidation},
	}
	for _, c := range cases {
		if _, err := e.svc.Cancel(ctx, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM requests`) + e.count(t, `SELECT COUNT(*) FROM outbox`); n != 0 {
		t.Fatalf("refusals wrote %d rows", n)
	}
	for _, id := range []string{"O1", "O2", "O3", "O9"} {
		if maybe, err := e.filter.MayHave(ctx, id); maybe || err != nil {
			t.Fatalf("a refused cancel set the filter for %s: %v %v", id, maybe, err)
		}
	}
	// The same key with another input.
	if _, err := e.svc.Cancel(ctx, in("O1", "C1", "k1")); err != nil {
		t.Fatal(err)
	}
	other := in("O1", "C1", "k1")
	other.Reason = "something else"
	if _, err := e.svc.Cancel(ctx, other); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	if _, err := e.svc.Request(ctx, "C2", "nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	rs, _ := e.svc.OfOrder(ctx, "C2", "O1")
	if len(rs) != 0 {
		t.Fatalf("another customer sees %d requests", len(rs))
	}
}

// The same cancel sent 10 times at once, and 10 cancels of one order
// under different keys: one request, one event.
func TestCancelTenAtOnce(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusFulfilling, 100, 0)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "same"
			if i >= 10 {
				key = fmt.Sprintf("k%d", i)
			}
			r, err := e.svc.Cancel(ctx, in("O1", "C1", key))
			if err != nil {
				t.Errorf("cancel %d: %v", i, err)
				return
			}
			ids[i] = r.ID()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two requests: %v", ids)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM requests`); n != 1 {
		t.Fatalf("requests: %d", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM pushes WHERE type='ANSWER'`); n != 1 {
		t.Fatalf("answers to the requester: %d", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM outbox`); n != 1 {
		t.Fatalf("events: %d", n)
	}
}

// Processing the same request from 8 deliveries at once has each effect once.
func TestProcessRaces(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusDispatched, 100, 50)
	e.oms.reached["O1"] = []string{"O1-1"}
	r, _ := e.svc.Cancel(ctx, in("O1", "C1", "k"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.Process(ctx, r.ID()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || e.oms.cancels != 1 || e.pay.refunds != 1 || got.RefundedFen() != 150 {
		t.Fatalf("%s cancels=%d refunds=%d refunded=%s", got.Status(), e.oms.cancels, e.pay.refunds, got.RefundedFen())
	}
	for _, s := range []domain.Step{domain.StepPaused, domain.StepCancelled, domain.StepRefunded, domain.StepIntercepted} {
		n := 0
		for _, x := range steps(got) {
			if x == s {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("step %s recorded %d times: %v", s, n, steps(got))
		}
	}
}

// crashingRepo loses the record of the first step taken after OMS
// cancelled the order: as if after-sales died between the call and its
// commit.
type crashingRepo struct {
	*store.Store
	crashed bool
}

var errCrash = errors.New("killed before commit")

func (c *crashingRepo) Update(ctx context.Context, id string, fn func(r *domain.Request) error) (*domain.Request, error) {
	return c.Store.Update(ctx, id, func(r *domain.Request) error {
		before := r.Status()
		if err := fn(r); err != nil {
			return err
		}
		if !c.crashed && before == domain.StatusPaused && r.Status() == domain.StatusCancelled {
			c.crashed = true
			return errCrash
		}
		return nil
	})
}

func TestProcessResumesAfterCrash(t *testing.T) {
	var crash *crashingRepo
	e := setup(t, func(s *store.Store) app.Repository { crash = &crashingRepo{Store: s}; return crash })
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusFulfilling, 100, 0)
	r, _ := e.svc.Cancel(ctx, in("O1", "C1", "k"))
	if err := e.svc.Process(ctx, r.ID()); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusPaused || e.oms.cancels != 1 {
		t.Fatalf("after the crash: %s cancels=%d", got.Status(), e.oms.cancels)
	}
	// The redelivery (or the sweep) goes on: OMS answers Already.
	if n, err := e.svc.Sweep(ctx, -1, 10); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefunded || e.oms.cancels != 1 || e.pay.refunds != 1 {
		t.Fatalf("resumed: %s cancels=%d refunds=%d", got.Status(), e.oms.cancels, e.pay.refunds)
	}
}

// PAY reserves a trade's refunded_fen when it creates the full refund; a
// refund the channel still processes keeps the request CANCELLED, and only
// the channel's SUCCEEDED makes it REFUNDED.
func TestCancelWaitsForTheChannelToConfirmTheRefund(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.order("O1", "C1", omsclient.StatusPaid, 100, 0)
	e.pay.fullRefundStatus = payclient.RefundProcessing
	r, err := e.svc.Cancel(ctx, in("O1", "C1", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx, r.ID()); !errors.Is(err, app.ErrNotYet) {
		t.Fatalf("process with the refund PROCESSING at the channel: %v", err)
	}
	if tr, _ := e.pay.TradesOfOrder(ctx, "O1"); tr[0].RefundedFen != 100 {
		t.Fatalf("the fake should reserve refunded_fen as PAY does: %s", tr[0].RefundedFen)
	}
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusCancelled {
		t.Fatalf("status %s with the refund PROCESSING", got.Status())
	}
	e.pay.settleFull("O1", payclient.RefundSucceeded)
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Request(ctx, "C1", r.ID()); got.Status() != domain.StatusRefunded || got.RefundedFen() != 100 {
		t.Fatalf("after SUCCEEDED: %s %s", got.Status(), got.RefundedFen())
	}
}

// A full refund the channel failed is never REFUNDED: the request stays
// CANCELLED with the failure recorded once for customer service.
func TestCancelWithAFailedRefundIsNotRefunded(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	r := e.cancelWithFailedRefund(t, e.svc, "O1")
	if err := e.svc.Process(ctx, r.ID()); !errors.Is(err, app.ErrNotYet) {
		t.Fatalf("process again with the refund FAILED: %v", err)
	}
	got, _ := e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusCancelled || got.RefundedFen() != 0 {
		t.Fatalf("status %s refunded %s with the refund FAILED", got.Status(), got.RefundedFen())
	}
	failed := 0
	for _, s := range got.Steps() {
		if s.Step == domain.StepPushFailed && s.Note == "refund RF-full-T-O1 FAILED" {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("failure recorded %d times: %v", failed, steps(got))
	}
}

// A cancel that reaches part of an order and not the rest leaves nothing
// stopped: with one of two warehouses past interception, WMS intercepts
// neither (all or none); with a supplier's delivery order intercepted and
// a warehouse's too late, or a second supplier that shipped, the
// interceptions recorded are released before the refusal, recorded as
// such, and the order ships whole (fulfillment resumed, nothing
// refunded). A crash after a release and before the refusal repeats both
// harmlessly.
func TestPartlyInterceptedCancelReleasesWhatItStopped(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	refused := func(id, code string) *domain.Request {
		t.Helper()
		r, err := e.svc.Cancel(ctx, in(id, "C1", "k-"+id))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Process(ctx, r.ID()); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Request(ctx, "C1", r.ID())
		if got.Status() != domain.StatusRefused || got.RefusalCode() != code || len(got.InterceptedIDs()) != 0 || e.oms.paused[id] ||
			e.oms.orders[id].Status != omsclient.StatusDispatched || e.pay.trades[id].RefundedFen != 0 {
			t.Fatalf("%s: %s %s intercepted %v paused=%v %v", id, got.Status(), got.RefusalCode(), got.InterceptedIDs(), e.oms.paused[id], steps(got))
		}
		return got
	}

	// Two warehouses, the second past interception: the first is not stopped.
	e.order("W1", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["W1"] = []string{"W1-1", "W1-2"}
	e.wms.tooLate["W1-2"] = true
	refused("W1", aftersalesclient.RefusedAtWarehouse)
	if e.wms.intercepted["W1-1"] != 0 {
		t.Fatalf("W1-1 intercepted %d times while W1-2 was too late", e.wms.intercepted["W1-1"])
	}

	// A supplier's part stopped, the warehouse's too late: released.
	e.order("S1", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["S1"] = []string{"S1-1", "S1-2"}
	e.oms.supplier["S1-1"] = "FARM-1"
	e.wms.tooLate["S1-2"] = true
	got := refused("S1", aftersalesclient.RefusedAtWarehouse)
	if e.ptn.stopped["S1-1"] || !slices.Contains(steps(got), domain.StepReleased) {
		t.Fatalf("S1-1 still stopped at its supplier (%v) or its release not recorded: %v", e.ptn.stopped["S1-1"], steps(got))
	}

	// Two suppliers, the second shipped; the release fails once (the
	// request waits, then releases and refuses).
	e.order("S2", "C1", omsclient.StatusDispatched, 100, 0)
	e.oms.reached["S2"] = []string{"S2-1", "S2-2"}
	e.oms.supplier["S2-1"], e.oms.supplier["S2-2"] = "FARM-1", "FARM-2"
	e.ptn.shipped["S2-2"] = true
	e.ptn.fail["suppliers.interception_releases"] = 1
	r, err := e.svc.Cancel(ctx, in("S2", "C1", "k-S2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx, r.ID()); err == nil {
		t.Fatal("a failed release went on to refuse")
	}
	if mid, _ := e.svc.Request(ctx, "C1", r.ID()); mid.Status() != domain.StatusPaused || fmt.Sprint(mid.InterceptedIDs()) != "[S2-1]" {
		t.Fatalf("after the failed release: %s %v", mid.Status(), mid.InterceptedIDs())
	}
	if err := e.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Request(ctx, "C1", r.ID())
	if got.Status() != domain.StatusRefused || got.RefusalCode() != aftersalesclient.RefusedAtSupplier || e.ptn.stopped["S2-1"] ||
		len(got.InterceptedIDs()) != 0 || e.oms.paused["S2"] {
		t.Fatalf("S2: %s %s stopped=%v %v", got.Status(), got.RefusalCode(), e.ptn.stopped["S2-1"], steps(got))
	}
}

// cancelWithFailedRefund is customer C1's paid order id cancelled through
// svc, its full refund FAILED at the channel (PAY's retries used up): the
// request waits (ErrNotYet).
func (e *env) cancelWithFailedRefund(t *testing.T, svc *app.Service, id string) *domain.Request {
	t.Helper()
	ctx := context.Background()
	e.order(id, "C1", omsclient.StatusPaid, 100, 0)
	e.pay.fullRefundStatus = payclient.RefundProcessing
	r, err := svc.Cancel(ctx, in(id, "C1", "k-"+id))
	if err != nil {
		t.Fatal(err)
	}
	_ = svc.Process(ctx, r.ID())
	e.pay.settleFull(id, payclient.RefundFailed)
	if err := svc.Process(ctx, r.ID()); !errors.Is(err, app.ErrNotYet) {
		t.Fatalf("process with the refund FAILED: %v", err)
	}
	return r
}
