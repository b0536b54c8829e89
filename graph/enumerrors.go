package graph

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
)

// unknownEnumCodes are the enums whose unknown value front-ends must tell
// apart from a malformed request: gqlgen refuses such a value in
// validation, before any resolver could answer its UserError, so the
// presenter gives the refusal the code the services use for it.
var unknownEnumCodes = map[string]string{
	"ProductCategory": marketingclient.ReasonUnknownCategory,
	"Zone":            CodeUnknownZone,
}

// CodeUnknownZone: a value that is no warehouse temperature zone (the
// inventory service's reason for the same refusal).
const CodeUnknownZone = "UNKNOWN_ZONE"

// gqlparser's messages for an enum value it does not know: a literal in
// the document (validation's ValuesOfCorrectType, with the value's
// location) and a variable's value (coercion, with the variable's path).
var (
	unknownLiteral  = regexp.MustCompile(`^(?:Value "[^"]*" does not exist in "([\w!\[\]]+)" enum\.|Enum "([\w!\[\]]+)" cannot represent non-enum value: )`)
	unknownVariable = regexp.MustCompile(`^.* is not a valid (\w+)$`)
)

// unknownEnumError rewrites gqlgen's refusal of an unknown ProductCategory
// or Zone into its precise code, with extensions.field the value's place:
// the field's response key, the argument and the input fields (list
// items by index) for a literal; "$" and the variable's name, then its
// input fields, for a variable's value. Any other error is left alone.
func unknownEnumError(ctx context.Context, e *gqlerror.Error) (*gqlerror.Error, bool) {
	var enum string
	var field []string
	if m := unknownVariable.FindStringSubmatch(e.Message); m != nil && len(e.Path) > 1 && e.Path[0] == ast.PathName("variable") {
		enum = m[1]
		for i, p := range e.Path[1:] {
			s := fmt.Sprint(p)
			if i == 0 {
				s = "$" + s
			}
			field = append(field, s)
		}
	} else if m := unknownLiteral.FindStringSubmatch(e.Message); m != nil {
		enum = strings.Trim(m[1]+m[2], "![]")
		if len(e.Locations) > 0 && graphql.HasOperationContext(ctx) {
			field = literalPath(graphql.GetOperationContext(ctx).RawQuery, e.Locations[0])
		}
	}
	code, ok := unknownEnumCodes[enum]
	if !ok {
		return nil, false
	}
	out := withCode(e, code, e.Message)
	if len(field) > 0 {
		out.Extensions["field"] = field
	}
	return out, true
}

// literalPath finds the argument value at loc in query and answers its
// place (nil when not found: the location alone is then the answer).
func literalPath(query string, loc gqlerror.Location) []string {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return nil
	}
	at := func(p *ast.Position) bool { return p != nil && p.Line == loc.Line && p.Column == loc.Column }
	var inValue func(v *ast.Value, path []string) []string
	inValue = func(v *ast.Value, path []string) []string {
		if v == nil {
			return nil
		}
		if at(v.Position) {
			return path
		}
		for i, c := range v.Children {
			step := c.Name
			if v.Kind == ast.ListValue {
				step = strconv.Itoa(i)
			}
			if p := inValue(c.Value, append(path[:len(path):len(path)], step)); p != nil {
				return p
			}
		}
		return nil
	}
	var inSelections func(set ast.SelectionSet, path []string) []string
	inSelections = func(set ast.SelectionSet, path []string) []string {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				here := append(path[:len(path):len(path)], key)
				for _, a := range s.Arguments {
					if p := inValue(a.Value, append(here[:len(here):len(here)], a.Name)); p != nil {
						return p
					}
				}
				if p := inSelections(s.SelectionSet, here); p != nil {
					return p
				}
			case *ast.InlineFragment:
				if p := inSelections(s.SelectionSet, path); p != nil {
					return p
				}
			}
		}
		return nil
	}
	for _, op := range doc.Operations {
		if p := inSelections(op.SelectionSet, nil); p != nil {
			return p
		}
	}
	for _, f := range doc.Fragments {
		if p := inSelections(f.SelectionSet, []string{"..." + f.Name}); p != nil {
			return p
		}
	}
	return nil
}
