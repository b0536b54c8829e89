// Package redislock is a distributed lock with a timeout, held in Redis
// with an owner token and a TTL (DOMAIN 8: a decision that depends on
// rows that do not exist yet takes a lock, and fails when it cannot get
// it in time; it never proceeds without it).
//
// Why Redis and not Dapr's lock building block: the sidecar Harvest
// builds (dapr/sidecar, -tags stablecomponents) carries no lock
// component (lock.redis is in dapr's allcomponents set only), and the
// apps that need a lock already reach Redis directly. The lock is
// SET key token NX PX ttl: the token (random, per acquisition) makes
// the release a compare-and-delete, so a holder whose lock expired never
// frees the next holder's; the TTL frees the lock of a holder that died.
// Acquire gives the holder a context that ends a margin before the TTL,
// so work under the lock stops before the lock could pass to another.
package redislock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrTimeout: the lock was held by another owner for the whole wait.
var ErrTimeout = errors.New("lock not acquired in time")

// Locker takes locks under one key prefix.
type Locker struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	retry  time.Duration
}

// New returns a Locker whose locks live ttl at most (a holder that dies
// frees its lock after ttl).
func New(rdb redis.UniversalClient, prefix string, ttl time.Duration) *Locker {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &Locker{rdb: rdb, prefix: prefix, ttl: ttl, retry: 25 * time.Millisecond}
}

// release deletes the key only while it still holds the caller's token.
var release = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Acquire takes the lock of key, waiting up to wait for its holder to
// let go: ErrTimeout then. It returns a context bound to the lock's life
// (ctx, ended a margin before the TTL runs out) for the work under it,
// and the release, which lets the lock go if it is still this holder's
// (safe to call twice; the TTL frees it otherwise).
func (l *Locker) Acquire(ctx context.Context, key string, wait time.Duration) (context.Context, func(), error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, nil, fmt.Errorf("lock token: %w", err)
	}
	token, full := hex.EncodeToString(b[:]), l.prefix+key
	deadline := time.Now().Add(wait)
	for {
		ok, err := l.rdb.SetNX(ctx, full, token, l.ttl).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("lock %s: %w", key, err)
		}
		if ok {
			margin := l.ttl / 10
			wctx, cancel := context.WithTimeout(ctx, l.ttl-margin)
			return wctx, func() {
				cancel()
				rctx, done := context.WithTimeout(context.Background(), 2*time.Second)
				defer done()
				_ = release.Run(rctx, l.rdb, []string{full}, token).Err()
			}, nil
		}
		if !time.Now().Add(l.retry).Before(deadline) {
			return nil, nil, fmt.Errorf("%w: %s (waited %s)", ErrTimeout, key, wait)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(l.retry):
		}
	}
}
