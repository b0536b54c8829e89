package aftersalesclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/platform/ids"
)

// Mirror is a gateway's copy of the cancel filter in its own memory,
// answering "no" without a round trip while its lease holds and asking
// the Redis filter (MayHave) otherwise; bloom.go's package comment has the
// protocol that keeps its "no" right. Run keeps it; it satisfies the
// gateway's CancelFilter.
type Mirror struct {
	f   *CancelFilter
	id  string
	log *slog.Logger
	// origin is the zero of trustedUntil: time.Since(origin) reads the
	// monotonic clock, which wall-clock steps do not move.
	origin time.Time
	copy   atomic.Pointer[mirrorCopy]
	// paused, when set, holds Run before its next renewal until the
	// channel closes (export_test.go: a stalled gateway, its lease lapsing).
	paused atomic.Pointer[chan struct{}]
}

// mirrorCopy is one snapshot of the bits and the entries applied on it.
type mirrorCopy struct {
	generation string
	// words hold the bits in Redis' layout (bit o is byte o/8's bit
	// 7-o%8), four bytes a word little-endian, so that applying entries
	// while order details read needs no lock.
	words []atomic.Uint32
	// trustedUntil is ns since origin; 0 until the first renewal counts.
	trustedUntil atomic.Int64
}

func (c *mirrorCopy) set(o uint64) {
	byteIdx := o >> 3
	c.words[byteIdx>>2].Or(uint32(0x80>>(o&7)) << (8 * (byteIdx & 3)))
}

func (c *mirrorCopy) test(o uint64) bool {
	byteIdx := o >> 3
	return c.words[byteIdx>>2].Load()&(uint32(0x80>>(o&7))<<(8*(byteIdx&3))) != 0
}

// NewMirror returns a mirror of f, idle until Run.
func NewMirror(f *CancelFilter, log *slog.Logger) *Mirror {
	if log == nil {
		log = slog.Default()
	}
	return &Mirror{f: f, id: "mirror-" + ids.New(), log: log, origin: time.Now()}
}

// trust is how long after sending a renewal the mirror believes its copy:
// Redis set the expiry one lease after it ran the renewal, later than the
// send; a quarter of the lease is left for the two clocks' rates and the
// time between reading the bits and answering.
func (m *Mirror) trust() time.Duration { return m.f.lease * 3 / 4 }

// renewEvery is the longest the mirror waits on the stream between
// renewals: five renewals a lease, so one slow round trip does not lapse it.
func (m *Mirror) renewEvery() time.Duration { return m.f.lease / 5 }

// MayHave answers as CancelFilter.MayHave does, from memory while the
// lease holds.
func (m *Mirror) MayHave(ctx context.Context, orderID string) (bool, error) {
	maybe, _, err := m.MayHaveFrom(ctx, orderID)
	return maybe, err
}

// MayHaveFrom is MayHave and whether the answer came from memory (false:
// from the Redis filter).
func (m *Mirror) MayHaveFrom(ctx context.Context, orderID string) (maybe, fromMemory bool, err error) {
	if c := m.copy.Load(); c != nil {
		maybe = true
		for _, o := range m.f.Offsets(orderID) {
			if !c.test(o) {
				maybe = false
				break
			}
		}
		// Checked after the read: the bits read were the copy's while the
		// lease held.
		if int64(time.Since(m.origin)) < c.trustedUntil.Load() {
			return maybe, true, nil
		}
	}
	maybe, err = m.f.MayHave(ctx, orderID)
	return maybe, false, err
}

// Start runs Run in the background (for code without a runtime.App:
// tests, benchmarks, tools); stop ends it and waits for it to leave the
// registry.
func (m *Mirror) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx) // Run logs what goes wrong and returns nil
	}()
	return func() { cancel(); <-done }
}

// AwaitCopy waits until the mirror answers from memory (registered, its
// lease held), polling every 10 ms; ctx's error when it ends first.
// Benchmarks wait for it so that they measure the path they name.
func (m *Mirror) AwaitCopy(ctx context.Context) error {
	for {
		if c := m.copy.Load(); c != nil && int64(time.Since(m.origin)) < c.trustedUntil.Load() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cancel filter mirror: no copy in memory yet: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// registerScript: KEYS bits, log, registry, ready; ARGV mirror id, lease
// ms. Nil while the filter is not ready; else registers the mirror as
// having applied the stream's last entry and answers {generation, that
// entry's id, the bits}.
var registerScript = redis.NewScript(luaRegistry + `
local generation = redis.call('GET', KEYS[4])
if not generation then return false end
local now = nowms()
scan(KEYS[3], now, tonumber(ARGV[2]), '0-0')
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local applied = '0-0'
if #last > 0 then applied = last[1][1] end
redis.call('HSET', KEYS[3], ARGV[1], applied .. ' ' .. (now + tonumber(ARGV[2])))
return {generation, applied, redis.call('GET', KEYS[1]) or ''}
`)

// renewScript: KEYS registry, ready; ARGV mirror id, generation, applied
// entry id, lease ms. 1 when renewed; 0 when refused: the entry is gone or
// expired (then removed), or the generation is not the ready mark's. That
// entry is left to expire, not removed: the mirror learns of the refusal
// only when the pipelined XREAD returns and believes its copy until then,
// so Add must keep counting it.
var renewScript = redis.NewScript(luaRegistry + `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
local now = nowms()
local expiry = tonumber(string.match(entry, ' (%d+)$'))
if expiry <= now then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. ' ' .. (now + tonumber(ARGV[4])))
return 1
`)

// errNotReady: the filter is not marked ready; the mirror cannot snapshot.
var errNotReady = errors.New("cancel filter not ready")

// register snapshots the filter and registers the mirror in one step.
func (m *Mirror) register(ctx context.Context) (*mirrorCopy, string, error) {
	sent := time.Since(m.origin)
	res, err := registerScript.Run(ctx, m.f.rdb, []string{m.f.bitsKey, m.f.logKey, m.f.registryKey, m.f.readyKey},
		m.id, m.f.lease.Milliseconds()).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, "", errNotReady
	}
	if err != nil {
		return nil, "", fmt.Errorf("cancel filter mirror: register: %w", err)
	}
	generation, _ := res[0].(string)
	applied, _ := res[1].(string)
	bits, _ := res[2].(string)
	c := &mirrorCopy{generation: generation, words: make([]atomic.Uint32, (m.f.m+31)/32)}
	if len(bits) > 4*len(c.words) {
		// Another m wrote these bits: its offsets are not this filter's.
		return nil, "", fmt.Errorf("cancel filter mirror: %d bytes of bits, a filter of %d bits has at most %d", len(bits), m.f.m, 4*len(c.words))
	}
	var word [4]byte
	for i := 0; i < len(bits); i += 4 {
		clear(word[:])
		copy(word[:], bits[i:])
		if w := binary.LittleEndian.Uint32(word[:]); w != 0 {
			c.words[i/4].Store(w)
		}
	}
	c.trustedUntil.Store(int64(sent + m.trust()))
	return c, applied, nil
}

// Run keeps the mirror until ctx ends: registers (again whenever a renewal
// is refused), tails the stream, renews the lease; it leaves the registry
// when it stops, so accepts do not wait for a gateway that is gone. Redis
// errors are logged and retried: the lease lapses and the gateway reads
// the Redis filter meanwhile.
func (m *Mirror) Run(ctx context.Context) error {
	defer func() {
		m.copy.Store(nil)
		m.f.rdb.HDel(context.WithoutCancel(ctx), m.f.registryKey, m.id)
	}()
	var c *mirrorCopy
	var applied string
	pause := func() {
		select {
		case <-ctx.Done():
		case <-time.After(m.renewEvery()):
		}
	}
	for ctx.Err() == nil {
		if c == nil {
			var err error
			c, applied, err = m.register(ctx)
			if err != nil {
				if !errors.Is(err, errNotReady) && ctx.Err() == nil {
					m.log.Warn("cancel filter mirror", "err", err)
				}
				pause()
				continue
			}
			m.copy.Store(c)
		}
		if gate := m.paused.Load(); gate != nil {
			select {
			case <-*gate:
			case <-ctx.Done():
			}
		}
		sent := time.Since(m.origin)
		var renewed *redis.Cmd
		var read *redis.XStreamSliceCmd
		_, err := m.f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT.
			renewed = renewScript.Eval(ctx, p, []string{m.f.registryKey, m.f.readyKey}, m.id, c.generation, applied,
				m.f.lease.Milliseconds())
			read = p.XRead(ctx, &redis.XReadArgs{Streams: []string{m.f.logKey, applied}, Count: 1000, Block: m.renewEvery()})
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			if ctx.Err() == nil {
				m.log.Warn("cancel filter mirror", "err", err)
				pause()
			}
			continue
		}
		if ok, err := renewed.Int(); err != nil || ok != 1 {
			// Refused: the copy may lack what Add no longer waits for.
			m.copy.Store(nil)
			c = nil
			continue
		}
		c.trustedUntil.Store(int64(sent + m.trust()))
		streams, _ := read.Result()
		for _, s := range streams {
			for _, e := range s.Messages {
				if id, ok := e.Values["o"].(string); ok {
					for _, o := range m.f.Offsets(id) {
						c.set(o)
					}
				}
				applied = e.ID
			}
		}
	}
	return nil
}
