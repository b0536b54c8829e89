// Package domain is after-sales' model (DOMAIN 5, the reverse flow): a
// customer's request about a paid order, the steps it goes through and
// the statuses it may take, with the rules that decide them. Standard
// library only; time comes in from the caller.
package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harvest/harvest/apps/platform/money"
)

// Sentinel errors; the API maps them to aftersalesclient's codes.
var (
	ErrValidation = errors.New("validation failed")
	ErrNotFound   = errors.New("request not found")
	// ErrNotOwner: the order or request belongs to another customer.
	ErrNotOwner = errors.New("order belongs to another customer")
	// ErrKeyReused: the idempotency key was used with another request.
	ErrKeyReused = errors.New("idempotency key already used for another request")
	// ErrNotCancellable: the order is not paid, or past the point a cancel
	// can stop it (shipped, completed): it may be returned instead.
	ErrNotCancellable = errors.New("order cannot be cancelled")
	// ErrBadTransition: the request cannot take that step from where it is.
	ErrBadTransition = errors.New("request cannot take that step now")
)

// Kind is what a request asks for.
type Kind string

// Kinds. Returns and rejections are DOMAIN 5's other two; this slice
// builds the cancel.
const KindCancel Kind = "CANCEL"

// Status is where a request stands.
type Status string

// Statuses: a cancel goes ACCEPTED → PAUSED (fulfillment paused, the
// warehouse asked to intercept what it has) → CANCELLED (OMS cancelled
// the order) → REFUNDED (PAY gave everything back), or ends REFUSED with
// a code when nothing could stop the goods any more.
const (
	StatusAccepted  Status = "ACCEPTED"
	StatusPaused    Status = "PAUSED"
	StatusCancelled Status = "CANCELLED"
	StatusRefunded  Status = "REFUNDED"
	StatusRefused   Status = "REFUSED"
)

// Done reports whether the request has finished.
func (s Status) Done() bool {
	return s == StatusRefunded || s == StatusRefused || s == StatusRejected || s == StatusCompleted
}

// Step names a step of a request's timeline.
type Step string

// Steps.
const (
	StepAccepted    Step = "ACCEPTED"
	StepPaused      Step = "FULFILLMENT_PAUSED"
	StepIntercepted Step = "INTERCEPTED"
	StepCancelled   Step = "ORDER_CANCELLED"
	StepRefunded    Step = "REFUNDED"
	StepRefused     Step = "REFUSED"
	StepResumed     Step = "FULFILLMENT_RESUMED"
	// StepReleased: interceptions lifted because the cancel was refused
	// for another part of the order (the order ships whole).
	StepReleased Step = "INTERCEPTION_RELEASED"
)

// Refusal codes a finished request may carry (aftersalesclient's wire values).
const (
	// RefusedAtWarehouse: WMS had the goods past the point it can stop
	// them; the customer may ask for a return on delivery.
	RefusedAtWarehouse = "WAREHOUSE_TOO_LATE"
	// RefusedAtSupplier: a drop-ship supplier has the goods; this slice
	// cannot intercept there.
	RefusedAtSupplier = "SUPPLIER_SHIPPED"
	// RefusedShipped: the order left the warehouse (shipped or completed).
	RefusedShipped = "ORDER_SHIPPED"
)

// Limits of a request's input.
const (
	MaxReason = 500
	MaxKey    = 128
)

// TimelineEntry is one step with its time.
type TimelineEntry struct {
	Step Step
	Note string
	At   time.Time
}

// Request is one after-sales request.
type Request struct {
	id, orderID, customerID string
	kind                    Kind
	status                  Status
	reason                  string
	refusalCode             string
	refusalNote             string
	key, requestHash        string
	intercepted             []string
	refunded                money.Fen
	mode                    string
	photos                  []string
	lines                   []LineRefund
	refundCash              money.Fen
	refundNonCash           money.Fen
	refundFreight           money.Fen
	pushes                  []NewPush // to write with the next save
	createdBy, auditedBy    string
	auditNote               string
	released                bool     // the last change gave the units back
	forward                 *Forward // forward documents (forward.go)
	steps                   []TimelineEntry
	stored                  int // steps already persisted
	createdAt, updatedAt    time.Time
}

// CancelInput is a customer's cancel of a paid order.
type CancelInput struct {
	OrderID, CustomerID, IdempotencyKey, Reason string
}

// Hash fingerprints the input, so a key replayed with another input is told apart.
func (in CancelInput) Hash() string {
	h := sha256.Sum256([]byte(strings.Join([]string{string(KindCancel), in.OrderID, in.CustomerID, in.Reason}, "\x00")))
	return hex.EncodeToString(h[:])
}

// Validate names every bad field of in.
func (in CancelInput) Validate() error {
	if bad := baseFields(in.OrderID, in.CustomerID, in.IdempotencyKey, in.Reason); len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrValidation, strings.Join(bad, "; "))
	}
	return nil
}

// baseFields checks what every request names: the order, the customer,
// the idempotency key and the reason.
func baseFields(orderID, customerID, key, reason string) []string {
	var bad []string
	if strings.TrimSpace(orderID) == "" || len(orderID) > 64 {
		bad = append(bad, "orderId must be 1-64 characters")
	}
	if strings.TrimSpace(customerID) == "" || len(customerID) > 64 {
		bad = append(bad, "customer must be 1-64 characters")
	}
	if strings.TrimSpace(key) == "" || len(key) > MaxKey {
		bad = append(bad, fmt.Sprintf("idempotencyKey must be 1-%d characters", MaxKey))
	}
	if strings.TrimSpace(reason) == "" || utf8.RuneCountInString(reason) > MaxReason {
		bad = append(bad, fmt.Sprintf("reason must be 1-%d characters", MaxReason))
	}
	return bad
}

// NewCancel is an accepted cancel request of a paid order.
func NewCancel(id string, in CancelInput, now time.Time) (*Request, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	r := &Request{id: id, orderID: in.OrderID, customerID: in.CustomerID, kind: KindCancel, status: StatusAccepted,
		reason: strings.TrimSpace(in.Reason), key: in.IdempotencyKey, requestHash: in.Hash(), createdAt: now, updatedAt: now}
	r.record(now, StepAccepted, r.reason)
	return r, nil
}

// CheckOrder refuses a cancel of an order the customer does not own or
// that is not paid and not yet shipped (OMS's statuses).
func CheckOrder(customerID, ownerID, status string) error {
	if customerID != ownerID {
		return ErrNotOwner
	}
	switch status {
	case "PAID", "FULFILLING", "DISPATCHED":
		return nil
	case "PENDING_PAYMENT":
		return fmt.Errorf("%w: the order is not paid (cancel it as an unpaid order)", ErrNotCancellable)
	case "CANCELLED":
		return fmt.Errorf("%w: the order is cancelled already", ErrNotCancellable)
	}
	return fmt.Errorf("%w: the order is %s; ask for a return once delivered", ErrNotCancellable, status)
}

func (r *Request) record(at time.Time, s Step, note string) {
	if n := []rune(note); len(n) > 500 {
		note = string(n[:500])
	}
	r.steps = append(r.steps, TimelineEntry{Step: s, Note: note, At: at})
	r.updatedAt = at
}

func (r *Request) move(from []Status, to Status) error {
	if !slices.Contains(from, r.status) {
		return fmt.Errorf("%w: request %s is %s, not %v", ErrBadTransition, r.id, r.status, from)
	}
	r.status = to
	return nil
}

// Paused records that OMS paused the order's fulfillment (note says where it stood).
func (r *Request) Paused(at time.Time, note string) error {
	if err := r.move([]Status{StatusAccepted}, StatusPaused); err != nil {
		return err
	}
	r.record(at, StepPaused, note)
	return nil
}

// Intercepted records delivery orders WMS stopped.
func (r *Request) Intercepted(at time.Time, ids []string) error {
	if r.status != StatusPaused {
		return fmt.Errorf("%w: request %s is %s", ErrBadTransition, r.id, r.status)
	}
	var fresh []string
	for _, id := range ids {
		if !slices.Contains(r.intercepted, id) {
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	r.intercepted = append(r.intercepted, fresh...)
	r.record(at, StepIntercepted, strings.Join(fresh, ", "))
	return nil
}

// InterceptionsReleased records that the interceptions of ids were lifted (the cancel
// is being refused for another part of the order): they are no longer
// stopped, so they leave the request's intercepted list.
func (r *Request) InterceptionsReleased(at time.Time, ids []string) error {
	if r.status != StatusPaused {
		return fmt.Errorf("%w: request %s is %s", ErrBadTransition, r.id, r.status)
	}
	var gone []string
	r.intercepted = slices.DeleteFunc(r.intercepted, func(id string) bool {
		if slices.Contains(ids, id) {
			gone = append(gone, id)
			return true
		}
		return false
	})
	if len(gone) > 0 {
		r.record(at, StepReleased, strings.Join(gone, ", "))
	}
	return nil
}

// OrderCancelled records that OMS cancelled the order.
func (r *Request) OrderCancelled(at time.Time, note string) error {
	if err := r.move([]Status{StatusAccepted, StatusPaused}, StatusCancelled); err != nil {
		return err
	}
	r.record(at, StepCancelled, note)
	return nil
}

// Refunded records that PAY gave back everything the order took.
func (r *Request) Refunded(at time.Time, amount money.Fen, note string) error {
	if err := r.move([]Status{StatusCancelled}, StatusRefunded); err != nil {
		return err
	}
	r.refunded = amount
	r.record(at, StepRefunded, note)
	return nil
}

// Refuse ends the request with a code (nothing could stop the goods).
func (r *Request) Refuse(at time.Time, code, note string) error {
	if err := r.move([]Status{StatusAccepted, StatusPaused}, StatusRefused); err != nil {
		return err
	}
	r.refusalCode, r.refusalNote = code, note
	r.record(at, StepRefused, code+": "+note)
	return nil
}

// Resumed records that the paused fulfillment went on (after a refusal).
func (r *Request) Resumed(at time.Time, note string) { r.record(at, StepResumed, note) }

// SameRequest answers a replayed key: nil when the input is the same.
func (r *Request) SameRequest(hash string) error {
	if r.requestHash != hash {
		return ErrKeyReused
	}
	return nil
}

// Accessors.
func (r *Request) ID() string                { return r.id }
func (r *Request) OrderID() string           { return r.orderID }
func (r *Request) CustomerID() string        { return r.customerID }
func (r *Request) Kind() Kind                { return r.kind }
func (r *Request) Status() Status            { return r.status }
func (r *Request) Reason() string            { return r.reason }
func (r *Request) RefusalCode() string       { return r.refusalCode }
func (r *Request) RefusalNote() string       { return r.refusalNote }
func (r *Request) Key() string               { return r.key }
func (r *Request) RequestHash() string       { return r.requestHash }
func (r *Request) InterceptedIDs() []string  { return slices.Clone(r.intercepted) }
func (r *Request) RefundedFen() money.Fen    { return r.refunded }
func (r *Request) Steps() []TimelineEntry    { return slices.Clone(r.steps) }
func (r *Request) NewSteps() []TimelineEntry { return slices.Clone(r.steps[r.stored:]) }
func (r *Request) StoredSteps() int          { return r.stored }
func (r *Request) MarkStored()               { r.stored, r.pushes, r.released = len(r.steps), nil, false }
func (r *Request) CreatedAt() time.Time      { return r.createdAt }
func (r *Request) UpdatedAt() time.Time      { return r.updatedAt }

// Snapshot is a request as the store persists it.
type Snapshot struct {
	ID, OrderID, CustomerID  string
	Kind                     Kind
	Status                   Status
	Reason                   string
	RefusalCode, RefusalNote string
	Key, RequestHash         string
	Intercepted              []string
	Refunded                 money.Fen
	Mode                     string
	Photos                   []string
	Lines                    []LineRefund
	RefundCash               money.Fen
	RefundNonCash            money.Fen
	RefundFreight            money.Fen
	CreatedBy, AuditedBy     string
	AuditNote                string
	Forward                  *Forward
	Steps                    []TimelineEntry
	CreatedAt, UpdatedAt     time.Time
}

// Restore rebuilds a stored request (its steps all stored).
func Restore(s Snapshot) *Request {
	return &Request{id: s.ID, orderID: s.OrderID, customerID: s.CustomerID, kind: s.Kind, status: s.Status, reason: s.Reason,
		refusalCode: s.RefusalCode, refusalNote: s.RefusalNote, key: s.Key, requestHash: s.RequestHash,
		intercepted: s.Intercepted, refunded: s.Refunded, mode: s.Mode, photos: s.Photos, lines: s.Lines, refundCash: s.RefundCash,
		refundNonCash: s.RefundNonCash, refundFreight: s.RefundFreight, createdBy: s.CreatedBy, auditedBy: s.AuditedBy, auditNote: s.AuditNote, forward: s.Forward, steps: s.Steps, stored: len(s.Steps), createdAt: s.CreatedAt, updatedAt: s.UpdatedAt}
}

// ParseStatus turns a stored value into a Status.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusAccepted, StatusPaused, StatusCancelled, StatusRefunded, StatusRefused, StatusReturning, StatusRefunding, StatusAwaitingAudit, StatusRejected,
		StatusCompleted:
		return st, nil
	}
	return "", fmt.Errorf("unknown request status %q", s)
}
