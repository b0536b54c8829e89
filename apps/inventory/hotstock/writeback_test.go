package hotstock

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// Applying the same entries again, or older ones after newer (an ack lost,
// a worker taking over), leaves MariaDB as the newest entry put it.
func TestApplyIsIdempotentAndOrdered(t *testing.T) {
	db, _ := testdb.New(t, "inventory")
	rdb, prefix := testdb.Redis(t)
	ctx := context.Background()
	if _, err := db.Exec(`INSERT INTO products (sku, name, price_fen, zone, tax_rate_bp, warehouse, hot, created_at)
		VALUES ('H', 'h', 1, 'AMBIENT', 900, 'WH-SH', 1, NOW(6))`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO stock (sku, on_hand, available, updated_at) VALUES ('H', 10, 10, NOW(6))`); err != nil {
		t.Fatal(err)
	}
	s := New(rdb, db, prefix)
	if err := s.Rebuild(ctx, "H"); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	for _, o := range []string{"o1", "o2"} {
		if r, err := s.Reserve(ctx, o, "fp-"+o, exp, []domain.Part{{SKU: "H", Qty: 3, Hot: true}}); err != nil || r.Outcome != Taken {
			t.Fatalf("reserve %s: %+v %v", o, r, err)
		}
	}
	if ok, err := s.Release(ctx, "o1"); err != nil || !ok {
		t.Fatalf("release: %v %v", ok, err)
	}
	if ok, err := s.Release(ctx, "o1"); err != nil || ok {
		t.Fatalf("second release returned units: %v %v", ok, err)
	}
	msgs, err := rdb.XRange(ctx, s.streamKey(), "-", "+").Result()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("stream: %d entries, %v", len(msgs), err)
	}
	check := func() {
		t.Helper()
		var avail int64
		if err := db.QueryRow(`SELECT available FROM stock WHERE sku = 'H'`).Scan(&avail); err != nil || avail != 7 {
			t.Fatalf("mirror = %d, %v; want 7", avail, err)
		}
		var o1, o2 string
		_ = db.QueryRow(`SELECT state FROM hot_ledger WHERE order_id = 'o1'`).Scan(&o1)
		_ = db.QueryRow(`SELECT state FROM hot_ledger WHERE order_id = 'o2'`).Scan(&o2)
		if o1 != "RETURNED" || o2 != "TAKEN" {
			t.Fatalf("ledger o1=%s o2=%s", o1, o2)
		}
	}
	if err := s.apply(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	check()
	if err := s.apply(ctx, msgs); err != nil { // replay
		t.Fatal(err)
	}
	check()
	for _, m := range []redis.XMessage{msgs[1], msgs[0]} { // older entries, one by one, out of order
		if err := s.apply(ctx, []redis.XMessage{m}); err != nil {
			t.Fatal(err)
		}
	}
	check()
	if got, _ := rdb.HGet(ctx, s.counterKey("H"), "avail").Int64(); got != 7 {
		t.Fatalf("redis = %d, want 7", got)
	}
}

func TestPadSeqSortsLikeStreamIDs(t *testing.T) {
	if !(padSeq("999-5") < padSeq("1000-0") && padSeq("1000-2") < padSeq("1000-10")) {
		t.Fatal("padded ids do not sort like stream ids")
	}
}
