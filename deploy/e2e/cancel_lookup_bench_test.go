package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/aftersalesclient/mirrortest"
	"github.com/harvest/harvest/apps/platform/daprx"
)

// BenchmarkCancelLookupThroughSidecars is order detail's cancelRequest
// for an order without a request, both ways on the running stack, beside
// each other in one run (issue 15, target ≥ 100×): filter_no_memory is
// the filter's certain "no" from a gateway's mirror of the stack's filter
// in memory (registered in the stack's registry like a gateway's, so the
// stack's after-sales waits for it); filter_no_redis the same "no" from
// one pipelined Redis read; aftersales_through_sidecars asks after-sales the way the
// gateway does — the gateway's daprd, after-sales' daprd, after-sales'
// handler, MariaDB and back — with the gateway's API token on the
// gateway's own sidecar. apps/aftersales/api's BenchmarkCancelLookup
// has the in-process lower bound of the second (no sidecars).
//
//	go test -count=1 -run '^$' -bench CancelLookupThroughSidecars -benchtime 3s ./deploy/e2e/
func BenchmarkCancelLookupThroughSidecars(b *testing.B) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: st.RedisDB()})
	b.Cleanup(func() { _ = rdb.Close() })
	filter := aftersalesclient.NewCancelFilter(rdb, aftersalesclient.DefaultFilterPrefix)
	// After-sales builds the filter when it starts; until then every
	// lookup would ask it and the filter's paths would measure nothing.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if ok, err := filter.Ready(ctx); ok {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("the stack's cancel filter is not ready after a minute (%v)", err)
		}
	}
	p, _ := st.Ports("gateway")
	client := aftersalesclient.New(daprx.NewInvoker(p.DaprHTTP, daprx.WithAPIToken(st.DaprToken("gateway"))))
	// Order ids no one ordered: after-sales has no request for them, and
	// the filter says "no" for all but its ~1 % false positives.
	orderID := func(i int) string { return "BENCH-NONE-" + strconv.Itoa(i%100000) }

	mirror := mirrortest.Started(b, ctx, filter)
	b.Run("filter_no_memory", func(b *testing.B) {
		b.ReportAllocs()
		i, maybes, fromRedis := 0, 0, 0
		for b.Loop() {
			i++
			maybe, memory, err := mirror.MayHaveFrom(ctx, orderID(i))
			if err != nil {
				b.Fatal(err)
			}
			if maybe {
				maybes++
			}
			if !memory {
				fromRedis++
			}
		}
		if b.N >= 1000 && maybes*10 > b.N {
			b.Fatalf("the mirror answered maybe for %d of %d orders without a request", maybes, b.N)
		}
		// Lookups out of the mirror's lease (a starved machine) went to
		// Redis: then this is not the path it says.
		if fromRedis*100 > b.N {
			b.Fatalf("%d of %d lookups out of the mirror's lease", fromRedis, b.N)
		}
	})
	b.Run("filter_no_redis", func(b *testing.B) {
		b.ReportAllocs()
		i, maybes := 0, 0
		for b.Loop() {
			i++
			maybe, err := filter.MayHave(ctx, orderID(i))
			if err != nil {
				b.Fatal(err)
			}
			if maybe {
				maybes++
			}
		}
		// A "maybe" would send order detail to after-sales: with 1 %
		// false positives anything near 100 % means the filter is broken.
		if b.N >= 1000 && maybes*10 > b.N {
			b.Fatalf("the filter answered maybe for %d of %d orders without a request", maybes, b.N)
		}
	})
	b.Run("aftersales_through_sidecars", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			q, err := client.CancelOfOrder(ctx, "C0001", orderID(i))
			if err != nil || q != nil {
				b.Fatal(q, err)
			}
		}
	})
}
