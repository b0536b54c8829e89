package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// stall makes the next placement stop after its deduction checks and its
// reservation, before its commit; it returns the stalled order's id (once
// it is there) and the function that lets it go on.
func stall(e *env) (stalled <-chan string, resume func()) {
	at, gate := make(chan string, 1), make(chan struct{})
	e.inv.afterReserve = func(id string) {
		at <- id
		<-gate
	}
	var once sync.Once
	return at, func() { once.Do(func() { close(gate) }) }
}

// Finding 4, money: a placement reads deduction d1 as HELD; PAY's sweep
// asks OMS whether an order uses d1, hears "no" and reverses it; the
// placement then commits. OMS's "no" claims d1 in order_deductions (a
// tombstone), so the late commit hits the primary key and fails: the
// order is never written with money that went back, and the money is
// reversed exactly once.
func TestLateCommitAfterDeductionSweepFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deduction("d1", "cust-1", payclient.DeductionHeld, 500)
	stalled, resume := stall(e)
	defer resume()
	p := placement("APP")
	p.DeductionIDs = []string{"d1"}
	errc := make(chan error, 1)
	go func() {
		_, _, err := e.svc.PlaceOrder(ctx, cmd("k", p))
		errc <- err
	}()
	orderID := <-stalled

	if err := e.pay.sweep(ctx, e.svc.ExistsForDeduction); err != nil {
		t.Fatal(err)
	}
	if e.pay.reversals("d1") != 1 {
		t.Fatal("the sweep did not reverse the held deduction")
	}
	resume()
	err := <-errc
	var de *app.DeductionError
	if !errors.As(err, &de) || len(de.Violations) != 1 || de.Violations[0].Code != "DEDUCTION_RELEASED" ||
		de.Violations[0].Field != "deduction_ids[0]" {
		t.Fatalf("late commit: want DEDUCTION_RELEASED on deduction_ids[0], got %v", err)
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM orders`); n != 0 {
		t.Fatalf("%d orders written with a reversed deduction", n)
	}
	if n := outboxCount(t, e.db, events.TopicDeductionsUsed) + outboxCount(t, e.db, events.TopicOrderPlaced); n != 0 {
		t.Fatalf("%d events published for the failed placement", n)
	}
	if e.inv.status(orderID) != inventoryclient.ReservationReleased || e.inv.available("SKU-A") != 100 {
		t.Fatalf("reservation %s, stock A %d: the failed placement kept its stock", e.inv.status(orderID), e.inv.available("SKU-A"))
	}
	// The answer stays "no order" (the sweep may ask again after a crash),
	// and a second sweep reverses nothing more.
	if ex, err := e.svc.ExistsForDeduction(ctx, "d1"); err != nil || ex.Exists {
		t.Fatalf("second check-back: %+v %v", ex, err)
	}
	e.pay.mu.Lock()
	d := e.pay.d["d1"]
	d.Status = payclient.DeductionHeld // as if PAY had crashed before recording the reversal
	e.pay.d["d1"] = d
	e.pay.mu.Unlock()
	if err := e.pay.sweep(ctx, e.svc.ExistsForDeduction); err != nil {
		t.Fatal(err)
	}
	// A fresh placement naming the released deduction is refused up front.
	_, _, err = e.svc.PlaceOrder(ctx, cmd("k2", p))
	if !errors.As(err, &de) || de.Violations[0].Code != "DEDUCTION_RELEASED" {
		t.Fatalf("placement with a released deduction: %v", err)
	}
}

// The sweep asking after the order committed keeps the deduction: the
// tombstone never overwrites a real binding.
func TestDeductionSweepAfterCommitKeepsIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deduction("d1", "cust-1", payclient.DeductionHeld, 500)
	p := placement("APP")
	p.DeductionIDs = []string{"d1"}
	o := mustPlace(t, e, "k", p)
	if err := e.pay.sweep(ctx, e.svc.ExistsForDeduction); err != nil {
		t.Fatal(err)
	}
	if e.pay.reversals("d1") != 0 {
		t.Fatal("a used deduction was reversed")
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM order_deductions WHERE deduction_id = 'd1' AND order_id = ?`, o.ID()); n != 1 {
		t.Fatal("binding lost")
	}
}

// Finding 4, stock: a placement stalls past its reservation's TTL;
// inventory's check-back asks OMS, hears "no such order" and releases the
// stock, which another customer then buys. OMS's "no" leaves a tombstone
// under the order id that the late commit hits, so the stalled placement
// fails instead of selling the same units twice.
func TestLateCommitAfterStockCheckBackFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.inv.stock["SKU-A"] = 2 // exactly the stalled order's quantity
	stalled, resume := stall(e)
	defer resume()
	errc := make(chan error, 1)
	go func() {
		_, _, err := e.svc.PlaceOrder(ctx, cmd("k", placement("APP")))
		errc <- err
	}()
	late := <-stalled
	e.inv.afterReserve = nil

	e.clock.Advance(e.svc.Config().ReserveTTL + time.Second)
	if err := e.inv.checkBack(ctx, e.svc.Exists); err != nil {
		t.Fatal(err)
	}
	if e.inv.status(late) != inventoryclient.ReservationReleased || e.inv.available("SKU-A") != 2 {
		t.Fatalf("check-back: reservation %s, stock %d", e.inv.status(late), e.inv.available("SKU-A"))
	}
	other := placement("APP")
	other.CustomerID = "cust-2"
	winner := mustPlace(t, e, "k-other", other)

	resume()
	err := <-errc
	if !errors.Is(err, app.ErrPlacementVoided) {
		t.Fatalf("late commit after the check-back released its stock: want ErrPlacementVoided, got %v", err)
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM orders`); n != 1 {
		t.Fatalf("%d orders for 2 units of SKU-A taken twice over: oversold", n)
	}
	if _, err := e.svc.GetOrder(ctx, late); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the late order exists: %v", err)
	}
	if e.inv.available("SKU-A") != 0 || e.inv.status(late) != inventoryclient.ReservationReleased ||
		e.inv.status(winner.ID()) != inventoryclient.ReservationHeld {
		t.Fatalf("stock %d, late %s, winner %s", e.inv.available("SKU-A"), e.inv.status(late), e.inv.status(winner.ID()))
	}
	// The check-back's answer does not change on a repeat.
	if ex, err := e.svc.Exists(ctx, late); err != nil || ex.Exists {
		t.Fatalf("repeat check-back: %+v %v", ex, err)
	}
}

// The group commit meets the tombstones too: in a group of concurrent
// creates, those whose order id or deduction a check-back already
// answered for fail with their own error, every other order is written.
func TestGroupCommitRefusesVoidedOrdersAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	catalog := map[string]domain.Product{
		"SKU-A": {SKU: "SKU-A", Name: "A", Price: 1000},
		"SKU-B": {SKU: "SKU-B", Name: "B", Price: 2550},
	}
	const n = 60
	orders := make([]*domain.Order, n)
	for i := range orders {
		p := placement("APP")
		p.DeductionIDs = []string{fmt.Sprintf("d-%d", i)}
		o, err := domain.NewOrder(ids.New(), p, catalog, 100, t0, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		orders[i] = o
		switch i % 3 {
		case 1: // inventory's check-back gave up on this order id
			if ex, err := e.svc.Exists(ctx, o.ID()); err != nil || ex.Exists {
				t.Fatal(ex, err)
			}
		case 2: // PAY's sweep released this order's deduction
			if ex, err := e.svc.ExistsForDeduction(ctx, p.DeductionIDs[0]); err != nil || ex.Exists {
				t.Fatal(ex, err)
			}
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, o := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idem := app.Idempotency{CustomerID: "cust-1", Key: fmt.Sprintf("k-%d", i), RequestHash: "h", OrderID: o.ID(), CreatedAt: t0}
			ev := outbox.Event{Topic: "oms.order.placed", AggregateID: o.ID(), Type: "placed", Payload: map[string]string{"order_id": o.ID()}}
			<-start
			errs[i] = e.repo.Create(ctx, o, idem, []outbox.Event{ev})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		var inUse *app.DeductionInUseError
		switch i % 3 {
		case 0:
			if err != nil {
				t.Errorf("order %d: %v", i, err)
			}
		case 1:
			if !errors.Is(err, app.ErrPlacementVoided) {
				t.Errorf("order %d (voided): %v", i, err)
			}
		case 2:
			if !errors.As(err, &inUse) || len(inUse.Released) != 1 {
				t.Errorf("order %d (deduction released): %v", i, err)
			}
		}
	}
	if got := count(t, e.db, `SELECT COUNT(*) FROM orders`); got != n/3 {
		t.Fatalf("%d orders written, want %d", got, n/3)
	}
	if got := count(t, e.db, `SELECT COUNT(*) FROM outbox`); got != n/3 {
		t.Fatalf("%d events, want %d", got, n/3)
	}
}

// Ids no order could have (wider than an order id) are answered "no"
// without a mark, rather than failing the check-back forever.
func TestCheckBackForForeignIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	long := "an-order-id-far-wider-than-any-ulid-oms-makes-" + ids.New()
	if ex, err := e.svc.Exists(ctx, long); err != nil || ex.Exists {
		t.Fatalf("long order id: %+v %v", ex, err)
	}
	if ex, err := e.svc.ExistsForDeduction(ctx, long+long); err != nil || ex.Exists {
		t.Fatalf("long deduction id: %+v %v", ex, err)
	}
}
