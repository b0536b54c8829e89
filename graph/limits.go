package graph

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/graph/model"
)

// Caps of list inputs, checked before any service is called: a list the
// service would refuse anyway never crosses the network, and none makes a
// service hold a lock over thousands of statements.
const (
	// MaxDeductItems bounds deductNonCash's input.items: one item per
	// non-cash kind plus an order's coupons fit well within it.
	MaxDeductItems = 20
	// defaultMaxListInput bounds every list argument of every field (see
	// ListLimit), whatever the field's own, tighter cap.
	defaultMaxListInput = 500
)

// listCap is one list input's cap.
type listCap struct {
	field []string
	n     int
	max   int
}

// tooMany answers each list over its cap with a VALIDATION_FAILED user
// error naming the field and the cap (reason TOO_MANY); nil when all fit.
func tooMany(caps ...listCap) []*model.UserError {
	var out []*model.UserError
	for _, c := range caps {
		if c.n > c.max {
			reason := "TOO_MANY"
			out = append(out, &model.UserError{Code: model.UserErrorCodeValidationFailed, Field: c.field, Reason: &reason,
				Message: fmt.Sprintf("%s holds %d entries, at most %d", strings.Join(c.field, "."), c.n, c.max)})
		}
	}
	return out
}

func placeOrderCaps(in model.PlaceOrderInput) []*model.UserError {
	return tooMany(
		listCap{[]string{"input", "lines"}, len(in.Lines), omsclient.MaxLines},
		listCap{[]string{"input", "deductionIds"}, len(in.DeductionIds), omsclient.MaxDeductions},
		listCap{[]string{"input", "couponIds"}, len(in.CouponIds), omsclient.MaxCoupons},
	)
}

func deductCaps(in model.DeductNonCashInput) []*model.UserError {
	return tooMany(listCap{[]string{"input", "items"}, len(in.Items), MaxDeductItems})
}

// checkCancelReason bounds cancelOrder's reason as OMS does.
func checkCancelReason(reason *string) []*model.UserError {
	if reason == nil {
		return nil
	}
	if n := utf8.RuneCountInString(*reason); n > omsclient.MaxCancelReason {
		code := omsclient.CodeReasonTooLong
		return []*model.UserError{{Code: model.UserErrorCodeValidationFailed, Field: []string{"reason"}, Reason: &code,
			Message: fmt.Sprintf("reason must be at most %d characters, got %d", omsclient.MaxCancelReason, n)}}
	}
	return nil
}

// ListLimit refuses, before anything runs, an operation with a list
// argument (at any depth of an input object, literal or variable) longer
// than Max, naming the argument and the cap. It is the backstop for list
// inputs no resolver caps more tightly.
type ListLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = ListLimit{}

// ExtensionName names the extension for gqlgen.
func (ListLimit) ExtensionName() string { return "ListLimit" }

// Validate accepts any schema.
func (ListLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext walks every field's arguments of the operation.
func (l ListLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	return l.selections(op.Operation.SelectionSet, op, map[string]bool{})
}

func (l ListLimit) selections(ss ast.SelectionSet, op *graphql.OperationContext, seen map[string]bool) *gqlerror.Error {
	for _, s := range ss {
		var err *gqlerror.Error
		switch s := s.(type) {
		case *ast.Field:
			if s.Definition != nil {
				for name, v := range s.ArgumentMap(op.Variables) {
					if err = l.value(s.Name, []string{name}, v); err != nil {
						return err
					}
				}
			}
			err = l.selections(s.SelectionSet, op, seen)
		case *ast.InlineFragment:
			err = l.selections(s.SelectionSet, op, seen)
		case *ast.FragmentSpread:
			if f := op.Doc.Fragments.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				err = l.selections(f.SelectionSet, op, seen)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (l ListLimit) value(field string, path []string, v any) *gqlerror.Error {
	switch v := v.(type) {
	case []any:
		if len(v) > l.Max {
			err := gqlerror.Errorf("argument %s of %s holds %d entries, at most %d", strings.Join(path, "."), field, len(v), l.Max)
			err.Extensions = map[string]any{"code": CodeListTooLong, "field": slices.Clone(path), "max": l.Max}
			return err
		}
		for i, e := range v {
			if err := l.value(field, append(path, strconv.Itoa(i)), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := l.value(field, append(path, k), e); err != nil {
				return err
			}
		}
	}
	return nil
}
