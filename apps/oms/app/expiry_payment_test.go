package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/payclient"
)

func TestReminderFiresCancelExactlyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deduction("d1", "cust-1", payclient.DeductionHeld, 500, "c1")
	p := placement("APP")
	p.DeductionIDs = []string{"d1"}
	p.CouponIDs = []string{"c1"}
	o := mustPlace(t, e, "k", p)

	if got, err := e.svc.ExpireOrder(ctx, o.ID(), "reminder"); err != nil || got != app.ExpiryNotDue {
		t.Fatalf("early fire: %v %v", got, err)
	}
	e.clock.Advance(10 * time.Minute)
	var wg sync.WaitGroup
	outcomes := make([]app.ExpiryOutcome, 2)
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if outcomes[i], err = e.svc.ExpireOrder(ctx, o.ID(), "reminder"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cancelled := 0
	for _, oc := range outcomes {
		if oc == app.ExpiryCancelled {
			cancelled++
		} else if oc != app.ExpirySettled {
			t.Fatalf("outcome %s", oc)
		}
	}
	if cancelled != 1 || outboxCount(t, e.db, events.TopicOrderCancelled) != 1 {
		t.Fatalf("cancelled %d times, %d events", cancelled, outboxCount(t, e.db, events.TopicOrderCancelled))
	}
	var ev events.OrderCancelled
	outboxPayload(t, e.db, events.TopicOrderCancelled, &ev)
	if ev.Reason != events.ReasonExpired || len(ev.DeductionIDs) != 1 || ev.DeductionIDs[0] != "d1" ||
		len(ev.CouponIDs) != 1 || len(ev.Lines) != 2 || ev.OrderID != o.ID() {
		t.Fatalf("payload %+v", ev)
	}
	got, _ := e.svc.GetOrder(ctx, o.ID())
	if got.Status() != domain.StatusCancelled || got.CancelReason() != domain.ReasonExpired {
		t.Fatalf("status %s reason %s", got.Status(), got.CancelReason())
	}
	// A late duplicate fire does nothing.
	if oc, err := e.svc.ExpireOrder(ctx, o.ID(), "reminder"); err != nil || oc != app.ExpirySettled {
		t.Fatalf("late fire: %v %v", oc, err)
	}
	if outboxCount(t, e.db, events.TopicOrderCancelled) != 1 {
		t.Fatal("second cancellation event")
	}
}

func TestReminderAfterPaymentDoesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	if r, err := e.svc.ApplyTrade(ctx, "m1", e.paid(trade(o, "t1"))); err != nil || r != app.PaymentPaid {
		t.Fatalf("pay: %v %v", r, err)
	}
	e.clock.Advance(11 * time.Minute)
	if oc, err := e.svc.ExpireOrder(ctx, o.ID(), "reminder"); err != nil || oc != app.ExpirySettled {
		t.Fatalf("fire after payment: %v %v", oc, err)
	}
	if outboxCount(t, e.db, events.TopicOrderCancelled) != 0 {
		t.Fatal("a paid order was cancelled")
	}
	if n, err := e.svc.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("sweep: %d %v", n, err)
	}
}

// A deadline window's fire cancels every order unpaid and due by the
// window's end, in passes of SweepBatch, leaves later and paid orders
// alone, and does it once even when two fires race.
func TestWindowExpiresEveryDueOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := app.New(app.Deps{Repo: e.repo, Inventory: e.inv, Pay: e.pay, Reminders: e.rem, Clock: e.clock},
		app.Config{SweepBatch: 2})
	var due []string
	for i := range 5 {
		o, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: fmt.Sprintf("due-%d", i), Placement: placement("APP")})
		if err != nil {
			t.Fatal(err)
		}
		due = append(due, o.ID())
	}
	paid := mustPlace(t, e, "paid", placement("APP"))
	if r, err := e.svc.ApplyTrade(ctx, "m1", e.paid(trade(paid, "t1"))); err != nil || r != app.PaymentPaid {
		t.Fatalf("pay: %v %v", r, err)
	}
	end := e.clock.Now().Add(10 * time.Minute)
	e.clock.Advance(time.Second)
	later := mustPlace(t, e, "later", placement("APP")) // due one second after the window ends

	e.clock.Advance(10 * time.Minute)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.ExpireWindow(ctx, end); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, id := range due {
		if o, _ := e.svc.GetOrder(ctx, id); o.Status() != domain.StatusCancelled || o.CancelReason() != domain.ReasonExpired {
			t.Fatalf("%s is %s", id, o.Status())
		}
	}
	if n := outboxCount(t, e.db, events.TopicOrderCancelled); n != len(due) {
		t.Fatalf("%d cancellation events for %d orders", n, len(due))
	}
	if o, _ := e.svc.GetOrder(ctx, paid.ID()); o.Status() != domain.StatusPaid {
		t.Fatalf("paid order is %s", o.Status())
	}
	if o, _ := e.svc.GetOrder(ctx, later.ID()); o.Status() != domain.StatusPendingPayment {
		t.Fatalf("order of the next window is %s", o.Status())
	}
	// A fire long before the window ends is refused, so the reminder fires again.
	if err := svc.ExpireWindow(ctx, e.clock.Now().Add(time.Minute)); err == nil {
		t.Fatal("a fire a minute early was served")
	}
}

func TestSweepCancelsMissedOrders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := mustPlace(t, e, "a", placement("APP"))
	e.clock.Advance(time.Minute)
	b := mustPlace(t, e, "b", placement("APP"))
	tob := mustPlace(t, e, "c", placement("SALES_PLAN"))

	e.clock.Advance(9*time.Minute + time.Second) // a is 1 s past its deadline: within the grace
	if n, err := e.svc.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("sweep within grace: %d %v", n, err)
	}
	e.clock.Advance(2 * time.Second)
	if n, err := e.svc.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
	if n, err := e.svc.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("third sweep: %d %v", n, err)
	}
	for _, id := range []string{a.ID(), b.ID()} {
		if o, _ := e.svc.GetOrder(ctx, id); o.Status() != domain.StatusCancelled {
			t.Fatalf("%s is %s", id, o.Status())
		}
	}
	if o, _ := e.svc.GetOrder(ctx, tob.ID()); o.Status() != domain.StatusPaid {
		t.Fatal("the sweep touched a ToB order")
	}
}

func TestPayableJudgedByTheClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	p, err := e.svc.Payable(ctx, o.ID())
	if err != nil || !p.Payable || p.CashDue != o.CashDue() || p.CustomerID != "cust-1" {
		t.Fatalf("before the deadline: %+v %v", p, err)
	}
	e.clock.Advance(10*time.Minute - time.Millisecond)
	if p, _ := e.svc.Payable(ctx, o.ID()); !p.Payable {
		t.Fatal("not payable 1 ms before the deadline")
	}
	e.clock.Advance(time.Millisecond) // no expiry has run
	p, _ = e.svc.Payable(ctx, o.ID())
	if p.Payable || p.Reason != "DEADLINE_PASSED" {
		t.Fatalf("at the deadline: %+v", p)
	}
	if got, _ := e.svc.GetOrder(ctx, o.ID()); got.Status() != domain.StatusPendingPayment {
		t.Fatal("payable must not change the order")
	}
	tob := mustPlace(t, e, "k2", placement("THIRD_PARTY"))
	if p, _ := e.svc.Payable(ctx, tob.ID()); p.Payable || p.Reason != "NOT_PENDING" {
		t.Fatalf("ToB: %+v", p)
	}
	if _, err := e.svc.Payable(ctx, "nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing order: %v", err)
	}
}

func trade(o *domain.Order, id string) payevents.TradeSucceeded {
	return payevents.TradeSucceeded{TradeID: id, OrderID: o.ID(), CustomerID: o.CustomerID(), Channel: "WECHAT",
		AmountFen: o.CashDue(), PaidAt: t0}
}

func TestTradeMarksPaidOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	for i, msg := range []string{"m1", "m1", "m2"} { // redelivery, then PAY's second notice of the trade
		r, err := e.svc.ApplyTrade(ctx, msg, e.paid(trade(o, "t1")))
		want := app.PaymentDuplicate
		if i == 0 {
			want = app.PaymentPaid
		}
		if err != nil || r != want {
			t.Fatalf("delivery %d: %v %v", i, r, err)
		}
	}
	if outboxCount(t, e.db, events.TopicOrderPaid) != 1 || outboxCount(t, e.db, events.TopicPaymentRejected) != 0 {
		t.Fatal("want exactly one order.paid")
	}
	got, _ := e.svc.GetOrder(ctx, o.ID())
	if got.Status() != domain.StatusPaid || got.Paid() != o.CashDue() || got.TradeID() != "t1" {
		t.Fatalf("order %+v", got.Snapshot())
	}
	var ev events.OrderPaid
	outboxPayload(t, e.db, events.TopicOrderPaid, &ev)
	if ev.TradeID != "t1" || ev.PaidFen != o.CashDue() {
		t.Fatalf("payload %+v", ev)
	}
	// Another trade for the same order is money to give back.
	if r, err := e.svc.ApplyTrade(ctx, "m3", e.paid(trade(o, "t2"))); err != nil || r != app.PaymentRejected {
		t.Fatalf("second trade: %v %v", r, err)
	}
}

func TestTradeForCancelledOrderIsRejected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	if _, err := e.svc.CancelUnpaid(ctx, o.ID(), "cust-1", "changed my mind"); err != nil {
		t.Fatal(err)
	}
	for i, msg := range []string{"m1", "m1", "m2"} {
		r, err := e.svc.ApplyTrade(ctx, msg, e.paid(trade(o, "t1")))
		want := app.PaymentDuplicate
		if i == 0 {
			want = app.PaymentRejected
		}
		if err != nil || r != want {
			t.Fatalf("delivery %d: %v %v", i, r, err)
		}
	}
	if outboxCount(t, e.db, events.TopicPaymentRejected) != 1 || outboxCount(t, e.db, events.TopicOrderPaid) != 0 {
		t.Fatal("want exactly one payment.rejected and no order.paid")
	}
	var ev events.PaymentRejected
	outboxPayload(t, e.db, events.TopicPaymentRejected, &ev)
	if ev.TradeID != "t1" || ev.AmountFen != o.CashDue() || ev.Status != string(domain.StatusCancelled) {
		t.Fatalf("payload %+v", ev)
	}
	if got, _ := e.svc.GetOrder(ctx, o.ID()); got.Status() != domain.StatusCancelled {
		t.Fatal("a cancelled order changed")
	}
}

func TestTradeWithWrongAmountIsRejected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	tr := trade(o, "t1")
	tr.AmountFen--
	if r, err := e.svc.ApplyTrade(ctx, "m1", e.paid(tr)); err != nil || r != app.PaymentRejected {
		t.Fatalf("%v %v", r, err)
	}
	if got, _ := e.svc.GetOrder(ctx, o.ID()); got.Status() != domain.StatusPendingPayment {
		t.Fatal("order changed on a wrong amount")
	}
	if r, err := e.svc.ApplyTrade(ctx, "m9", e.paid(payevents.TradeSucceeded{TradeID: "t9", OrderID: "missing", AmountFen: 5})); err != nil || r != app.PaymentRejected {
		t.Fatalf("unknown order: %v %v", r, err)
	}
	if outboxCount(t, e.db, events.TopicPaymentRejected) != 2 {
		t.Fatal("want two refunds asked for")
	}
}

func TestCancelUnpaid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	if _, err := e.svc.CancelUnpaid(ctx, o.ID(), "cust-2", ""); !errors.Is(err, domain.ErrNotOwner) {
		t.Fatalf("stranger: %v", err)
	}
	got, err := e.svc.CancelUnpaid(ctx, o.ID(), "cust-1", "")
	if err != nil || got.Status() != domain.StatusCancelled {
		t.Fatalf("%v %v", got, err)
	}
	if again, err := e.svc.CancelUnpaid(ctx, o.ID(), "cust-1", ""); err != nil || again.Status() != domain.StatusCancelled {
		t.Fatalf("repeat: %v", err)
	}
	var ev events.OrderCancelled
	outboxPayload(t, e.db, events.TopicOrderCancelled, &ev)
	if outboxCount(t, e.db, events.TopicOrderCancelled) != 1 || ev.Reason != events.ReasonCustomer {
		t.Fatalf("events: %d %+v", outboxCount(t, e.db, events.TopicOrderCancelled), ev)
	}
	paid := mustPlace(t, e, "k2", placement("APP"))
	if _, err := e.svc.ApplyTrade(ctx, "m", e.paid(trade(paid, "t"))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CancelUnpaid(ctx, paid.ID(), "cust-1", ""); !errors.Is(err, domain.ErrNotCancellable) {
		t.Fatalf("paid order: %v", err)
	}
}

func TestListExistsAndDeductionCheckBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var placed []*domain.Order
	for _, k := range []string{"a", "b", "c"} {
		placed = append(placed, mustPlace(t, e, k, placement("APP")))
		e.clock.Advance(time.Second)
	}
	e.deduction("d1", "cust-1", payclient.DeductionHeld, 100)
	p := placement("APP")
	p.DeductionIDs = []string{"d1"}
	withD := mustPlace(t, e, "d", p)
	if _, err := e.svc.CancelUnpaid(ctx, placed[0].ID(), "cust-1", ""); err != nil {
		t.Fatal(err)
	}

	page, err := e.svc.ListOrders(ctx, app.ListQuery{CustomerID: "cust-1", First: 2})
	if err != nil || len(page.Orders) != 2 || !page.HasNext || page.TotalCount != 4 || page.Orders[0].ID() != withD.ID() {
		t.Fatalf("page 1: %+v %v", page, err)
	}
	page2, err := e.svc.ListOrders(ctx, app.ListQuery{CustomerID: "cust-1", First: 2, After: page.EndCursor})
	if err != nil || len(page2.Orders) != 2 || page2.HasNext || page2.Orders[1].ID() != placed[0].ID() || len(page2.Orders[1].Lines()) != 2 {
		t.Fatalf("page 2: %+v %v", page2, err)
	}
	cancelled, err := e.svc.ListOrders(ctx, app.ListQuery{CustomerID: "cust-1", Status: domain.StatusCancelled})
	if err != nil || cancelled.TotalCount != 1 || len(cancelled.Orders) != 1 || cancelled.Orders[0].ID() != placed[0].ID() {
		t.Fatalf("status filter: %+v %v", cancelled, err)
	}
	if _, err := e.svc.ListOrders(ctx, app.ListQuery{CustomerID: "cust-1", After: "garbage!"}); !errors.Is(err, app.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}

	if ex, err := e.svc.Exists(ctx, placed[1].ID()); err != nil || !ex.Exists || ex.Status != domain.StatusPendingPayment {
		t.Fatalf("exists: %+v %v", ex, err)
	}
	if ex, err := e.svc.Exists(ctx, "01NOPE"); err != nil || ex.Exists {
		t.Fatalf("missing: %+v %v", ex, err)
	}
	if ex, err := e.svc.ExistsForDeduction(ctx, "d1"); err != nil || !ex.Exists {
		t.Fatalf("deduction: %+v %v", ex, err)
	}
	if ex, err := e.svc.ExistsForDeduction(ctx, "d2"); err != nil || ex.Exists {
		t.Fatalf("unused deduction: %+v %v", ex, err)
	}
}

// The fire of an order's own reminder (HARVEST_EXPIRY_REMINDERS=order):
// far too early it refuses, a moment early it waits for the deadline, on
// time or twice it cancels exactly once, and after payment it does nothing.
func TestOrderReminderFireCancelsOnceAtTheDeadline(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("APP"))
	paid := mustPlace(t, e, "k2", placement("APP"))
	if r, err := e.svc.ApplyTrade(ctx, "m1", e.paid(trade(paid, "t1"))); err != nil || r != app.PaymentPaid {
		t.Fatalf("pay: %v %v", r, err)
	}

	if err := e.svc.ExpireUnpaid(ctx, o.ID()); err == nil {
		t.Fatal("a fire 10 minutes early was served")
	}
	// Half a second early: the fire waits, and the deadline comes.
	e.clock.Advance(o.PayBy().Sub(e.clock.Now()) - 500*time.Millisecond)
	go func() { time.Sleep(100 * time.Millisecond); e.clock.Advance(time.Second) }()
	if err := e.svc.ExpireUnpaid(ctx, o.ID()); err != nil {
		t.Fatalf("fire 0.5 s early: %v", err)
	}
	got, _ := e.svc.GetOrder(ctx, o.ID())
	if got.Status() != domain.StatusCancelled || got.CancelReason() != domain.ReasonExpired {
		t.Fatalf("status %s reason %s", got.Status(), got.CancelReason())
	}
	// A duplicate fire, the paid order's fire and a fire for an unknown
	// order do nothing.
	e.clock.Advance(time.Minute)
	for _, id := range []string{o.ID(), paid.ID(), "no-such-order"} {
		if err := e.svc.ExpireUnpaid(ctx, id); err != nil {
			t.Fatalf("fire for %s: %v", id, err)
		}
	}
	if n := outboxCount(t, e.db, events.TopicOrderCancelled); n != 1 {
		t.Fatalf("%d cancellation events", n)
	}
	if got, _ := e.svc.GetOrder(ctx, paid.ID()); got.Status() == domain.StatusCancelled {
		t.Fatal("the paid order was cancelled")
	}
}
