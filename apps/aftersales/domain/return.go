package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harvest/harvest/apps/platform/money"
)

// Kinds beside KindCancel: a sales return of delivered goods (DOMAIN 4.2)
// and a rejection at the door (4.3), handled as a return.
const (
	KindReturn    Kind = "RETURN"
	KindRejection Kind = "REJECTION"
)

// Return modes.
const (
	// ModeRefundOnly: the goods stay with the customer (spoiled fresh
	// food is thrown away); only the money goes back.
	ModeRefundOnly = "REFUND_ONLY"
	// ModePickup: a courier collects the goods at the door; they go back
	// to the warehouse and to sellable stock, and the money back.
	ModePickup = "PICKUP"
)

// Statuses of returns and rejections beside the cancel's: ACCEPTED →
// (RETURNING: a courier is booked, the goods on their way back) →
// REFUNDING (the refund is with PAY: finance audits it) → REFUNDED.
const (
	StatusReturning Status = "RETURNING"
	StatusRefunding Status = "REFUNDING"
)

// Steps of returns and rejections.
const (
	StepPickupBooked      Step = "PICKUP_BOOKED"
	StepWarehouseNotified Step = "WAREHOUSE_NOTIFIED"
	StepRefundRequested   Step = "REFUND_REQUESTED"
	StepPushFailed        Step = "PUSH_FAILED"
)

// Errors of returns; the API maps each to its own code.
var (
	// ErrLineNotOnOrder: a returned SKU is not a line of the order.
	ErrLineNotOnOrder = errors.New("line not on the order")
	// ErrQtyAboveDelivered: more units than were delivered, counting
	// earlier returns.
	ErrQtyAboveDelivered = errors.New("quantity above what was delivered")
	// ErrNotReturnable: the order was not delivered (or refused at the
	// door: that is a rejection, made by itself).
	ErrNotReturnable = errors.New("order cannot be returned")
	// ErrRefundAbovePaid: the refund would exceed what was paid, counting
	// earlier refunds.
	ErrRefundAbovePaid = errors.New("refund above what was paid")
)

// Limits of a return's input.
const (
	MaxReturnLines = 100
	MaxPhotos      = 9
	MaxPhotoURL    = 512
)

// ReturnLine is a SKU and the units returned of it.
type ReturnLine struct {
	SKU string
	Qty int64
}

// ReturnInput is a customer's return of delivered lines.
type ReturnInput struct {
	OrderID, CustomerID, IdempotencyKey, Reason, Mode string
	Lines                                             []ReturnLine
	Photos                                            []string
}

// Hash fingerprints the input (lines in order of SKU).
func (in ReturnInput) Hash() string {
	ls := slices.Clone(in.Lines)
	slices.SortFunc(ls, func(a, b ReturnLine) int { return strings.Compare(a.SKU, b.SKU) })
	parts := []string{string(KindReturn), in.OrderID, in.CustomerID, in.Reason, in.Mode}
	for _, l := range ls {
		parts = append(parts, l.SKU, strconv.FormatInt(l.Qty, 10))
	}
	parts = append(parts, in.Photos...)
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

// Validate names every bad field of in, a customer's return.
func (in ReturnInput) Validate() error { return in.validate(KindReturn) }

// validate checks in as a request of kind: a rejection has no mode (the
// goods come back with the courier who was refused).
func (in ReturnInput) validate(kind Kind) error {
	bad := baseFields(in.OrderID, in.CustomerID, in.IdempotencyKey, in.Reason)
	if kind == KindRejection && in.Mode != "" {
		bad = append(bad, "a rejection has no mode")
	}
	if kind != KindRejection && in.Mode != ModeRefundOnly && in.Mode != ModePickup {
		bad = append(bad, fmt.Sprintf("mode must be %s or %s", ModeRefundOnly, ModePickup))
	}
	if len(in.Lines) == 0 || len(in.Lines) > MaxReturnLines {
		bad = append(bad, fmt.Sprintf("lines must hold 1-%d lines", MaxReturnLines))
	}
	seen := map[string]bool{}
	for i, l := range in.Lines {
		switch {
		case strings.TrimSpace(l.SKU) == "" || len(l.SKU) > 64:
			bad = append(bad, fmt.Sprintf("lines[%d].sku must be 1-64 characters", i))
		case seen[l.SKU]:
			bad = append(bad, fmt.Sprintf("lines[%d].sku %s is named twice", i, l.SKU))
		}
		seen[l.SKU] = true
		if l.Qty <= 0 {
			bad = append(bad, fmt.Sprintf("lines[%d].qty must be positive", i))
		}
	}
	if len(in.Photos) > MaxPhotos {
		bad = append(bad, fmt.Sprintf("at most %d photos", MaxPhotos))
	}
	for i, p := range in.Photos {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || utf8.RuneCountInString(p) > MaxPhotoURL {
			bad = append(bad, fmt.Sprintf("photos[%d] must be an http(s) URL of at most %d characters", i, MaxPhotoURL))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrValidation, strings.Join(bad, "; "))
	}
	return nil
}

// OrderLine is an order line with stage 5's allocation (what the
// customer paid for it, cash and non-cash, and its freight share).
type OrderLine struct {
	SKU                    string
	Qty                    int64
	Cash, NonCash, Freight money.Fen
}

// LineRefund is what a return gives back for one line.
type LineRefund struct {
	SKU                    string
	Qty                    int64
	Cash, NonCash, Freight money.Fen
}

// Total is the line's refund, cash and non-cash.
func (l LineRefund) Total() money.Fen { return l.Cash + l.NonCash }

// share is the part of total that n of all units carry, rounded down;
// share(total, all, all) = total, so the units of a line returned over
// several returns give back exactly the line.
func share(total money.Fen, n, all int64) money.Fen {
	return money.Fen(int64(total) * n / all)
}

// ComputeRefund spreads a return over its lines (DOMAIN 5 step 4). Each
// line gives back its stage-5 allocation, cash and non-cash, in
// proportion to its units returned, counted cumulatively over the
// order's returns (returned holds the units returned before), so partial
// returns never give back more than the line took and a line returned in
// full gives back exactly what it took. Freight rule: every line carries
// its stage-5 freight share (inside its cash and non-cash), and a unit
// returned gives back its part of it, so returning the whole order
// refunds the whole freight. A SKU not on the order is ErrLineNotOnOrder;
// more units than delivered, counting earlier returns, ErrQtyAboveDelivered.
func ComputeRefund(lines []OrderLine, returned map[string]int64, want []ReturnLine) ([]LineRefund, error) {
	out := make([]LineRefund, 0, len(want))
	for _, w := range want {
		i := slices.IndexFunc(lines, func(l OrderLine) bool { return l.SKU == w.SKU })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s", ErrLineNotOnOrder, w.SKU)
		}
		l, prev := lines[i], returned[w.SKU]
		if w.Qty <= 0 || prev+w.Qty > l.Qty {
			return nil, fmt.Errorf("%w: %s: %d asked, %d shipped, %d returned or refused before", ErrQtyAboveDelivered, w.SKU, w.Qty, l.Qty, prev)
		}
		upTo := prev + w.Qty
		out = append(out, LineRefund{SKU: w.SKU, Qty: w.Qty,
			Cash:    share(l.Cash, upTo, l.Qty) - share(l.Cash, prev, l.Qty),
			NonCash: share(l.NonCash, upTo, l.Qty) - share(l.NonCash, prev, l.Qty),
			Freight: share(l.Freight, upTo, l.Qty) - share(l.Freight, prev, l.Qty)})
	}
	return out, nil
}

// RejectionReason is a rejection's reason.
const RejectionReason = "refused at the door"

// RejectionKey is the idempotency key of an order's rejection: one per
// order, however often the refusal is reported.
func RejectionKey(orderID string) string { return "rejection:" + orderID }

// Unreturned lists the units of lines not returned yet: what a rejection
// takes back.
func Unreturned(lines []OrderLine, returned map[string]int64) []ReturnLine {
	var out []ReturnLine
	for _, l := range lines {
		if n := l.Qty - returned[l.SKU]; n > 0 {
			out = append(out, ReturnLine{SKU: l.SKU, Qty: n})
		}
	}
	return out
}

// RefusedUnreturned is what a refusal at the door rejects: of each SKU
// refused (the courier's report, through OMS), the units refused that
// were not returned before; no refused lines (a refusal that named no
// units) means every unit not returned. A refused SKU the order does not
// have is ErrLineNotOnOrder: OMS's record and the order disagree.
func RefusedUnreturned(lines []OrderLine, returned map[string]int64, refused []ReturnLine) ([]ReturnLine, error) {
	if len(refused) == 0 {
		return Unreturned(lines, returned), nil
	}
	var out []ReturnLine
	for _, r := range refused {
		i := slices.IndexFunc(lines, func(l OrderLine) bool { return l.SKU == r.SKU })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s was refused at the door", ErrLineNotOnOrder, r.SKU)
		}
		if n := min(r.Qty, lines[i].Qty-returned[r.SKU]); n > 0 {
			out = append(out, ReturnLine{SKU: r.SKU, Qty: n})
		}
	}
	return out, nil
}

// DoorRefusal is what a refusal at the door left of an order: whether
// it was refused, whether only some units were (the rest were accepted:
// delivered = shipped - refused), and whether the rejection that takes
// the refused units back is recorded yet.
type DoorRefusal struct {
	Refused, Partial, Rejected bool
}

// CheckReturnable refuses a return of an order that is not the
// customer's or not delivered. A partly refused order (it stays SHIPPED:
// one of its parcels never reached the customer) is delivered for its
// accepted units, once its rejection is recorded: the rejection counts
// the refused units as returned, so what is left to return is exactly
// the accepted units (ComputeRefund's cap), and the refund spreading
// goes on from where the rejection's ended. Before that, its refused
// units would look returnable too, so the return waits for it.
func CheckReturnable(customerID, ownerID, status string, door DoorRefusal) error {
	if customerID != ownerID {
		return ErrNotOwner
	}
	switch {
	case door.Refused && !door.Partial:
		return fmt.Errorf("%w: the order was refused at the door; its rejection is under way", ErrNotReturnable)
	case door.Refused && !door.Rejected:
		return fmt.Errorf("%w: the units refused at the door are being taken back first (their rejection); ask again in a moment", ErrNotReturnable)
	case door.Refused && (status == "SHIPPED" || status == "COMPLETED"):
		return nil
	case status != "COMPLETED":
		return fmt.Errorf("%w: the order is %s; only delivered orders can be returned", ErrNotReturnable, status)
	}
	return nil
}

// NewReturn is an accepted return (or, with kind KindRejection, a
// rejection) with its lines' refunds.
func NewReturn(id string, kind Kind, in ReturnInput, lines []LineRefund, now time.Time) (*Request, error) {
	if kind != KindReturn && kind != KindRejection {
		return nil, fmt.Errorf("%w: kind %s is not a return", ErrValidation, kind)
	}
	if err := in.validate(kind); err != nil {
		return nil, err
	}
	r := &Request{id: id, orderID: in.OrderID, customerID: in.CustomerID, kind: kind, status: StatusAccepted,
		reason: strings.TrimSpace(in.Reason), mode: in.Mode, photos: slices.Clone(in.Photos), lines: slices.Clone(lines),
		key: in.IdempotencyKey, requestHash: in.Hash(), createdAt: now, updatedAt: now}
	for _, l := range lines {
		r.refundCash += l.Cash
		r.refundNonCash += l.NonCash
		r.refundFreight += l.Freight
	}
	r.record(now, StepAccepted, r.reason)
	return r, nil
}

// Push asks for a push in the transaction that saves the request.
func (r *Request) Push(p NewPush) { r.pushes = append(r.pushes, p) }

// NewPushes are the pushes to write with the request.
func (r *Request) NewPushes() []NewPush { return slices.Clone(r.pushes) }

// Returning records that a pickup courier is booked.
func (r *Request) Returning(at time.Time, note string) error {
	if err := r.move([]Status{StatusAccepted}, StatusReturning); err != nil {
		return err
	}
	r.record(at, StepPickupBooked, note)
	return nil
}

// WarehouseNotified records that the warehouse expects the goods back.
func (r *Request) WarehouseNotified(at time.Time, note string) {
	if !r.HasStep(StepWarehouseNotified) {
		r.record(at, StepWarehouseNotified, note)
	}
}

// RefundRequested records that the refund is with PAY.
func (r *Request) RefundRequested(at time.Time, note string) error {
	if err := r.move([]Status{StatusAccepted, StatusReturning}, StatusRefunding); err != nil {
		return err
	}
	r.record(at, StepRefundRequested, note)
	return nil
}

// ReturnRefunded records that PAY gave the return's refund back.
func (r *Request) ReturnRefunded(at time.Time, note string) error {
	if err := r.move([]Status{StatusRefunding}, StatusRefunded); err != nil {
		return err
	}
	r.refunded = r.refundCash + r.refundNonCash
	r.record(at, StepRefunded, note)
	return nil
}

// PushFailed records, once per push, that a receiver refused a push for good.
func (r *Request) PushFailed(at time.Time, note string) {
	if !r.HasStepNote(StepPushFailed, note) {
		r.record(at, StepPushFailed, note)
	}
}

// HasStep reports whether the request took step s.
func (r *Request) HasStep(s Step) bool {
	return slices.ContainsFunc(r.steps, func(e TimelineEntry) bool { return e.Step == s })
}

// HasStepNote reports whether the request took step s with note.
func (r *Request) HasStepNote(s Step, note string) bool {
	n := []rune(note)
	if len(n) > 500 {
		note = string(n[:500])
	}
	return slices.ContainsFunc(r.steps, func(e TimelineEntry) bool { return e.Step == s && e.Note == note })
}

// IsReturn reports whether the request gives goods back (return or rejection).
func (r *Request) IsReturn() bool { return r.kind == KindReturn || r.kind == KindRejection }

// Return accessors.
func (r *Request) Mode() string          { return r.mode }
func (r *Request) Photos() []string      { return slices.Clone(r.photos) }
func (r *Request) Lines() []LineRefund   { return slices.Clone(r.lines) }
func (r *Request) RefundCash() money.Fen { return r.refundCash }
func (r *Request) RefundNonCash() money.Fen {
	return r.refundNonCash
}
func (r *Request) RefundFreight() money.Fen { return r.refundFreight }
