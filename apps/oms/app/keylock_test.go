package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyLocksSerialiseOneKey(t *testing.T) {
	var k keyLocks
	var inside, most atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := k.lock(context.Background(), "a", 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			inside.Add(-1)
			unlock()
			unlock() // a second call is harmless
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d callers held the key at once", most.Load())
	}
	if len(k.m) != 0 {
		t.Fatalf("%d entries left behind", len(k.m))
	}
}

func TestKeyLocksBoundedWait(t *testing.T) {
	var k keyLocks
	unlock, err := k.lock(context.Background(), "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Another key is not held up.
	other, err := k.lock(context.Background(), "b", 10*time.Millisecond)
	if err != nil {
		t.Fatalf("other key: %v", err)
	}
	other()
	if _, err := k.lock(context.Background(), "a", 20*time.Millisecond); !errors.Is(err, ErrKeyBusy) {
		t.Fatalf("held key = %v, want ErrKeyBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.lock(ctx, "a", time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait = %v", err)
	}
	unlock()
	again, err := k.lock(context.Background(), "a", 10*time.Millisecond)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
	if len(k.m) != 0 {
		t.Fatalf("%d entries left behind", len(k.m))
	}
}
