package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
)

func TestSlotKeysOneUnitPerShippingWarehouse(t *testing.T) {
	t.Parallel()
	cat := map[string]domain.Product{
		"A": {SKU: "A", Warehouse: "WH-SH"}, "B": {SKU: "B", Warehouse: "WH-SH"},
		"C": {SKU: "C", Warehouse: "WH-BJ"}, "DS": {SKU: "DS", Warehouse: "WH-GZ", DropShip: true},
	}
	parts := []domain.Part{{SKU: "A", Qty: 1}, {SKU: "B", Qty: 2}, {SKU: "C", Qty: 1}, {SKU: "DS", Qty: 1}}
	slot := &domain.Slot{Type: domain.SlotNextDay, Day: "2026-01-02"}
	got := domain.SlotKeys(slot, parts, cat)
	want := []domain.SlotKey{{Warehouse: "WH-BJ", Day: "2026-01-02", Type: domain.SlotNextDay}, {Warehouse: "WH-SH", Day: "2026-01-02", Type: domain.SlotNextDay}}
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	if domain.SlotKeys(nil, parts, cat) != nil {
		t.Fatal("no slot asked, none taken")
	}
}

func TestCheckCapacityChange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, domain.Shanghai)
	k := func(day string) domain.SlotKey {
		return domain.SlotKey{Warehouse: "WH-SH", Day: day, Type: domain.SlotExpress}
	}
	for _, c := range []struct {
		name     string
		key      domain.SlotKey
		capacity int64
		taken    int64
		field    string
		below    bool
	}{
		{"today", k("2026-01-01"), 5, 5, "", false},
		{"negative", k("2026-01-02"), -1, 0, "capacity", false},
		{"past", k("2025-12-31"), 5, 0, "date", false},
		{"too far", k("2026-03-05"), 5, 0, "date", false},
		{"below taken", k("2026-01-02"), 2, 3, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckCapacityChange(c.key, c.capacity, c.taken, now)
			var ve *domain.ValidationError
			var bt *domain.CapacityBelowTakenError
			switch {
			case c.below:
				if !errors.As(err, &bt) || bt.Taken != c.taken || !errors.Is(err, domain.ErrBelowTaken) {
					t.Fatalf("err = %v, want below taken", err)
				}
			case c.field != "":
				if !errors.As(err, &ve) || ve.Field != c.field {
					t.Fatalf("err = %v, want a refusal of %s", err, c.field)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestSlotTypesOfferedDays(t *testing.T) {
	t.Parallel()
	today := domain.Today(time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)) // 04:00 on the 2nd in Shanghai
	if today.Format(time.DateOnly) != "2026-01-02" {
		t.Fatalf("today in Shanghai %s", today)
	}
	tomorrow := today.AddDate(0, 0, 1)
	if !domain.SlotExpress.OffersOn(today, today) || domain.SlotNextDay.OffersOn(today, today) || !domain.SlotNextDay.OffersOn(tomorrow, today) {
		t.Fatal("express from today, next-day from tomorrow")
	}
}

func TestPriceAt(t *testing.T) {
	t.Parallel()
	t9 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	p := domain.Product{PriceFen: 990, PriceFrom: t9, Next: &domain.PriceChange{Price: 1500, From: t9.Add(time.Hour)}}
	for _, c := range []struct {
		at    time.Time
		price int64
		known bool
	}{
		{t9.Add(59 * time.Minute), 990, true},
		{t9.Add(time.Hour), 1500, true},
		{t9.Add(-time.Second), 0, false},
	} {
		got, ok := p.PriceAt(c.at)
		if int64(got) != c.price || ok != c.known {
			t.Errorf("at %s: %d %v, want %d %v", c.at, got, ok, c.price, c.known)
		}
	}
}

func TestServingPrefersTheDistrict(t *testing.T) {
	t.Parallel()
	entries := []domain.ServedArea{
		{Province: "Shanghai", City: "Shanghai", Warehouses: []string{"WH-SH"}},
		{Province: "Shanghai", City: "Shanghai", District: "Chongming", Warehouses: []string{"WH-CM"}},
	}
	if got := domain.Serving(domain.AreaRef{Province: "Shanghai", City: "Shanghai", District: "Chongming"}, entries); !slices.Equal(got, []string{"WH-CM"}) {
		t.Fatalf("Chongming %v", got)
	}
	if got := domain.Serving(domain.AreaRef{Province: "Shanghai", City: "Shanghai", District: "Pudong"}, entries); !slices.Equal(got, []string{"WH-SH"}) {
		t.Fatalf("Pudong %v", got)
	}
	if got := domain.Serving(domain.AreaRef{Province: "Hebei", City: "Baoding", District: "X"}, entries); got != nil {
		t.Fatalf("Hebei %v", got)
	}
}
