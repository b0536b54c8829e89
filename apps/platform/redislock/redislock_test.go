package redislock_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/redislock"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// One holder at a time among many; the others wait their turn.
func TestOneHolderAtATime(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	l := redislock.New(rdb, prefix, 5*time.Second)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, k, err := l.Acquire(context.Background(), "k", 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			if n := inside.Add(1); n > most.Load() {
				most.Store(n)
			}
			time.Sleep(10 * time.Millisecond)
			inside.Add(-1)
			k()
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d holders at once", most.Load())
	}
}

// A lock held past the wait answers ErrTimeout; a dead holder's lock
// frees itself after the TTL; a late Release never frees the next holder's.
func TestTimeoutTTLAndOwnership(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	l := redislock.New(rdb, prefix, 300*time.Millisecond)
	ctx := context.Background()
	wctx, first, err := l.Acquire(ctx, "k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Acquire(ctx, "k", 100*time.Millisecond); !errors.Is(err, redislock.ErrTimeout) {
		t.Fatalf("second acquire: %v, want ErrTimeout", err)
	}
	<-wctx.Done() // the holder's work is stopped before its TTL ends
	_, second, err := l.Acquire(ctx, "k", time.Second)
	if err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
	first() // expired: must not free second's
	if _, _, err := l.Acquire(ctx, "k", 50*time.Millisecond); !errors.Is(err, redislock.ErrTimeout) {
		t.Fatalf("the first holder's late release freed the second's lock: %v", err)
	}
	second()
	if _, k, err := l.Acquire(ctx, "k", 50*time.Millisecond); err != nil {
		t.Fatalf("after release: %v", err)
	} else {
		k()
	}
}
