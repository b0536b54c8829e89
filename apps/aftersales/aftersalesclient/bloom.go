package aftersalesclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/redis/go-redis/v9"
)

// The cancel-request filter (DOMAIN 5): a Bloom filter of the order ids
// that have an after-sales request, so that order detail skips
// after-sales entirely for the ~99 % of orders that have none.
//
// Why the bits live in Redis, set by after-sales before it answers. The
// rule is that no gateway instance may ever say "no" wrongly from the
// moment a request is accepted. A filter held in each gateway's memory
// and fed by events is wrong for a while on every replica the event has
// not reached yet (and for ever on one that missed it); a local filter
// plus a watermark still needs a round trip to learn the watermark. So
// there is one filter, in Redis: after-sales sets the k bits of an
// order id (the library's bloom.Locations, reduced modulo m exactly as
// the library's own Test does) in one BITFIELD command and only then
// stores the request's answer as accepted to its caller; a gateway reads
// the same k bits with one BITFIELD_RO, pipelined with the ready mark,
// in one round trip. Any replica asking after the answer sees the bits,
// because Redis is the one copy. Bits are only ever set, never cleared
// (a finished request still shows on order detail).
//
// Missing filter. A Redis that lost the key (flushed, a new instance)
// would answer "no" for everything; so a gateway believes a "no" only
// while ReadyKey exists, which after-sales sets after a complete rebuild
// from its own database (Rebuild): rows written during the rebuild set
// their own bits before they answer, so nothing falls between. Without
// the mark the gateway asks after-sales directly. Redis must keep the
// key: noeviction and persistence (AOF), which the local stack's Redis
// and production's have; a restore from an older snapshot must drop
// ReadyKey.
//
// Size: 10 M order ids at 1 % false positives: bloom.EstimateParameters
// gives m = 95,850,584 bits (about 11.4 MiB) and k = 7.
const (
	FilterCapacity = 10_000_000
	FilterFPRate   = 0.01
)

// FilterParams are m (bits) and k (hashes) of the filter.
func FilterParams() (m, k uint) { return bloom.EstimateParameters(FilterCapacity, FilterFPRate) }

// CancelFilter is the Redis-held Bloom filter of order ids with requests.
type CancelFilter struct {
	rdb      redis.UniversalClient
	bitsKey  string
	readyKey string
	lockKey  string
	m, k     uint
}

// NewCancelFilter returns the filter under prefix (the Redis keys
// prefix+"bits" and prefix+"ready"; DefaultFilterPrefix in the apps).
func NewCancelFilter(rdb redis.UniversalClient, prefix string) *CancelFilter {
	m, k := FilterParams()
	return &CancelFilter{rdb: rdb, bitsKey: prefix + "bits", readyKey: prefix + "ready", lockKey: prefix + "rebuild", m: m, k: k}
}

// DefaultFilterPrefix is the filter's key prefix in the shared Redis.
const DefaultFilterPrefix = "harvest:aftersales:cancel-filter:"

// Offsets are the filter's bit positions of orderID.
func (f *CancelFilter) Offsets(orderID string) []uint64 {
	locs := bloom.Locations([]byte(orderID), f.k)
	for i := range locs {
		locs[i] %= uint64(f.m)
	}
	return locs
}

// setArgs are BITFIELD's arguments setting the bits at offs.
func setArgs(offs []uint64) []any {
	args := make([]any, 0, 4*len(offs))
	for _, o := range offs {
		args = append(args, "SET", "u1", o, 1)
	}
	return args
}

// getArgs are BITFIELD_RO's (go-redis adds GET before each pair).
func getArgs(offs []uint64) []any {
	args := make([]any, 0, 2*len(offs))
	for _, o := range offs {
		args = append(args, "u1", o)
	}
	return args
}

// Add sets orderID's bits; after-sales calls it before a request is
// answered as accepted.
func (f *CancelFilter) Add(ctx context.Context, orderID string) error {
	if err := f.rdb.BitField(ctx, f.bitsKey, setArgs(f.Offsets(orderID))...).Err(); err != nil {
		return fmt.Errorf("cancel filter: add %s: %w", orderID, err)
	}
	return nil
}

// ErrFilterNotReady: the filter has not been (re)built; its "no" cannot
// be believed, ask after-sales.
var ErrFilterNotReady = errors.New("cancel filter not built")

// MayHave answers whether orderID may have a request: false is certain
// (no request was accepted for it); true may be wrong (about 1 %).
// ErrFilterNotReady when the filter is missing.
func (f *CancelFilter) MayHave(ctx context.Context, orderID string) (bool, error) {
	var bits *redis.IntSliceCmd
	var ready *redis.IntCmd
	_, err := f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		bits = p.BitFieldRO(ctx, f.bitsKey, getArgs(f.Offsets(orderID))...)
		ready = p.Exists(ctx, f.readyKey)
		return nil
	})
	if err == nil {
		err = bits.Err()
	}
	if err == nil && len(bits.Val()) != int(f.k) {
		err = fmt.Errorf("%d bits answered, want %d", len(bits.Val()), f.k)
	}
	if err != nil {
		return true, fmt.Errorf("cancel filter: test %s: %w", orderID, err)
	}
	for _, b := range bits.Val() {
		if b == 0 {
			if ready.Val() == 0 {
				return true, ErrFilterNotReady
			}
			return false, nil
		}
	}
	return true, nil
}

// Ready reports whether the filter was built.
func (f *CancelFilter) Ready(ctx context.Context) (bool, error) {
	n, err := f.rdb.Exists(ctx, f.readyKey).Result()
	return n == 1, err
}

// Rebuild sets the bits of every order id next yields (after-sales' own
// rows, in pages; next returns none when done) and then marks the
// filter ready. One rebuild at a time across after-sales' replicas (a
// lock key with a timeout); false when another holds it.
func (f *CancelFilter) Rebuild(ctx context.Context, next func(ctx context.Context) ([]string, error)) (bool, error) {
	ok, err := f.rdb.SetNX(ctx, f.lockKey, "1", 10*time.Minute).Result()
	if err != nil || !ok {
		return false, err
	}
	defer f.rdb.Del(context.WithoutCancel(ctx), f.lockKey)
	for {
		ids, err := next(ctx)
		if err != nil {
			return false, err
		}
		if len(ids) == 0 {
			break
		}
		_, err = f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, id := range ids {
				p.BitField(ctx, f.bitsKey, setArgs(f.Offsets(id))...)
			}
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("cancel filter: rebuild: %w", err)
		}
	}
	if err := f.rdb.Set(ctx, f.readyKey, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return false, fmt.Errorf("cancel filter: mark ready: %w", err)
	}
	return true, nil
}
