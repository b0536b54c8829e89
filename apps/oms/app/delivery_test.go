package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// fakeWMS answers an order's parcels as the test sets them.
type fakeWMS struct {
	mu  sync.Mutex
	ans map[string]wmsclient.OrderParcels
}

func (f *fakeWMS) OrderParcels(_ context.Context, id string) (wmsclient.OrderParcels, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ans[id], nil
}

func (f *fakeWMS) set(id string, unpacked int, states ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op := wmsclient.OrderParcels{OrderID: id, Unpacked: unpacked}
	for i, s := range states {
		op.Parcels = append(op.Parcels, wmsclient.Parcel{ParcelID: string(rune('A' + i)), OrderID: id, Tracking: s})
	}
	f.ans[id] = op
}

func TestDeliveryLegFollowsWhatWMSAnswers(t *testing.T) {
	e := newEnv(t)
	wms := &fakeWMS{ans: map[string]wmsclient.OrderParcels{}}
	svc := app.New(app.Deps{Repo: e.repo, Inventory: e.inv, Pay: e.pay, Reminders: e.rem, Warehouse: wms, Clock: e.clock}, app.Config{})
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("SALES_PLAN")) // paid at creation
	if _, err := e.repo.Update(ctx, o.ID(), nil, func(o *domain.Order) ([]outbox.Event, error) { return nil, o.StartFulfillment(e.clock.Now()) }); err != nil {
		t.Fatal(err)
	}
	// Collected while the order is still in fulfillment: retried, no change.
	wms.set(o.ID(), 0, "COLLECTED")
	if _, err := svc.TrackDelivery(ctx, o.ID()); !errors.Is(err, app.ErrNotYetDispatched) {
		t.Fatalf("before dispatch: %v", err)
	}
	if _, err := e.repo.Update(ctx, o.ID(), nil, func(o *domain.Order) ([]outbox.Event, error) { return nil, o.MarkDispatched(e.clock.Now(), "") }); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		unpacked int
		states   []string
		want     domain.Status
	}{
		{1, []string{"COLLECTED"}, domain.StatusDispatched},             // a work order not packed yet
		{0, []string{"COLLECTED", ""}, domain.StatusDispatched},         // a parcel not collected yet
		{0, []string{"COLLECTED", "COLLECTED"}, domain.StatusShipped},   // the last parcel collected
		{0, []string{"DELIVERED", "COLLECTED"}, domain.StatusShipped},   // one delivered
		{0, []string{"DELIVERED", "DELIVERED"}, domain.StatusCompleted}, // all delivered
		{0, []string{"DELIVERED", "DELIVERED"}, domain.StatusCompleted}, // a redelivery
	}
	for i, s := range steps {
		wms.set(o.ID(), s.unpacked, s.states...)
		got, err := svc.TrackDelivery(ctx, o.ID())
		if err != nil || got != s.want {
			t.Fatalf("step %d: %s %v, want %s", i, got, err, s.want)
		}
	}
	if outboxCount(t, e.db, events.TopicOrderShipped) != 1 || outboxCount(t, e.db, events.TopicOrderCompleted) != 1 {
		t.Fatal("shipped and completed are published once each")
	}

	// A refusal at the door: shipped first (its report came without a
	// collection report), the refusal published once.
	r := mustPlace(t, e, "k2", placement("SALES_PLAN"))
	if _, err := e.repo.Update(ctx, r.ID(), nil, func(o *domain.Order) ([]outbox.Event, error) {
		if err := o.StartFulfillment(e.clock.Now()); err != nil {
			return nil, err
		}
		return nil, o.MarkDispatched(e.clock.Now(), "")
	}); err != nil {
		t.Fatal(err)
	}
	// One parcel refused while another is still on its way: nothing yet
	// (the other may be refused too); once it ended, one refusal with the
	// units refused of every parcel.
	wms.set(r.ID(), 0, "REFUSED", "COLLECTED")
	if got, err := svc.TrackDelivery(ctx, r.ID()); err != nil || got != domain.StatusShipped || outboxCount(t, e.db, events.TopicOrderRefused) != 0 {
		t.Fatalf("refused while a parcel travels: %s %v", got, err)
	}
	wms.set(r.ID(), 0, "REFUSED", "DELIVERED")
	wms.ans[r.ID()].Parcels[0].RefusedLines = []wmsclient.ParcelLine{{SKU: "SKU-B", Qty: 1}, {SKU: "SKU-A", Qty: 2}}
	for range 2 {
		if got, err := svc.TrackDelivery(ctx, r.ID()); err != nil || got != domain.StatusShipped {
			t.Fatalf("refused: %s %v", got, err)
		}
	}
	var ev events.OrderDelivery
	outboxPayload(t, e.db, events.TopicOrderRefused, &ev)
	if outboxCount(t, e.db, events.TopicOrderRefused) != 1 || ev.OrderID != r.ID() || len(ev.ParcelIDs) != 1 || ev.ParcelIDs[0] != "A" ||
		!slices.Equal(ev.RefusedLines, []events.Line{{SKU: "SKU-A", Qty: 2}, {SKU: "SKU-B", Qty: 1}}) {
		t.Fatalf("refusal events %d: %+v", outboxCount(t, e.db, events.TopicOrderRefused), ev)
	}
	if units, err := svc.OrderRefusedUnits(ctx, r.ID()); err != nil || !slices.Equal(units, ev.RefusedLines) {
		t.Fatalf("refused units as allocation reads them: %+v %v", units, err)
	}
}

// A shortage the warehouse confirmed reaches the order's timeline once,
// for customer service; the order's status does not move.
func TestShortageReachesTheTimelineOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := mustPlace(t, e, "k", placement("SALES_PLAN"))
	for range 2 {
		if err := e.svc.RecordShortage(ctx, "msg-1", o.ID(), "work order W1 PICKED: SKU-A: 2 ordered, 1 short (DAMAGED), 1 ship"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.repo.Get(ctx, o.ID())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range got.Timeline() {
		if ev.Type == domain.EventShortage {
			n++
		}
	}
	if n != 1 || got.Status() != domain.StatusPaid {
		t.Fatalf("%d shortage entries, status %s", n, got.Status())
	}
	if err := e.svc.RecordShortage(ctx, "msg-2", "NO-SUCH-ORDER", "x"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
}
