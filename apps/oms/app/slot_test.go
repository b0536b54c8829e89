package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/app"
)

// With the slot check on, the placement asks inventory for a unit of its
// slot with the stock; a full slot fails the call naming the slot, and
// nothing is written. Off, no slot is asked for.
func TestPlaceOrderSlotFullWritesNothing(t *testing.T) {
	e := newEnv(t)
	on := app.New(app.Deps{Repo: e.repo, Inventory: e.inv, Pay: e.pay, Reminders: e.rem, Clock: e.clock}, app.Config{SlotCheck: true})
	p := placement("APP")
	e.inv.fullSlots = map[string]bool{p.Slot.Type + " " + p.Slot.Date: true}
	_, _, err := on.PlaceOrder(context.Background(), cmd("k1", p))
	var sf *app.SlotFullError
	if !errors.As(err, &sf) || len(sf.Slots) != 1 || sf.Slots[0] != (inventoryclient.SlotRef{Warehouse: "WH-SH", Date: p.Slot.Date, Type: p.Slot.Type}) {
		t.Fatalf("err = %v, want SLOT_FULL naming WH-SH's slot", err)
	}
	if !strings.Contains(err.Error(), "WH-SH") || !strings.Contains(err.Error(), p.Slot.Date) {
		t.Fatalf("message %q does not name the slot", err)
	}
	nothingWritten(t, e)
	if got := e.inv.slots[0]; got == nil || got.Type != p.Slot.Type || got.Date != p.Slot.Date {
		t.Fatalf("slot asked for: %+v", got)
	}
	// Another day fits.
	p.Slot.Date = t0.In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 2).Format(time.DateOnly)
	if _, _, err := on.PlaceOrder(context.Background(), cmd("k2", p)); err != nil {
		t.Fatal(err)
	}
	// The check off (the load run's baseline): inventory is asked for no slot.
	mustPlace(t, e, "k3", placement("APP"))
	if got := e.inv.slots[len(e.inv.slots)-1]; got != nil {
		t.Fatalf("slot asked for with the check off: %+v", got)
	}
}
