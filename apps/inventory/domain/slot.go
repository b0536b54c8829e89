package domain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SlotType is a kind of delivery promise.
type SlotType string

// The slot types (DOMAIN 1.2).
const (
	SlotExpress SlotType = "EXPRESS"  // 极速达: delivered the same day
	SlotNextDay SlotType = "NEXT_DAY" // 次日达: delivered from the next day on
)

// SlotTypes lists every slot type in a stable order.
var SlotTypes = []SlotType{SlotExpress, SlotNextDay}

// Shanghai is the zone delivery days are counted in (no daylight saving,
// so a fixed offset is exact and needs no tzdata).
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// MaxSlotDays is how far ahead a capacity may be set or a slot listed.
const MaxSlotDays = 60

// Sentinel errors of delivery slots.
var (
	// ErrSlotFull is wrapped by SlotFullError.
	ErrSlotFull = errors.New("delivery slot full")
	// ErrBelowTaken is wrapped by CapacityBelowTakenError.
	ErrBelowTaken = errors.New("capacity below the units already taken")
)

// ParseSlotType accepts exactly EXPRESS or NEXT_DAY.
func ParseSlotType(s string) (SlotType, error) {
	t := SlotType(s)
	if slices.Contains(SlotTypes, t) {
		return t, nil
	}
	return "", invalid("slot.type", fmt.Sprintf("%q is not EXPRESS or NEXT_DAY", s))
}

// ParseDay reads a YYYY-MM-DD day in Shanghai.
func ParseDay(field, s string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		return time.Time{}, invalid(field, fmt.Sprintf("%q is not YYYY-MM-DD", s))
	}
	return d, nil
}

// Today is now's day in Shanghai.
func Today(now time.Time) time.Time {
	l := now.In(Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, Shanghai)
}

// SlotKey names one capacity: a warehouse's deliveries of one type on one
// day (Shanghai).
type SlotKey struct {
	Warehouse string
	Day       string // YYYY-MM-DD
	Type      SlotType
}

func (k SlotKey) String() string { return k.Warehouse + "/" + k.Day + "/" + string(k.Type) }

// CompareSlotKeys is the lock order of slot rows.
func CompareSlotKeys(a, b SlotKey) int {
	return cmp.Or(strings.Compare(a.Warehouse, b.Warehouse), strings.Compare(a.Day, b.Day), strings.Compare(string(a.Type), string(b.Type)))
}

// NewSlotKey validates a slot key.
func NewSlotKey(warehouse, day, typ string) (SlotKey, error) {
	if strings.TrimSpace(warehouse) == "" || len(warehouse) > 16 {
		return SlotKey{}, invalid("warehouse", "must be 1..16 characters")
	}
	t, err := ParseSlotType(typ)
	if err != nil {
		return SlotKey{}, err
	}
	if _, err := ParseDay("date", day); err != nil {
		return SlotKey{}, err
	}
	return SlotKey{Warehouse: warehouse, Day: day, Type: t}, nil
}

// Slot is the delivery promise a reservation asks for: a type and a day;
// the warehouses come from the products.
type Slot struct {
	Type SlotType
	Day  string // YYYY-MM-DD
}

// NewSlot validates a requested slot.
func NewSlot(typ, day string) (Slot, error) {
	t, err := ParseSlotType(typ)
	if err != nil {
		return Slot{}, err
	}
	if _, err := ParseDay("slot.date", day); err != nil {
		return Slot{}, err
	}
	return Slot{Type: t, Day: day}, nil
}

// SlotKeys are the capacities an order takes one unit of each: its slot at
// every warehouse that ships one of its parts. Drop-ship parts travel from
// their supplier, not from a warehouse, so they take none. Sorted: the
// lock order.
func SlotKeys(slot *Slot, parts []Part, catalog map[string]Product) []SlotKey {
	if slot == nil {
		return nil
	}
	var out []SlotKey
	for _, p := range parts {
		pr, ok := catalog[p.SKU]
		if !ok || pr.DropShip {
			continue
		}
		k := SlotKey{Warehouse: pr.Warehouse, Day: slot.Day, Type: slot.Type}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, CompareSlotKeys)
	return out
}

// SlotFullError names the slots that had no unit left; nothing was taken.
type SlotFullError struct{ Slots []SlotKey }

func (e *SlotFullError) Error() string {
	names := make([]string, len(e.Slots))
	for i, k := range e.Slots {
		names[i] = k.String()
	}
	return ErrSlotFull.Error() + ": " + strings.Join(names, ", ")
}

// Unwrap lets errors.Is match ErrSlotFull.
func (e *SlotFullError) Unwrap() error { return ErrSlotFull }

// CapacityBelowTakenError refuses a capacity lower than what orders
// already hold of the slot.
type CapacityBelowTakenError struct {
	Slot     SlotKey
	Capacity int64
	Taken    int64
}

func (e *CapacityBelowTakenError) Error() string {
	return fmt.Sprintf("%s: capacity %d for %s, %d already taken", ErrBelowTaken, e.Capacity, e.Slot, e.Taken)
}

// Unwrap lets errors.Is match ErrBelowTaken.
func (e *CapacityBelowTakenError) Unwrap() error { return ErrBelowTaken }

// Capacity is one slot's capacity and use. Limited false: no capacity
// was set and the slot takes any number of orders (still counted, so a
// capacity set later is checked against what is taken).
type Capacity struct {
	Key       SlotKey
	Limited   bool
	Capacity  int64
	Taken     int64
	UpdatedBy string
	UpdatedAt time.Time
}

// Remaining is how many orders the slot still takes; -1 when unlimited.
func (c Capacity) Remaining() int64 {
	if !c.Limited {
		return -1
	}
	return max(c.Capacity-c.Taken, 0)
}

// Open reports whether one more order fits.
func (c Capacity) Open() bool { return !c.Limited || c.Taken < c.Capacity }

// CheckCapacityChange validates a new capacity for a slot that holds
// taken units: never negative, never below what is taken, never for a day
// already past or beyond MaxSlotDays.
func CheckCapacityChange(k SlotKey, capacity int64, taken int64, now time.Time) error {
	d, err := ParseDay("date", k.Day)
	if err != nil {
		return err
	}
	today := Today(now)
	switch {
	case capacity < 0:
		return invalid("capacity", "must not be negative")
	case d.Before(today):
		return invalid("date", fmt.Sprintf("%s is in the past", k.Day))
	case d.After(today.AddDate(0, 0, MaxSlotDays)):
		return invalid("date", fmt.Sprintf("%s is more than %d days ahead", k.Day, MaxSlotDays))
	case capacity < taken:
		return &CapacityBelowTakenError{Slot: k, Capacity: capacity, Taken: taken}
	}
	return nil
}

// OffersOn reports whether a slot type is promised for day as seen on
// today: express from today on, next-day from tomorrow on.
func (t SlotType) OffersOn(day, today time.Time) bool {
	if t == SlotNextDay {
		return day.After(today)
	}
	return !day.Before(today)
}
