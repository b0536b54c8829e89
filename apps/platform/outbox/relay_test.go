package outbox_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// recorder is a broker stand-in that can fail on chosen messages.
type recorder struct {
	mu     sync.Mutex
	got    []outbox.Envelope
	failOn func(outbox.Envelope) bool
}

func (r *recorder) Publish(_ context.Context, topic string, ce []byte) error {
	var e outbox.Envelope
	if err := json.Unmarshal(ce, &e); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failOn != nil && r.failOn(e) {
		return errors.New("broker down")
	}
	r.got = append(r.got, e)
	return nil
}

// bulkRecorder is a broker stand-in with bulk publish, which (like Dapr's)
// publishes a bulk's entries in no particular order.
type bulkRecorder struct{ *recorder }

func (b bulkRecorder) PublishBulk(ctx context.Context, topic string, ces [][]byte) ([]int, error) {
	var failed []int
	for _, i := range rand.Perm(len(ces)) {
		if err := b.Publish(ctx, topic, ces[i]); err != nil {
			failed = append(failed, i)
		}
	}
	if len(failed) > 0 {
		return failed, errors.New("some entries failed")
	}
	return nil, nil
}

// publishers runs a test against the relay with each kind of publisher.
func publishers(t *testing.T, test func(t *testing.T, pub func(*recorder) outbox.Publisher)) {
	t.Run("one by one", func(t *testing.T) { test(t, func(r *recorder) outbox.Publisher { return r }) })
	t.Run("bulk", func(t *testing.T) { test(t, func(r *recorder) outbox.Publisher { return bulkRecorder{r} }) })
}

func addEvents(t *testing.T, db *sql.DB, aggregate string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
			_, err := outbox.Add(context.Background(), tx, outbox.Event{
				Topic: "test.thing.happened", AggregateID: aggregate, Type: "test.thing.happened.v1",
				Payload: map[string]any{"agg": aggregate, "n": i},
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func pending(t *testing.T, db *sql.DB) int {
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRelayPublishesInOrderPerAggregateAndDeletes(t *testing.T) {
	publishers(t, testRelayPublishesInOrder)
}

func testRelayPublishesInOrder(t *testing.T, pub func(*recorder) outbox.Publisher) {
	db, _ := testdb.New(t, "platform")
	for a := 0; a < 5; a++ {
		addEvents(t, db, fmt.Sprintf("agg-%d", a), 20)
	}
	rec := &recorder{}
	r := outbox.NewRelay(db, pub(rec), outbox.RelayOptions{Source: "test", Batch: 37, Lanes: 4})
	for {
		n, err := r.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if len(rec.got) != 100 {
		t.Fatalf("published %d, want 100", len(rec.got))
	}
	if p := pending(t, db); p != 0 {
		t.Fatalf("%d rows left in outbox", p)
	}
	last := map[string]int{}
	seen := map[string]bool{}
	for _, e := range rec.got {
		if seen[e.ID] {
			t.Fatalf("event %s published twice", e.ID)
		}
		seen[e.ID] = true
		var p struct{ N int }
		_ = json.Unmarshal(e.Data, &p)
		if prev, ok := last[e.Subject]; ok && p.N != prev+1 {
			t.Fatalf("aggregate %s: event %d after %d", e.Subject, p.N, prev)
		}
		last[e.Subject] = p.N
		if e.Source != "test" || e.SpecVersion != "1.0" {
			t.Fatalf("bad envelope %+v", e)
		}
	}
}

func TestRelayFailureStopsOnlyThatAggregateAndKeepsOrder(t *testing.T) {
	publishers(t, testRelayFailureStopsOnlyThatAggregate)
}

func testRelayFailureStopsOnlyThatAggregate(t *testing.T, pub func(*recorder) outbox.Publisher) {
	db, _ := testdb.New(t, "platform")
	addEvents(t, db, "ok", 5)
	addEvents(t, db, "flaky", 5)
	broken := true
	rec := &recorder{failOn: func(e outbox.Envelope) bool {
		var p struct{ N int }
		_ = json.Unmarshal(e.Data, &p)
		return broken && e.Subject == "flaky" && p.N == 2
	}}
	r := outbox.NewRelay(db, pub(rec), outbox.RelayOptions{Source: "test", Lanes: 8})
	if _, err := r.Pass(context.Background()); err == nil {
		t.Fatal("want the publish failure reported")
	}
	// flaky 0,1 went out; 2,3,4 stay, in order; ok all went out.
	if p := pending(t, db); p != 3 {
		t.Fatalf("pending %d, want 3", p)
	}
	broken = false
	if _, err := r.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	var order []int
	for _, e := range rec.got {
		if e.Subject == "flaky" {
			var p struct{ N int }
			_ = json.Unmarshal(e.Data, &p)
			order = append(order, p.N)
		}
	}
	if fmt.Sprint(order) != "[0 1 2 3 4]" {
		t.Fatalf("flaky published as %v", order)
	}
}

func TestRelayRunDrainsOnStopAndOnlyOneLeader(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	rec := &recorder{}
	lock := "relay_test_" + time.Now().Format("150405.000000")
	a := outbox.NewRelay(db, rec, outbox.RelayOptions{Source: "a", Poll: 20 * time.Millisecond, LockName: lock})
	b := outbox.NewRelay(db, rec, outbox.RelayOptions{Source: "b", Poll: 20 * time.Millisecond, LockName: lock})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range []*outbox.Relay{a, b} {
		wg.Add(1)
		go func(r *outbox.Relay) { defer wg.Done(); _ = r.Run(ctx, 5*time.Second) }(r)
	}
	addEvents(t, db, "x", 30)
	deadline := time.Now().Add(10 * time.Second)
	for pending(t, db) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	addEvents(t, db, "y", 10) // may be caught by the final drain
	cancel()
	wg.Wait()
	if p := pending(t, db); p != 0 {
		t.Fatalf("%d rows left after drain", p)
	}
	sources := map[string]int{}
	for _, e := range rec.got {
		sources[e.Source]++
	}
	if len(rec.got) != 40 {
		t.Fatalf("published %d, want 40 (%v)", len(rec.got), sources)
	}
}

func TestAddIsPartOfTheTransaction(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
		if _, err := outbox.Add(context.Background(), tx, outbox.Event{Topic: "t", AggregateID: "a", Type: "t.v1", Payload: 1}); err != nil {
			return err
		}
		return errors.New("business rule failed")
	})
	if err == nil {
		t.Fatal("want error")
	}
	if p := pending(t, db); p != 0 {
		t.Fatalf("rolled-back event left %d rows", p)
	}
}

// clocked is a broker stand-in that takes about a millisecond per event,
// ignores its context (as a publish already on the wire would), and
// remembers when each relay (by CloudEvent source) last published.
type clocked struct {
	mu    sync.Mutex
	count map[string]int
	last  map[string]time.Time
}

func (c *clocked) Publish(_ context.Context, _ string, ce []byte) error {
	var e outbox.Envelope
	if err := json.Unmarshal(ce, &e); err != nil {
		return err
	}
	time.Sleep(time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count[e.Source]++
	c.last[e.Source] = time.Now()
	return nil
}

func (c *clocked) seen(source string) (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[source], c.last[source]
}

// addBacklog writes n events over 64 aggregates, 1,000 per transaction.
func addBacklog(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	for done := 0; done < n; {
		evs := make([]outbox.Event, min(1000, n-done))
		for i := range evs {
			evs[i] = outbox.Event{Topic: "test.thing.happened", AggregateID: fmt.Sprintf("agg-%d", (done+i)%64),
				Type: "test.thing.happened.v1", Payload: map[string]int{"n": done + i}}
		}
		err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
			_, err := outbox.Add(context.Background(), tx, evs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		done += len(evs)
	}
}

// The leader's lock connection is killed while it works through a large
// backlog, never idle: a second relay takes the lock over at once, and the
// first must stop publishing within a bound instead of going on as a
// second leader until the backlog is gone.
func TestRelayStopsPublishingWhenItsLockIsKilledWhileBusy(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	addBacklog(t, db, 20_000)
	pub := &clocked{count: map[string]int{}, last: map[string]time.Time{}}
	lock := "relay_kill_" + time.Now().Format("150405.000000")
	opts := func(source string) outbox.RelayOptions {
		return outbox.RelayOptions{Source: source, Batch: 100, Lanes: 8, Poll: 20 * time.Millisecond, LockName: lock,
			LockCheck: 100 * time.Millisecond}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	run := func(r *outbox.Relay) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Run(ctx, 5*time.Second) }()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	run(outbox.NewRelay(db, pub, opts("first")))
	waitFor("the first relay to publish", func() bool { n, _ := pub.seen("first"); return n >= 1000 })
	run(outbox.NewRelay(db, pub, opts("second"))) // waits on GET_LOCK
	time.Sleep(200 * time.Millisecond)
	var holder sql.NullInt64
	if err := db.QueryRow(`SELECT IS_USED_LOCK(CONCAT(?, ':', DATABASE()))`, lock).Scan(&holder); err != nil || !holder.Valid {
		t.Fatalf("lock holder: %v %v", holder, err)
	}
	before, _ := pub.seen("first")
	if _, err := db.Exec(fmt.Sprintf("KILL CONNECTION %d", holder.Int64)); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitFor("the second relay to take over", func() bool { n, _ := pub.seen("second"); return n > 0 })
	waitFor("the backlog to be published", func() bool { return pending(t, db) == 0 })

	const bound = 500 * time.Millisecond // LockCheck, one check, one in-flight event, scheduling
	n, last := pub.seen("first")
	if lag := last.Sub(killed); lag > bound {
		t.Fatalf("the first relay published %d events for %s after losing its lock (bound %s)", n-before, lag, bound)
	}
	if second, _ := pub.seen("second"); before >= 20_000 || second == 0 {
		t.Fatalf("first published %d before the kill, second %d: no takeover while busy", before, second)
	}
	cancel()
	wg.Wait()
}

// An idle leader whose lock connection is killed steps down within the
// bound too: events committed after the second relay took over are
// published by it alone.
func TestRelayStepsDownWhenItsLockIsKilledWhileIdle(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	pub := &clocked{count: map[string]int{}, last: map[string]time.Time{}}
	lock := "relay_idle_" + time.Now().Format("150405.000000")
	opts := func(source string) outbox.RelayOptions {
		return outbox.RelayOptions{Source: source, Poll: 20 * time.Millisecond, LockName: lock, LockCheck: 100 * time.Millisecond}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(r *outbox.Relay) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Run(ctx, 5*time.Second) }()
	}
	holder := func() int64 {
		var id sql.NullInt64
		if err := db.QueryRow(`SELECT IS_USED_LOCK(CONCAT(?, ':', DATABASE()))`, lock).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id.Int64
	}
	run(outbox.NewRelay(db, pub, opts("first")))
	for deadline := time.Now().Add(10 * time.Second); holder() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first relay never took the lock")
		}
	}
	first := holder()
	run(outbox.NewRelay(db, pub, opts("second")))
	time.Sleep(200 * time.Millisecond)
	if _, err := db.Exec(fmt.Sprintf("KILL CONNECTION %d", first)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the bound
	addEvents(t, db, "after", 20)
	for deadline := time.Now().Add(10 * time.Second); pending(t, db) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("events not published")
		}
	}
	cancel()
	wg.Wait()
	if n, _ := pub.seen("first"); n != 0 {
		t.Fatalf("the first relay published %d events after losing its lock", n)
	}
	if n, _ := pub.seen("second"); n != 20 {
		t.Fatalf("the second relay published %d, want 20", n)
	}
}
