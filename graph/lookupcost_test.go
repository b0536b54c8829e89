package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

// lookupsByPath reads the gateway's cancelRequest lookup histogram: how
// many lookups took each path so far.
func lookupsByPath(t *testing.T) map[string]uint64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "harvest_gateway_cancel_lookup_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "path" {
					out[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return out
}

// Order detail times each cancelRequest lookup under the path it took:
// the filter's "no" from the gateway's mirror in memory and from Redis
// without asking after-sales, a "no" from a filter without its ready mark
// (the mirror then out of its lease too) and a "maybe" asking it;
// harvest-load detail reads these.
func TestCancelLookupTimedByPath(t *testing.T) {
	rdb, prefix := testdb.Redis(t)
	ctx := context.Background()
	const lease = 300 * time.Millisecond
	as := &fakeAfterSales{filter: aftersalesclient.NewCancelFilter(rdb, prefix, aftersalesclient.WithLease(lease)),
		owners: map[string]string{"o-bob": "bob"}, requests: map[string]aftersalesclient.Request{}}
	if _, err := as.filter.Rebuild(ctx, func(context.Context) ([]string, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	mirror := aftersalesclient.NewMirror(aftersalesclient.NewCancelFilter(rdb, prefix, aftersalesclient.WithLease(lease)), nil)
	t.Cleanup(mirror.Start(ctx))
	wctx, cancel := context.WithTimeout(ctx, 10*lease)
	defer cancel()
	if err := mirror.AwaitCopy(wctx); err != nil {
		t.Fatal(err)
	}
	fromMemory := func(want bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * lease); ; time.Sleep(5 * time.Millisecond) {
			if _, memory, _ := mirror.MayHaveFrom(ctx, "o-probe"); memory == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("mirror answering from memory: want %v", want)
			}
		}
	}
	e := newEnv(t)
	v, _ := auth.NewVerifier(secret, auth.DefaultPolicy())
	gatewayWith := func(f graph.CancelFilter) *client.Client {
		return client.New(graph.NewHandler(&graph.Resolver{Orders: e.oms, Addresses: e.oms, Catalog: e.inv, Payments: e.pay, Feed: e.hub,
			AfterSales: as, CancelFilter: f}, graph.Options{Verifier: v}))
	}
	withMirror, withRedis := gatewayWith(mirror), gatewayWith(aftersalesclient.NewCancelFilter(rdb, prefix))
	detail := `{ order(id: "o-bob") { id cancelRequest { status } } }`
	read := func(c *client.Client, step, wantPath string, wantLookups int) {
		t.Helper()
		before := lookupsByPath(t)
		if _, errs := post(t, c, detail, as2(t, "bob")); len(errs) > 0 {
			t.Fatalf("%s: %v", step, errs)
		}
		after := lookupsByPath(t)
		for _, path := range []string{"filter_no_memory", "filter_no_redis", "asked_maybe", "asked_not_ready", "asked_redis_error", "asked_no_filter"} {
			want := before[path]
			if path == wantPath {
				want++
			}
			if after[path] != want {
				t.Fatalf("%s: %s counted %d → %d, want %d", step, path, before[path], after[path], want)
			}
		}
		if as.lookups != wantLookups {
			t.Fatalf("%s: after-sales asked %d times, want %d", step, as.lookups, wantLookups)
		}
	}
	read(withMirror, "filter built, no request, mirror in its lease", "filter_no_memory", 0)
	read(withRedis, "filter built, no request, no mirror", "filter_no_redis", 0)
	if err := rdb.Del(ctx, prefix+"ready").Err(); err != nil {
		t.Fatal(err)
	}
	read(withRedis, "ready mark gone", "asked_not_ready", 1)
	fromMemory(false)
	read(withMirror, "ready mark gone, the mirror's renewals refused", "asked_not_ready", 2)
	if _, err := as.Cancel(ctx, aftersalesclient.CancelRequest{OrderID: "o-bob", CustomerID: "bob", Reason: "x", IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	// All its bits set: a "maybe", whether or not the filter is ready.
	read(withRedis, "request accepted", "asked_maybe", 3)
	read(withMirror, "request accepted, through the mirror", "asked_maybe", 4)
}
