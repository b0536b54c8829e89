package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/hotstock"
)

func status(t testing.TB, e *env, order string) domain.Status {
	t.Helper()
	r, err := e.svc.Reservation(context.Background(), order)
	if err != nil {
		t.Fatalf("reservation %s: %v", order, err)
	}
	return r.Status()
}

func TestCheckBackDecisions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, o := range []string{"exists", "missing", "cancelled", "omsdown", "confirmedrace"} {
		if _, err := e.svc.Reserve(ctx, req(t, o, l("A", 1), l("HOT", 1))); err != nil {
			t.Fatal(err)
		}
	}
	e.orders.orders["exists"] = "PENDING_PAYMENT"
	e.orders.orders["cancelled"] = "CANCELLED"
	e.orders.fail["omsdown"] = true
	// Confirmed by the order event before the check-back ran: the check-back
	// must not undo it even though OMS (say, lagging) says missing.
	if _, err := e.svc.Confirm(ctx, "confirmedrace"); err != nil {
		t.Fatal(err)
	}

	// Not yet expired: nothing asked.
	if rep, err := e.svc.CheckBack(ctx); err != nil || rep != (app.CheckBackReport{}) {
		t.Fatalf("before TTL: %+v, %v", rep, err)
	}
	if _, err := e.svc.Reserve(ctx, req(t, "fresh", l("A", 1))); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(61 * time.Second)
	if _, err := e.svc.Reserve(ctx, req(t, "young", l("A", 1))); err != nil {
		t.Fatal(err)
	}
	e.orders.orders["fresh"] = "PAID"
	rep, err := e.svc.CheckBack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Confirmed != 2 || rep.Released != 2 || rep.Failed != 1 {
		t.Fatalf("report = %+v", rep)
	}
	want := map[string]domain.Status{"exists": domain.Confirmed, "fresh": domain.Confirmed, "missing": domain.Released,
		"cancelled": domain.Released, "omsdown": domain.Held, "confirmedrace": domain.Confirmed, "young": domain.Held}
	for o, st := range want {
		if got := status(t, e, o); got != st {
			t.Errorf("%s: %s, want %s", o, got, st)
		}
	}
	// 7 reserved A, 2 released; 5 reserved HOT, 2 released.
	wantAvail(t, e, map[string]int64{"A": 5, "HOT": 17})

	// OMS back: the next run settles the rest; a second run changes nothing.
	e.orders.fail["omsdown"] = false
	if rep, err = e.svc.CheckBack(ctx); err != nil || rep.Released != 1 {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	if rep, err = e.svc.CheckBack(ctx); err != nil || rep.Released+rep.Confirmed != 0 {
		t.Fatalf("third run = %+v, %v", rep, err)
	}
	wantAvail(t, e, map[string]int64{"A": 6, "HOT": 18})
}

func TestCheckBackTwoInstancesAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 16 {
		o := string(rune('a'+i/10)) + string(rune('0'+i%10))
		if _, err := e.svc.Reserve(ctx, req(t, o, l("C", 1), l("HOT", 1))); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			e.orders.orders[o] = "PAID"
		}
	}
	e.clock.Advance(2 * time.Minute)
	other := app.New(e.store, e.hot, e.orders, e.clock, app.Options{})
	errs := make(chan error, 2)
	for _, s := range []*app.Service{e.svc, other} {
		go func() { _, err := s.CheckBack(ctx); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wantAvail(t, e, map[string]int64{"C": 92, "HOT": 12})
	if n := e.count(t, `SELECT COUNT(*) FROM reservations WHERE status = 'CONFIRMED'`); n != 8 {
		t.Fatalf("%d confirmed, want 8", n)
	}
}

func TestOrderEventsAreIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Reserve(ctx, req(t, "o1", l("A", 2), l("HOT", 2))); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.svc.OrderPlaced(ctx, "o1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := status(t, e, "o1"); got != domain.Confirmed {
		t.Fatalf("after placed: %s", got)
	}
	for range 3 {
		if err := e.svc.OrderCancelled(ctx, "msg-cancelled-1", "o1"); err != nil {
			t.Fatal(err)
		}
	}
	wantAvail(t, e, map[string]int64{"A": 10, "HOT": 20})
	// A placed event for an order without a reservation is acknowledged.
	if err := e.svc.OrderPlaced(ctx, "ghost"); err != nil {
		t.Fatalf("placed without reservation: %v", err)
	}
	// Nor does a late placed event confirm a released reservation.
	if err := e.svc.OrderPlaced(ctx, "o1"); err != nil {
		t.Fatalf("placed after release: %v", err)
	}
	if got := status(t, e, "o1"); got != domain.Released {
		t.Fatalf("after a late placed event: %s, want RELEASED", got)
	}
	wantAvail(t, e, map[string]int64{"A": 10, "HOT": 20})
}

// A bulk of order.placed deliveries confirms the held reservations with one
// statement; one that holds a redelivery, a released reservation or an
// unknown order is settled order by order, and every answer is nil.
func TestOrdersPlacedInBulk(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c", "d"} {
		if _, err := e.svc.Reserve(ctx, req(t, id, l("A", 1), l("HOT", 1))); err != nil {
			t.Fatal(err)
		}
	}
	if errs := e.svc.OrdersPlaced(ctx, []string{"a", "b"}); errs[0] != nil || errs[1] != nil {
		t.Fatalf("all held: %v", errs)
	}
	if _, err := e.svc.Release(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	errs := e.svc.OrdersPlaced(ctx, []string{"b", "c", "d", "ghost", "c"})
	for i, err := range errs {
		if err != nil {
			t.Errorf("answer %d: %v", i, err)
		}
	}
	for id, want := range map[string]domain.Status{"a": domain.Confirmed, "b": domain.Confirmed, "c": domain.Confirmed, "d": domain.Released} {
		if got := status(t, e, id); got != want {
			t.Errorf("%s is %s, want %s", id, got, want)
		}
	}
	wantAvail(t, e, map[string]int64{"A": 7, "HOT": 17})
}

// Crash after the Lua take, before the write-back ran (and once more after
// a worker read the entries but died before acknowledging them): a
// restarted worker converges MariaDB, and replaying changes nothing.
func TestWriteBackConvergesAfterCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, o := range []string{"o1", "o2", "o3"} {
		if _, err := e.svc.Reserve(ctx, req(t, o, l("HOT", 3))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Release(ctx, "o2"); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM hot_ledger`); n != 0 {
		t.Fatalf("ledger written before any worker ran: %d", n)
	}
	// A worker reads everything, then dies before its transaction.
	stream := e.prefix + "{inv}:events"
	if err := e.rdb.XGroupCreateMkStream(ctx, stream, hotstock.Group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	read, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: hotstock.Group, Consumer: "dead", Streams: []string{stream, ">"}, Count: 100}).Result()
	if err != nil || len(read[0].Messages) != 4 {
		t.Fatalf("dead worker read %v, %v", read, err)
	}
	// The restarted worker takes the dead one's pending entries over
	// (once they have been idle longer than MinIdle).
	time.Sleep(20 * time.Millisecond)
	n, err := e.hot.WriteBackOnce(ctx, hotstock.WriteBackOptions{Consumer: "restarted", MinIdle: time.Millisecond, Block: 10 * time.Millisecond})
	if err != nil || n != 4 {
		t.Fatalf("restarted worker applied %d, %v", n, err)
	}
	check := func() {
		t.Helper()
		if got := e.mysqlAvailable(t, "HOT"); got != 14 {
			t.Fatalf("mirror = %d, want 14", got)
		}
		if n := e.count(t, `SELECT COALESCE(SUM(qty),0) FROM hot_ledger WHERE state = 'TAKEN'`); n != 6 {
			t.Fatalf("taken = %d, want 6", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM hot_ledger WHERE state = 'RETURNED' AND order_id = 'o2'`); n != 1 {
			t.Fatalf("o2 not returned")
		}
	}
	check()
	// Nothing is left pending or unread; another run applies nothing.
	if n, err := e.hot.WriteBackOnce(ctx, hotstock.WriteBackOptions{Consumer: "again", MinIdle: time.Millisecond, Block: 10 * time.Millisecond}); err != nil || n != 0 {
		t.Fatalf("second run applied %d, %v", n, err)
	}
	check()
	if n := e.count(t, `SELECT COUNT(*) FROM hot_ledger WHERE state = 'TAKEN' AND order_id = 'o2'`); n != 0 {
		t.Fatal("o2 resurrected")
	}
}

// Redis lost everything: the counter is rebuilt exactly from MariaDB
// (on-hand − held − confirmed), and a release afterwards returns its
// units exactly once.
func TestRebuildAfterRedisLossIsExact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for o, q := range map[string]int64{"held": 2, "conf": 3, "rel": 4} {
		if _, err := e.svc.Reserve(ctx, req(t, o, l("HOT", q), l("A", 1))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Confirm(ctx, "conf"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Release(ctx, "rel"); err != nil {
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 15})
	var epochBefore int64
	_ = e.db.QueryRow(`SELECT hot_epoch FROM stock WHERE sku = 'HOT'`).Scan(&epochBefore)

	flushPrefix(t, e)
	if n, err := e.hot.EnsureAll(ctx); err != nil || n != 1 {
		t.Fatalf("rebuilt %d, %v", n, err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 15})
	var epochAfter int64
	_ = e.db.QueryRow(`SELECT hot_epoch FROM stock WHERE sku = 'HOT'`).Scan(&epochAfter)
	if epochAfter <= epochBefore {
		t.Fatalf("epoch %d -> %d", epochBefore, epochAfter)
	}
	// Retries of existing reservations take nothing; releases return once.
	if _, err := e.svc.Reserve(ctx, req(t, "held", l("HOT", 2), l("A", 1))); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.svc.Release(ctx, "held"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Release(ctx, "conf"); err != nil {
			t.Fatal(err)
		}
	}
	wantAvail(t, e, map[string]int64{"HOT": 20, "A": 10})
	// And a counter that is missing when a buyer arrives is rebuilt on the way.
	flushPrefix(t, e)
	if _, err := e.svc.Reserve(ctx, req(t, "new", l("HOT", 5))); err != nil {
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 15})
}

// A take whose Reserve died before its MariaDB row committed is returned
// by the check-back once written back and past expiry, and the order is
// tombstoned so the dead request cannot commit later.
func TestOrphanedHotTakeIsReturned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := req(t, "orphan", l("HOT", 4))
	res, err := e.hot.Reserve(ctx, "orphan", r.Fingerprint(), e.clock.Now().Add(r.TTL()), []domain.Part{{SKU: "HOT", Qty: 4, Hot: true}})
	if err != nil || res.Outcome != hotstock.Taken {
		t.Fatalf("take = %+v, %v", res, err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 16})
	e.writeBack(t)
	if rep, err := e.svc.CheckBack(ctx); err != nil || rep.Orphans != 0 {
		t.Fatalf("before expiry: %+v, %v", rep, err)
	}
	e.clock.Advance(2 * time.Minute)
	rep, err := e.svc.CheckBack(ctx)
	if err != nil || rep.Orphans != 1 {
		t.Fatalf("check-back = %+v, %v", rep, err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 20})
	if _, err := e.svc.Reserve(ctx, r); !errors.Is(err, domain.ErrReleased) {
		t.Fatalf("late reserve = %v", err)
	}
	if rep, err := e.svc.CheckBack(ctx); err != nil || rep.Orphans != 0 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 20})
}

// Crash after the release committed in MariaDB, before Redis got the
// units back: the check-back finishes the return, once.
func TestInterruptedHotReturnIsFinished(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Reserve(ctx, req(t, "o1", l("HOT", 5))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.Release(ctx, "o1", false, nil); err != nil { // the MariaDB half only
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 15})
	rep, err := e.svc.CheckBack(ctx)
	if err != nil || rep.HotSettled != 1 {
		t.Fatalf("check-back = %+v, %v", rep, err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 20})
	if rep, err = e.svc.CheckBack(ctx); err != nil || rep.HotSettled != 0 {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	wantAvail(t, e, map[string]int64{"HOT": 20})
}

func flushPrefix(t testing.TB, e *env) {
	t.Helper()
	ctx := context.Background()
	iter := e.rdb.Scan(ctx, 0, e.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		e.rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
}
