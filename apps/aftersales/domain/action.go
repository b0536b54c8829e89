package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Customer service's actions not tied to a document (DOMAIN 4): each is
// recorded in after-sales' action log with who asked, when and why; each
// is idempotent by its author's key; each is carried out by the system
// that owns what it changes (marketing's wallet, OMS, the invoicing
// system), which deduplicates by the action's id, except marking an
// order malicious, which after-sales owns.

// ActionKind is what an action does.
type ActionKind string

// Action kinds.
const (
	ActionUnbindCoupon     ActionKind = "UNBIND_COUPON"
	ActionSetSMSRecipients ActionKind = "SET_SMS_RECIPIENTS"
	ActionChangeAddress    ActionKind = "CHANGE_ADDRESS"
	ActionReissueInvoice   ActionKind = "REISSUE_INVOICE"
	ActionMarkMalicious    ActionKind = "MARK_MALICIOUS"
	// ActionRetryRefund sends a cancelled order's full refund, which the
	// channel failed after PAY's own retries, through the channel again.
	ActionRetryRefund ActionKind = "RETRY_REFUND"
)

var actionKinds = map[ActionKind]bool{ActionUnbindCoupon: true, ActionSetSMSRecipients: true, ActionChangeAddress: true,
	ActionReissueInvoice: true, ActionMarkMalicious: true, ActionRetryRefund: true}

// ActionStatus is where an action stands: PENDING while its owner is
// being asked (a PENDING action is asked again, under the same id, by a
// repeat of its key or by the sweep), DONE once the owner answered.
type ActionStatus string

// Action statuses.
const (
	ActionPending ActionStatus = "PENDING"
	ActionDone    ActionStatus = "DONE"
)

// ErrActionNotFound: no such action.
var ErrActionNotFound = errors.New("action not found")

// Refusal is the owner's "no" to an action (a used coupon, a dispatched
// order): nothing changed anywhere and the action is not kept. Code is
// the owner's precise code, passed on to customer service.
type Refusal struct {
	Code    string
	Message string
	Details map[string]any
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// Address is a delivery address as customer service enters it.
type Address struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
	Detail   string `json:"detail"`
}

// ActionInput is what customer service asks for.
type ActionInput struct {
	Kind           ActionKind `json:"kind"`
	Actor          string     `json:"-"`
	ActorRole      string     `json:"-"`
	IdempotencyKey string     `json:"-"`
	Reason         string     `json:"reason"`
	OrderID        string     `json:"order_id,omitempty"`
	// UNBIND_COUPON: the coupon and its customer (OrderID optional: the
	// order the complaint is about, so the action shows in its story).
	CouponID   string `json:"coupon_id,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
	// CHANGE_ADDRESS.
	Address *Address `json:"address,omitempty"`
	// SET_SMS_RECIPIENTS.
	SMSRecipients []string `json:"sms_recipients,omitempty"`
	// REISSUE_INVOICE: the title of the new invoice ("" keeps the order's).
	InvoiceTitle string `json:"invoice_title,omitempty"`
}

// Limits of an action's input.
const (
	maxReasonLen     = 500
	maxKeyLen        = 128
	maxIDLen         = 64
	maxSMSRecipients = 5
	maxTitleLen      = 200
)

// Validate refuses malformed input before anything is asked or written.
func (in ActionInput) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrValidation, fmt.Sprintf(format, args...))
	}
	reason := strings.TrimSpace(in.Reason)
	switch {
	case !actionKinds[in.Kind]:
		return bad("unknown action kind %q", in.Kind)
	case in.Actor == "" || len(in.Actor) > maxIDLen:
		return bad("the author is required")
	case in.IdempotencyKey == "" || len(in.IdempotencyKey) > maxKeyLen:
		return bad("idempotency_key must be 1-%d characters", maxKeyLen)
	case reason == "" || utf8.RuneCountInString(reason) > maxReasonLen:
		return bad("reason must be 1-%d characters", maxReasonLen)
	case len(in.OrderID) > maxIDLen || len(in.CouponID) > maxIDLen || len(in.CustomerID) > maxIDLen:
		return bad("ids are at most %d characters", maxIDLen)
	}
	if in.Kind != ActionUnbindCoupon && in.OrderID == "" {
		return bad("%s needs order_id", in.Kind)
	}
	switch in.Kind {
	case ActionUnbindCoupon:
		if in.CouponID == "" || in.CustomerID == "" {
			return bad("UNBIND_COUPON needs coupon_id and customer_id")
		}
	case ActionChangeAddress:
		if in.Address == nil {
			return bad("CHANGE_ADDRESS needs address")
		}
	case ActionSetSMSRecipients:
		if n := len(in.SMSRecipients); n == 0 || n > maxSMSRecipients {
			return bad("sms_recipients must hold 1-%d phones, got %d", maxSMSRecipients, n)
		}
	case ActionReissueInvoice:
		if utf8.RuneCountInString(in.InvoiceTitle) > maxTitleLen {
			return bad("invoice_title longer than %d characters", maxTitleLen)
		}
	}
	return nil
}

// Hash fingerprints what the action asks for, so a key used again with
// other input is refused (ErrKeyReused).
func (in ActionInput) Hash() string {
	in.Reason = strings.TrimSpace(in.Reason)
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Action is one entry of the action log.
type Action struct {
	ID         string
	Input      ActionInput
	Hash       string
	CustomerID string // whose order or coupon
	Status     ActionStatus
	// Result is the owner's answer: the invoice's number, the coupon's
	// status, the delivery orders whose documents took the address…
	Result    string
	CreatedAt time.Time
	DoneAt    time.Time // zero while PENDING
}

// NewAction starts an action of in, PENDING.
func NewAction(id string, in ActionInput, now time.Time) (*Action, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	return &Action{ID: id, Input: in, Hash: in.Hash(), CustomerID: in.CustomerID, Status: ActionPending, CreatedAt: now}, nil
}

// Done records the owner's answer.
func (a *Action) Done(result string, now time.Time) {
	if r := []rune(result); len(r) > 500 {
		result = string(r[:500])
	}
	a.Status, a.Result, a.DoneAt = ActionDone, result, now
}
