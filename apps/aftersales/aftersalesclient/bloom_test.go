package aftersalesclient_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// Two gateway replicas (two clients, two filters over the same keys): an
// id after-sales added through one is seen at once through the other; an
// unknown id is "no" only once the filter was built, before that the
// filter says it cannot tell.
func TestFilterAcrossReplicas(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	other := redis.NewClient(&redis.Options{Addr: rdb.Options().Addr})
	t.Cleanup(func() { other.Close() })
	ctx := context.Background()
	writer := aftersalesclient.NewCancelFilter(rdb, prefix)
	replicaA, replicaB := aftersalesclient.NewCancelFilter(rdb, prefix), aftersalesclient.NewCancelFilter(other, prefix)
	if _, err := replicaB.MayHave(ctx, "O-unknown"); !errors.Is(err, aftersalesclient.ErrFilterNotReady) {
		t.Fatalf("missing filter: %v", err)
	}
	existing := []string{"O-old-1", "O-old-2"}
	served := false
	built, err := writer.Rebuild(ctx, func(context.Context) ([]string, error) {
		if served {
			return nil, nil
		}
		served = true
		return existing, nil
	})
	if !built || err != nil {
		t.Fatalf("rebuild: %v %v", built, err)
	}
	for i := range 200 {
		id := fmt.Sprintf("O-%d", i)
		if maybe, err := replicaB.MayHave(ctx, id); err != nil || (maybe && i < 3) {
			// a false positive among the first few would be a broken filter
			t.Fatalf("before add %s: %v %v", id, maybe, err)
		}
		if err := writer.Add(ctx, id); err != nil {
			t.Fatal(err)
		}
		for _, f := range []*aftersalesclient.CancelFilter{replicaA, replicaB} {
			if maybe, err := f.MayHave(ctx, id); !maybe || err != nil {
				t.Fatalf("after add %s: %v %v", id, maybe, err)
			}
		}
	}
	for _, id := range existing {
		if maybe, err := replicaA.MayHave(ctx, id); !maybe || err != nil {
			t.Fatalf("rebuilt %s: %v %v", id, maybe, err)
		}
	}
}

// The Redis bits are the library's own: a bloom.BloomFilter of the same
// m and k holding an id has exactly the offsets CancelFilter sets.
func TestFilterOffsetsAreTheLibrarys(t *testing.T) {
	m, k := aftersalesclient.FilterParams()
	if m != 95850584 || k != 7 {
		t.Fatalf("m=%d k=%d for 10 M at 1 %%", m, k)
	}
	f := aftersalesclient.NewCancelFilter(nil, "x:")
	lib := bloom.New(m, k)
	lib.AddString("O-42")
	for _, off := range f.Offsets("O-42") {
		if !lib.BitSet().Test(uint(off)) {
			t.Fatalf("offset %d not set by the library", off)
		}
	}
	if lib.BitSet().Count() > uint(len(f.Offsets("O-42"))) {
		t.Fatal("the library set bits CancelFilter does not")
	}
}

// BenchmarkFilterFalsePositives fills a filter of the production size
// with 10 M order ids and measures the false-positive rate on 1 M others
// (reported as fp_%; target 1 %).
func BenchmarkFilterFalsePositives(b *testing.B) {
	m, k := aftersalesclient.FilterParams()
	for range b.N {
		f := bloom.New(m, k)
		for i := range aftersalesclient.FilterCapacity {
			f.AddString(fmt.Sprintf("01J%023d", i))
		}
		fp := 0
		const probes = 1_000_000
		for i := range probes {
			if f.TestString(fmt.Sprintf("01K%023d", i)) {
				fp++
			}
		}
		b.ReportMetric(100*float64(fp)/probes, "fp_%")
	}
}
