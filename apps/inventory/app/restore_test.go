package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/hotstock"
)

// Returned units go back to sellable stock once per restore id, all
// lines or none: a redelivered push adds nothing; an unknown SKU is
// refused and adds nothing anywhere.
func TestRestoreStockOncePerID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	level := func(sku string) (int64, int64) {
		t.Helper()
		var avail, onHand int64
		if err := e.db.QueryRow(`SELECT available, on_hand FROM stock WHERE sku=?`, sku).Scan(&avail, &onHand); err != nil {
			t.Fatal(err)
		}
		return avail, onHand
	}
	for i := range 3 {
		dup, err := e.svc.RestoreStock(ctx, "R1:STOCK_RESTORE", "O1", []domain.Part{{SKU: "A", Qty: 2}, {SKU: "B", Qty: 1}})
		if err != nil || dup != (i > 0) {
			t.Fatalf("restore %d: dup=%v %v", i, dup, err)
		}
	}
	if a, h := level("A"); a != 12 || h != 12 {
		t.Fatalf("A: available %d on hand %d, want 12 12", a, h)
	}
	if a, _ := level("B"); a != 6 {
		t.Fatalf("B: available %d, want 6", a)
	}
	if _, err := e.svc.RestoreStock(ctx, "R2:STOCK_RESTORE", "O2", []domain.Part{{SKU: "A", Qty: 1}, {SKU: "NOPE", Qty: 1}}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown SKU: %v", err)
	}
	if a, _ := level("A"); a != 12 {
		t.Fatalf("A after a refused restore: %d", a)
	}
	var n int
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM stock_restores`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d restores recorded (%v)", n, err)
	}
}

// flakyHot is the hot stock whose restores fail while fail > 0 (Redis
// unreachable between the MariaDB commit and the counter).
type flakyHot struct {
	*hotstock.Stock
	fail int
}

func (f *flakyHot) RestoreOnce(ctx context.Context, restoreID, sku string, qty, epoch int64) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("redis unreachable")
	}
	return f.Stock.RestoreOnce(ctx, restoreID, sku, qty, epoch)
}

// A hot SKU's returned units go back to its Redis counter (what sells)
// and to MariaDB's on_hand (what a rebuild reads), once however often the
// restore is delivered; Redis failing after the commit leaves the restore
// pending and the redelivery finishes it, once; a counter rebuilt in
// between already counts the units and is not raised again.
func TestRestoreHotSKUOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	counter := func() int64 {
		t.Helper()
		v, _, err := e.hot.Available(ctx, []string{"HOT"})
		if err != nil {
			t.Fatal(err)
		}
		return v["HOT"]
	}
	onHand := func() int64 {
		t.Helper()
		var n int64
		if err := e.db.QueryRow(`SELECT on_hand FROM stock WHERE sku='HOT'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 3 {
		dup, err := e.svc.RestoreStock(ctx, "R1:STOCK_RESTORE", "O1", []domain.Part{{SKU: "HOT", Qty: 2}, {SKU: "A", Qty: 1}})
		if err != nil || dup != (i > 0) {
			t.Fatalf("restore %d: dup=%v %v", i, dup, err)
		}
	}
	if c, h := counter(), onHand(); c != 22 || h != 22 {
		t.Fatalf("after one restore of 2: counter %d on hand %d, want 22 22", c, h)
	}
	// Redis fails after the commit: on_hand rose, the counter not yet.
	flaky := &flakyHot{Stock: e.hot, fail: 1}
	svc := app.New(e.store, flaky, e.orders, e.clock, app.Options{})
	if _, err := svc.RestoreStock(ctx, "R2:STOCK_RESTORE", "O2", []domain.Part{{SKU: "HOT", Qty: 3}}); err == nil {
		t.Fatal("a restore whose counter failed answered success")
	}
	if c, h := counter(), onHand(); c != 22 || h != 25 {
		t.Fatalf("pending: counter %d on hand %d", c, h)
	}
	for range 2 {
		if dup, err := svc.RestoreStock(ctx, "R2:STOCK_RESTORE", "O2", []domain.Part{{SKU: "HOT", Qty: 3}}); err != nil || !dup {
			t.Fatalf("redelivery: dup=%v %v", dup, err)
		}
	}
	if c, h := counter(), onHand(); c != 25 || h != 25 {
		t.Fatalf("after the redelivery: counter %d on hand %d, want 25 25", c, h)
	}
	// Pending, then Redis loses the counter: the rebuild reads the new
	// on_hand, and the redelivery adds nothing more.
	flaky.fail = 1
	if _, err := svc.RestoreStock(ctx, "R3:STOCK_RESTORE", "O3", []domain.Part{{SKU: "HOT", Qty: 4}}); err == nil {
		t.Fatal("want the failure")
	}
	if err := e.rdb.Del(ctx, e.prefix+"{inv}:stock:HOT").Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.hot.Rebuild(ctx, "HOT"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RestoreStock(ctx, "R3:STOCK_RESTORE", "O3", []domain.Part{{SKU: "HOT", Qty: 4}}); err != nil {
		t.Fatal(err)
	}
	if c, h := counter(), onHand(); c != 29 || h != 29 {
		t.Fatalf("after a rebuild in between: counter %d on hand %d, want 29 29", c, h)
	}
	var pending int
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM stock_restores WHERE hot_pending=1`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d restores still pending (%v)", pending, err)
	}
}
