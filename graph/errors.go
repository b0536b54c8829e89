package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// Stable extensions.code values of top-level errors. Front-ends switch on
// these, never on messages. gqlgen's own codes (GRAPHQL_PARSE_FAILED,
// GRAPHQL_VALIDATION_FAILED, COMPLEXITY_LIMIT_EXCEEDED) pass through.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeQueryTooDeep    = "QUERY_TOO_DEEP"
	// CodeListTooLong: a list argument is longer than the gateway takes
	// (extensions.field is its path, extensions.max the cap).
	CodeListTooLong           = "LIST_TOO_LONG"
	CodeCSRF                  = "CSRF_REJECTED"
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
	CodeGraphQL               = "GRAPHQL_ERROR"
	CodeInternal              = "INTERNAL"
	// CodeUnavailable: the backend did not answer in time (overload); the
	// same request, with the same idempotency key, may be retried.
	CodeUnavailable = "UNAVAILABLE"
)

// PublicError is an error whose message may be shown to the caller, with
// its extensions.code. Anything else reaching the presenter is internal.
type PublicError struct {
	Code    string
	Message string
	// Extensions are shown beside the code (e.g. retryAfterMs).
	Extensions map[string]any
}

func (e *PublicError) Error() string { return e.Code + ": " + e.Message }

var (
	errUnauthenticated = &PublicError{Code: CodeUnauthenticated, Message: "authentication required"}
	errForbidden       = &PublicError{Code: CodeForbidden, Message: "not allowed for your role"}
)

func notFound(what string) error {
	return &PublicError{Code: CodeNotFound, Message: what + " not found"}
}

// ErrorPresenter maps resolver errors to stable codes: PublicErrors keep
// their message, Problems of the not-found kind become NOT_FOUND, gqlgen's
// own request errors pass through, and everything else is logged here and
// shown only as "internal error" with code INTERNAL.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var pe *PublicError
		if errors.As(err, &pe) {
			out := withCode(gqlErr, pe.Code, pe.Message)
			for k, v := range pe.Extensions {
				out.Extensions[k] = v
			}
			return out
		}
		var p *httpapi.Problem
		if errors.As(err, &p) {
			switch p.Code {
			case omsclient.CodeNotFound, omsclient.CodeNoFulfillment, payclient.CodeNotFound, inventoryclient.CodeUnknownSKU:
				return withCode(gqlErr, CodeNotFound, "not found")
			case omsclient.CodeValidation:
				return withCode(gqlErr, CodeBadUserInput, p.Message)
			}
		}
		if (errors.As(err, &p) && p.Code == httpapi.CodeUnavailable) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			log.WarnContext(ctx, "graphql field timed out", "path", gqlErr.Path.String(), "err", err)
			return withCode(gqlErr, CodeUnavailable, "the service is busy and did not answer in time; retry with the same idempotency key")
		}
		if gqlErr.Err == nil {
			if out, ok := unknownEnumError(ctx, gqlErr); ok {
				return out
			}
			// Made by gqlgen itself (parse, validation, complexity, coercion):
			// the message is about the request, safe to show.
			if _, ok := gqlErr.Extensions["code"]; !ok {
				return withCode(gqlErr, CodeGraphQL, gqlErr.Message)
			}
			return gqlErr
		}
		if errors.Is(err, context.Canceled) {
			log.DebugContext(ctx, "graphql field cancelled", "path", gqlErr.Path.String())
		} else {
			log.ErrorContext(ctx, "graphql internal error", "path", gqlErr.Path.String(), "err", err)
		}
		return &gqlerror.Error{Message: "internal error", Path: gqlErr.Path, Locations: gqlErr.Locations,
			Extensions: map[string]any{"code": CodeInternal}}
	}
}

// isTimeout reports a network timeout, such as the invoker's client timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func withCode(e *gqlerror.Error, code, msg string) *gqlerror.Error {
	out := &gqlerror.Error{Message: msg, Path: e.Path, Locations: e.Locations, Extensions: map[string]any{}}
	for k, v := range e.Extensions {
		out.Extensions[k] = v
	}
	out.Extensions["code"] = code
	return out
}

// RecoverFunc turns a resolver panic into an INTERNAL error, logging the
// panic and stack (the presenter hides the message from the caller).
func RecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "graphql resolver panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return &PublicError{Code: CodeInternal, Message: "internal error"}
	}
}

// maxKeyLen bounds idempotency keys; services index them.
const maxKeyLen = 64

// checkKey validates an idempotency key: 1..64 characters, no control
// characters. It returns the user error to answer with, or nil.
func checkKey(key string) []*model.UserError {
	msg := ""
	switch n := utf8.RuneCountInString(key); {
	case strings.TrimSpace(key) == "":
		msg = "idempotencyKey must not be empty"
	case n > maxKeyLen:
		msg = fmt.Sprintf("idempotencyKey must be at most %d characters, got %d", maxKeyLen, n)
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		msg = "idempotencyKey must not contain control characters"
	default:
		return nil
	}
	return []*model.UserError{{Code: model.UserErrorCodeValidationFailed, Message: msg, Field: []string{"idempotencyKey"}}}
}

// hints say where, in one mutation's arguments, a Problem's subject lives.
type hints struct {
	input  []string                  // prefix of violation paths: ["input"]
	sku    func(sku string) []string // path of the line holding sku
	target []string                  // the order (or other) argument a NOT_FOUND refers to
}

// userErrors turns an expected business failure (a Problem with a known
// code) into the payload's errors. Any other error comes back unchanged
// for the presenter, which hides it as INTERNAL.
func userErrors(err error, h hints) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return nil, err
	}
	one := func(code model.UserErrorCode, field []string, reason string) []*model.UserError {
		ue := &model.UserError{Code: code, Message: p.Message, Field: field}
		if reason != "" {
			ue.Reason = &reason
		}
		return []*model.UserError{ue}
	}
	switch p.Code {
	case omsclient.CodeOutOfStock, inventoryclient.CodeUnknownSKU:
		code, reason := model.UserErrorCodeOutOfStock, ""
		if p.Code == inventoryclient.CodeUnknownSKU {
			code, reason = model.UserErrorCodeValidationFailed, p.Code
		}
		var skus []string
		decodeDetail(p.Details, "skus", &skus)
		if len(skus) == 0 {
			return one(code, h.input, reason), nil
		}
		out := make([]*model.UserError, 0, len(skus))
		for _, s := range skus {
			ue := &model.UserError{Code: code, Message: fmt.Sprintf("%s: %s", s, p.Message)}
			if h.sku != nil {
				ue.Field = h.sku(s)
			}
			if reason != "" {
				ue.Reason = &reason
			}
			out = append(out, ue)
		}
		return out, nil
	case omsclient.CodeValidation:
		var vs []omsclient.Violation
		decodeDetail(p.Details, "violations", &vs)
		if len(vs) == 0 {
			var field, reason string // inventory names one field, and the rule where it has a name
			decodeDetail(p.Details, "field", &field)
			decodeDetail(p.Details, "reason", &reason)
			if field != "" {
				return one(model.UserErrorCodeValidationFailed, fieldPath(h.input, field), reason), nil
			}
			return one(model.UserErrorCodeValidationFailed, h.input, ""), nil
		}
		out := make([]*model.UserError, 0, len(vs))
		for _, v := range vs {
			ue := &model.UserError{Code: model.UserErrorCodeValidationFailed, Message: v.Message, Field: fieldPath(h.input, v.Field)}
			if ue.Message == "" {
				ue.Message = p.Message
			}
			if v.Code != "" {
				c := v.Code
				ue.Reason = &c
			}
			out = append(out, ue)
		}
		return out, nil
	case omsclient.CodeIdempotencyReuse:
		return one(model.UserErrorCodeIdempotencyKeyReused, []string{"idempotencyKey"}, ""), nil
	case payclient.CodeInsufficient:
		var kind string
		decodeDetail(p.Details, "kind", &kind)
		return one(model.UserErrorCodeInsufficientFunds, h.input, kind), nil
	case payclient.CodeNotPayable:
		var reason string
		decodeDetail(p.Details, "reason", &reason)
		return one(model.UserErrorCodeOrderNotPayable, h.target, reason), nil
	case omsclient.CodeNotCancellable:
		return one(model.UserErrorCodeOrderNotCancellable, h.target, ""), nil
	case omsclient.CodeNotFound, omsclient.CodeNoFulfillment, payclient.CodeNotFound:
		return one(model.UserErrorCodeNotFound, h.target, ""), nil
	case omsclient.CodeNothingToRetry:
		return one(model.UserErrorCodeNothingToRetry, h.target, ""), nil
	case omsclient.CodeDeductionInvalid:
		return one(model.UserErrorCodeDeductionInvalid, append(append([]string{}, h.input...), "deductionIds"), ""), nil
	case payclient.CodeUnknownChannel:
		return one(model.UserErrorCodeValidationFailed, []string{"channel"}, p.Code), nil
	case payclient.CodeTooMany:
		var field string
		decodeDetail(p.Details, "field", &field)
		path := h.input
		if field != "" {
			path = fieldPath(h.input, field)
		}
		return one(model.UserErrorCodeValidationFailed, path, "TOO_MANY"), nil
	case omsclient.CodePlacementExpired:
		return one(model.UserErrorCodePlacementExpired, h.input, ""), nil
	case omsclient.CodeSlotFull: // inventoryclient.CodeSlotFull too: the same code
		return one(model.UserErrorCodeSlotFull, append(append([]string{}, h.input...), "slot"), ""), nil
	case inventoryclient.CodeCapacityBelowTaken:
		return one(model.UserErrorCodeCapacityBelowTaken, append(append([]string{}, h.input...), "capacity"), ""), nil
	case inventoryclient.CodeNotServed:
		return one(model.UserErrorCodeNotServed, h.input, ""), nil
	case inventoryclient.CodeProductExists:
		return one(model.UserErrorCodeProductExists, append(append([]string{}, h.input...), "sku"), ""), nil
	case inventoryclient.CodeVersionConflict:
		return one(model.UserErrorCodeVersionConflict, []string{"expectedVersion"}, ""), nil
	case marketingclient.CodeCouponNotFound, marketingclient.CodeCouponExpired, marketingclient.CodeCouponNotStarted,
		marketingclient.CodeCouponNotUsable, payclient.CodeHoldVoid:
		return one(model.UserErrorCodeCouponInvalid, h.input, p.Code), nil
	}
	return nil, err
}

// decodeDetail reads Details[key] into out whatever its in-memory shape
// (decoded JSON from a real service, typed values from a fake).
func decodeDetail(d map[string]any, key string, out any) {
	v, ok := d[key]
	if !ok {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	_ = json.Unmarshal(b, out)
}

// fieldPath turns a service's field name ("lines[2].unit_price_fen") into
// the GraphQL argument path (["input", "lines", "2", "unitPriceFen"]).
func fieldPath(prefix []string, f string) []string {
	out := append([]string{}, prefix...)
	f = strings.NewReplacer("[", ".", "]", "").Replace(f)
	for _, part := range strings.Split(f, ".") {
		if part != "" {
			out = append(out, camel(part))
		}
	}
	return out
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
