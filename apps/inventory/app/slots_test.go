package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
)

// t0 is 2025-03-01 17:00 in Shanghai: tomorrow is 2025-03-02.
const tomorrow = "2025-03-02"

var nextDay = domain.Slot{Type: domain.SlotNextDay, Day: tomorrow}

func slotKey(wh string) domain.SlotKey {
	return domain.SlotKey{Warehouse: wh, Day: tomorrow, Type: domain.SlotNextDay}
}

// withSlotCatalog adds D (WH-BJ, 100 units) and DS (drop-ship from WH-BJ's
// supplier, 100 units) to the env's catalog.
func withSlotCatalog(t testing.TB, e *env) {
	t.Helper()
	ps := []domain.Product{
		{SKU: "D", Name: "product D", PriceFen: 990, Zone: domain.ZoneFrozenLow, Category: domain.CategoryIceCream, TaxRateBP: 1300, Warehouse: "WH-BJ"},
		{SKU: "DS", Name: "product DS", PriceFen: 990, Zone: domain.ZoneAmbient, Category: domain.CategoryGrainOil, TaxRateBP: 1300, Warehouse: "WH-BJ", DropShip: true, Supplier: "SUP-01"},
	}
	if err := e.store.InsertCatalog(context.Background(), ps, map[string]int64{"D": 100, "DS": 100}); err != nil {
		t.Fatal(err)
	}
}

func slotReq(t testing.TB, order string, lines ...domain.Line) domain.Request {
	t.Helper()
	return req(t, order, lines...).WithSlot(nextDay)
}

func setCap(t testing.TB, e *env, wh string, n int64) {
	t.Helper()
	if _, err := e.svc.SetSlotCapacity(context.Background(), app.SetCapacity{Warehouse: wh, Day: tomorrow, Type: "NEXT_DAY", Capacity: &n, By: "ADMIN:a1"}); err != nil {
		t.Fatal(err)
	}
}

// taken is the slot row's count, and what the reservations holding it
// add up to: they must agree.
func (e *env) taken(t testing.TB, k domain.SlotKey) int64 {
	t.Helper()
	row := e.count(t, `SELECT COALESCE(SUM(taken),0) FROM delivery_slots WHERE warehouse = ? AND day = ? AND slot_type = ?`, k.Warehouse, k.Day, string(k.Type))
	held := e.count(t, `SELECT COUNT(*) FROM reservation_slots s JOIN reservations r ON r.order_id = s.order_id
		WHERE s.warehouse = ? AND s.day = ? AND s.slot_type = ? AND r.status IN ('HELD','CONFIRMED')`, k.Warehouse, k.Day, string(k.Type))
	if row != held {
		t.Fatalf("slot %s: row says %d taken, reservations hold %d", k, row, held)
	}
	return row
}

func TestSlotTakenWithStockAndGivenBackWithIt(t *testing.T) {
	e := newEnv(t)
	withSlotCatalog(t, e)
	ctx := context.Background()
	// One unit per warehouse shipping a part; the drop-ship line takes none.
	r, err := e.svc.Reserve(ctx, slotReq(t, "o1", l("A", 1), l("D", 1), l("DS", 1), l("HOT", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Slots(); len(got) != 2 || got[0] != slotKey("WH-BJ") || got[1] != slotKey("WH-SH") {
		t.Fatalf("slots %v", got)
	}
	if e.taken(t, slotKey("WH-SH")) != 1 || e.taken(t, slotKey("WH-BJ")) != 1 {
		t.Fatal("slot units not taken")
	}
	// A retry takes nothing more; another slot for the same order conflicts.
	if _, err := e.svc.Reserve(ctx, slotReq(t, "o1", l("A", 1), l("D", 1), l("DS", 1), l("HOT", 1))); err != nil {
		t.Fatalf("retry: %v", err)
	}
	other := req(t, "o1", l("A", 1), l("D", 1), l("DS", 1), l("HOT", 1)).WithSlot(domain.Slot{Type: domain.SlotExpress, Day: tomorrow})
	if _, err := e.svc.Reserve(ctx, other); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("other slot = %v, want conflict", err)
	}
	if e.taken(t, slotKey("WH-SH")) != 1 {
		t.Fatal("a retry took a second unit")
	}
	// Confirmed by the order's commit: still held.
	if errs := e.svc.OrdersPlaced(ctx, []string{"o1"}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if e.taken(t, slotKey("WH-SH")) != 1 {
		t.Fatal("confirmation gave the unit back")
	}
	// Cancelled: given back once, however often the event comes.
	for range 2 {
		if err := e.svc.OrderCancelled(ctx, "msg-1", "o1"); err != nil {
			t.Fatal(err)
		}
	}
	if e.taken(t, slotKey("WH-SH")) != 0 || e.taken(t, slotKey("WH-BJ")) != 0 {
		t.Fatal("cancel did not give the slot units back")
	}
	if _, err := e.svc.Release(ctx, "o1"); err != nil {
		t.Fatal(err)
	}
	if e.taken(t, slotKey("WH-SH")) != 0 {
		t.Fatal("a second release gave back twice")
	}
	wantAvail(t, e, map[string]int64{"A": 10, "D": 100, "HOT": 20})
}

// A full slot refuses the reservation naming the slot, and nothing is
// written: no reservation, no stock, no hot units, no unit of the other
// warehouse's slot.
func TestSlotFullWritesNothing(t *testing.T) {
	e := newEnv(t)
	withSlotCatalog(t, e)
	ctx := context.Background()
	setCap(t, e, "WH-BJ", 1)
	if _, err := e.svc.Reserve(ctx, slotReq(t, "o1", l("D", 1))); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Reserve(ctx, slotReq(t, "o2", l("A", 2), l("HOT", 3), l("D", 1)))
	var sf *domain.SlotFullError
	if !errors.As(err, &sf) || len(sf.Slots) != 1 || sf.Slots[0] != slotKey("WH-BJ") {
		t.Fatalf("err = %v, want SLOT_FULL naming %s", err, slotKey("WH-BJ"))
	}
	wantAvail(t, e, map[string]int64{"A": 10, "D": 99, "HOT": 20})
	if n := e.count(t, `SELECT COUNT(*) FROM reservations WHERE order_id = 'o2'`); n != 0 {
		t.Fatalf("%d reservation rows for the refused order", n)
	}
	if e.taken(t, slotKey("WH-SH")) != 0 || e.taken(t, slotKey("WH-BJ")) != 1 {
		t.Fatal("the refused order holds slot units")
	}
	// Without D the order fits: WH-SH is unlimited.
	if _, err := e.svc.Reserve(ctx, slotReq(t, "o3", l("A", 2), l("HOT", 3))); err != nil {
		t.Fatal(err)
	}
}

// 200 buyers for the last 50 units of a slot, half of them buying the hot
// SKU (Redis first, then MariaDB): exactly 50 win, the rest are refused
// SLOT_FULL, and stock, hot stock and the slot agree afterwards. Then an
// expired reservation of an order that never committed gives its unit
// back to the next buyer.
func TestRaceForTheLastSlotUnits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.db.Exec(`UPDATE stock SET on_hand = 1000, available = 1000 WHERE sku IN ('C', 'HOT')`); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Del(ctx, e.prefix+"{inv}:stock:HOT").Err(); err != nil {
		t.Fatal(err)
	}
	setCap(t, e, "WH-SH", 150)
	// 100 units already taken by earlier orders: 50 left.
	for i := range 100 {
		if _, err := e.svc.Reserve(ctx, slotReq(t, fmt.Sprintf("early-%d", i), l("C", 1))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var wonC, wonHot, full atomic.Int64
	start := make(chan struct{})
	for i := range 200 {
		wg.Go(func() {
			<-start
			sku := "C"
			if i%2 == 1 {
				sku = "HOT"
			}
			_, err := e.svc.Reserve(ctx, slotReq(t, fmt.Sprintf("buyer-%d", i), l(sku, 1)))
			switch {
			case err == nil && sku == "C":
				wonC.Add(1)
			case err == nil:
				wonHot.Add(1)
			case errors.Is(err, domain.ErrSlotFull):
				full.Add(1)
			default:
				t.Errorf("buyer %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won := wonC.Load() + wonHot.Load(); won != 50 || full.Load() != 150 {
		t.Fatalf("%d won, %d refused SLOT_FULL; want 50 and 150", won, full.Load())
	}
	if got := e.taken(t, slotKey("WH-SH")); got != 150 {
		t.Fatalf("slot taken %d, want 150", got)
	}
	wantAvail(t, e, map[string]int64{"C": 1000 - 100 - wonC.Load(), "HOT": 1000 - wonHot.Load()})
	e.writeBack(t)
	if got := e.mysqlAvailable(t, "HOT"); got != 1000-wonHot.Load() {
		t.Fatalf("hot stock written back %d, want %d", got, 1000-wonHot.Load())
	}
	if n := e.count(t, `SELECT COUNT(*) FROM reservations WHERE status = 'HELD'`); n != 150 {
		t.Fatalf("%d held reservations, want 150", n)
	}
	if _, err := e.svc.Reserve(ctx, slotReq(t, "late-1", l("C", 1))); !errors.Is(err, domain.ErrSlotFull) {
		t.Fatalf("a full slot took one more: %v", err)
	}

	// Every order committed but early-0, which OMS never heard of: past
	// the TTL the check-back releases it and its unit serves the next buyer.
	e.orders.mu.Lock()
	for i := range 100 {
		if i > 0 {
			e.orders.orders[fmt.Sprintf("early-%d", i)] = "PENDING_PAYMENT"
		}
	}
	for i := range 200 {
		e.orders.orders[fmt.Sprintf("buyer-%d", i)] = "PENDING_PAYMENT"
	}
	e.orders.mu.Unlock()
	e.clock.Advance(2 * time.Minute)
	rep, err := e.svc.CheckBack(ctx)
	if err != nil || rep.Released != 1 {
		t.Fatalf("check-back %+v, %v", rep, err)
	}
	if got := e.taken(t, slotKey("WH-SH")); got != 149 {
		t.Fatalf("slot taken %d after the release, want 149", got)
	}
	if _, err := e.svc.Reserve(ctx, slotReq(t, "late-2", l("HOT", 1))); err != nil {
		t.Fatalf("the unit given back could not be taken: %v", err)
	}
	if got := e.taken(t, slotKey("WH-SH")); got != 150 {
		t.Fatalf("slot taken %d, want 150", got)
	}
}

// Operators set capacities ahead of time; bad changes are refused with a
// precise error and change nothing.
func TestSetSlotCapacity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := e.svc.Reserve(ctx, slotReq(t, fmt.Sprintf("o%d", i), l("C", 1))); err != nil {
			t.Fatal(err)
		}
	}
	set := func(wh, day string, n *int64) (domain.Capacity, error) {
		return e.svc.SetSlotCapacity(ctx, app.SetCapacity{Warehouse: wh, Day: day, Type: "NEXT_DAY", Capacity: n, By: "ADMIN:a1"})
	}
	two, three, neg := int64(2), int64(3), int64(-1)
	_, err := set("WH-SH", tomorrow, &two)
	var below *domain.CapacityBelowTakenError
	if !errors.As(err, &below) || below.Taken != 3 || below.Capacity != 2 || below.Slot != slotKey("WH-SH") {
		t.Fatalf("capacity below taken: %v", err)
	}
	var ve *domain.ValidationError
	for _, c := range []struct {
		wh, day string
		n       *int64
		field   string
	}{
		{"WH-XX", tomorrow, &three, "warehouse"},
		{"WH-SH", "2025-02-28", &three, "date"},
		{"WH-SH", "2025-13-01", &three, "date"},
		{"WH-SH", tomorrow, &neg, "capacity"},
	} {
		if _, err := set(c.wh, c.day, c.n); !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("%+v: err = %v, want a validation error on %s", c, err, c.field)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM delivery_slot_changes`); n != 0 {
		t.Fatalf("%d changes recorded for refused calls", n)
	}
	c, err := set("WH-SH", tomorrow, &three)
	if err != nil || !c.Limited || c.Capacity != 3 || c.Taken != 3 || c.Open() {
		t.Fatalf("set 3: %+v, %v", c, err)
	}
	if _, err := e.svc.Reserve(ctx, slotReq(t, "o9", l("C", 1))); !errors.Is(err, domain.ErrSlotFull) {
		t.Fatalf("full at 3: %v", err)
	}
	// Lifting the limit reopens it; the audit has both changes.
	if _, err := set("WH-SH", tomorrow, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reserve(ctx, slotReq(t, "o9", l("C", 1))); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM delivery_slot_changes WHERE changed_by = 'ADMIN:a1'`); n != 2 {
		t.Fatalf("%d audited changes, want 2", n)
	}
	// The listing: today EXPRESS, then both types per day, for 2 days.
	cs, err := e.svc.SlotCapacities(ctx, app.SlotQuery{Warehouses: []string{"WH-SH"}, Days: 2})
	if err != nil || len(cs) != 3 {
		t.Fatalf("listing %+v, %v", cs, err)
	}
	if cs[2].Key != slotKey("WH-SH") || cs[2].Taken != 4 || cs[2].Limited {
		t.Fatalf("tomorrow's next-day slot %+v", cs[2])
	}
}

func TestOpenSlotsForAnAddress(t *testing.T) {
	e := newEnv(t)
	withSlotCatalog(t, e)
	ctx := context.Background()
	// No area drawn yet: every warehouse serves everywhere.
	if d, err := e.svc.Deliverable(ctx, "Hebei", "Shijiazhuang", "Chang'an"); err != nil || d.Restricted || len(d.Warehouses) != 2 {
		t.Fatalf("before any served area: %+v, %v", d, err)
	}
	if _, err := e.svc.SetServedArea(ctx, "Shanghai", "Shanghai", "", []string{"WH-SH"}, "ADMIN:a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetServedArea(ctx, "Shanghai", "Shanghai", "Chongming", []string{"WH-BJ"}, "ADMIN:a1"); err != nil {
		t.Fatal(err)
	}
	ve := new(domain.ValidationError)
	if _, err := e.svc.SetServedArea(ctx, "Shanghai", "Shanghai", "Pudong", []string{"WH-NOPE"}, "ADMIN:a1"); !errors.As(err, &ve) || ve.Field != "warehouses" {
		t.Fatalf("unknown warehouse: %v", err)
	}
	setCap(t, e, "WH-SH", 0)
	slots, err := e.svc.OpenSlots(ctx, domain.AreaRef{Province: "Shanghai", City: "Shanghai", District: "Pudong"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Today's express is open; tomorrow's express too; tomorrow's next-day is full.
	if len(slots) != 2 || slots[0].Key.Type != domain.SlotExpress || slots[1].Key.Type != domain.SlotExpress {
		t.Fatalf("open slots %+v", slots)
	}
	slots, err = e.svc.OpenSlots(ctx, domain.AreaRef{Province: "Shanghai", City: "Shanghai", District: "Chongming"}, 2)
	if err != nil || len(slots) != 3 || slots[0].Key.Warehouse != "WH-BJ" {
		t.Fatalf("Chongming: %+v, %v", slots, err)
	}
	if _, err := e.svc.OpenSlots(ctx, domain.AreaRef{Province: "Hebei", City: "Shijiazhuang", District: "Chang'an"}, 2); !errors.Is(err, domain.ErrNotServed) {
		t.Fatalf("unserved: %v", err)
	}
	d, err := e.svc.Deliverable(ctx, "Shanghai", "Shanghai", "Minhang")
	if err != nil || len(d.Warehouses) != 1 || d.Warehouses[0] != "WH-SH" || !d.Restricted {
		t.Fatalf("deliverable: %+v, %v", d, err)
	}
	if d, err := e.svc.Deliverable(ctx, "Hebei", "Shijiazhuang", "Chang'an"); err != nil || !d.Restricted || len(d.Warehouses) != 0 {
		t.Fatalf("unserved: %+v, %v", d, err)
	}
	ve = new(domain.ValidationError)
	if _, err := e.svc.Deliverable(ctx, "Shanghai", "", "Pudong"); !errors.As(err, &ve) || ve.Field != "city" {
		t.Fatalf("no city: %v", err)
	}
}
