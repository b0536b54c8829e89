package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Customer service's changes of an order's contact data (DOMAIN 4): its
// delivery address, until the goods reach a warehouse, and the phones its
// SMS go to. Each change carries the id of after-sales' action that asked
// for it, written into the timeline entry, so a repeat of the action is
// recognised (HasChange) and changes nothing.

// Timeline entries of contact changes.
const (
	EventAddressChanged       EventType = "ADDRESS_CHANGED"
	EventSMSRecipientsChanged EventType = "SMS_RECIPIENTS_CHANGED"
)

// MaxSMSRecipients bounds an order's SMS recipients.
const MaxSMSRecipients = 5

// ErrAddressLocked: the order's goods reached (or may have reached) a
// warehouse or supplier, or the order is finished: its address can no
// longer change.
var ErrAddressLocked = errors.New("the order's address can no longer change")

// ErrContactLocked: a cancelled or completed order's SMS recipients do not change.
var ErrContactLocked = errors.New("the order's SMS recipients can no longer change")

// changeTag is how a change's id is written into its timeline note.
func changeTag(changeID string) string { return "[change " + changeID + "]" }

// HasChange reports whether the change with this id was applied already.
func (o *Order) HasChange(changeID string) bool {
	tag := changeTag(changeID)
	for _, e := range o.timeline {
		if (e.Type == EventAddressChanged || e.Type == EventSMSRecipientsChanged) && strings.Contains(e.Note, tag) {
			return true
		}
	}
	return false
}

// SMSRecipients are the phones the order's SMS go to: those customer
// service set, else the address's phone.
func (o *Order) SMSRecipients() []string {
	if len(o.smsRecipients) > 0 {
		return slices.Clone(o.smsRecipients)
	}
	return []string{o.address.Phone}
}

// CustomSMSRecipients are the phones customer service set (none: the address's).
func (o *Order) CustomSMSRecipients() []string { return slices.Clone(o.smsRecipients) }

// ChangeAddress replaces the delivery address before the goods reached a
// warehouse; the caller (fulfillment) has checked that no delivery order
// was handed over. A malformed address is a *ValidationError.
func (o *Order) ChangeAddress(now time.Time, a Address, changeID, note string) error {
	switch o.status {
	case StatusPendingPayment, StatusPaid, StatusFulfilling:
	default:
		return fmt.Errorf("%w: order %s is %s", ErrAddressLocked, o.id, o.status)
	}
	if vs := CheckDelivery(a); len(vs) > 0 {
		return &ValidationError{Violations: vs}
	}
	o.address = a
	o.record(now, EventAddressChanged, contactNote(changeID, note))
	return nil
}

// SetSMSRecipients sets the phones the order's SMS go to (1 to
// MaxSMSRecipients distinct phone numbers).
func (o *Order) SetSMSRecipients(now time.Time, phones []string, changeID, note string) error {
	if o.status == StatusCancelled || o.status == StatusCompleted {
		return fmt.Errorf("%w: order %s is %s", ErrContactLocked, o.id, o.status)
	}
	clean, vs := CheckSMSRecipients(phones)
	if len(vs) > 0 {
		return &ValidationError{Violations: vs}
	}
	o.smsRecipients = clean
	o.record(now, EventSMSRecipientsChanged, contactNote(changeID, note+": "+strings.Join(clean, ", ")))
	return nil
}

// CheckSMSRecipients trims phones and refuses an empty list, too many,
// duplicates and malformed numbers (fields sms_recipients[i]).
func CheckSMSRecipients(phones []string) ([]string, []Violation) {
	var vs violations
	if len(phones) == 0 || len(phones) > MaxSMSRecipients {
		vs.add("sms_recipients", "COUNT", "1 to %d SMS recipients, got %d", MaxSMSRecipients, len(phones))
		return nil, []Violation(vs)
	}
	out := make([]string, 0, len(phones))
	for i, p := range phones {
		p = strings.TrimSpace(p)
		switch {
		case !validPhone(p):
			vs.add(fmt.Sprintf("sms_recipients[%d]", i), "INVALID_PHONE", "phone %q is not a phone number", p)
		case slices.Contains(out, p):
			vs.add(fmt.Sprintf("sms_recipients[%d]", i), "DUPLICATE", "phone %q is given twice", p)
		default:
			out = append(out, p)
		}
	}
	return out, []Violation(vs)
}

func contactNote(changeID, note string) string {
	note = strings.TrimSpace(note)
	if r := []rune(note); len(r) > 400 {
		note = string(r[:400])
	}
	return changeTag(changeID) + " " + note
}

// InheritSMSRecipients gives a reissue's or exchange's order the SMS
// recipients customer service set for the order it replaces (orig), so
// stage 14's message about the goods sent again reaches the phones the
// original's messages went to. Only an order made from orig, for orig's
// customer, inherits; orig without recipients of its own leaves o as it
// is (its address's phone).
func (o *Order) InheritSMSRecipients(orig *Order, now time.Time) {
	if o.originalOrder == "" || o.originalOrder != orig.id || o.customerID != orig.customerID || len(orig.smsRecipients) == 0 {
		return
	}
	o.smsRecipients = slices.Clone(orig.smsRecipients)
	o.record(now, EventSMSRecipientsChanged, "from "+orig.id+": "+strings.Join(o.smsRecipients, ", "))
}
