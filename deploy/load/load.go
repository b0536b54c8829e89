// Package load holds Harvest's load runs: open-loop GraphQL traffic against
// a running stack (vegeta), and the baselines each run is reported beside,
// measured in the same run on the same machine so the ratio holds when the
// machine is noisy.
package load

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rate is a measured throughput with latency percentiles.
type Rate struct {
	Name     string
	Ops      int64
	Errors   int64
	Elapsed  time.Duration
	P50, P99 time.Duration
	// P95 and Max are filled by Attack and Closed (the tail an open-loop
	// read run reports beside p50 and p99).
	P95, Max time.Duration
}

// PerSecond is Ops over Elapsed.
func (r Rate) PerSecond() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

func (r Rate) String() string {
	return fmt.Sprintf("%-34s %9d ops %6d errors in %6.1fs = %9.0f/s  p50 %8s  p99 %8s",
		r.Name, r.Ops, r.Errors, r.Elapsed.Seconds(), r.PerSecond(), r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond))
}

// Closed runs op from workers goroutines as fast as they go for d and
// measures it: a closed-loop baseline of what the bare store can do.
func Closed(ctx context.Context, name string, workers int, d time.Duration, op func(ctx context.Context, worker int, i int64) error) Rate {
	var ops, errs atomic.Int64
	lat := make([][]time.Duration, workers)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := int64(0); ctx.Err() == nil; i++ {
				t := time.Now()
				if err := op(ctx, w, i); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				lat[w] = append(lat[w], time.Since(t))
				ops.Add(1)
			}
		}(w)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	l := Summarize(all)
	return Rate{Name: name, Ops: ops.Load(), Errors: errs.Load(), Elapsed: time.Since(start), P50: l.P50, P99: l.P99, P95: l.P95, Max: l.Max}
}

// Percentiles returns p50 and p99 of ds (sorted in place).
func Percentiles(ds []time.Duration) (time.Duration, time.Duration) {
	l := Summarize(ds)
	return l.P50, l.P99
}

// Latency is a latency distribution's summary, nearest rank.
type Latency struct{ P50, P95, P99, Max time.Duration }

// Summarize returns p50, p95, p99 and the maximum of ds (sorted in
// place); all zero for none.
func Summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return Latency{P50: Quantile(ds, 0.50), P95: Quantile(ds, 0.95), P99: Quantile(ds, 0.99), Max: ds[len(ds)-1]}
}

// luaTake is the bare flash-sale primitive: take n units if that many are left.
var luaTake = redis.NewScript(`
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if left < n then return -1 end
return redis.call('DECRBY', KEYS[1], n)`)

// RedisLuaBaseline measures the bare Redis Lua decrement rate on a scratch
// key: the ceiling any flash-sale path built on Redis can reach here.
func RedisLuaBaseline(ctx context.Context, rdb *redis.Client, workers int, d time.Duration) (Rate, error) {
	key := fmt.Sprintf("load:baseline:lua:%d", time.Now().UnixNano())
	if err := rdb.Set(ctx, key, 1<<40, time.Hour).Err(); err != nil {
		return Rate{}, err
	}
	defer rdb.Del(context.Background(), key)
	return Closed(ctx, "baseline: redis lua decrement", workers, d, func(ctx context.Context, _ int, _ int64) error {
		return luaTake.Run(ctx, rdb, []string{key}, 1).Err()
	}), nil
}
