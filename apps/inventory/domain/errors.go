package domain

import (
	"github.com/harvest/harvest/apps/platform/money"

	"errors"
	"slices"
	"strings"
)

// Sentinel errors of inventory's use cases.
var (
	// ErrInvalid marks a request that breaks a rule of its shape.
	ErrInvalid = errors.New("invalid request")
	// ErrConflict: the order id already holds a reservation for other lines.
	ErrConflict = errors.New("reservation conflict")
	// ErrReleased: the order's reservation was released (or tombstoned), so a
	// late Reserve must not take stock again.
	ErrReleased = errors.New("reservation released")
	// ErrNotReserved: there is no held or confirmed reservation to act on.
	ErrNotReserved = errors.New("not reserved")
	// ErrNotFound: no such product.
	ErrNotFound = errors.New("not found")
	// ErrUnknownSKU and ErrOutOfStock are wrapped by SKUError.
	ErrUnknownSKU = errors.New("unknown sku")
	ErrOutOfStock = errors.New("out of stock")
	// ErrStale: the hot-stock counter was rebuilt while the reservation was
	// in flight; the caller may retry at once.
	ErrStale = errors.New("hot stock rebuilt during reservation")
	// ErrHotRestore: returned units of a hot SKU cannot be restored here
	// (its sellable truth is the Redis counter, moved only by reservations).
	ErrHotRestore = errors.New("cannot restore a hot SKU's stock")
	// ErrPriceChanged is wrapped by PriceError.
	ErrPriceChanged = errors.New("price differs from the catalog")
)

// PriceError names the SKUs whose expected unit price is not the
// catalog's, with the catalog's price of each.
type PriceError struct {
	Catalog map[string]money.Fen // SKU → the catalog's unit price in fen
}

func (e *PriceError) Error() string {
	skus := make([]string, 0, len(e.Catalog))
	for sku := range e.Catalog {
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	return ErrPriceChanged.Error() + ": " + strings.Join(skus, ", ")
}

// Unwrap lets errors.Is match ErrPriceChanged.
func (e *PriceError) Unwrap() error { return ErrPriceChanged }

// SKUError names every SKU a request failed on (unknown, or short of stock).
type SKUError struct {
	Kind error // ErrUnknownSKU or ErrOutOfStock
	SKUs []string
}

func (e *SKUError) Error() string { return e.Kind.Error() + ": " + strings.Join(e.SKUs, ", ") }

// Unwrap lets errors.Is match the kind.
func (e *SKUError) Unwrap() error { return e.Kind }

// ValidationError names the offending field and, where a rule has a
// name of its own (NEGATIVE_PRICE, BUNDLE_CONTAINS_ITSELF…), the rule.
type ValidationError struct {
	Field  string
	Msg    string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes every ValidationError an ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, msg string) error { return &ValidationError{Field: field, Msg: msg} }

func refused(field, reason, msg string) error {
	return &ValidationError{Field: field, Msg: msg, Reason: reason}
}
