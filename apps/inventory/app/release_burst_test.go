package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/group"
)

// releaseGroups reads the releases' group-commit histogram.
func releaseGroups(t testing.TB) (groups, releases uint64) {
	return groupSizes(t, "harvest_inventory_release_group_reservations")
}

// A burst of cancels of orders sharing one delivery slot, while another
// transaction holds that slot's row: the releases queue behind at most
// group.InFlight transactions instead of taking a connection each, so a
// catalog read still gets one; once the row is free they commit in groups,
// and every slot unit and every unit of stock comes back exactly once
// although each cancel is delivered twice at the same moment, some orders
// are also released by a second message and by the API, and an unknown
// order's cancel (twice) leaves one tombstone.
func TestBurstOfCancelsGivesBackEachSlotUnitOnceInGroups(t *testing.T) {
	e := newEnv(t)
	withSlotCatalog(t, e)
	ctx := context.Background()
	const orders = 100 // D has 100 units at WH-BJ
	for i := range orders {
		if _, err := e.svc.Reserve(ctx, slotReq(t, fmt.Sprintf("o%03d", i), l("D", 1))); err != nil {
			t.Fatal(err)
		}
	}
	if errs := e.svc.OrdersPlaced(ctx, orderIDs(orders)); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got := e.taken(t, slotKey("WH-BJ")); got != orders {
		t.Fatalf("slot taken %d, want %d", got, orders)
	}

	// Another writer of the slot row (an operator's capacity change, say)
	// holds its lock while the burst arrives.
	blocker, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.ExecContext(ctx, `SELECT taken FROM delivery_slots WHERE warehouse = 'WH-BJ' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	groupsBefore, releasesBefore := releaseGroups(t)

	var wg sync.WaitGroup
	errs := make(chan error, 4*orders)
	deliver := func(f func() error) { wg.Go(func() { errs <- f() }) }
	for i := range orders {
		id := fmt.Sprintf("o%03d", i)
		for range 2 { // one message delivered twice at once
			deliver(func() error { return e.svc.OrderCancelled(ctx, "msg-"+id, id) })
		}
		switch i % 10 {
		case 0: // a second message for the same order
			deliver(func() error { return e.svc.OrderCancelled(ctx, "msg-again-"+id, id) })
		case 1: // and a release through the API
			deliver(func() error { _, err := e.svc.Release(ctx, id); return err })
		}
	}
	for range 2 {
		deliver(func() error { return e.svc.OrderCancelled(ctx, "msg-unknown", "unknown") })
	}

	// Every release is waiting for the slot row; at most InFlight groups
	// (and the blocker) hold connections, and a catalog read gets one.
	time.Sleep(300 * time.Millisecond)
	if inUse := e.db.Stats().InUse; inUse > group.InFlight+1 {
		t.Errorf("%d connections in use while the releases wait for the slot row, want at most %d", inUse, group.InFlight+1)
	}
	readCtx, cancel := context.WithTimeout(ctx, 30*time.Second) // only the blocker, held until the end, could make it wait that long
	if _, err := e.svc.Products(readCtx, []string{"D"}); err != nil {
		t.Errorf("catalog read during the burst: %v", err)
	}
	cancel()
	if err := blocker.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	if got := e.taken(t, slotKey("WH-BJ")); got != 0 {
		t.Errorf("slot taken %d after every order was cancelled, want 0", got)
	}
	if got := e.mysqlAvailable(t, "D"); got != orders {
		t.Errorf("D available %d, want %d", got, orders)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM reservations WHERE status <> 'RELEASED'`); n != 0 {
		t.Errorf("%d reservations not released", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM reservations WHERE order_id = 'unknown' AND status = 'RELEASED'`); n != 1 {
		t.Errorf("%d tombstones for the unknown order, want 1", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM inbox`); n != orders+orders/10+1 {
		t.Errorf("%d messages claimed, want %d", n, orders+orders/10+1)
	}
	groups, releases := releaseGroups(t)
	groups, releases = groups-groupsBefore, releases-releasesBefore
	if releases < 2*orders+orders/5+2 || groups*4 > releases {
		t.Errorf("%d releases written in %d groups: want every release, in groups of 4 or more on average", releases, groups)
	}

	// Delivered again later: nothing more comes back.
	if err := e.svc.OrderCancelled(ctx, "msg-o000", "o000"); err != nil {
		t.Fatal(err)
	}
	if got := e.mysqlAvailable(t, "D"); got != orders {
		t.Errorf("a late redelivery gave back stock: D available %d, want %d", got, orders)
	}
}

func orderIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("o%03d", i)
	}
	return ids
}
