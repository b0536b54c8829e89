package app

import (
	"context"
	"sync"
	"time"
)

// keyLocks serialises accept-order calls that carry the same idempotency
// key inside this OMS process, so a duplicate waits for the first call and
// then replays its order instead of reserving stock a second time.
//
// It replaced a MariaDB named lock (GET_LOCK), which made the same promise
// across replicas but cost two statements and a pinned connection per
// placement, the largest avoidable share of OMS's database work. Across
// replicas the unique key of order_idempotency stays the last word: a
// duplicate that reached another replica at the same instant reserves,
// loses the insert, releases at once and replays the winner's order (see
// PlaceOrder). One order either way; only the stock is held twice for a
// moment, and only when a client retries on two replicas within a
// placement's duration.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	held  chan struct{} // one token: taken while a call holds the key
	users int           // holders and waiters; the entry goes at zero
}

// lock takes key, waiting at most wait; ErrKeyBusy when it is still held
// then, the context's error when that ends first.
func (k *keyLocks) lock(ctx context.Context, key string, wait time.Duration) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l, ok := k.m[key]
	if !ok {
		l = &keyLock{held: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()

	leave := func() {
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.held <- struct{}{}:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case l.held <- struct{}{}:
		case <-t.C:
			leave()
			return nil, ErrKeyBusy
		case <-ctx.Done():
			leave()
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-l.held
			leave()
		})
	}, nil
}
