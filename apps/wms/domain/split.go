package domain

import (
	"fmt"
	"slices"
)

// TempZone is one of the warehouse's five temperature zones (DOMAIN 7.1
// step 2); the values are inventory's catalog zones.
type TempZone string

// The five temperature zones, in the order work orders are numbered.
const (
	Ambient     TempZone = "AMBIENT"      // 常温
	ChilledHigh TempZone = "CHILLED_HIGH" // 高温冷藏
	ChilledLow  TempZone = "CHILLED_LOW"  // 低温冷藏
	FrozenHigh  TempZone = "FROZEN_HIGH"  // 高温冷冻
	FrozenLow   TempZone = "FROZEN_LOW"   // 低温冷冻
)

// Zones lists the temperature zones in their order.
var Zones = []TempZone{Ambient, ChilledHigh, ChilledLow, FrozenHigh, FrozenLow}

// ParseZone returns the temperature zone named s.
func ParseZone(s string) (TempZone, error) {
	if slices.Contains(Zones, TempZone(s)) {
		return TempZone(s), nil
	}
	return "", fmt.Errorf("%w: %q is not a temperature zone (AMBIENT, CHILLED_HIGH, CHILLED_LOW, FROZEN_HIGH, FROZEN_LOW)", ErrValidation, s)
}

// Handling is how an item travels: the split's own-box rules.
type Handling string

// Handlings. OwnBox items (oversize, sold by the original case) each make
// a work order of their own; Vegetable and Bagged goods never share one.
const (
	Standard  Handling = "STANDARD"
	Vegetable Handling = "VEGETABLE"
	Bagged    Handling = "BAGGED"
	OwnBox    Handling = "OWN_BOX"
)

var handlings = []Handling{Standard, Vegetable, Bagged, OwnBox}

// ParseHandling returns the handling named s ("" is Standard).
func ParseHandling(s string) (Handling, error) {
	if s == "" {
		return Standard, nil
	}
	if slices.Contains(handlings, Handling(s)) {
		return Handling(s), nil
	}
	return "", fmt.Errorf("%w: %q is not a handling (STANDARD, VEGETABLE, BAGGED, OWN_BOX)", ErrValidation, s)
}

// Item is the item master's view of a SKU: its zone, handling and weight.
type Item struct {
	sku         string
	name        string
	zone        TempZone
	handling    Handling
	unitWeightG int64
	storeMOQ    int64
}

// NewItem validates an item master row.
func NewItem(sku, name, zone, handling string, unitWeightG int64) (Item, error) {
	if sku == "" || len(sku) > 64 || len(name) > 255 {
		return Item{}, fmt.Errorf("%w: sku is required (at most 64 bytes), name at most 255", ErrValidation)
	}
	z, err := ParseZone(zone)
	if err != nil {
		return Item{}, err
	}
	h, err := ParseHandling(handling)
	if err != nil {
		return Item{}, err
	}
	if unitWeightG <= 0 || unitWeightG > 1_000_000 {
		return Item{}, fmt.Errorf("%w: unit weight must be 1..1000000 g", ErrValidation)
	}
	return Item{sku: sku, name: name, zone: z, handling: h, unitWeightG: unitWeightG}, nil
}

// SKU is the item's SKU.
func (i Item) SKU() string { return i.sku }

// Name is the item's name.
func (i Item) Name() string { return i.name }

// Zone is the item's temperature zone.
func (i Item) Zone() TempZone { return i.zone }

// Handling is how the item travels.
func (i Item) Handling() Handling { return i.handling }

// UnitWeightG is one unit's weight in grams.
func (i Item) UnitWeightG() int64 { return i.unitWeightG }

// StoreMOQ is the minimum quantity a retail store's order ships of the
// item (0: none): a line under it ships nothing (DOMAIN 7.2).
func (i Item) StoreMOQ() int64 { return i.storeMOQ }

// WithStoreMOQ is the item with a store minimum order quantity (0..1e6).
func (i Item) WithStoreMOQ(n int64) (Item, error) {
	if n < 0 || n > 1_000_000 {
		return i, fmt.Errorf("%w: store MOQ must be 0..1000000", ErrValidation)
	}
	i.storeMOQ = n
	return i, nil
}

// WorkOrderStatus is where a work order (sales_order) stands.
type WorkOrderStatus string

// Work order statuses, in the order outbound walks them.
const (
	WOAllocating   WorkOrderStatus = "ALLOCATING"    // split; its allocation message is on its way
	WOWaitingStock WorkOrderStatus = "WAITING_STOCK" // short in pick and reserve areas; a receipt retries it
	WOAllocated    WorkOrderStatus = "ALLOCATED"     // bin stock occupied
	WOPicking      WorkOrderStatus = "PICKING"       // on a pick list
	WOPicked       WorkOrderStatus = "PICKED"
	WOPacked       WorkOrderStatus = "PACKED"
	WOHandedOver   WorkOrderStatus = "HANDED_OVER"
	// WOIntercepted: the reverse flow stopped it before picking; what it
	// occupied went back to the bins.
	WOIntercepted WorkOrderStatus = "INTERCEPTED"
)

// Interceptable reports whether a work order in status st can still be
// stopped: not yet on a pick list (nothing taken from a bin).
func Interceptable(st WorkOrderStatus) bool {
	switch st {
	case WOAllocating, WOWaitingStock, WOAllocated, WOIntercepted:
		return true
	}
	return false
}

// ParseWorkOrderStatus returns the status named s.
func ParseWorkOrderStatus(s string) (WorkOrderStatus, error) {
	switch st := WorkOrderStatus(s); st {
	case WOAllocating, WOWaitingStock, WOAllocated, WOPicking, WOPicked, WOPacked, WOHandedOver, WOQCShort, WOShortClosed, WOIntercepted:
		return st, nil
	}
	return "", fmt.Errorf("%w: %q is not a work order status", ErrValidation, s)
}

// WorkOrder is one part of a received order that travels on its own: one
// temperature zone and one handling.
type WorkOrder struct {
	ID         string
	WMSOrderID string
	Warehouse  string
	Carrier    string
	Zone       TempZone
	Handling   Handling
	Seq        int
	Status     WorkOrderStatus
	Reason     string
	PickListID string
	SlotNo     int
	Lines      []WorkLine
}

// WorkLine is a line of a work order (sales_detail).
type WorkLine struct {
	LineNo int
	SKU    string
	Name   string
	Qty    int64
	Picked int64
	QCed   int64
	// Partial is set once a confirmed shortage decided what ships of the
	// line: Ship units (the line ships in full otherwise).
	Partial bool
	Ship    int64
}

// Split divides a received order into work orders by temperature zone and
// the own-box rules (DOMAIN 7.1 step 2). An item in the item master gives
// its zone and handling; otherwise the line's zone (the catalog's) and
// Standard handling. Lines of one SKU in one work order merge. Work orders come out numbered 1..n in zone order,
// then handling order, own-box lines last in line order; ids are the
// caller's (newID).
func Split(o Order, items map[string]Item, newID func() string) ([]WorkOrder, error) {
	type key struct {
		z TempZone
		h Handling
	}
	groups := map[key][]WorkLine{}
	var own []WorkOrder
	for i, l := range o.Lines {
		zone, handling := TempZone(l.Zone), Standard
		if it, ok := items[l.SKU]; ok {
			zone, handling = it.zone, it.handling
		}
		if _, err := ParseZone(string(zone)); err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", i+1, l.SKU, err)
		}
		wl := WorkLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty}
		if handling == OwnBox {
			wl.LineNo = 1
			own = append(own, WorkOrder{Zone: zone, Handling: OwnBox, Lines: []WorkLine{wl}})
			continue
		}
		k := key{zone, handling}
		if j := slices.IndexFunc(groups[k], func(g WorkLine) bool { return g.SKU == l.SKU }); j >= 0 {
			groups[k][j].Qty += l.Qty // one line per SKU: picking and QC count by SKU
			continue
		}
		wl.LineNo = len(groups[k]) + 1
		groups[k] = append(groups[k], wl)
	}
	var out []WorkOrder
	for _, z := range Zones {
		for _, h := range handlings {
			if ls, ok := groups[key{z, h}]; ok {
				out = append(out, WorkOrder{Zone: z, Handling: h, Lines: ls})
			}
		}
	}
	out = append(out, own...)
	for i := range out {
		w := &out[i]
		w.ID, w.WMSOrderID, w.Warehouse, w.Carrier = newID(), o.WMSOrderID, o.Warehouse, o.Delivery.Carrier
		w.Seq, w.Status = i+1, WOAllocating
	}
	return out, nil
}
