package app

import (
	"errors"
	"strings"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/domain"
)

// ErrIdempotencyReuse: the key was first used with a different request.
var ErrIdempotencyReuse = errors.New("idempotency key reused with a different request")

// OutOfStockError names the SKUs inventory could not hold; nothing was written.
type OutOfStockError struct{ SKUs []string }

func (e *OutOfStockError) Error() string { return "out of stock: " + strings.Join(e.SKUs, ", ") }

// SlotFullError names the delivery slots inventory had no unit left of
// (a warehouse's slot of a type on a day); nothing was written.
type SlotFullError struct{ Slots []inventoryclient.SlotRef }

func (e *SlotFullError) Error() string {
	names := make([]string, len(e.Slots))
	for i, s := range e.Slots {
		names[i] = s.Type + " delivery on " + s.Date + " from " + s.Warehouse
	}
	return "delivery slot full: " + strings.Join(names, ", ")
}

// DeductionError says which non-cash deductions cannot be used and why.
type DeductionError struct{ Violations []domain.Violation }

func (e *DeductionError) Error() string {
	parts := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		parts = append(parts, v.Field+" "+v.Code)
	}
	return "deductions cannot be used: " + strings.Join(parts, ", ")
}

func invalid(field, code, msg string) error {
	return &domain.ValidationError{Violations: []domain.Violation{{Field: field, Code: code, Message: msg}}}
}
