package app_test

import (
	"github.com/harvest/harvest/apps/platform/money"

	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/harvest/harvest/apps/inventory/domain"
)

func TestReserveConfirmRelease(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.svc.Reserve(ctx, req(t, "o1", l("A", 2), l("B", 1), l("HOT", 3)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status() != domain.Held || !r.ExpiresAt().Equal(t0.Add(60e9)) {
		t.Fatalf("reservation = %+v", r)
	}
	wantAvail(t, e, map[string]int64{"A": 8, "B": 4, "HOT": 17})

	if r, err = e.svc.Confirm(ctx, "o1"); err != nil || r.Status() != domain.Confirmed {
		t.Fatalf("confirm = %+v, %v", r, err)
	}
	if r, err = e.svc.Confirm(ctx, "o1"); err != nil || r.Status() != domain.Confirmed {
		t.Fatalf("second confirm = %+v, %v", r, err)
	}
	wantAvail(t, e, map[string]int64{"A": 8, "B": 4, "HOT": 17})

	// A cancellation after payment releases a confirmed reservation too.
	if r, err = e.svc.Release(ctx, "o1"); err != nil || r.Status() != domain.Released {
		t.Fatalf("release = %+v, %v", r, err)
	}
	if _, err = e.svc.Release(ctx, "o1"); err != nil {
		t.Fatalf("second release: %v", err)
	}
	wantAvail(t, e, map[string]int64{"A": 10, "B": 5, "HOT": 20})

	if _, err := e.svc.Confirm(ctx, "o1"); !errors.Is(err, domain.ErrNotReserved) {
		t.Fatalf("confirm released = %v, want ErrNotReserved", err)
	}
	if _, err := e.svc.Reserve(ctx, req(t, "o1", l("A", 2), l("B", 1), l("HOT", 3))); !errors.Is(err, domain.ErrReleased) {
		t.Fatalf("reserve after release = %v, want ErrReleased", err)
	}
	wantAvail(t, e, map[string]int64{"A": 10, "B": 5, "HOT": 20})
}

func TestReserveIdempotentByOrderID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.svc.Reserve(ctx, req(t, "o1", l("A", 1), l("HOT", 2), l("A", 1)))
	if err != nil {
		t.Fatal(err)
	}
	// Same lines, listed differently: the same reservation, nothing taken twice.
	again, err := e.svc.Reserve(ctx, req(t, "o1", l("HOT", 2), l("A", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() != first.Fingerprint() || !again.ExpiresAt().Equal(first.ExpiresAt()) {
		t.Fatalf("retry answered %+v, first was %+v", again, first)
	}
	wantAvail(t, e, map[string]int64{"A": 8, "HOT": 18})
	if _, err := e.svc.Reserve(ctx, req(t, "o1", l("A", 3))); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("other lines = %v, want ErrConflict", err)
	}
	wantAvail(t, e, map[string]int64{"A": 8, "HOT": 18})
}

func TestConcurrentDuplicateReserveHasOneEffect(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.Reserve(context.Background(), req(t, "dup", l("A", 1), l("HOT", 1))); err == nil {
				ok.Add(1)
			} else {
				t.Errorf("duplicate reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 20 {
		t.Fatalf("%d of 20 duplicates answered", ok.Load())
	}
	wantAvail(t, e, map[string]int64{"A": 9, "HOT": 19})
}

func TestOutOfStockNamesEverySKUAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.Reserve(ctx, req(t, "o1", l("A", 11), l("B", 6), l("C", 1), l("HOT", 21)))
	var ske *domain.SKUError
	if !errors.As(err, &ske) || !errors.Is(err, domain.ErrOutOfStock) {
		t.Fatalf("err = %v, want out of stock", err)
	}
	if !slices.Equal(ske.SKUs, []string{"A", "B", "HOT"}) {
		t.Fatalf("short SKUs = %v", ske.SKUs)
	}
	// Hot line fine, ordinary lines short: the hot take is given back.
	_, err = e.svc.Reserve(ctx, req(t, "o2", l("A", 11), l("C", 1), l("HOT", 5)))
	if !errors.As(err, &ske) || !slices.Equal(ske.SKUs, []string{"A"}) {
		t.Fatalf("err = %v, want A short", err)
	}
	wantAvail(t, e, map[string]int64{"A": 10, "B": 5, "C": 100, "HOT": 20})
	if n := e.count(t, `SELECT COUNT(*) FROM reservations`); n != 0 {
		t.Fatalf("%d reservation rows written", n)
	}
	// Nothing was written, so the same order may try again later.
	if _, err := e.svc.Reserve(ctx, req(t, "o2", l("A", 10), l("HOT", 5))); err != nil {
		t.Fatalf("retry after out of stock: %v", err)
	}
	wantAvail(t, e, map[string]int64{"A": 0, "HOT": 15})
}

func TestUnknownSKUAndValidation(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Reserve(context.Background(), req(t, "o1", l("A", 1), l("NOPE", 1), l("ZZZ", 1)))
	var ske *domain.SKUError
	if !errors.As(err, &ske) || !errors.Is(err, domain.ErrUnknownSKU) || !slices.Equal(ske.SKUs, []string{"NOPE", "ZZZ"}) {
		t.Fatalf("err = %v", err)
	}
	if _, err := e.svc.Products(context.Background(), []string{"A", "NOPE"}); !errors.Is(err, domain.ErrUnknownSKU) {
		t.Fatalf("products err = %v", err)
	}
	if _, err := e.svc.CatalogEntries(context.Background(), []string{"NOPE", "A"}); !errors.Is(err, domain.ErrUnknownSKU) {
		t.Fatalf("catalog entries err = %v", err)
	}
	// The catalog without stock: the same products, no levels read.
	ps, err := e.svc.CatalogEntries(context.Background(), []string{"A"})
	if err != nil || len(ps) != 1 || ps[0].SKU != "A" || ps[0].Name == "" || ps[0].Available != 0 {
		t.Fatalf("catalog entries = %+v, %v", ps, err)
	}
	wantAvail(t, e, map[string]int64{"A": 10})
}

func TestBundleReservesComponents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// BDL = 2×A + 1×B: min(10/2, 5/1) = 5; HBDL = HOT + C: min(20, 100).
	wantAvail(t, e, map[string]int64{"BDL": 5, "HBDL": 20})
	r, err := e.svc.Reserve(ctx, req(t, "o1", l("BDL", 2), l("A", 1), l("HBDL", 4)))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Part{{SKU: "A", Qty: 5}, {SKU: "B", Qty: 2}, {SKU: "C", Qty: 4}, {SKU: "HOT", Qty: 4, Hot: true}}
	if !slices.Equal(r.Parts(), want) {
		t.Fatalf("parts = %+v", r.Parts())
	}
	wantAvail(t, e, map[string]int64{"A": 5, "B": 3, "C": 96, "HOT": 16, "BDL": 2, "HBDL": 16})
	if _, err := e.svc.Reserve(ctx, req(t, "o2", l("BDL", 3))); !errors.Is(err, domain.ErrOutOfStock) {
		t.Fatalf("bundle beyond components = %v", err)
	}
	if _, err := e.svc.Release(ctx, "o1"); err != nil {
		t.Fatal(err)
	}
	wantAvail(t, e, map[string]int64{"A": 10, "B": 5, "C": 100, "HOT": 20, "BDL": 5})
}

func TestReleaseUnknownOrderTombstones(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.svc.Release(ctx, "late")
	if err != nil || r.Status() != domain.Released {
		t.Fatalf("release unknown = %+v, %v", r, err)
	}
	if _, err := e.svc.Reserve(ctx, req(t, "late", l("A", 1))); !errors.Is(err, domain.ErrReleased) {
		t.Fatalf("late reserve = %v, want ErrReleased", err)
	}
	wantAvail(t, e, map[string]int64{"A": 10})
}

// race runs n buyers of one unit each against sku and returns the winners.
func race(t *testing.T, e *env, sku string, n int) int64 {
	var wg sync.WaitGroup
	var won, lost atomic.Int64
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.svc.Reserve(context.Background(), req(t, sku+"-buyer-"+string(rune('A'+i/26))+string(rune('a'+i%26)), l(sku, 1)))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, domain.ErrOutOfStock):
				lost.Add(1)
			default:
				t.Errorf("buyer %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if won.Load()+lost.Load() != int64(n) {
		t.Fatalf("won %d + lost %d != %d", won.Load(), lost.Load(), n)
	}
	return won.Load()
}

func TestRaceForLastUnitsMariaDB(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.Exec(`UPDATE stock SET on_hand = 10, available = 10 WHERE sku = 'C'`); err != nil {
		t.Fatal(err)
	}
	if won := race(t, e, "C", 50); won != 10 {
		t.Fatalf("%d buyers won, want 10", won)
	}
	if got := e.mysqlAvailable(t, "C"); got != 0 {
		t.Fatalf("available = %d, want 0", got)
	}
	if n := e.count(t, `SELECT COALESCE(SUM(qty),0) FROM reservation_parts WHERE sku = 'C'`); n != 10 {
		t.Fatalf("reserved %d, want 10", n)
	}
}

func TestRaceForLastUnitsHotRedis(t *testing.T) {
	e := newEnv(t)
	// 10 units: make on_hand 10 and rebuild the counter from MariaDB.
	if _, err := e.db.Exec(`UPDATE stock SET on_hand = 10, available = 10 WHERE sku = 'HOT'`); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Del(context.Background(), e.prefix+"{inv}:stock:HOT").Err(); err != nil {
		t.Fatal(err)
	}
	if won := race(t, e, "HOT", 50); won != 10 {
		t.Fatalf("%d buyers won, want 10", won)
	}
	if got := e.available(t, "HOT"); got != 0 {
		t.Fatalf("redis available = %d, want 0", got)
	}
	e.writeBack(t)
	if got := e.mysqlAvailable(t, "HOT"); got != 0 {
		t.Fatalf("written-back available = %d, want 0", got)
	}
	if n := e.count(t, `SELECT COALESCE(SUM(qty),0) FROM hot_ledger WHERE sku = 'HOT' AND state = 'TAKEN'`); n != 10 {
		t.Fatalf("ledger holds %d, want 10", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM reservations WHERE status = 'HELD'`); n != 10 {
		t.Fatalf("%d reservations, want 10", n)
	}
}

// A reservation priced at other than the catalog's prices takes nothing,
// hot stock included; priced right it answers the catalog entries.
func TestReservePricedChecksPrices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bad := req(t, "o1", l("A", 2), l("HOT", 1))
	bad = bad.WithPrices(map[string]money.Fen{"A": 990, "HOT": 900})
	_, _, err := e.svc.ReservePriced(ctx, bad)
	var pe *domain.PriceError
	if !errors.As(err, &pe) || len(pe.Catalog) != 1 || pe.Catalog["HOT"] != 990 {
		t.Fatalf("want a price error naming HOT at 990, got %v", err)
	}
	wantAvail(t, e, map[string]int64{"A": 10, "HOT": 20})
	if n := e.count(t, `SELECT COUNT(*) FROM reservations`); n != 0 {
		t.Fatalf("%d reservations written", n)
	}

	good := req(t, "o2", l("A", 2), l("BDL", 1))
	good = good.WithPrices(map[string]money.Fen{"A": 990, "BDL": 990})
	r, cat, err := e.svc.ReservePriced(ctx, good)
	if err != nil || r.Status() != domain.Held {
		t.Fatalf("reserve = %+v, %v", r, err)
	}
	if cat["A"].Name != "product A" || cat["BDL"].PriceFen != 990 {
		t.Fatalf("catalog answered %+v", cat)
	}
	// A retry of the same request answers the catalog too.
	if _, cat, err := e.svc.ReservePriced(ctx, good); err != nil || cat["A"].Name != "product A" {
		t.Fatalf("retry: %+v, %v", cat, err)
	}
}

// Reservations made at once are written in groups; each keeps the answer
// it would have had alone. Here 40 buyers want one B (5 in stock) and one
// C each, and 20 want C alone: exactly 5 of the first win, the other 35
// take nothing (the C they took in the group is put back) and are refused
// naming B only, and every buyer of C alone wins.
func TestGroupedReservationsAnswerEachAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var (
		wg          sync.WaitGroup
		won, lostB  atomic.Int64
		wonC, other atomic.Int64
	)
	start := make(chan struct{})
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i < 40 {
				_, err := e.svc.Reserve(ctx, req(t, fmt.Sprintf("bc-%d", i), l("B", 1), l("C", 1)))
				var se *domain.SKUError
				switch {
				case err == nil:
					won.Add(1)
				case errors.As(err, &se) && slices.Equal(se.SKUs, []string{"B"}):
					lostB.Add(1)
				default:
					t.Errorf("bc-%d: %v", i, err)
				}
				return
			}
			if _, err := e.svc.Reserve(ctx, req(t, fmt.Sprintf("c-%d", i), l("C", 1))); err == nil {
				wonC.Add(1)
			} else {
				other.Add(1)
				t.Errorf("c-%d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if groups, reservations := reserveGroups(t); groups >= reservations {
		t.Errorf("%d groups for %d reservations: nothing was grouped", groups, reservations)
	}
	if won.Load() != 5 || lostB.Load() != 35 || wonC.Load() != 20 {
		t.Fatalf("B+C won %d, refused %d; C won %d (want 5, 35, 20)", won.Load(), lostB.Load(), wonC.Load())
	}
	wantAvail(t, e, map[string]int64{"B": 0, "C": 100 - 5 - 20})
	if n := e.count(t, `SELECT COUNT(*) FROM reservations`); n != 25 {
		t.Fatalf("%d reservations, want 25", n)
	}
	if n := e.count(t, `SELECT COALESCE(SUM(qty),0) FROM reservation_parts WHERE sku = 'C'`); n != 25 {
		t.Fatalf("C reserved %d, want 25", n)
	}
}

// groupSizes reads a group-commit histogram (name): how many groups were
// committed and how many items they held, in this process so far.
func groupSizes(t testing.TB, name string) (groups, items uint64) {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), uint64(h.GetSampleSum())
		}
	}
	t.Fatalf("no %s metric", name)
	return 0, 0
}

// reserveGroups reads the reservations' group-commit histogram.
func reserveGroups(t *testing.T) (groups, reservations uint64) {
	return groupSizes(t, "harvest_inventory_reserve_group_reservations")
}

// With ample stock a group takes each SKU's summed quantity at once
// (takeAll); every reservation holds and stock falls by exactly the sum.
func TestGroupedReservationsWithAmpleStock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 30 {
		wg.Go(func() {
			<-start
			lines := []domain.Line{l("C", int64(1+i%2))}
			if i%3 == 0 {
				lines = append(lines, l("A", 1))
			}
			if _, err := e.svc.Reserve(ctx, req(t, fmt.Sprintf("ample-%d", i), lines...)); err != nil {
				t.Errorf("ample-%d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	// C: 15 buyers of 1 and 15 of 2; A: the 10 buyers i%3 == 0.
	wantAvail(t, e, map[string]int64{"C": 100 - 45, "A": 0})
	if n := e.count(t, `SELECT COALESCE(SUM(qty),0) FROM reservation_parts`); n != 55 {
		t.Fatalf("%d units reserved, want 55", n)
	}
}
