package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/obs"
)

// limitBody caps request bodies so one request cannot make the gateway
// buffer an unbounded document.
func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := n
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			n = max(n, MaxCandidateFile+64<<10) // an upload: the file and its operations
		}
		if r.ContentLength > n {
			writeHTTPError(w, http.StatusRequestEntityTooLarge, CodeBadUserInput, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// csrfGuard refuses requests a browser could send cross-site without a
// CORS preflight. A POST must be application/json (not a "simple" content
// type such as a form or text/plain) unless it carries a header no simple
// request can: X-Harvest-CSRF or apollo-require-preflight. GET carries
// queries only (the GET transport refuses mutations), WebSocket upgrades
// are checked by origin, and OPTIONS is the preflight itself.
func csrfGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/json" || r.Header.Get("X-Harvest-CSRF") != "" || r.Header.Get("Apollo-Require-Preflight") != "" {
			next.ServeHTTP(w, r)
			return
		}
		writeHTTPError(w, http.StatusUnsupportedMediaType, CodeCSRF,
			"POST requires Content-Type application/json (or an X-Harvest-CSRF header)")
	})
}

// writeHTTPError answers in the GraphQL response shape, so clients read
// extensions.code the same way for transport-level refusals.
func writeHTTPError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]any{"code": code},
	}}})
}

// DepthLimit refuses operations nested deeper than Max fields, which the
// complexity limit alone does not stop (a deep chain of single objects is
// cheap per level but can walk relations without end as the schema grows).
type DepthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName names the extension for gqlgen.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate accepts any schema.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the chosen operation before it runs.
func (d DepthLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	if n := depth(op.Operation.SelectionSet, op.Doc.Fragments, 0, map[string]bool{}); n > d.Max {
		err := gqlerror.Errorf("operation depth %d exceeds the limit of %d", n, d.Max)
		err.Extensions = map[string]any{"code": CodeQueryTooDeep}
		return err
	}
	return nil
}

func depth(ss ast.SelectionSet, frags ast.FragmentDefinitionList, level int, seen map[string]bool) int {
	deepest := level
	for _, s := range ss {
		var n int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				n = level + 1
			} else {
				n = depth(s.SelectionSet, frags, level+1, seen)
			}
		case *ast.InlineFragment:
			n = depth(s.SelectionSet, frags, level, seen)
		case *ast.FragmentSpread:
			// Validation already refuses fragment cycles; seen guards anyway.
			if seen[s.Name] {
				continue
			}
			f := frags.ForName(s.Name)
			if f == nil {
				continue
			}
			seen[s.Name] = true
			n = depth(f.SelectionSet, frags, level, seen)
			delete(seen, s.Name)
		default:
			panic(fmt.Sprintf("unexpected selection %T", s))
		}
		deepest = max(deepest, n)
	}
	return deepest
}

// NoIntrospection refuses __schema and __type outside development with a
// stable code, before anything runs (gqlgen would otherwise answer with an
// untyped error from inside execution). __typename stays allowed: clients
// need it for unions and caching.
type NoIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = NoIntrospection{}

// ExtensionName names the extension for gqlgen.
func (NoIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate accepts any schema.
func (NoIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext looks for introspection fields in the operation.
func (NoIntrospection) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation != nil && introspects(op.Operation.SelectionSet, op.Doc.Fragments, map[string]bool{}) {
		err := gqlerror.Errorf("introspection is disabled")
		err.Extensions = map[string]any{"code": CodeIntrospectionDisabled}
		return err
	}
	return nil
}

func introspects(ss ast.SelectionSet, frags ast.FragmentDefinitionList, seen map[string]bool) bool {
	for _, s := range ss {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" || introspects(s.SelectionSet, frags, seen) {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet, frags, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				if introspects(f.SelectionSet, frags, seen) {
					return true
				}
			}
		}
	}
	return false
}

// withTrace tags the request's logs with a trace id: the W3C traceparent's
// trace id when the caller sent one, else a new id. The id is echoed in
// X-Trace-Id so a customer-service report can be matched to the logs.
func withTrace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if parts := strings.Split(r.Header.Get("traceparent"), "-"); len(parts) == 4 && len(parts[1]) == 32 {
			id = parts[1]
		}
		if id == "" {
			id = ids.New()
		}
		w.Header().Set("X-Trace-Id", id)
		next.ServeHTTP(w, r.WithContext(obs.WithTrace(r.Context(), id)))
	})
}
