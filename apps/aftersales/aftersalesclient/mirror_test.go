package aftersalesclient_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// testLease is short so that the waits the protocol has (a young
// registry, a lapsed mirror) take little of a test, and long enough that
// a snapshot (11.4 MiB out of Redis) fits in it on a busy machine.
const testLease = time.Second

// gateway is one gateway replica's mirror, on its own Redis client.
func gateway(t testing.TB, addr, prefix string) *aftersalesclient.Mirror {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	m := aftersalesclient.NewMirror(aftersalesclient.NewCancelFilter(rdb, prefix, aftersalesclient.WithLease(testLease)), nil)
	stop := m.Start(context.Background())
	t.Cleanup(func() {
		stop()
		rdb.Close()
	})
	return m
}

// awaitMemory waits until m answers from memory (or, memory false, until
// it has stopped to).
func awaitMemory(t testing.TB, m *aftersalesclient.Mirror, memory bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * testLease); ; time.Sleep(5 * time.Millisecond) {
		_, fromMemory, err := m.MayHaveFrom(context.Background(), "O-probe")
		if err == nil && fromMemory == memory {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror from memory %v after %s, want %v (%v)", fromMemory, 5*testLease, memory, err)
		}
	}
}

// builtFilter is after-sales' side, rebuilt (empty) so mirrors can register.
func builtFilter(t testing.TB, rdb *redis.Client, prefix string) *aftersalesclient.CancelFilter {
	t.Helper()
	f := aftersalesclient.NewCancelFilter(rdb, prefix, aftersalesclient.WithLease(testLease))
	if built, err := f.Rebuild(context.Background(), func(context.Context) ([]string, error) { return nil, nil }); !built || err != nil {
		t.Fatalf("rebuild: %v %v", built, err)
	}
	return f
}

// acceptance is what acceptThroughMirrors saw.
type acceptance struct {
	reads, fromMemory int64
	// wrong are "no" answers about an order whose Add had returned before
	// the read began: DOMAIN 5's rule broken.
	wrong atomic.Int64
}

// acceptThroughMirrors adds n order ids through writer, as after-sales
// accepts requests, while two readers per mirror keep reading the ids
// already accepted (each read begun after its Add returned); right after
// each Add the writer itself reads the id from every mirror. during, if
// set, runs before Add i.
func acceptThroughMirrors(t *testing.T, writer *aftersalesclient.CancelFilter, mirrors []*aftersalesclient.Mirror, n int,
	during func(i int, accepted []string)) *acceptance {
	t.Helper()
	ctx := context.Background()
	run := fmt.Sprintf("O-%d-", rand.Int64())
	ids := make([]string, n)
	for i := range ids {
		ids[i] = run + fmt.Sprint(i)
	}
	var last atomic.Int64
	last.Store(-1)
	var reads, fromMemory atomic.Int64
	a := &acceptance{}
	read := func(m *aftersalesclient.Mirror, id string) {
		maybe, memory, err := m.MayHaveFrom(ctx, id)
		reads.Add(1)
		if memory {
			fromMemory.Add(1)
		}
		if err == nil && !maybe {
			a.wrong.Add(1)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range mirrors {
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					// Bursts of reads with short sleeps between: readers
					// spinning without end would keep the mirrors' and
					// Add's network replies waiting for a free core.
					time.Sleep(20 * time.Microsecond)
					if i := last.Load(); i >= 0 {
						for range 50 {
							read(m, ids[max(0, i-rand.Int64N(8))])
						}
					}
				}
			})
		}
	}
	for i, id := range ids {
		if during != nil {
			during(i, ids[:i])
		}
		if err := writer.Add(ctx, id); err != nil {
			close(done)
			wg.Wait()
			t.Fatal(err)
		}
		last.Store(int64(i))
		for _, m := range mirrors {
			read(m, id)
		}
	}
	close(done)
	wg.Wait()
	a.reads, a.fromMemory = reads.Load(), fromMemory.Load()
	return a
}

// twoGateways is after-sales' filter, built, and two gateway replicas'
// mirrors of it, answering from memory.
func twoGateways(t testing.TB) (*redis.Client, string, *aftersalesclient.CancelFilter, []*aftersalesclient.Mirror) {
	t.Helper()
	rdb, prefix := testdb.Redis(t)
	writer := builtFilter(t, rdb, prefix)
	addr := rdb.Options().Addr
	mirrors := []*aftersalesclient.Mirror{gateway(t, addr, prefix), gateway(t, addr, prefix)}
	for _, m := range mirrors {
		awaitMemory(t, m, true)
	}
	return rdb, prefix, writer, mirrors
}

// Issue 15's guarantee with the copies in the gateways' memory: two
// gateway replicas' mirrors and after-sales' Add; the moment Add returns,
// both say "may have", under concurrent reads, while most answers come
// from memory (so the test is about the mirrors, not the Redis fallback).
func TestMirrorsSeeAnAcceptAtOnce(t *testing.T) {
	_, _, writer, mirrors := twoGateways(t)
	a := acceptThroughMirrors(t, writer, mirrors, 2000, nil)
	if w := a.wrong.Load(); w > 0 {
		t.Fatalf("%d of %d reads answered no for an accepted order", w, a.reads)
	}
	if a.fromMemory*10 < a.reads*9 {
		t.Fatalf("only %d of %d reads from memory", a.fromMemory, a.reads)
	}
	t.Logf("%d reads, %d from memory, none wrong", a.reads, a.fromMemory)
}

// The check above can fail: with Add not waiting for the mirrors, the
// same run finds wrong "no"s (a mirror reads before it applied the entry).
func TestMirrorsCheckCatchesAnAddThatDoesNotWait(t *testing.T) {
	_, _, writer, mirrors := twoGateways(t)
	aftersalesclient.SkipMirrorWait(writer)
	a := acceptThroughMirrors(t, writer, mirrors, 2000, nil)
	if a.wrong.Load() == 0 {
		t.Fatalf("no wrong answer in %d reads with Add not waiting for the mirrors", a.reads)
	}
	t.Logf("%d of %d reads wrong with Add not waiting", a.wrong.Load(), a.reads)
}

// A stalled gateway (its mirror paused before a renewal): its lease
// lapses, it answers from the Redis filter and is still right; an Add
// waits for it at most about one lease; resumed, it registers anew and
// answers from memory again, the accepts it missed included.
func TestMirrorOutOfLeaseAsksRedis(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	writer := builtFilter(t, rdb, prefix)
	ctx := context.Background()
	addr := rdb.Options().Addr
	stalled, live := gateway(t, addr, prefix), gateway(t, addr, prefix)
	awaitMemory(t, stalled, true)
	awaitMemory(t, live, true)
	if err := writer.Add(ctx, "O-before"); err != nil { // the registry's first lease passes here
		t.Fatal(err)
	}
	resume := PauseOnce(stalled)
	t.Cleanup(resume) // before the mirror's stop, which a paused Run would never answer
	awaitMemory(t, stalled, false)
	start := time.Now()
	if err := writer.Add(ctx, "O-while-stalled"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*testLease {
		t.Fatalf("Add waited %s for a stalled mirror, lease %s", took, testLease)
	}
	for _, m := range []*aftersalesclient.Mirror{stalled, live} {
		if maybe, _, err := m.MayHaveFrom(ctx, "O-while-stalled"); !maybe || err != nil {
			t.Fatalf("accepted while stalled: %v %v", maybe, err)
		}
	}
	if maybe, memory, err := stalled.MayHaveFrom(ctx, "O-never"); maybe || memory || err != nil {
		t.Fatalf("stalled mirror on an unknown order: maybe %v, from memory %v, %v; want Redis's no", maybe, memory, err)
	}
	resume()
	awaitMemory(t, stalled, true)
	for _, id := range []string{"O-before", "O-while-stalled"} {
		if maybe, memory, err := stalled.MayHaveFrom(ctx, id); !maybe || !memory || err != nil {
			t.Fatalf("resumed, %s: maybe %v, from memory %v, %v", id, maybe, memory, err)
		}
	}
}

// PauseOnce pauses m (aftersalesclient.PauseMirror) for one test.
func PauseOnce(m *aftersalesclient.Mirror) func() {
	var once sync.Once
	resume := aftersalesclient.PauseMirror(m)
	return func() { once.Do(resume) }
}

// Redis loses the filter's keys (all of them, as a flush or a new
// instance would) in the middle of accepts read through two mirrors, and
// after-sales rebuilds from its rows: no read ever says "no" for an
// accepted order, and afterwards the mirrors answer from memory again.
func TestMirrorsRightWhenRedisLosesTheKeys(t *testing.T) {
	rdb, prefix, writer, mirrors := twoGateways(t)
	ctx := context.Background()
	const n = 300
	a := acceptThroughMirrors(t, writer, mirrors, n, func(i int, accepted []string) {
		switch i {
		case n / 3:
			if err := rdb.Del(ctx, prefix+"bits", prefix+"ready", prefix+"log", prefix+"mirrors").Err(); err != nil {
				t.Fatal(err)
			}
		case 2 * n / 3:
			served := false
			built, err := writer.Rebuild(ctx, func(context.Context) ([]string, error) {
				if served {
					return nil, nil
				}
				served = true
				return accepted, nil
			})
			if !built || err != nil {
				t.Fatalf("rebuild: %v %v", built, err)
			}
		}
	})
	if w := a.wrong.Load(); w > 0 {
		t.Fatalf("%d of %d reads answered no for an accepted order", w, a.reads)
	}
	for _, m := range mirrors {
		awaitMemory(t, m, true)
	}
	t.Logf("%d reads, %d from memory, none wrong", a.reads, a.fromMemory)
}

// lostKeysUnderStalledMirrors deletes the filter's keys while both
// gateways' mirrors are stalled before a renewal with their leases still
// held, as a Redis flush meets gateways between renewals; then adds
// orders and counts the mirrors' wrong "no"s about them. Nothing but
// Add's wait for the new registry to be a lease old keeps the mirrors'
// old copies from answering.
func lostKeysUnderStalledMirrors(t *testing.T, skipYoungWait bool) (wrong int) {
	rdb, prefix, writer, mirrors := twoGateways(t)
	ctx := context.Background()
	if skipYoungWait {
		aftersalesclient.SkipYoungRegistryWait(writer)
	}
	if err := writer.Add(ctx, "O-before"); err != nil { // the registry's first lease passes here
		t.Fatal(err)
	}
	for _, m := range mirrors {
		t.Cleanup(PauseOnce(m))
	}
	// The XREAD in flight returns (at most lease/5) and each mirror stops
	// at its next renewal, its lease still held for about half of one.
	time.Sleep(testLease / 4)
	if err := rdb.Del(ctx, prefix+"bits", prefix+"ready", prefix+"log", prefix+"mirrors").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		id := fmt.Sprintf("O-after-%d", i)
		if err := writer.Add(ctx, id); err != nil {
			t.Fatal(err)
		}
		for _, m := range mirrors {
			if maybe, _, err := m.MayHaveFrom(ctx, id); err == nil && !maybe {
				wrong++
			}
		}
	}
	return wrong
}

// Redis loses the keys between two renewals of the mirrors: Add waits
// until the registry it finds new is a lease old, by when no mirror
// believes its old copy; none answers "no" for an order added.
func TestStalledMirrorsRightWhenRedisLosesTheKeys(t *testing.T) {
	if wrong := lostKeysUnderStalledMirrors(t, false); wrong > 0 {
		t.Fatalf("%d wrong no after the keys were lost", wrong)
	}
}

// The check above can fail: without that wait, the mirrors' old copies
// answer "no" for the orders added after the loss.
func TestStalledMirrorsCheckCatchesNoWaitForANewRegistry(t *testing.T) {
	if wrong := lostKeysUnderStalledMirrors(t, true); wrong == 0 {
		t.Fatal("no wrong answer with Add not waiting for a new registry")
	}
}

// BenchmarkAddWithMirrors is after-sales' Add with no mirror registered
// (the baseline: one script) and with two gateway mirrors, which it waits
// for, in the same run.
//
//	go test -run '^$' -bench AddWithMirrors ./apps/aftersales/aftersalesclient/
func BenchmarkAddWithMirrors(b *testing.B) {
	for _, mirrors := range []int{0, 2} {
		b.Run(fmt.Sprintf("mirrors_%d", mirrors), func(b *testing.B) {
			rdb, prefix := testdb.Redis(b)
			writer := builtFilter(b, rdb, prefix)
			ms := []*aftersalesclient.Mirror{}
			for range mirrors {
				m := gateway(b, rdb.Options().Addr, prefix)
				awaitMemory(b, m, true)
				ms = append(ms, m)
			}
			ctx := context.Background()
			if err := writer.Add(ctx, "O-first"); err != nil { // waits out the registry's first lease
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if err := writer.Add(ctx, fmt.Sprintf("O-%d", i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			for _, m := range ms {
				if maybe, memory, err := m.MayHaveFrom(ctx, fmt.Sprintf("O-%d", i)); !maybe || !memory || err != nil {
					b.Fatalf("last add through a mirror: %v %v %v", maybe, memory, err)
				}
			}
		})
	}
}
