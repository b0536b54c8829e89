package app

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/platform/group"
)

// NonceStore keeps the nonces seen in Redis, each for its time to live
// (SET NX EX): every replica sees every other's, and none outlives the
// window that makes an older request stale anyway.
//
// The claims of pushes arriving together travel as one pipeline (one
// round trip, one read and one write on each side): a group buy closing
// pushes thousands a second, and one round trip each was a third of the
// accept path's CPU in channels and most of Redis's. Each claim is still
// its own SET NX, so of two concurrent requests with one nonce exactly
// one is fresh, whatever pipeline each is in.
type NonceStore struct {
	r      *redis.Client
	prefix string
	claims *group.Queue[*nonceClaim]
}

// nonceClaimGroup bounds the claims of one pipeline, and
// nonceClaimsInFlight the pipelines at once.
const (
	nonceClaimGroup     = 256
	nonceClaimsInFlight = 4
)

// NewNonceStore keeps nonces in r under keys beginning with prefix.
func NewNonceStore(r *redis.Client, prefix string) *NonceStore {
	return &NonceStore{r: r, prefix: prefix,
		claims: group.NewQueue[*nonceClaim](group.Options{MaxSize: nonceClaimGroup, InFlight: nonceClaimsInFlight})}
}

type nonceClaim struct {
	ctx   context.Context
	key   string
	ttl   time.Duration
	fresh bool
	err   error
	done  chan struct{}
}

// Claim reports true when nonce was not seen for platform.
func (n *NonceStore) Claim(ctx context.Context, platform, nonce string, ttl time.Duration) (bool, error) {
	c := &nonceClaim{ctx: ctx, key: n.prefix + platform + ":" + nonce, ttl: ttl, done: make(chan struct{})}
	n.claims.Submit(c, n.claimAll)
	<-c.done
	return c.fresh, c.err
}

// claimAll sends a group's claims in one pipeline. A pipeline that fails
// fails every claim in it (the platform is asked to try again, with a
// nonce of its own): claimed again one by one, a claim the failed
// pipeline had made would find itself and be refused as a replay.
func (n *NonceStore) claimAll(g []*nonceClaim) {
	defer func() {
		for _, c := range g {
			close(c.done)
		}
	}()
	// The pipeline serves callers with contexts of their own; it is not
	// cut short by the first one's end (its callers wait for it).
	ctx := context.WithoutCancel(g[0].ctx)
	pipe := n.r.Pipeline()
	cmds := make([]*redis.BoolCmd, len(g))
	for i, c := range g {
		cmds[i] = pipe.SetNX(ctx, c.key, 1, c.ttl)
	}
	_, err := pipe.Exec(ctx)
	for i, c := range g {
		if err != nil {
			c.err = err
			continue
		}
		c.fresh, c.err = cmds[i].Result()
	}
}

// ClaimFor claims nonce for content (a fingerprint of what it signed):
// fresh the first time, else same reports whether the first claim was
// for the same content.
func (n *NonceStore) ClaimFor(ctx context.Context, platform, nonce, content string, ttl time.Duration) (fresh, same bool, err error) {
	key := n.prefix + platform + ":" + nonce
	if fresh, err = n.r.SetNX(ctx, key, content, ttl).Result(); err != nil || fresh {
		return fresh, false, err
	}
	first, err := n.r.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) { // expired in between: older than the window, which refuses it anyway
		return false, false, nil
	}
	return false, first == content, err
}
