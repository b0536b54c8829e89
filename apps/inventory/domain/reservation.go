package domain

import (
	"github.com/harvest/harvest/apps/platform/money"
	"maps"

	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Line asks for Qty units of a SKU (a stock SKU or a bundle).
type Line struct {
	SKU string
	Qty int64
}

// Part is what a reservation holds of one stock-carrying SKU, bundles
// expanded; Hot parts are held in Redis, the others in MariaDB.
type Part struct {
	SKU string
	Qty int64
	Hot bool
}

// Status is a reservation's state.
type Status string

// Reservation statuses.
const (
	Held      Status = "HELD"      // stock taken, order not yet known to exist
	Confirmed Status = "CONFIRMED" // the order committed: a deduction
	Released  Status = "RELEASED"  // stock given back (or a tombstone)
)

// Limits on a reservation request.
const (
	MaxLines   = 200
	MaxQty     = 1_000_000
	DefaultTTL = 5 * time.Minute
	MaxTTL     = 24 * time.Hour
)

// Request is a validated reservation request in canonical form.
type Request struct {
	orderID     string
	lines       []Line // sorted by SKU, duplicates merged
	ttl         time.Duration
	fingerprint string // of lines and slot: equal lines and slot, equal fingerprint
	prices      map[string]money.Fen
	slot        *Slot // nil: the order takes no delivery-slot capacity
}

// OrderID is the order the stock is asked for.
func (r Request) OrderID() string { return r.orderID }

// Lines are the lines, sorted by SKU, duplicates merged.
func (r Request) Lines() []Line { return slices.Clone(r.lines) }

// TTL is how long the reservation is held before the check-back.
func (r Request) TTL() time.Duration { return r.ttl }

// Fingerprint identifies the lines and the slot: equal lines and slot,
// equal fingerprint.
func (r Request) Fingerprint() string { return r.fingerprint }

// Slot is the delivery slot the order takes a unit of at each of its
// warehouses; nil when the caller asks for none.
func (r Request) Slot() *Slot { return r.slot }

// WithSlot returns the request that also takes one unit of slot at every
// warehouse shipping its parts. The slot is part of the fingerprint: the
// same order id asking for another slot is a conflict, not a retry.
func (r Request) WithSlot(slot Slot) Request {
	r.slot = &slot
	r.fingerprint = fingerprintOf(r.lines, r.slot)
	return r
}

// WithPrices returns the request with the unit prices (fen) the caller
// priced the lines at: a reservation is refused, with nothing taken, when
// any differs from the catalog's. They are not part of the fingerprint: a
// price is a precondition of the request, not what it holds.
func (r Request) WithPrices(prices map[string]money.Fen) Request {
	r.prices = maps.Clone(prices)
	return r
}

// CheckPrices refuses a request whose expected prices are not the catalog's.
func (r Request) CheckPrices(catalog map[string]Product) error {
	var diff map[string]money.Fen
	for sku, want := range r.prices {
		if p, ok := catalog[sku]; ok && p.PriceFen != want {
			if diff == nil {
				diff = map[string]money.Fen{}
			}
			diff[sku] = p.PriceFen
		}
	}
	if diff != nil {
		return &PriceError{Catalog: diff}
	}
	return nil
}

// NewRequest validates a reservation request and puts its lines in
// canonical form, so a retry that lists the same lines in another order or
// split differently is recognised as the same request.
func NewRequest(orderID string, lines []Line, ttl time.Duration) (Request, error) {
	orderID = strings.TrimSpace(orderID)
	if orderID == "" || len(orderID) > 64 {
		return Request{}, invalid("order_id", "must be 1..64 characters")
	}
	if len(lines) == 0 || len(lines) > MaxLines {
		return Request{}, invalid("lines", fmt.Sprintf("must hold 1..%d lines", MaxLines))
	}
	switch {
	case ttl < 0 || ttl > MaxTTL:
		return Request{}, invalid("ttl", "must be between 0 and 24h")
	case ttl == 0:
		ttl = DefaultTTL
	}
	merged := map[string]int64{}
	for i, l := range lines {
		if strings.TrimSpace(l.SKU) == "" {
			return Request{}, invalid(fmt.Sprintf("lines[%d].sku", i), "is required")
		}
		if l.Qty <= 0 || l.Qty > MaxQty {
			return Request{}, invalid(fmt.Sprintf("lines[%d].qty", i), "must be positive")
		}
		merged[l.SKU] += l.Qty
		if merged[l.SKU] > MaxQty {
			return Request{}, invalid(fmt.Sprintf("lines[%d].qty", i), "too large")
		}
	}
	lines = canonical(merged)
	return Request{orderID: orderID, lines: lines, ttl: ttl, fingerprint: fingerprintOf(lines, nil)}, nil
}

func canonical(m map[string]int64) []Line {
	out := make([]Line, 0, len(m))
	for sku, q := range m {
		out = append(out, Line{SKU: sku, Qty: q})
	}
	slices.SortFunc(out, func(a, b Line) int { return strings.Compare(a.SKU, b.SKU) })
	return out
}

// Fingerprint identifies a canonical set of lines.
func Fingerprint(lines []Line) string { return fingerprintOf(lines, nil) }

// fingerprintOf identifies lines and slot; without a slot it is what it
// was before slots existed, so reservations held across an upgrade are
// still recognised.
func fingerprintOf(lines []Line, slot *Slot) string {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l.SKU))
		h.Write([]byte{0})
		h.Write([]byte(strconv.FormatInt(l.Qty, 10)))
		h.Write([]byte{'\n'})
	}
	if slot != nil {
		h.Write([]byte("slot\x00" + string(slot.Type) + "\x00" + slot.Day + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Expand turns requested lines into the parts that carry stock: a bundle
// becomes its components times the quantity. Every SKU must be in catalog
// (components included); the unknown ones are named together. Parts come
// sorted by SKU, which is also the lock order that keeps concurrent
// reservations from deadlocking.
func Expand(lines []Line, catalog map[string]Product) ([]Part, error) {
	var unknown []string
	parts := map[string]*Part{}
	add := func(sku string, qty int64) {
		p, ok := catalog[sku]
		if !ok {
			unknown = append(unknown, sku)
			return
		}
		if e := parts[sku]; e != nil {
			e.Qty += qty
			return
		}
		parts[sku] = &Part{SKU: sku, Qty: qty, Hot: p.Hot}
	}
	for _, l := range lines {
		p, ok := catalog[l.SKU]
		if !ok {
			unknown = append(unknown, l.SKU)
			continue
		}
		if !p.IsBundle() {
			add(l.SKU, l.Qty)
			continue
		}
		for _, c := range p.Components {
			if cp, ok := catalog[c.SKU]; ok && cp.IsBundle() {
				return nil, invalid("lines", "bundle "+p.SKU+" nests bundle "+c.SKU)
			}
			add(c.SKU, c.Qty*l.Qty)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, &SKUError{Kind: ErrUnknownSKU, SKUs: slices.Compact(unknown)}
	}
	out := make([]Part, 0, len(parts))
	for _, p := range parts {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Part) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

// Reservation is the stock held for one order.
type Reservation struct {
	orderID     string
	status      Status
	lines       []Line
	parts       []Part
	fingerprint string
	expiresAt   time.Time
	hotPending  bool      // the Redis side of a release has yet to run
	slots       []SlotKey // one unit held of each, sorted
}

// NewReservation is the HELD reservation of req: parts (bundles
// expanded) and one unit of each slot until expires, kept to what
// DATETIME(6) stores.
func NewReservation(req Request, parts []Part, slots []SlotKey, expires time.Time) Reservation {
	return Reservation{orderID: req.orderID, status: Held, lines: req.lines, parts: parts, fingerprint: req.fingerprint,
		expiresAt: expires.UTC().Truncate(time.Microsecond), slots: slots}
}

// Tombstone is the RELEASED reservation of an order released before any
// reservation of it committed: a late Reserve for it is refused. Its hot
// return is pending, since Redis may hold an orphaned take.
func Tombstone(orderID string, at time.Time) Reservation {
	return Reservation{orderID: orderID, status: Released, expiresAt: at, hotPending: true}
}

// ReservationSnapshot is a reservation's state as the store persists it.
type ReservationSnapshot struct {
	OrderID     string
	Status      Status
	Lines       []Line
	Parts       []Part
	Fingerprint string
	ExpiresAt   time.Time
	HotPending  bool
	Slots       []SlotKey
}

// RestoreReservation rebuilds a reservation the store read.
func RestoreReservation(s ReservationSnapshot) Reservation {
	return Reservation{orderID: s.OrderID, status: s.Status, lines: s.Lines, parts: s.Parts, fingerprint: s.Fingerprint,
		expiresAt: s.ExpiresAt, hotPending: s.HotPending, slots: s.Slots}
}

// Slots are the delivery-slot units the reservation holds (or held), sorted.
func (r Reservation) Slots() []SlotKey { return slices.Clone(r.slots) }

// OrderID is the order the stock is held for.
func (r Reservation) OrderID() string { return r.orderID }

// Status is where the reservation stands.
func (r Reservation) Status() Status { return r.status }

// Lines are the lines asked for (bundles not expanded).
func (r Reservation) Lines() []Line { return slices.Clone(r.lines) }

// Parts are what is held per stock-carrying SKU, sorted by SKU.
func (r Reservation) Parts() []Part { return slices.Clone(r.parts) }

// Fingerprint identifies the lines.
func (r Reservation) Fingerprint() string { return r.fingerprint }

// ExpiresAt is when the check-back asks OMS about a held reservation.
func (r Reservation) ExpiresAt() time.Time { return r.expiresAt }

// HotPending reports whether the Redis side of its release has yet to run.
func (r Reservation) HotPending() bool { return r.hotPending }

// HasHot reports whether any part is held in Redis.
func (r Reservation) HasHot() bool {
	return slices.ContainsFunc(r.parts, func(p Part) bool { return p.Hot })
}

// Releasable reports whether a release gives stock back: not when
// released before, nor, with onlyHeld (the check-back, which must never
// undo a confirmation that raced it), when confirmed.
func (r Reservation) Releasable(onlyHeld bool) bool {
	return r.status != Released && !(onlyHeld && r.status != Held)
}

// Release makes the reservation RELEASED; its hot parts' return is
// pending until HotReturned.
func (r *Reservation) Release() { r.status, r.hotPending = Released, r.HasHot() }

// HotReturned records that the Redis side of the release has run.
func (r *Reservation) HotReturned() { r.hotPending = false }

// ConfirmableStatus is Confirmable for a reservation known by status only.
func ConfirmableStatus(s Status) error { return Reservation{status: s}.Confirmable() }

// Repeat decides a Reserve for an order that already has a reservation:
// the same lines get the existing reservation back; a released one is
// refused (its order was cancelled or found missing); other lines conflict.
func (r Reservation) Repeat(fingerprint string) error {
	if r.status == Released {
		return ErrReleased
	}
	if r.fingerprint != fingerprint {
		return ErrConflict
	}
	return nil
}

// Confirmable reports whether Confirm may act: held becomes confirmed,
// confirmed stays so, released cannot be confirmed.
func (r Reservation) Confirmable() error {
	if r.status == Released {
		return ErrNotReserved
	}
	return nil
}

// CheckBackDecision is what the check-back does with an expired held
// reservation once OMS has answered.
type CheckBackDecision int

// Check-back outcomes.
const (
	DecideConfirm CheckBackDecision = iota + 1
	DecideRelease
)

// DecideCheckBack maps OMS's existence answer to a decision: an order that
// exists and is not cancelled keeps its stock; a missing or cancelled one
// gives it back.
func DecideCheckBack(exists bool, status string) CheckBackDecision {
	if exists && status != "CANCELLED" {
		return DecideConfirm
	}
	return DecideRelease
}
