package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
)

// planAt stages a Yuedian order and plans it (as its channels.order.received
// delivery would) at the harness clock's now, and returns its plan's id.
func (h *harness) planAt(t *testing.T, platformOrderID string) string {
	t.Helper()
	ctx := context.Background()
	id := h.accept(t, order(platformOrderID))
	if err := h.svc.PlanAll(ctx, []string{id})[0]; err != nil {
		t.Fatal(err)
	}
	x, err := h.svc.Staged(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != domain.StagePlanned || x.PlanID == "" {
		t.Fatalf("%s: %s, plan %q; want PLANNED with a plan", platformOrderID, x.Status, x.PlanID)
	}
	return x.PlanID
}

// sweepIdle is the sweep's idle time in these tests.
const sweepIdle = 30 * time.Second

// newSweepHarness is a harness on a clock the test moves.
func newSweepHarness(t *testing.T) (*harness, *clock.Fixed) {
	t.Helper()
	clk := clock.NewFixed(time.Now())
	return newHarnessAt(t, clk), clk
}

// placed is how often OMS was asked to place plan id's order.
func (h *harness) placed(planID string) int {
	h.oms.mu.Lock()
	defer h.oms.mu.Unlock()
	n := 0
	for _, c := range h.oms.calls {
		if c.IdempotencyKey == "plan-"+planID {
			n++
		}
	}
	return n
}

// A group buy's plans wait their turn in the broker for longer than the
// sweep's idle time without being lost: the sweep must leave them to their
// messages (taking them up too placed each order twice), yet still take up
// the one whose message is gone while the broker keeps delivering newer
// ones.
func TestSweepLeavesPlansQueuedBehindTheBrokerAndTakesUpOnesWhoseMessageIsGone(t *testing.T) {
	h, clk := newSweepHarness(t)
	ctx := context.Background()

	first := h.planAt(t, "YD-SW-1")
	clk.Advance(20 * time.Second)
	lost := h.planAt(t, "YD-SW-2") // its channels.plan.created never comes
	clk.Advance(20 * time.Second)
	third := h.planAt(t, "YD-SW-3")
	clk.Advance(20 * time.Second)
	fourth := h.planAt(t, "YD-SW-4")

	// 70 s behind: the broker hands over the first plan's message now.
	clk.Advance(10 * time.Second) // t0+70
	if err := h.svc.OrderAll(ctx, []string{first})[0]; err != nil {
		t.Fatal(err)
	}
	if _, planned, _ := h.svc.Sweep(ctx, sweepIdle); planned != 0 || h.placed(lost) != 0 || h.placed(third) != 0 {
		t.Fatalf("sweep behind the broker's backlog took up %d plans (lost placed %d, third %d); want none: they wait their turn",
			planned, h.placed(lost), h.placed(third))
	}

	// The broker goes on in order past the lost plan: the third's message
	// comes, the lost one's does not; within idle of that it is still left.
	clk.Advance(10 * time.Second) // t0+80
	if err := h.svc.OrderAll(ctx, []string{third})[0]; err != nil {
		t.Fatal(err)
	}
	if _, planned, _ := h.svc.Sweep(ctx, sweepIdle); planned != 0 {
		t.Fatalf("sweep took up %d plans within idle of the newest delivered; want 0", planned)
	}
	// The fourth's message (a plan made 40 s after the lost one): the lost
	// one is now idle before the newest delivered, its message gone.
	clk.Advance(10 * time.Second) // t0+90
	if err := h.svc.OrderAll(ctx, []string{fourth})[0]; err != nil {
		t.Fatal(err)
	}
	if _, planned, _ := h.svc.Sweep(ctx, sweepIdle); planned != 1 || h.placed(lost) != 1 {
		t.Fatalf("sweep while the broker delivers newer plans: took up %d, lost plan placed %d times; want 1 and 1", planned, h.placed(lost))
	}
	for _, p := range []string{first, lost, third, fourth} {
		if n := h.placed(p); n != 1 {
			t.Errorf("plan %s placed %d times, want 1", p, n)
		}
	}
}

// With the broker quiet, the sweep takes up whatever stood still for idle:
// a lost message is not waited on for a delivery that may never come.
func TestSweepTakesUpAPlanIdleForIdleWhenTheBrokerIsQuiet(t *testing.T) {
	h, clk := newSweepHarness(t)
	ctx := context.Background()

	lost := h.planAt(t, "YD-Q-1")
	clk.Advance(sweepIdle - time.Second)
	if _, planned, _ := h.svc.Sweep(ctx, sweepIdle); planned != 0 {
		t.Fatalf("sweep took up %d plans idle for less than idle", planned)
	}
	clk.Advance(2 * time.Second)
	if _, planned, _ := h.svc.Sweep(ctx, sweepIdle); planned != 1 || h.placed(lost) != 1 {
		t.Fatalf("sweep of a quiet broker: took up %d, placed %d times; want 1 and 1", planned, h.placed(lost))
	}
	if _, planned, _ := h.svc.Sweep(ctx, sweepIdle); planned != 0 || h.placed(lost) != 1 {
		t.Fatalf("a second sweep took up %d (placed %d times); the ordered plan is done", planned, h.placed(lost))
	}
}

// The sidecar gives up on a slow bulk (its inbound timeout) and delivers
// it again: orders placed by then are recorded all the same, and the
// redelivery asks OMS nothing.
func TestPlansOrderedWhenTheDeliveryIsCancelledMidwayAreRecordedAndNotPlacedAgain(t *testing.T) {
	h := newHarness(t)
	plans := []string{h.planAt(t, "YD-CX-1"), h.planAt(t, "YD-CX-2")}
	ctx, cancel := context.WithCancel(context.Background())
	h.oms.refuse = func(omsclient.PlaceOrderRequest) error {
		cancel() // the sidecar's deadline passes while OMS places the orders
		return nil
	}
	h.svc.OrderAll(ctx, plans)
	h.oms.refuse = nil
	for _, p := range plans {
		rec, err := h.svc.Plan(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != domain.PlanOrdered || rec.OrderID != "O-plan-"+p {
			t.Fatalf("plan %s after a cancelled delivery: %s, order %q; want ORDERED with its order", p, rec.Status, rec.OrderID)
		}
	}
	for i, err := range h.svc.OrderAll(context.Background(), plans) { // the redelivery
		if err != nil {
			t.Fatalf("redelivery of plan %s: %v", plans[i], err)
		}
	}
	for _, p := range plans {
		if n := h.placed(p); n != 1 {
			t.Errorf("plan %s placed %d times, want 1", p, n)
		}
	}
}

// The sidecar's redelivery of a bulk comes while the first delivery is
// still placing its plans: it waits for that attempt and answers with its
// outcome instead of placing the plans again.
func TestARedeliveryWhileThePlanIsBeingOrderedWaitsForItAndPlacesNothing(t *testing.T) {
	h := newHarness(t)
	plan := h.planAt(t, "YD-RD-1")
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.oms.refuse = func(omsclient.PlaceOrderRequest) error {
		once.Do(func() { close(started) })
		<-release // OMS is slow: the sidecar gives up and delivers again
		return nil
	}
	first := make(chan error, 1)
	go func() { first <- h.svc.OrderAll(context.Background(), []string{plan})[0] }()
	<-started
	second := make(chan error, 1)
	go func() { second <- h.svc.OrderAll(context.Background(), []string{plan})[0] }()
	time.Sleep(300 * time.Millisecond) // the redelivery reads the plan, still PLANNED
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := h.placed(plan); n != 1 {
		t.Fatalf("plan placed %d times, want 1", n)
	}
	if rec, err := h.svc.Plan(context.Background(), plan); err != nil || rec.Status != domain.PlanOrdered {
		t.Fatalf("plan after both deliveries: %+v %v; want ORDERED", rec, err)
	}
}
