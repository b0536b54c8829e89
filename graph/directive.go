package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/model"
)

// HasRole enforces @hasRole: no identity answers UNAUTHENTICATED, an
// identity whose role is not listed answers FORBIDDEN, and the field's
// resolver never runs in either case.
func HasRole(ctx context.Context, _ any, next graphql.Resolver, roles []model.Role) (any, error) {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return nil, errUnauthenticated
	}
	if !slices.Contains(roles, model.Role(id.Role)) {
		return nil, errForbidden
	}
	return next(ctx)
}

// caller returns the identity @hasRole has already checked. A field that
// reaches here without one is a schema mistake (a missing directive), so it
// fails closed.
func caller(ctx context.Context) (auth.Identity, error) {
	id, ok := auth.FromContext(ctx)
	if !ok || id.Subject == "" {
		return auth.Identity{}, errUnauthenticated
	}
	return id, nil
}

// isStaff reports whether the role may read any customer's orders.
func isStaff(role string) bool {
	switch role {
	case auth.RoleCSAgent, auth.RoleCSSupervisor, auth.RoleAdmin:
		return true
	}
	return false
}
