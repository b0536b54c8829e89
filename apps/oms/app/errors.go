package app

import (
	"errors"
	"strings"

	"github.com/harvest/harvest/apps/oms/domain"
)

// ErrIdempotencyReuse: the key was first used with a different request.
var ErrIdempotencyReuse = errors.New("idempotency key reused with a different request")

// OutOfStockError names the SKUs inventory could not hold; nothing was written.
type OutOfStockError struct{ SKUs []string }

func (e *OutOfStockError) Error() string { return "out of stock: " + strings.Join(e.SKUs, ", ") }

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
