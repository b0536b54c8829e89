package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// Orders created at the same moment are committed in groups; a group
// holding an idempotency key already used falls back to writing each order
// alone, so the duplicate alone is refused and every other order is
// written whole. Duplicates across keys here stand for two OMS replicas
// placing the same key at once (one replica serialises its own).
func TestConcurrentCreatesAreGroupedAndEachAnsweredAlone(t *testing.T) {
	e := newEnv(t)
	catalog := map[string]domain.Product{
		"SKU-A": {SKU: "SKU-A", Name: "A", Price: 1000},
		"SKU-B": {SKU: "SKU-B", Name: "B", Price: 2550},
	}
	const n, keys = 120, 100
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		written, dupes int
		failures       []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := domain.NewOrder(ids.New(), placement("APP"), catalog, 0, t0, 10*time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			idem := app.Idempotency{CustomerID: "cust-1", Key: fmt.Sprintf("k-%d", i%keys), RequestHash: "h", OrderID: o.ID(), CreatedAt: t0}
			ev := outbox.Event{Topic: "oms.order.placed", AggregateID: o.ID(), Type: "placed", Payload: map[string]string{"order_id": o.ID()}}
			<-start
			err = e.repo.Create(context.Background(), o, idem, []outbox.Event{ev})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				written++
			case errors.Is(err, app.ErrDuplicateKey):
				dupes++
			default:
				failures = append(failures, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if groups, orders := createGroups(t); groups >= orders {
		t.Errorf("%d groups for %d orders: nothing was grouped", groups, orders)
	} else {
		t.Logf("%d creates in %d group commits", orders, groups)
	}
	if len(failures) > 0 {
		t.Fatalf("%d creates failed, first: %v", len(failures), failures[0])
	}
	if written != keys || dupes != n-keys {
		t.Fatalf("written %d, refused as duplicates %d; want %d and %d", written, dupes, keys, n-keys)
	}
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM orders`:            keys,
		`SELECT COUNT(*) FROM order_idempotency`: keys,
		`SELECT COUNT(*) FROM order_lines`:       2 * keys,
		`SELECT COUNT(*) FROM outbox`:            keys,
		// Every stored order has its key, and every key its order.
		`SELECT COUNT(*) FROM orders o JOIN order_idempotency k ON k.order_id = o.id`: keys,
		`SELECT COUNT(DISTINCT order_id) FROM order_events`:                           keys,
	} {
		if got := count(t, e.db, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}

// createGroups reads the group-commit histogram: how many groups were
// committed and how many orders they held, in this process so far.
func createGroups(t *testing.T) (groups, orders uint64) {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "harvest_oms_create_group_orders" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), uint64(h.GetSampleSum())
		}
	}
	t.Fatal("no harvest_oms_create_group_orders metric")
	return 0, 0
}
