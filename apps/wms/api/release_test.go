package api_test

import (
	"context"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/wms/wmsclient"
)

func occFor(order, id string, lines ...any) wmsclient.OccupyRequest {
	r := occ(id, "WH-SH", lines...)
	r.OrderID = order
	return r
}

// ERP occupations are not only consumed by picking: an interception
// releases its delivery order's in the same transaction (received or
// not), and a cancellation releases every delivery order of the order
// but one WMS is working on; an occupation arriving after its order's
// cancellation holds nothing. Each is idempotent, concurrently too.
func TestOccupationsReleasedByInterceptionAndCancellation(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.stock(t, "WH-SH", "A", 100)
	e.stock(t, "WH-SH", "B", 100)

	// Interception of a received delivery order, and of one not received yet.
	for _, id := range []string{"O1-1", "O1-2"} {
		if _, err := e.c.OccupyStock(ctx, occFor("O1", id, "A", 2, "B", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.Dispatch(ctx, dispatch("O1-1")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		for _, id := range []string{"O1-1", "O1-2"} {
			wg.Go(func() {
				if _, err := e.c.Intercept(ctx, id, wmsclient.InterceptRequest{Reason: "customer cancel"}); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if a, b := e.occupied(t, "WH-SH", "A"), e.occupied(t, "WH-SH", "B"); a != 0 || b != 0 {
		t.Fatalf("after interceptions A %d, B %d occupied", a, b)
	}

	// Cancellation: O2-1 never reached WMS, O2-2 was received and is on
	// the floor (kept), O2-3 is occupied only after the cancellation.
	for _, id := range []string{"O2-1", "O2-2"} {
		if _, err := e.c.OccupyStock(ctx, occFor("O2", id, "A", 3)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.Dispatch(ctx, dispatch("O2-2")); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		wg.Go(func() {
			if err := e.svc.OrderCancelled(ctx, "O2"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if a := e.occupied(t, "WH-SH", "A"); a != 3 {
		t.Fatalf("after the cancellation A %d occupied, want 3 (the delivery order on the floor)", a)
	}
	o, err := e.c.OccupyStock(ctx, occFor("O2", "O2-3", "A", 5))
	if err != nil || o.Status != wmsclient.OccupationReleased {
		t.Fatalf("occupation after its order's cancellation: %+v %v", o, err)
	}
	if o, err := e.c.OccupyStock(ctx, occFor("O2", "O2-3", "A", 5)); err != nil || o.Status != wmsclient.OccupationReleased {
		t.Fatalf("its repeat: %+v %v", o, err)
	}
	if a := e.occupied(t, "WH-SH", "A"); a != 3 {
		t.Fatalf("A %d occupied after a late occupation, want 3", a)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM erp_occupations WHERE status='OCCUPIED'`); n != 1 {
		t.Fatalf("%d occupations left, want O2-2's", n)
	}
	// An order never occupied: nothing to release, and no error.
	if err := e.svc.OrderCancelled(ctx, "O-never"); err != nil {
		t.Fatal(err)
	}
	// Cancellations are remembered a week, then forgotten.
	if _, err := e.st.DB().Exec(`UPDATE cancelled_orders SET created_at = created_at - INTERVAL 8 DAY WHERE order_id='O2'`); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.PruneCancelled(ctx); err != nil || n != 1 {
		t.Fatalf("pruned %d: %v", n, err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM cancelled_orders`); n != 1 {
		t.Fatalf("%d cancellations remembered, want O-never's", n)
	}
}
