package app

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// NonceStore keeps the nonces seen in Redis, each for its time to live
// (SET NX EX): every replica sees every other's, and none outlives the
// window that makes an older request stale anyway.
type NonceStore struct {
	R      *redis.Client
	Prefix string
}

// Claim reports true when nonce was not seen for platform.
func (n NonceStore) Claim(ctx context.Context, platform, nonce string, ttl time.Duration) (bool, error) {
	return n.R.SetNX(ctx, n.Prefix+platform+":"+nonce, 1, ttl).Result()
}

// ClaimFor claims nonce for content (a fingerprint of what it signed):
// fresh the first time, else same reports whether the first claim was
// for the same content.
func (n NonceStore) ClaimFor(ctx context.Context, platform, nonce, content string, ttl time.Duration) (fresh, same bool, err error) {
	key := n.Prefix + platform + ":" + nonce
	if fresh, err = n.R.SetNX(ctx, key, content, ttl).Result(); err != nil || fresh {
		return fresh, false, err
	}
	first, err := n.R.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) { // expired in between: older than the window, which refuses it anyway
		return false, false, nil
	}
	return false, first == content, err
}
