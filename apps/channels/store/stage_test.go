package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
	"github.com/harvest/harvest/apps/platform/testdb"
)

func item(id string) *store.Item {
	o := platforms.Order{Platform: platforms.Yuedian, PlatformOrderID: id, ShopID: "S1", TotalFen: 100, PlatformTime: time.Now().UTC().Truncate(time.Second),
		Receiver: platforms.Receiver{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"},
		SlotType: platforms.SlotNextDay, SlotDate: "2030-01-02", Lines: []platforms.Line{{PlatformSKU: "YD-1", Qty: 1, UnitPriceFen: 100}}}
	o.Raw = platforms.YuedianOrderBody(o)
	return &store.Item{Order: o, Way: platforms.WayPush, At: time.Now().UTC().Truncate(time.Microsecond)}
}

// A group of first arrivals is staged without reading its rows back; a
// group holding repeats (of a row already there, or of each other) is
// told its first arrivals by the read-back. Either way each order has one
// row of each kind and its repeats the first id.
func TestStagingAGroupTellsFirstArrivalsFromRepeats(t *testing.T) {
	db, _ := testdb.New(t, "channels")
	st := store.New(db)
	ctx := context.Background()
	count := func(q string) int {
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	first := []*store.Item{item("A"), item("B"), item("C")}
	if err := st.Stage(ctx, first); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range first {
		if it.Dup || it.ID == "" || it.Status != "RECEIVED" || seen[it.ID] {
			t.Fatalf("first arrival %s: id %q dup %v status %q", it.Order.PlatformOrderID, it.ID, it.Dup, it.Status)
		}
		seen[it.ID] = true
	}

	mixed := []*store.Item{item("D"), item("B"), item("D"), item("E")}
	if err := st.Stage(ctx, mixed); err != nil {
		t.Fatal(err)
	}
	if mixed[0].Dup || mixed[3].Dup || mixed[0].ID == mixed[3].ID {
		t.Fatalf("D and E are first arrivals: %+v %+v", mixed[0], mixed[3])
	}
	if !mixed[1].Dup || mixed[1].ID != first[1].ID || mixed[1].Status != "RECEIVED" {
		t.Fatalf("B again: id %s dup %v, want the first id %s", mixed[1].ID, mixed[1].Dup, first[1].ID)
	}
	if !mixed[2].Dup || mixed[2].ID != mixed[0].ID {
		t.Fatalf("D twice in one group: id %s dup %v, want %s", mixed[2].ID, mixed[2].Dup, mixed[0].ID)
	}
	for table, want := range map[string]int{"staging_process": 5, "staging_main": 5, "staging_detail": 5, "staging_steps": 5, "outbox": 2} {
		if got := count("SELECT COUNT(*) FROM " + table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
}
