package app

import (
	"context"
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
