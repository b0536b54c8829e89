// Package domain holds WMS's rules without I/O for this slice: ERP stock
// occupation per delivery order (fulfillment stage 12) and received
// delivery orders (DOMAIN 7.1 step 1): validation, typed statuses, and the
// sentinel errors the api maps to wmsclient's codes.
package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Sentinel errors.
var (
	ErrValidation       = errors.New("validation failed")
	ErrNotFound         = errors.New("not found")
	ErrUnknownWarehouse = errors.New("unknown warehouse")
	// ErrConflict: the same delivery order id came again with other content.
	ErrConflict = errors.New("delivery order id already used with other content")
	// ErrIntercepted: the delivery order was intercepted (the reverse
	// flow); a hand-over of it is refused.
	ErrIntercepted = errors.New("delivery order intercepted")
	// ErrTooLateToIntercept: the delivery order has moved past the point
	// where WMS can stop it (picked, packed or shipped).
	ErrTooLateToIntercept = errors.New("delivery order is past interception")
)

// StockShortError names the SKUs whose free ERP stock (on hand minus
// occupied) cannot cover an occupation; nothing was occupied.
type StockShortError struct{ SKUs []string }

func (e *StockShortError) Error() string {
	return "ERP stock short for " + strings.Join(e.SKUs, ", ")
}

// OccupationStatus is where an occupation stands.
type OccupationStatus string

// Occupation statuses (wmsclient's wire values).
const (
	Occupied OccupationStatus = "OCCUPIED"
	Released OccupationStatus = "RELEASED"
)

// OrderStatus is where a received delivery order stands in WMS.
type OrderStatus string

// Order statuses. The split moves a RECEIVED order on (SPLIT, its work
// orders walking outbound). The reverse flow may intercept it until a
// work order of it is on a pick list: RECEIVED, or SPLIT with every work
// order still allocating, waiting for stock or allocated.
const (
	OrderReceived    OrderStatus = "RECEIVED"
	OrderIntercepted OrderStatus = "INTERCEPTED"
)

// Interception is WMS's answer to an interception: the order was stopped
// (Intercepted, with its WMS id), or it had not arrived, and a tombstone
// now refuses its hand-over (Tombstone).
type Interception struct {
	DeliveryOrderID string
	WMSOrderID      string // "" for a tombstone
	Tombstone       bool
	At              time.Time
}

// OrderSplit: the split made its work orders.
const OrderSplit OrderStatus = "SPLIT"

// CanIntercept says whether an order in status st, its work orders in
// wos, can still be stopped.
func CanIntercept(st OrderStatus, wos map[string]WorkOrderStatus) error {
	switch st {
	case OrderReceived, OrderIntercepted:
		return nil
	case OrderSplit:
		for id, w := range wos {
			if !Interceptable(w) {
				return fmt.Errorf("%w: work order %s is %s", ErrTooLateToIntercept, id, w)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: it is %s", ErrTooLateToIntercept, st)
}

// Line is a SKU and a quantity.
type Line struct {
	SKU  string
	Name string
	Qty  int64
	Zone string
}

var code = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$`)

// ValidWarehouse reports whether s can be a warehouse code.
func ValidWarehouse(s string) bool { return code.MatchString(s) }

func validID(field, s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w: %s is required (at most 64 bytes)", ErrValidation, field)
	}
	return nil
}

// Occupation is ERP stock held for one delivery order.
type Occupation struct {
	deliveryOrderID string
	orderID         string // the order it belongs to; "" from callers that do not say
	warehouse       string
	status          OccupationStatus
	lines           []Line // one per SKU, sorted by SKU
}

// RestoreOccupation rebuilds an occupation the store read.
func RestoreOccupation(deliveryOrderID, warehouse string, status OccupationStatus, lines []Line) Occupation {
	return Occupation{deliveryOrderID: deliveryOrderID, warehouse: warehouse, status: status, lines: lines}
}

// ReleasedOccupation is the tombstone of a delivery order released before
// (or without) an occupation: a late Occupy for it holds nothing.
func ReleasedOccupation(deliveryOrderID, warehouse string) Occupation {
	return Occupation{deliveryOrderID: deliveryOrderID, warehouse: warehouse, status: Released}
}

// DeliveryOrderID is the delivery order the stock is held for.
func (o Occupation) DeliveryOrderID() string { return o.deliveryOrderID }

// Warehouse is where the stock is held.
func (o Occupation) Warehouse() string { return o.warehouse }

// Status is where the occupation stands.
func (o Occupation) Status() OccupationStatus { return o.status }

// Lines are what is held, one per SKU, sorted by SKU.
func (o Occupation) Lines() []Line { return slices.Clone(o.lines) }

// As returns the occupation in status s (a repeat answers the first
// occupation as it stands).
func (o Occupation) As(s OccupationStatus) Occupation { o.status = s; return o }

// OrderID is the order the delivery order belongs to.
func (o Occupation) OrderID() string { return o.orderID }

// ForOrder names the order the occupation's delivery order belongs to (its
// cancellation releases the occupation); it is not part of Hash. It is
// required: an occupation nobody can tie to its order would never be
// released by that order's cancellation, and ERP stock would leak.
func (o Occupation) ForOrder(orderID string) (Occupation, error) {
	if err := validID("order_id", orderID); err != nil {
		return o, err
	}
	o.orderID = orderID
	return o, nil
}

// NewOccupation validates a request and merges lines of the same SKU, sorted
// by SKU so concurrent occupations lock stock rows in one order.
func NewOccupation(deliveryOrderID, warehouse string, lines []Line) (Occupation, error) {
	if err := validID("delivery_order_id", deliveryOrderID); err != nil {
		return Occupation{}, err
	}
	if !ValidWarehouse(warehouse) {
		return Occupation{}, fmt.Errorf("%w: warehouse %q is not a warehouse code", ErrValidation, warehouse)
	}
	if len(lines) == 0 {
		return Occupation{}, fmt.Errorf("%w: lines are required", ErrValidation)
	}
	qty := map[string]int64{}
	for i, l := range lines {
		if l.SKU == "" || len(l.SKU) > 64 || l.Qty <= 0 {
			return Occupation{}, fmt.Errorf("%w: lines[%d] needs a sku and a positive qty", ErrValidation, i)
		}
		qty[l.SKU] += l.Qty
	}
	o := Occupation{deliveryOrderID: deliveryOrderID, warehouse: warehouse, status: Occupied}
	for sku, q := range qty {
		o.lines = append(o.lines, Line{SKU: sku, Qty: q})
	}
	sort.Slice(o.lines, func(i, j int) bool { return o.lines[i].SKU < o.lines[j].SKU })
	return o, nil
}

// Hash identifies an occupation's content, to tell a retry from a reuse.
func (o Occupation) Hash() string {
	return RequestHash(struct {
		W string
		L []Line
	}{o.warehouse, o.lines})
}

// Stock is ERP stock of one SKU in one warehouse.
type Stock struct {
	warehouse string
	sku       string
	onHand    int64
	occupied  int64
	updatedAt time.Time
}

// NewStock is onHand units of a SKU in a warehouse, none occupied: a
// warehouse code, a SKU of 1..64 bytes, a quantity not below zero.
func NewStock(warehouse, sku string, onHand int64) (Stock, error) {
	switch {
	case !ValidWarehouse(warehouse):
		return Stock{}, fmt.Errorf("%w: warehouse %q is not a warehouse code", ErrValidation, warehouse)
	case sku == "" || len(sku) > 64:
		return Stock{}, fmt.Errorf("%w: sku is required (at most 64 bytes)", ErrValidation)
	case onHand < 0:
		return Stock{}, fmt.Errorf("%w: on_hand must not be negative", ErrValidation)
	}
	return Stock{warehouse: warehouse, sku: sku, onHand: onHand}, nil
}

// RestoreStock rebuilds a stock row the store read.
func RestoreStock(warehouse, sku string, onHand, occupied int64, updatedAt time.Time) Stock {
	return Stock{warehouse: warehouse, sku: sku, onHand: onHand, occupied: occupied, updatedAt: updatedAt}
}

// Warehouse is where the stock is.
func (s Stock) Warehouse() string { return s.warehouse }

// SKU is the stock's SKU.
func (s Stock) SKU() string { return s.sku }

// OnHand is the ERP's on-hand quantity.
func (s Stock) OnHand() int64 { return s.onHand }

// Occupied is what delivery orders hold of it.
func (s Stock) Occupied() int64 { return s.occupied }

// UpdatedAt is the row's last change.
func (s Stock) UpdatedAt() time.Time { return s.updatedAt }

// Free is what can still be occupied.
func (s Stock) Free() int64 { return s.onHand - s.occupied }

// SetOnHand checks a new on-hand quantity against what is occupied: the
// ERP stock may not go below it.
func SetOnHand(onHand, occupied int64) error {
	if onHand < occupied {
		return fmt.Errorf("%w: on_hand %d is below the %d units occupied", ErrValidation, onHand, occupied)
	}
	return nil
}

// Order is a delivery order dispatched to WMS: header, lines (detail),
// delivery data and free-form profiles.
type Order struct {
	WMSOrderID      string
	DeliveryOrderID string
	OrderID         string
	CustomerID      string
	Warehouse       string
	Status          OrderStatus
	Delivery        Delivery
	Lines           []Line
	Profiles        map[string]string
	ReceivedAt      time.Time
}

// Delivery is where and how the order goes out.
type Delivery struct {
	Date      string // YYYY-MM-DD
	Express   bool
	Carrier   string
	WaybillNo string
	Name      string
	Phone     string
	Address   string
}

// Validate checks a dispatched order before it is stored.
func (o Order) Validate() error {
	if err := validID("delivery_order_id", o.DeliveryOrderID); err != nil {
		return err
	}
	if err := validID("order_id", o.OrderID); err != nil {
		return err
	}
	if err := validID("customer_id", o.CustomerID); err != nil {
		return err
	}
	if !ValidWarehouse(o.Warehouse) {
		return fmt.Errorf("%w: warehouse %q is not a warehouse code", ErrValidation, o.Warehouse)
	}
	if _, err := time.Parse(time.DateOnly, o.Delivery.Date); err != nil {
		return fmt.Errorf("%w: delivery_date %q is not YYYY-MM-DD", ErrValidation, o.Delivery.Date)
	}
	d := o.Delivery
	switch {
	case len(d.Carrier) > 32 || len(d.WaybillNo) > 64:
		return fmt.Errorf("%w: carrier or waybill_no too long", ErrValidation)
	case d.Name == "" || len(d.Name) > 128:
		return fmt.Errorf("%w: name is required (at most 128 bytes)", ErrValidation)
	case d.Phone == "" || len(d.Phone) > 32:
		return fmt.Errorf("%w: phone is required (at most 32 bytes)", ErrValidation)
	case d.Address == "" || len(d.Address) > 512:
		return fmt.Errorf("%w: address is required (at most 512 bytes)", ErrValidation)
	case len(o.Lines) == 0:
		return fmt.Errorf("%w: lines are required", ErrValidation)
	}
	for i, l := range o.Lines {
		if l.SKU == "" || len(l.SKU) > 64 || l.Qty <= 0 || len(l.Name) > 255 || len(l.Zone) > 16 {
			return fmt.Errorf("%w: lines[%d] needs a sku, a positive qty, name ≤ 255 and zone ≤ 16 bytes", ErrValidation, i)
		}
	}
	for k, v := range o.Profiles {
		if k == "" || len(k) > 64 || len(v) > 1024 {
			return fmt.Errorf("%w: profile %q: key 1..64 bytes, value at most 1024", ErrValidation, k)
		}
	}
	return nil
}

// Hash identifies a dispatched order's content (maps marshal in key order).
func (o Order) Hash() string {
	return RequestHash(struct {
		O, C, W string
		D       Delivery
		L       []Line
		P       map[string]string
	}{o.OrderID, o.CustomerID, o.Warehouse, o.Delivery, o.Lines, o.Profiles})
}

// RequestHash is a stable digest of plain data.
func RequestHash(v any) string {
	b, _ := json.Marshal(v) // only plain data is hashed; it always marshals
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ReturnExpected is a return notice's status until the dock books the goods.
const ReturnExpected = "EXPECTED"

// ReturnNotice is goods of an order on their way back (a return with
// pickup, a rejection), as after-sales announced them.
type ReturnNotice struct {
	NoticeID, OrderID, RequestID, Kind, WaybillNo string
	Lines                                         []Line
	Status                                        string
	At                                            time.Time
}
