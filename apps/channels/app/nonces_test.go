package app_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// Claims made at the same moment travel in shared pipelines; each is
// still its own SET NX: of the requests carrying one nonce exactly one is
// fresh, and every other nonce is fresh once, whichever pipeline it is in.
func TestConcurrentNonceClaimsAreFreshExactlyOnceEach(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	n := app.NewNonceStore(rdb, prefix)
	ctx := context.Background()
	const nonces, copies = 400, 3
	var fresh [nonces]atomic.Int32
	var wg sync.WaitGroup
	var failed atomic.Int32
	for c := range copies {
		for i := range nonces {
			wg.Go(func() {
				ok, err := n.Claim(ctx, "YUEDIAN", fmt.Sprintf("n-%d", i), time.Minute)
				if err != nil {
					failed.Add(1)
					t.Errorf("claim %d copy %d: %v", i, c, err)
				}
				if ok {
					fresh[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	for i := range fresh {
		if got := fresh[i].Load(); got != 1 {
			t.Fatalf("nonce n-%d fresh %d times of %d claims, want once", i, got, copies)
		}
	}
	// Later, alone: seen.
	if ok, err := n.Claim(ctx, "YUEDIAN", "n-7", time.Minute); err != nil || ok {
		t.Fatalf("n-7 claimed again: fresh %v, %v", ok, err)
	}
	// Another platform's nonce of the same text is its own.
	if ok, err := n.Claim(ctx, "ELEME", "n-7", time.Minute); err != nil || !ok {
		t.Fatalf("ELEME n-7: fresh %v, %v; want fresh", ok, err)
	}
	if ttl := rdb.TTL(ctx, prefix+"YUEDIAN:n-7").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("nonce kept for %v, want its time to live (1m)", ttl)
	}
}

// A Redis that cannot be reached fails the claims (the platform is asked
// to try again); it does not call a request fresh or a replay.
func TestNonceClaimsFailWhenRedisIsDown(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	n := app.NewNonceStore(rdb, prefix)
	_ = rdb.Close()
	if ok, err := n.Claim(context.Background(), "YUEDIAN", "x", time.Minute); err == nil || ok {
		t.Fatalf("claim with Redis closed: fresh %v, err %v; want an error", ok, err)
	}
}
