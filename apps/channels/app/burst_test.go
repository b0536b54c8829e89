package app_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/channels/events"
)

// A group buy's burst: the orders pushed together are staged in groups,
// each group named by one channels.order.received; each planning step
// names its plans by one channels.plan.created, each ordering step its
// statuses by one channels.status.queued; every order is named once at
// every step, ordered through OMS once by its plan's key and reported to
// its platform once, however often each message comes again.
func TestABurstTravelsAsOneMessagePerGroupAndEveryOrderIsNamedOrderedAndReportedOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const n = 450 // more than one group and more than one chunk (events.MaxIDs)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { h.accept(t, order(fmt.Sprintf("YD-BURST-%03d", i))) })
	}
	wg.Wait()

	received := h.named(t, events.TopicOrderReceived)
	msgs := h.count(t, `SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicOrderReceived)
	if len(received) != n || msgs >= n {
		t.Fatalf("%d orders named by %d received messages, want %d by fewer messages than orders", len(received), msgs, n)
	}
	staged := keys(received)
	for i, err := range h.svc.PlanAll(ctx, staged) {
		if err != nil {
			t.Fatalf("plan %s: %v", staged[i], err)
		}
	}
	plans := h.named(t, events.TopicPlanCreated)
	if pm := h.count(t, `SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicPlanCreated); len(plans) != n || pm != (n+events.MaxIDs-1)/events.MaxIDs {
		t.Fatalf("%d plans named by %d plan messages, want %d by one a chunk", len(plans), pm, n)
	}
	planIDs := keys(plans)
	for range 2 { // the delivery, then a redelivery of the same message
		for i, err := range h.svc.OrderAll(ctx, append(planIDs, "NO-SUCH-PLAN")) {
			if i == len(planIDs) {
				if err == nil {
					t.Fatal("an unknown plan was taken for ordered")
				}
				continue
			}
			if err != nil {
				t.Fatalf("order %s: %v", planIDs[i], err)
			}
		}
	}
	if len(h.oms.calls) != n {
		t.Fatalf("%d accept-order calls, want %d", len(h.oms.calls), n)
	}
	byKey := map[string]int{}
	for _, c := range h.oms.calls {
		byKey[c.IdempotencyKey]++
	}
	for _, id := range planIDs {
		if byKey["plan-"+id] != 1 {
			t.Fatalf("plan %s ordered %d times", id, byKey["plan-"+id])
		}
	}
	if got := h.count(t, `SELECT COUNT(*) FROM staging_process WHERE status=?`, domain.StageOrdered); got != n {
		t.Fatalf("%d staged orders ORDERED, want %d", got, n)
	}
	updates := h.named(t, events.TopicStatusQueued)
	if len(updates) != n {
		t.Fatalf("%d statuses named by the queued messages, want %d", len(updates), n)
	}
	updateIDs := keys(updates)
	for range 2 {
		for i, err := range h.svc.SendStatuses(ctx, updateIDs) {
			if err != nil {
				t.Fatalf("send %s: %v", updateIDs[i], err)
			}
		}
	}
	for i := range n {
		if c := h.api.statuses[fmt.Sprintf("YUEDIAN/YD-BURST-%03d/ACCEPTED", i)]; c != 1 {
			t.Fatalf("the platform heard YD-BURST-%03d ACCEPTED %d times", i, c)
		}
	}
	if got := h.count(t, `SELECT COUNT(*) FROM staging_steps WHERE step='SENT_ACCEPTED'`); got != n {
		t.Fatalf("%d SENT_ACCEPTED steps, want %d", got, n)
	}
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
