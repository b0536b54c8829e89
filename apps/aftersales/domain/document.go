package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Customer service's documents (DOMAIN 4): a sales return or a rejection
// a CS agent makes for a customer's order. It waits AWAITING_AUDIT until
// a CS_SUPERVISOR other than its author approves it (then it runs as the
// customer's own return would) or rejects it (REJECTED, its units and
// refund given back to the order).
const (
	StatusAwaitingAudit Status = "AWAITING_AUDIT"
	StatusRejected      Status = "REJECTED"
)

// Steps of documents.
const (
	StepSubmitted     Step = "SUBMITTED"
	StepApproved      Step = "APPROVED"
	StepAuditRejected Step = "AUDIT_REJECTED"
)

// Errors of audits.
var (
	// ErrSelfAudit: the auditor made the document.
	ErrSelfAudit = errors.New("a document is audited by someone other than its author")
	// ErrNotAwaitingAudit: the document was audited already (or is a
	// customer's request, which needs none).
	ErrNotAwaitingAudit = errors.New("document is not awaiting audit")
)

// DocumentKey is the stored idempotency key of a document: the author's
// key, apart from the customers' own.
func DocumentKey(author, key string) string { return "doc:" + author + ":" + key }

// NewDocument is a return or rejection document made by author, awaiting
// audit; its units and refund are held for it from now on.
func NewDocument(id string, kind Kind, author string, in ReturnInput, lines []LineRefund, now time.Time) (*Request, error) {
	if strings.TrimSpace(author) == "" || len(author) > 64 {
		return nil, fmt.Errorf("%w: author must be 1-64 characters", ErrValidation)
	}
	r, err := NewReturn(id, kind, in, lines, now)
	if err != nil {
		return nil, err
	}
	r.status, r.createdBy = StatusAwaitingAudit, author
	r.steps = nil
	r.record(now, StepSubmitted, author+": "+r.reason)
	return r, nil
}

// Approve lets the document run (ACCEPTED); the auditor must not be its author.
func (r *Request) Approve(at time.Time, auditor, note string) error {
	if err := r.audit(auditor, note); err != nil {
		return err
	}
	r.status = StatusAccepted
	r.record(at, StepApproved, auditor+": "+r.auditNote)
	return nil
}

// RejectAudit ends the document REJECTED; its units and refund go back
// to the order (Released).
func (r *Request) RejectAudit(at time.Time, auditor, note string) error {
	if err := r.audit(auditor, note); err != nil {
		return err
	}
	r.status, r.released = StatusRejected, r.holdsUnits()
	r.record(at, StepAuditRejected, auditor+": "+r.auditNote)
	return nil
}

func (r *Request) audit(auditor, note string) error {
	note = strings.TrimSpace(note)
	if strings.TrimSpace(auditor) == "" || len(auditor) > 64 || note == "" || utf8.RuneCountInString(note) > MaxReason {
		return fmt.Errorf("%w: auditor (1-64) and note (1-%d characters) are required", ErrValidation, MaxReason)
	}
	if r.status != StatusAwaitingAudit {
		return fmt.Errorf("%w: %s is %s", ErrNotAwaitingAudit, r.id, r.status)
	}
	if auditor == r.createdBy {
		return fmt.Errorf("%w: %s made %s", ErrSelfAudit, auditor, r.id)
	}
	r.auditedBy, r.auditNote = auditor, note
	return nil
}

// Released reports whether the last change gave the request's units and
// refund back to the order (the store subtracts them).
func (r *Request) Released() bool { return r.released }

// IsDocument reports whether customer service made the request.
func (r *Request) IsDocument() bool { return r.createdBy != "" }

// Document accessors.
func (r *Request) CreatedBy() string { return r.createdBy }
func (r *Request) AuditedBy() string { return r.auditedBy }
func (r *Request) AuditNote() string { return r.auditNote }
