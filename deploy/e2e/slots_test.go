package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/deploy/gqlc"
)

const (
	mSetSlot = `mutation($in:SetSlotCapacityInput!){ setSlotCapacity(input:$in){ slot{ capacity taken } errors{ code message field } } }`
	qSlots   = `query($wh:String,$from:String){ slotCapacities(warehouse:$wh, from:$from, days:1){ warehouse type date capacity taken open } }`
	mArea    = `mutation($in:SetServedAreaInput!){ setServedArea(input:$in){ area{ warehouses } errors{ code message field } } }`
	qOpen    = `query($a:AreaInput!){ deliverySlots(address:$a, days:30){ type date warehouse remaining } }`
	qWh      = `query($sku:ID!){ product(sku:$sku){ warehouse } }`
)

type slotCap struct {
	Type     string `json:"type"`
	Capacity *int64 `json:"capacity"`
	Taken    int64  `json:"taken"`
	Open     bool   `json:"open"`
}

func nextDaySlot(t *testing.T, admin *gqlc.Client, wh, day string) slotCap {
	t.Helper()
	var out struct{ SlotCapacities []slotCap }
	if err := admin.Do(ctx(t), qSlots, map[string]any{"wh": wh, "from": day}, &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range out.SlotCapacities {
		if s.Type == "NEXT_DAY" {
			return s
		}
	}
	t.Fatalf("no NEXT_DAY slot of %s on %s in %+v", wh, day, out.SlotCapacities)
	return slotCap{}
}

func openOn(t *testing.T, c *gqlc.Client, wh, day string) bool {
	t.Helper()
	var out struct {
		DeliverySlots []struct{ Type, Date, Warehouse string }
	}
	a := map[string]any{"province": "Shanghai", "city": "Shanghai", "district": "Pudong"}
	if err := c.Do(ctx(t), qOpen, map[string]any{"a": a}, &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range out.DeliverySlots {
		if s.Type == "NEXT_DAY" && s.Date == day && s.Warehouse == wh {
			return true
		}
	}
	return false
}

// 200 buyers for the last 50 units of a delivery slot, through the whole
// stack: exactly 50 orders, the rest refused SLOT_FULL naming the slot,
// and the slot's count and the stock agree; a capacity below what is
// taken is refused; cancelled orders give their units and stock back, and
// so does an order that expires unpaid.
func TestSlotRaceThroughTheStack(t *testing.T) {
	admin := client(t, "ADMIN", "a1")
	c := client(t, "CUSTOMER", "C0090")
	p := plainProducts(t, c, 1, 8)[0]
	var w struct{ Product struct{ Warehouse string } }
	if err := c.Do(ctx(t), qWh, map[string]any{"sku": p.SKU}, &w); err != nil {
		t.Fatal(err)
	}
	wh := w.Product.Warehouse
	// A day no other test promises.
	day := time.Now().In(shanghai).AddDate(0, 0, 20).Format(time.DateOnly)
	var area struct {
		SetServedArea struct{ Errors []userError }
	}
	if err := admin.Do(ctx(t), mArea, map[string]any{"in": map[string]any{"province": "Shanghai", "city": "Shanghai", "district": "",
		"warehouses": []string{"WH-SH", "WH-BJ"}}}, &area); err != nil || len(area.SetServedArea.Errors) > 0 {
		t.Fatalf("served area: %v %+v", err, area.SetServedArea.Errors)
	}
	var set struct {
		SetSlotCapacity struct{ Errors []userError }
	}
	if err := admin.Do(ctx(t), mSetSlot, map[string]any{"in": map[string]any{"warehouse": wh, "type": "NEXT_DAY", "date": day, "capacity": 50}}, &set); err != nil || len(set.SetSlotCapacity.Errors) > 0 {
		t.Fatalf("set capacity: %v %+v", err, set.SetSlotCapacity.Errors)
	}
	if !openOn(t, c, wh, day) {
		t.Fatal("the slot is not offered before the race")
	}
	stock0 := available(t, c, p.SKU)
	// The racers pay through ALIPAY, whose deadline (90 s here) outlasts
	// the race however slow the machine: no unit comes back before the
	// counts are read.
	in := func(channel string) map[string]any {
		o := orderInput([]product{p}, 1, nil)
		o["slot"] = map[string]any{"type": "NEXT_DAY", "date": day}
		o["channel"] = channel
		return o
	}
	var (
		mu         sync.Mutex
		wins, full int
		winners    []*gqlc.Client
		orders     []string
		wg         sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range 200 {
		b := client(t, "CUSTOMER", fmt.Sprintf("SLOT-%03d", i))
		wg.Go(func() {
			<-start
			o, errs := place(t, b, in("ALIPAY"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case o.ID != "":
				wins++
				winners, orders = append(winners, b), append(orders, o.ID)
			case len(errs) == 1 && errs[0].Code == "SLOT_FULL" && strings.Contains(errs[0].Message, wh) && strings.Contains(errs[0].Message, day):
				full++
			default:
				t.Errorf("buyer %d: %+v", i, errs)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 50 || full != 150 {
		t.Fatalf("%d orders, %d refused SLOT_FULL; want 50 and 150", wins, full)
	}
	if s := nextDaySlot(t, admin, wh, day); s.Taken != 50 || s.Open {
		t.Fatalf("slot after the race %+v, want 50 taken and closed", s)
	}
	if got := available(t, c, p.SKU); got != stock0-50 {
		t.Fatalf("stock %d after 50 orders of one unit, want %d", got, stock0-50)
	}
	if openOn(t, c, wh, day) {
		t.Fatal("a full slot is offered")
	}
	// Capacity below what is taken: refused, nothing changed.
	var below struct {
		SetSlotCapacity struct{ Errors []userError }
	}
	if err := admin.Do(ctx(t), mSetSlot, map[string]any{"in": map[string]any{"warehouse": wh, "type": "NEXT_DAY", "date": day, "capacity": 49}}, &below); err != nil {
		t.Fatal(err)
	}
	if errs := below.SetSlotCapacity.Errors; len(errs) != 1 || errs[0].Code != "CAPACITY_BELOW_TAKEN" {
		t.Fatalf("capacity below taken: %+v", errs)
	}
	// The winners cancel: every unit and the stock come back.
	for i, b := range winners {
		var out struct {
			CancelOrder struct{ Errors []userError }
		}
		if err := b.Do(ctx(t), mCancel, map[string]any{"id": orders[i], "key": "cancel-" + orders[i]}, &out); err != nil || len(out.CancelOrder.Errors) > 0 {
			t.Fatalf("cancel %s: %v %+v", orders[i], err, out.CancelOrder.Errors)
		}
	}
	given := func(taken, stock int64, why string) {
		t.Helper()
		eventually(t, payDeadline+40*time.Second, why, func() (bool, error) {
			s := nextDaySlot(t, admin, wh, day)
			got := available(t, c, p.SKU)
			return s.Taken == taken && got == stock, fmt.Errorf("slot taken %d, stock %d (want %d, %d)", s.Taken, got, taken, stock)
		})
	}
	given(0, stock0, "slot units and stock given back by the cancels")
	if !openOn(t, c, wh, day) {
		t.Fatal("the slot is not offered again after the cancels")
	}
	// An order nobody pays (WECHAT: the 12 s deadline) takes a unit and
	// gives it back when it expires.
	mustPlace(t, c, in("WECHAT"))
	if s := nextDaySlot(t, admin, wh, day); s.Taken != 1 {
		t.Fatalf("slot taken %d after one order, want 1", s.Taken)
	}
	given(0, stock0, "the slot unit given back by the expiry")
}
