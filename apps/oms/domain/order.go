package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harvest/harvest/apps/platform/money"
)

// Line is an order line priced from the catalog.
type Line struct {
	SKU       string
	Name      string
	Qty       int64
	UnitPrice money.Fen
	Amount    money.Fen
}

// Event is one entry of an order's timeline.
type Event struct {
	At   time.Time
	Type EventType
	Note string
}

// Order is the order aggregate. Its fields are unexported so every change
// goes through a method that enforces the state machine.
type Order struct {
	id            string
	customerID    string
	source        Source
	channel       string
	status        Status
	lines         []Line
	goods         money.Fen
	freight       money.Fen
	total         money.Fen
	nonCash       money.Fen
	cashDue       money.Fen
	paid          money.Fen
	tradeID       string
	cancelPending bool
	cancelReason  CancelReason
	address       Address
	slot          Slot
	deductionIDs  []string
	couponIDs     []string
	invoiceTitle  string
	originalOrder string
	// stockOrder is the order inventory holds this order's stock under
	// when that is another order (a pull-back's order takes its
	// original's reservation over); empty: its own.
	stockOrder string
	// smsRecipients replace the address's phone for the order's SMS when
	// customer service set them (contacts.go); empty: the address's phone.
	smsRecipients []string
	payBy         time.Time // zero when the order never waited for cash
	createdAt     time.Time
	updatedAt     time.Time
	timeline      []Event
	stored        int // timeline entries already persisted
	version       int
}

// NewOrder accepts a placement: it applies every rule of DOMAIN 1.2 (those
// of Placement.Check plus the catalog's: known SKUs, prices that match) and
// the payment rules of DOMAIN 1.3, and returns the new order, or a
// *ValidationError naming every offending field.
//
// nonCash is the sum of the deductions PAY holds for the order. ToB orders
// are PAID at creation; ToC orders whose non-cash covers the total are too;
// the others wait for cash until now+payWindow.
func NewOrder(id string, p Placement, catalog map[string]Product, nonCash money.Fen, now time.Time, payWindow time.Duration) (*Order, error) {
	vs := violations(p.Check(now))
	if id == "" {
		vs.add("id", "REQUIRED", "order id is required")
	}
	lines := make([]Line, 0, len(p.Lines))
	var goods money.Fen
	for i, l := range p.Lines {
		if l.SKU == "" {
			continue
		}
		prod, ok := catalog[l.SKU]
		if !ok {
			vs.add(fmt.Sprintf("lines[%d].sku", i), "UNKNOWN_SKU", "SKU %s is not in the catalog", l.SKU)
			continue
		}
		if l.UnitPrice != prod.Price {
			vs.add(fmt.Sprintf("lines[%d].unit_price_fen", i), "PRICE_MISMATCH",
				"unit price %s differs from the catalog's %s for %s", l.UnitPrice, prod.Price, l.SKU)
			continue
		}
		amount := l.UnitPrice * money.Fen(l.Qty)
		goods += amount
		lines = append(lines, Line{SKU: l.SKU, Name: prod.Name, Qty: l.Qty, UnitPrice: l.UnitPrice, Amount: amount})
	}
	total := goods + p.Freight
	src, _ := ParseSource(p.Source)
	if len(vs) == 0 {
		switch {
		case nonCash < 0:
			vs.add("deduction_ids", "NEGATIVE_AMOUNT", "non-cash deductions sum to a negative amount")
		case nonCash > total:
			vs.add("deduction_ids", "NON_CASH_EXCEEDS_TOTAL", "non-cash %s exceeds the order total %s", nonCash, total)
		case src == SourceGiftExchange && nonCash < total:
			vs.add("deduction_ids", "NON_CASH_SHORT", "a gift exchange pays no cash: non-cash %s must cover the total %s", nonCash, total)
		}
	}
	if len(vs) > 0 {
		return nil, &ValidationError{Violations: vs}
	}
	if src.ToB() {
		nonCash = 0 // settled with the partner, never paid by the customer
	}
	o := &Order{
		id: id, customerID: p.CustomerID, source: src, channel: p.Channel,
		lines: lines, goods: goods, freight: p.Freight, total: total, nonCash: nonCash,
		address: p.Address, slot: p.Slot,
		deductionIDs: slices.Clone(p.DeductionIDs), couponIDs: slices.Clone(p.CouponIDs),
		invoiceTitle: p.InvoiceTitle, originalOrder: p.OriginalOrder,
		createdAt: now, updatedAt: now,
	}
	o.record(now, EventPlaced, "source "+string(src))
	switch {
	case src.ToB():
		o.status = StatusPaid
		o.record(now, EventPaid, "ToB order: settled with the partner, no payment")
	case total-nonCash == 0:
		o.status = StatusPaid
		o.record(now, EventPaid, "covered by non-cash")
	default:
		o.cashDue = total - nonCash
		o.status = StatusPendingPayment
		o.payBy = now.Add(payWindow)
	}
	return o, nil
}

func (o *Order) record(at time.Time, t EventType, note string) {
	o.timeline = append(o.timeline, Event{At: at, Type: t, Note: note})
	o.updatedAt = at
}

// ID is the order id (a ULID, made before stock is reserved).
func (o *Order) ID() string { return o.id }

// CustomerID is the ordering customer.
func (o *Order) CustomerID() string { return o.customerID }

// Source is where the order came from.
func (o *Order) Source() Source { return o.source }

// Channel is the payment channel hint the deadline was picked by.
func (o *Order) Channel() string { return o.channel }

// Status is the current status.
func (o *Order) Status() Status { return o.status }

// Lines returns a copy of the lines.
func (o *Order) Lines() []Line { return slices.Clone(o.lines) }

// Goods is the sum of the lines.
func (o *Order) Goods() money.Fen { return o.goods }

// Freight is the delivery fee.
func (o *Order) Freight() money.Fen { return o.freight }

// Total is goods plus freight.
func (o *Order) Total() money.Fen { return o.total }

// NonCash is the part paid by PAY's non-cash deductions.
func (o *Order) NonCash() money.Fen { return o.nonCash }

// CashDue is what the customer pays at the cashier (0 when nothing).
func (o *Order) CashDue() money.Fen { return o.cashDue }

// Paid is the cash received.
func (o *Order) Paid() money.Fen { return o.paid }

// TradeID is PAY's trade that paid the order, if any.
func (o *Order) TradeID() string { return o.tradeID }

// CancelPending reports whether a cancel request waits on the order.
func (o *Order) CancelPending() bool { return o.cancelPending }

// CancelReason says why the order was cancelled, empty otherwise.
func (o *Order) CancelReason() CancelReason { return o.cancelReason }

// Address is the delivery address.
func (o *Order) Address() Address { return o.address }

// Slot is the promised delivery slot.
func (o *Order) Slot() Slot { return o.slot }

// DeductionIDs are PAY's non-cash deductions the order uses.
func (o *Order) DeductionIDs() []string { return slices.Clone(o.deductionIDs) }

// CouponIDs are the coupons the order uses.
func (o *Order) CouponIDs() []string { return slices.Clone(o.couponIDs) }

// InvoiceTitle is the invoice title asked for, if any.
func (o *Order) InvoiceTitle() string { return o.invoiceTitle }

// OriginalOrder is the order a reissue or exchange replaces.
func (o *Order) OriginalOrder() string { return o.originalOrder }

// StockOrder is the order id inventory holds this order's reservation
// under: its own, or for a pull-back's order the first order of its
// chain, whose reservation it took over without a release (EndForPullBack
// gives no stock back). Cancelling it must release that reservation.
func (o *Order) StockOrder() string {
	if o.stockOrder != "" {
		return o.stockOrder
	}
	return o.id
}

// PayBy is the payment deadline; zero for orders that never waited for cash.
func (o *Order) PayBy() time.Time { return o.payBy }

// CreatedAt is when the order was accepted.
func (o *Order) CreatedAt() time.Time { return o.createdAt }

// UpdatedAt is when the order last changed.
func (o *Order) UpdatedAt() time.Time { return o.updatedAt }

// Timeline returns a copy of the timeline, oldest first.
func (o *Order) Timeline() []Event { return slices.Clone(o.timeline) }

// Version is the optimistic version the order was loaded at.
func (o *Order) Version() int { return o.version }

// NewEvents are the timeline entries not yet persisted.
func (o *Order) NewEvents() []Event { return slices.Clone(o.timeline[o.stored:]) }

// StoredEvents is how many timeline entries are persisted already; new ones
// continue the sequence from there.
func (o *Order) StoredEvents() int { return o.stored }

// MarkStored records that the order was saved at version v.
func (o *Order) MarkStored(v int) { o.stored = len(o.timeline); o.version = v }

// Payability answers "may this order be paid now?" (DOMAIN 1.4 case 2): no
// when a cancel is pending, when it is not waiting for payment, or when the
// deadline has passed by now — whether or not the expiry has run yet.
func (o *Order) Payability(now time.Time) (bool, string) {
	switch {
	case o.status != StatusPendingPayment:
		return false, "NOT_PENDING"
	case o.cancelPending:
		return false, "CANCEL_PENDING"
	case !now.Before(o.payBy):
		return false, "DEADLINE_PASSED"
	}
	return true, ""
}

// MarkPaid records verified cash from PAY's trade. A repeated notification
// of the same trade returns ErrAlreadyPaid (nothing to do); an order not
// waiting for cash returns ErrNotPayable, a wrong amount ErrAmountMismatch:
// in both cases the money must go back.
//
// A trade that arrives after PayBy while the order is still unpaid is
// accepted: the channel refused payment after time_expire, so the money was
// taken in time, and the order is not cancelled, so keeping both is safe.
func (o *Order) MarkPaid(tradeID string, amount money.Fen, at time.Time) error {
	if o.status != StatusPendingPayment {
		if o.tradeID != "" && o.tradeID == tradeID {
			return ErrAlreadyPaid
		}
		return fmt.Errorf("%w: order %s is %s", ErrNotPayable, o.id, o.status)
	}
	if amount != o.cashDue {
		return fmt.Errorf("%w: paid %s, due %s", ErrAmountMismatch, amount, o.cashDue)
	}
	o.status = StatusPaid
	o.paid = amount
	o.tradeID = tradeID
	o.record(at, EventPaid, "trade "+tradeID)
	return nil
}

// RejectPayment notes on the timeline that a trade was refused (the money
// goes back); the order itself does not change.
func (o *Order) RejectPayment(tradeID string, amount money.Fen, at time.Time) {
	o.record(at, EventPaymentRejected, fmt.Sprintf("trade %s of %s refunded: order is %s", tradeID, amount, o.status))
}

// RequestCancel marks that a cancel is being decided for the unpaid order
// (customer service, DOMAIN 4); from now on it is not payable.
func (o *Order) RequestCancel(at time.Time, note string) error {
	if o.status != StatusPendingPayment {
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	if !o.cancelPending {
		o.cancelPending = true
		o.record(at, EventCancelRequested, note)
	}
	return nil
}

// MaxCancelNote bounds the note of a customer's cancel, in characters (the
// timeline's note column holds 500).
const MaxCancelNote = 500

// CheckCancelNote refuses a cancel note longer than MaxCancelNote with a
// violation of field "reason", code REASON_TOO_LONG.
func CheckCancelNote(note string) error {
	if n := utf8.RuneCountInString(note); n > MaxCancelNote {
		return &ValidationError{Violations: []Violation{{Field: "reason", Code: "REASON_TOO_LONG",
			Message: fmt.Sprintf("reason must be at most %d characters, got %d", MaxCancelNote, n)}}}
	}
	return nil
}

// CancelByCustomer cancels an unpaid order on its owner's behalf.
func (o *Order) CancelByCustomer(customerID string, at time.Time, note string) error {
	if customerID != o.customerID {
		return ErrNotOwner
	}
	if err := CheckCancelNote(note); err != nil {
		return err
	}
	if o.status != StatusPendingPayment {
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	o.cancel(ReasonCustomer, EventCancelled, at, note)
	return nil
}

// Expire cancels an order whose payment deadline passed without cash.
// ErrNotCancellable when it is no longer waiting (paid or cancelled
// already: a late or repeated fire), ErrNotExpired when fired too early.
func (o *Order) Expire(at time.Time) error {
	if o.status != StatusPendingPayment {
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	if at.Before(o.payBy) {
		return fmt.Errorf("%w: order %s may be paid until %s", ErrNotExpired, o.id, o.payBy.Format(time.RFC3339))
	}
	o.cancel(ReasonExpired, EventExpired, at, "payment deadline passed")
	return nil
}

// CancelBeforeFulfillment cancels a paid order that has not started
// fulfillment (fraud audit, customer service); the paid cash is refunded by
// PAY on the cancel event.
func (o *Order) CancelBeforeFulfillment(reason CancelReason, at time.Time, note string) error {
	if o.status != StatusPendingPayment && o.status != StatusPaid {
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	o.cancel(reason, EventCancelled, at, note)
	return nil
}

// CancelForReverse cancels a paid order for the reverse flow (after-sales,
// DOMAIN 5) once its fulfillment is paused: PAID or FULFILLING, or
// DISPATCHED when every delivery order that reached a warehouse was
// intercepted there (intercepted), so nothing leaves. A cancelled order
// answers ErrAlreadyCancelled (a repeated call); anything later
// ErrNotCancellable. PAY refunds it on the cancel event.
func (o *Order) CancelForReverse(at time.Time, note string, intercepted bool) error {
	switch {
	case o.status == StatusCancelled:
		return ErrAlreadyCancelled
	case o.status == StatusPaid, o.status == StatusFulfilling, o.status == StatusDispatched && intercepted:
	default:
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	if err := CheckCancelNote(note); err != nil {
		return err
	}
	o.cancel(ReasonCustomer, EventCancelled, at, note)
	return nil
}

func (o *Order) cancel(reason CancelReason, t EventType, at time.Time, note string) {
	o.status = StatusCancelled
	o.cancelReason = reason
	o.cancelPending = false
	if note == "" {
		note = string(reason)
	}
	o.record(at, t, note)
}

// CancelInFulfillment cancels an order the fulfillment pipeline stopped
// before dispatch (fraud audit, DOMAIN 1.6 stage 8): PAID or FULFILLING,
// never DISPATCHED or later, so nothing has left for a warehouse yet. PAY
// reverses the non-cash part and refunds the cash on the cancel event.
func (o *Order) CancelInFulfillment(reason CancelReason, at time.Time, note string) error {
	if o.status != StatusPaid && o.status != StatusFulfilling {
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	o.cancel(reason, EventCancelled, at, note)
	return nil
}

// MarkDispatched records that every delivery order of the order was handed
// to its warehouse or drop-ship supplier; from here on it cannot be
// cancelled, only reversed (DOMAIN 5).
func (o *Order) MarkDispatched(at time.Time, note string) error {
	if o.status != StatusFulfilling {
		return fmt.Errorf("%w: order %s is %s, not %s", ErrBadTransition, o.id, o.status, StatusFulfilling)
	}
	o.status = StatusDispatched
	o.record(at, EventDispatched, note)
	return nil
}

// StartFulfillment moves a paid order into fulfillment; from here on it can
// no longer be cancelled.
func (o *Order) StartFulfillment(at time.Time) error {
	return o.advance(StatusPaid, StatusFulfilling, EventFulfilling, at)
}

// Ship records that the order left the warehouse (after dispatch, or
// straight from FULFILLING for a flow that reports shipping only).
func (o *Order) Ship(at time.Time) error {
	if o.status == StatusDispatched {
		return o.advance(StatusDispatched, StatusShipped, EventShipped, at)
	}
	return o.advance(StatusFulfilling, StatusShipped, EventShipped, at)
}

// Complete records delivery.
func (o *Order) Complete(at time.Time) error {
	return o.advance(StatusShipped, StatusCompleted, EventCompleted, at)
}

// RecordRefusal records that the customer refused a shipped order's
// parcels at the door (note names them); the order stays SHIPPED for the
// reverse flow. Once per order: a second refusal is ErrBadTransition.
func (o *Order) RecordRefusal(at time.Time, note string) error {
	if o.status != StatusShipped {
		return fmt.Errorf("%w: order %s is %s, not %s", ErrBadTransition, o.id, o.status, StatusShipped)
	}
	if o.Refused() {
		return fmt.Errorf("%w: order %s was refused already", ErrBadTransition, o.id)
	}
	o.record(at, EventRefused, note)
	return nil
}

// RecordShortage notes on the timeline a shortage the warehouse confirmed
// (note says what ships); the order's status does not change.
func (o *Order) RecordShortage(at time.Time, note string) error {
	if o.status == StatusCancelled || o.status == StatusPendingPayment {
		return fmt.Errorf("%w: order %s is %s", ErrBadTransition, o.id, o.status)
	}
	o.record(at, EventShortage, note)
	return nil
}

// Refused reports whether a refusal at the door is recorded.
func (o *Order) Refused() bool {
	return slices.ContainsFunc(o.timeline, func(e Event) bool { return e.Type == EventRefused })
}

func (o *Order) advance(from, to Status, t EventType, at time.Time) error {
	if o.status != from {
		return fmt.Errorf("%w: order %s is %s, not %s", ErrBadTransition, o.id, o.status, from)
	}
	o.status = to
	o.record(at, t, "")
	return nil
}

// Snapshot is an order's full state as the store persists it. It exists
// only to move orders in and out of storage; use Restore to turn it back
// into an Order.
type Snapshot struct {
	ID, CustomerID, Source, Channel, Status string
	Lines                                   []Line
	Goods, Freight, Total, NonCash          money.Fen
	CashDue, Paid                           money.Fen
	TradeID                                 string
	CancelPending                           bool
	CancelReason                            string
	Address                                 Address
	Slot                                    Slot
	DeductionIDs, CouponIDs                 []string
	InvoiceTitle, OriginalOrder             string
	StockOrder                              string
	SMSRecipients                           []string
	PayBy, CreatedAt, UpdatedAt             time.Time
	Timeline                                []Event
	Version                                 int
}

// Snapshot returns the order's state for the store.
func (o *Order) Snapshot() Snapshot {
	return Snapshot{
		ID: o.id, CustomerID: o.customerID, Source: string(o.source), Channel: o.channel, Status: string(o.status),
		Lines: o.Lines(), Goods: o.goods, Freight: o.freight, Total: o.total, NonCash: o.nonCash,
		CashDue: o.cashDue, Paid: o.paid, TradeID: o.tradeID, CancelPending: o.cancelPending,
		CancelReason: string(o.cancelReason), Address: o.address, Slot: o.slot,
		DeductionIDs: o.DeductionIDs(), CouponIDs: o.CouponIDs(), InvoiceTitle: o.invoiceTitle,
		OriginalOrder: o.originalOrder, StockOrder: o.stockOrder, PayBy: o.payBy, CreatedAt: o.createdAt, UpdatedAt: o.updatedAt,
		Timeline: o.Timeline(), Version: o.version, SMSRecipients: slices.Clone(o.smsRecipients),
	}
}

// Restore rebuilds an order read from storage, refusing states no method
// could have produced.
func Restore(s Snapshot) (*Order, error) {
	src, err := ParseSource(s.Source)
	if err != nil {
		return nil, err
	}
	st, err := ParseStatus(s.Status)
	if err != nil {
		return nil, err
	}
	if s.Total != s.Goods+s.Freight || s.CashDue+s.NonCash != s.Total && !SettledWithPartner(src, s.NonCash, s.CashDue, s.Paid) {
		return nil, fmt.Errorf("order %s: amounts do not add up", s.ID)
	}
	return &Order{
		id: s.ID, customerID: s.CustomerID, source: src, channel: s.Channel, status: st,
		lines: slices.Clone(s.Lines), goods: s.Goods, freight: s.Freight, total: s.Total, nonCash: s.NonCash,
		cashDue: s.CashDue, paid: s.Paid, tradeID: s.TradeID, cancelPending: s.CancelPending,
		cancelReason: CancelReason(s.CancelReason), address: s.Address, slot: s.Slot,
		deductionIDs: slices.Clone(s.DeductionIDs), couponIDs: slices.Clone(s.CouponIDs),
		invoiceTitle: s.InvoiceTitle, originalOrder: s.OriginalOrder, stockOrder: s.StockOrder, payBy: s.PayBy, smsRecipients: slices.Clone(s.SMSRecipients),
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, timeline: slices.Clone(s.Timeline),
		stored: len(s.Timeline), version: s.Version,
	}, nil
}

// PaymentRejected reports whether the trade was refused before, so a
// repeated notification does not ask for a second refund.
func (o *Order) PaymentRejected(tradeID string) bool {
	prefix := "trade " + tradeID + " "
	for _, e := range o.timeline {
		if e.Type == EventPaymentRejected && strings.HasPrefix(e.Note, prefix) {
			return true
		}
	}
	return false
}
