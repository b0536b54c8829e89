package aftersalesclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/platform/ids"
)

// The cancel-request filter (DOMAIN 5): a Bloom filter of the order ids
// that have an after-sales request, so that order detail skips
// after-sales entirely for the ~99 % of orders that have none.
//
// The rule is that no gateway instance may ever say "no" wrongly from the
// moment a request is accepted. The bits' one authoritative copy lives in
// Redis: after-sales sets the k bits of an order id (the library's
// bloom.Locations, reduced modulo m exactly as the library's own Test
// does) before it answers the request accepted; a gateway can read the
// same k bits with one BITFIELD_RO pipelined with the ready mark
// (MayHave). Bits are only ever set, never cleared (a finished request
// still shows on order detail).
//
// The gateway's mirror (mirror.go) answers from a copy in its own memory
// instead, without a round trip, and is still never wrong, because
// after-sales does not answer until every copy that could say "no" has the
// bits. The protocol, every step of it one Lua script so that Redis' own
// clock (TIME) is the only clock the two sides compare:
//
//   - Add sets the bits AND appends the order id to a stream (LogKey) in
//     one step, getting the entry's id E; then it waits until every mirror
//     in the registry (a hash, mirror id -> "applied-entry lease-expiry")
//     has applied an entry >= E or let its lease expire by Redis' clock.
//     A live mirror that stopped (a dead gateway) delays accepts by at most
//     one lease, because expired entries no longer count.
//   - A mirror registers AND snapshots the bits with the stream's last id
//     in one step (nothing falls between the two), tails the stream with
//     XREAD BLOCK, applies each entry and renews its lease with the id it
//     has applied, pipelined with the next XREAD: one renewal per batch,
//     and at least every lease/5 when nothing comes.
//   - A renewal is refused when the mirror's entry is gone or expired, or
//     the ready mark is missing or changed: the mirror then drops its copy
//     and registers anew (a fresh snapshot). An expired lease never comes
//     back to life with an old copy, which is what lets Add stop waiting
//     for it.
//   - A mirror believes its copy only while the lease it last renewed is
//     valid by its own monotonic clock, counted from when it SENT that
//     renewal (Redis set the expiry later than that) and shortened by a
//     margin for clock rates; it checks that after reading the bits. Out of
//     its lease it answers with MayHave, as a gateway without a mirror does.
//
// Missing filter. A Redis that lost the keys (flushed, a new instance)
// would answer "no" for everything; so a "no" is believed only while
// ReadyKey exists, which after-sales sets after a complete rebuild from its
// own database (Rebuild): rows written during the rebuild set their own
// bits before they answer, so nothing falls between. A mirror registers
// only while the mark exists (its snapshot is then complete), and the
// mark's value is a generation: a rebuild's new value refuses every older
// mirror's renewal, so the rebuild's bits reach mirrors by re-snapshot.
// Losing the registry is what would let Add stop waiting for a mirror that
// still believes an old copy; so the registry carries the Redis time it
// was (re)created (@born), and Add waits until it is a lease old: any
// mirror registered in a lost registry has stopped believing by then, and
// every mirror since is in the new one. So after a loss the first lease's
// accepts each wait up to one lease, then none do. Redis must keep the
// keys: noeviction and persistence (AOF), which the local stack's Redis
// and production's have; a restore from an older snapshot must drop
// ReadyKey and the registry (an old registry would hide the mirrors
// registered since). Redis' clock must not step forward (NTP slewing is
// fine): leases are measured by it.
//
// Trimming: Add trims the stream (XTRIM MINID ~) below the lowest entry a
// live mirror has applied, so the stream holds about what mirrors still
// need; a mirror that falls behind a trimmed point has lost its lease
// first (its entry was removed as expired), so its renewal is refused and
// it re-snapshots.
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
	rdb         redis.UniversalClient
	bitsKey     string
	readyKey    string
	lockKey     string
	logKey      string
	registryKey string
	m, k        uint
	lease       time.Duration
	// skipMirrorWait makes Add answer without waiting for the mirrors,
	// skipYoungWait without waiting out a young registry (export_test.go):
	// the tests show that either breaks the rule.
	skipMirrorWait, skipYoungWait bool
}

// DefaultLease is how long a mirror's renewal keeps it counted by Add
// (and believed by itself, less a margin): the longest a dead gateway can
// delay an accept.
const DefaultLease = 2 * time.Second

// FilterOption changes a CancelFilter's defaults.
type FilterOption func(*CancelFilter)

// WithLease sets the mirrors' lease (DefaultLease). Every party using the
// same keys must use the same lease: after-sales waits one lease for the
// mirrors' copies to lapse. Tests use short ones.
func WithLease(d time.Duration) FilterOption { return func(f *CancelFilter) { f.lease = d } }

// NewCancelFilter returns the filter under prefix (the Redis keys
// prefix+"bits", prefix+"ready", prefix+"log" and prefix+"mirrors";
// DefaultFilterPrefix in the apps).
func NewCancelFilter(rdb redis.UniversalClient, prefix string, opts ...FilterOption) *CancelFilter {
	m, k := FilterParams()
	f := &CancelFilter{rdb: rdb, bitsKey: prefix + "bits", readyKey: prefix + "ready", lockKey: prefix + "rebuild",
		logKey: prefix + "log", registryKey: prefix + "mirrors", m: m, k: k, lease: DefaultLease}
	for _, o := range opts {
		o(f)
	}
	return f
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

// The scripts' common part: Redis' clock in ms, stream id order, and the
// registry's scan. scan drops expired mirrors and answers how many live
// ones have not applied entry id, the lowest entry a live one has applied
// (id when none has less), and how many ms remain until the registry is a
// lease old (creating it, born now, when it is missing).
const luaRegistry = `
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function idless(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local function scan(reg, now, lease, id)
  local born = redis.call('HGET', reg, '@born')
  if not born then
    redis.call('HSET', reg, '@born', now)
    born = now
  end
  local pending, lowest = 0, id
  local all = redis.call('HGETALL', reg)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 1) ~= '@' then
      local applied, expiry = string.match(all[i + 1], '^(%S+) (%d+)$')
      if tonumber(expiry) <= now then
        redis.call('HDEL', reg, all[i])
      else
        if idless(applied, id) then pending = pending + 1 end
        if idless(applied, lowest) then lowest = applied end
      end
    end
  end
  return pending, lowest, math.max(0, tonumber(born) + lease - now)
end
`

// addScript: KEYS bits, log, registry; ARGV lease ms, order id, offsets.
// Sets the bits, appends the id, trims what every live mirror applied;
// answers {entry id, mirrors pending, ms until the registry is a lease old}.
var addScript = redis.NewScript(luaRegistry + `
local now = nowms()
for i = 3, #ARGV do redis.call('SETBIT', KEYS[1], ARGV[i], 1) end
local id = redis.call('XADD', KEYS[2], '*', 'o', ARGV[2])
local pending, lowest, young = scan(KEYS[3], now, tonumber(ARGV[1]), id)
redis.call('XTRIM', KEYS[2], 'MINID', '~', lowest)
return {id, pending, young}
`)

// awaitScript: KEYS registry; ARGV lease ms, entry id. Answers {mirrors
// pending, ms until the registry is a lease old}.
var awaitScript = redis.NewScript(luaRegistry + `
local pending, lowest, young = scan(KEYS[1], nowms(), tonumber(ARGV[1]), ARGV[2])
return {pending, young}
`)

// Add sets orderID's bits; after-sales calls it before a request is
// answered as accepted. It returns once every mirror that could answer
// "no" has the bits (the package comment), at most about one lease later;
// a mirror that keeps renewing without ever applying them (a broken one)
// fails it after three, and the request is not accepted.
func (f *CancelFilter) Add(ctx context.Context, orderID string) error {
	offs := f.Offsets(orderID)
	args := make([]any, 0, 2+len(offs))
	args = append(args, f.lease.Milliseconds(), orderID)
	for _, o := range offs {
		args = append(args, o)
	}
	res, err := addScript.Run(ctx, f.rdb, []string{f.bitsKey, f.logKey, f.registryKey}, args...).Slice()
	if err != nil {
		return fmt.Errorf("cancel filter: add %s: %w", orderID, err)
	}
	if f.skipMirrorWait {
		return nil
	}
	entry, _ := res[0].(string)
	pending, young := res[1].(int64), res[2].(int64)
	if f.skipYoungWait {
		young = 0
	}
	giveUp := time.Now().Add(3 * f.lease)
	// The mirrors apply an entry about one round trip after it is written
	// (they block on the stream); polling from 100 µs up to 5 ms keeps
	// both the wait and the Redis load small.
	poll := 100 * time.Microsecond
	for pending > 0 || young > 0 {
		wait := poll
		if young > 0 {
			wait = time.Duration(young) * time.Millisecond
		} else {
			poll = min(2*poll, 5*time.Millisecond)
		}
		if time.Now().Add(wait).After(giveUp) {
			return fmt.Errorf("cancel filter: add %s: %d mirrors have not applied entry %s after %s", orderID, pending, entry, 3*f.lease)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cancel filter: add %s: waiting for the mirrors: %w", orderID, ctx.Err())
		case <-time.After(wait):
		}
		r, err := awaitScript.Run(ctx, f.rdb, []string{f.registryKey}, f.lease.Milliseconds(), entry).Int64Slice()
		if err != nil {
			return fmt.Errorf("cancel filter: add %s: waiting for the mirrors: %w", orderID, err)
		}
		pending, young = r[0], r[1]
		if f.skipYoungWait {
			young = 0
		}
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
	// The mark's value is the rebuild's generation: mirrors holding an
	// older one re-snapshot (the package comment).
	if err := f.rdb.Set(ctx, f.readyKey, time.Now().UTC().Format(time.RFC3339Nano)+" "+ids.New(), 0).Err(); err != nil {
		return false, fmt.Errorf("cancel filter: mark ready: %w", err)
	}
	return true, nil
}
