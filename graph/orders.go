package graph

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/graph/model"
)

// visibleOrder fetches an order the caller may see: staff see any, a
// customer only their own. Someone else's order answers exactly like a
// missing one (NOT_FOUND), so order ids cannot be probed.
func (r *Resolver) visibleOrder(ctx context.Context, id string) (omsclient.Order, error) {
	who, err := caller(ctx)
	if err != nil {
		return omsclient.Order{}, err
	}
	o, err := r.order(ctx, id)
	if err != nil {
		return omsclient.Order{}, err
	}
	if o == nil || (!isStaff(who.Role) && o.CustomerID != who.Subject) {
		return omsclient.Order{}, notFound("order")
	}
	return *o, nil
}

// orderUserErrors maps the failures of a mutation on one order (its
// argument orderId) to user errors.
func orderUserErrors(err error) ([]*model.UserError, error) {
	var pe *PublicError
	if errors.As(err, &pe) && pe.Code == CodeNotFound {
		return []*model.UserError{{Code: model.UserErrorCodeNotFound, Message: pe.Message, Field: []string{"orderId"}}}, nil
	}
	return userErrors(err, hints{target: []string{"orderId"}})
}
