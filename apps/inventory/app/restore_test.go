package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// Returned units go back to sellable stock once per restore id, all
// lines or none: a redelivered push adds nothing; an unknown SKU or a
// hot one is refused and adds nothing anywhere.
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
	if _, err := e.svc.RestoreStock(ctx, "R3:STOCK_RESTORE", "O3", []domain.Part{{SKU: "A", Qty: 1}, {SKU: "HOT", Qty: 1}}); !errors.Is(err, domain.ErrHotRestore) {
		t.Fatalf("hot SKU: %v", err)
	}
	if a, _ := level("A"); a != 12 {
		t.Fatalf("A after refused restores: %d", a)
	}
	var n int
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM stock_restores`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d restores recorded (%v)", n, err)
	}
}
