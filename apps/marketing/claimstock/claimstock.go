// Package claimstock counts the stock of pop-up claim campaigns in Redis
// (DOMAIN 3.3's user-assets service): a unit is deducted first, then the
// binding is stored in MariaDB; a claim refused after its unit was taken
// gives it back.
//
// # Keys
//
// Both keys of a campaign share a {hash tag}, so one script sees them
// together even if Redis is ever clustered:
//
//	<p>{cc:<campaign>}:stock  hash left, epoch: the units not yet taken
//	<p>{cc:<campaign>}:taken  hash claim id → epoch: who holds a unit
//
// # Never oversold
//
// The take script (takeScript) gives a claim a unit only when left > 0
// and records the claim in taken in the same step; a claim found there
// already holds its unit (REPEAT: a retry after a crash takes nothing
// twice). The give-back script deletes the claim's entry and adds one to
// left only when the entry was there, so a give-back run twice gives one
// unit. A unit is given back only for a claim refused for good, under the
// refusal's own row in claim_givebacks (see the store): a crash between
// the refusal and the give-back leaves the row, counted and given back
// later by the reconciler, the unit meanwhile unsold (never oversold).
//
// # Redis restarts (this Redis keeps nothing on disk)
//
// A missing counter is rebuilt from MariaDB (Rebuild, in the store) under
// the campaign row's lock: left = stock − bound claims − pending claims
// given a unit again (the oldest pending ones, as many as stock allows),
// with a new epoch. A binding reads the campaign's epoch under a shared
// lock and refuses a take made on an older counter (domain.ErrStaleStock),
// which may have vanished with the old Redis.
package claimstock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Take outcomes, one per claim.
const (
	Taken  = 'T' // a unit was taken for the claim now
	Repeat = 'R' // the claim held a unit already
	Out    = 'O' // no unit left
)

// ErrMissing says Redis holds no counter for the campaign: rebuild it.
var ErrMissing = errors.New("claim stock counter missing")

// takeScript takes one unit per claim id in ARGV, in order, while units
// last. KEYS[1] counter, KEYS[2] taken. Answers {"MISSING"} or {epoch,
// outcome...} (T, R or O per claim).
var takeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'left', 'epoch', 'exp')
if not v[1] then return {'MISSING'} end
local left = tonumber(v[1])
local out = {v[2]}
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    out[#out+1] = 'R'
  elseif left <= 0 then
    out[#out+1] = 'O'
  else
    left = left - 1
    redis.call('HSET', KEYS[2], ARGV[i], v[2])
    out[#out+1] = 'T'
  end
end
redis.call('HSET', KEYS[1], 'left', left)
if v[3] and redis.call('PTTL', KEYS[2]) == -1 then redis.call('PEXPIREAT', KEYS[2], v[3]) end
return out
`)

// giveBackScript returns the unit of each claim id in ARGV that holds
// one. KEYS as takeScript. Answers the units returned (0 when the counter
// is missing: a rebuild counts from MariaDB).
var giveBackScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('HDEL', KEYS[2], ARGV[i])
end
if n > 0 then redis.call('HINCRBY', KEYS[1], 'left', n) end
return n
`)

// rebuildScript creates a missing counter with the claims given a unit
// again; it does nothing when the counter exists. KEYS as takeScript.
// ARGV[1] left, ARGV[2] epoch, ARGV[3] when both keys expire (unix ms),
// then claim ids.
var rebuildScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'left', ARGV[1], 'epoch', ARGV[2], 'exp', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
for i = 4, #ARGV do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[2])
end
if #ARGV >= 4 then redis.call('PEXPIREAT', KEYS[2], ARGV[3]) end
return 1
`)

// Stock is the Redis side of claim stock.
type Stock struct {
	rdb    *redis.Client
	prefix string
}

// New returns the claim stock under keyPrefix (the app's, or a test's).
func New(rdb *redis.Client, keyPrefix string) *Stock { return &Stock{rdb: rdb, prefix: keyPrefix} }

func (s *Stock) keys(campaign string) []string {
	tag := s.prefix + "{cc:" + campaign + "}:"
	return []string{tag + "stock", tag + "taken"}
}

// Take takes a unit for each claim, in order; it answers the counter's
// epoch and one outcome per claim, or ErrMissing.
func (s *Stock) Take(ctx context.Context, campaign string, claims []string) (int64, []byte, error) {
	args := make([]any, len(claims))
	for i, c := range claims {
		args[i] = c
	}
	raw, err := takeScript.Run(ctx, s.rdb, s.keys(campaign), args...).StringSlice()
	if err != nil {
		return 0, nil, fmt.Errorf("take claim stock of %s: %w", campaign, err)
	}
	if len(raw) == 1 && raw[0] == "MISSING" {
		return 0, nil, ErrMissing
	}
	if len(raw) != len(claims)+1 {
		return 0, nil, fmt.Errorf("take claim stock of %s: %d answers for %d claims", campaign, len(raw)-1, len(claims))
	}
	epoch, err := strconv.ParseInt(raw[0], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("take claim stock of %s: epoch %q", campaign, raw[0])
	}
	out := make([]byte, len(claims))
	for i, r := range raw[1:] {
		out[i] = r[0]
	}
	return epoch, out, nil
}

// GiveBack returns the units the claims hold; it answers how many went
// back. Safe to run any number of times.
func (s *Stock) GiveBack(ctx context.Context, campaign string, claims []string) (int, error) {
	args := make([]any, len(claims))
	for i, c := range claims {
		args[i] = c
	}
	n, err := giveBackScript.Run(ctx, s.rdb, s.keys(campaign), args...).Int()
	if err != nil {
		return 0, fmt.Errorf("give back claim stock of %s: %w", campaign, err)
	}
	return n, nil
}

// Left reads the units left; ErrMissing when Redis holds no counter.
func (s *Stock) Left(ctx context.Context, campaign string) (int64, error) {
	n, err := s.rdb.HGet(ctx, s.keys(campaign)[0], "left").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, ErrMissing
	}
	if err != nil {
		return 0, fmt.Errorf("read claim stock of %s: %w", campaign, err)
	}
	return n, nil
}

// Exists reports whether Redis holds the campaign's counter.
func (s *Stock) Exists(ctx context.Context, campaign string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys(campaign)[0]).Result()
	if err != nil {
		return false, fmt.Errorf("read claim stock of %s: %w", campaign, err)
	}
	return n == 1, nil
}

// Create sets a missing counter to left with epoch, claims holding a unit
// each, both keys expiring at expires (a campaign's keys outlive it by
// the store's retention, then go: the claims' rows stay the record); it
// reports false (and changes nothing) when the counter exists.
func (s *Stock) Create(ctx context.Context, campaign string, left, epoch int64, holders []string, expires time.Time) (bool, error) {
	// Redis expires by its own clock: a counter rebuilt for a campaign
	// long over still lives an hour, for its late claims.
	if floor := time.Now().Add(time.Hour); expires.Before(floor) {
		expires = floor
	}
	args := make([]any, 0, 3+len(holders))
	args = append(args, left, epoch, expires.UnixMilli())
	for _, h := range holders {
		args = append(args, h)
	}
	n, err := rebuildScript.Run(ctx, s.rdb, s.keys(campaign), args...).Int()
	if err != nil {
		return false, fmt.Errorf("rebuild claim stock of %s: %w", campaign, err)
	}
	return n == 1, nil
}

// Drop deletes the campaign's keys (tests: Redis lost them).
func (s *Stock) Drop(ctx context.Context, campaign string) error {
	return s.rdb.Del(ctx, s.keys(campaign)...).Err()
}
