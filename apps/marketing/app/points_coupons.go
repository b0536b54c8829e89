package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/marketing/domain"
)

// SourcePoints marks a coupon bought with points (the points mall, 积分商城):
// its ref is "<order>/<n>", the order whose points paid for it.
const SourcePoints = "POINTS"

// PointsRef is the source ref of the n-th coupon an order bought with points.
func PointsRef(orderID string, n int) string { return orderID + "/" + strconv.Itoa(n) }

// KeptCoupon is a coupon bought with points that could not be unbound.
type KeptCoupon struct {
	ID     string              `json:"id"`
	Status domain.CouponStatus `json:"status"`
}

// PointsUnbind is what an unbind of an order's points coupons did.
type PointsUnbind struct {
	UnbindID, OrderID, CustomerID string
	Unbound                       []string
	Kept                          []KeptCoupon
	Duplicate                     bool
	CreatedAt                     time.Time
}

// PointsCouponStore keeps the unbinds (apps/marketing/store).
type PointsCouponStore interface {
	// UnbindPointsCoupons unbinds, once per unbind id, every AVAILABLE
	// coupon the customer bought with the order's points.
	UnbindPointsCoupons(ctx context.Context, u PointsUnbind, agent, reason string) (PointsUnbind, error)
}

// PointsCoupons undoes coupons bought with points when the order that
// paid the points is cancelled (DOMAIN 5's "unbind coupons bought with
// points"): the points come back with the order's refund, so the coupons
// they bought go. One that is held by a deduction or used already cannot
// be unbound: it is answered as kept, for customer service.
type PointsCoupons struct {
	store PointsCouponStore
	now   func() time.Time
}

// NewPointsCoupons returns the use case over st.
func NewPointsCoupons(st PointsCouponStore, now func() time.Time) *PointsCoupons {
	return &PointsCoupons{store: st, now: now}
}

// Unbind unbinds the order's points coupons once per unbindID.
func (p *PointsCoupons) Unbind(ctx context.Context, unbindID, orderID, customerID, reason string) (PointsUnbind, error) {
	unbindID, orderID, reason = strings.TrimSpace(unbindID), strings.TrimSpace(orderID), strings.TrimSpace(reason)
	switch {
	case unbindID == "" || len(unbindID) > 128:
		return PointsUnbind{}, invalid("unbind_id is required (at most 128 bytes)")
	case orderID == "" || len(orderID) > 64 || strings.ContainsAny(orderID, "/%_"):
		return PointsUnbind{}, invalid("order_id %q is not an order id", orderID)
	case !domain.ValidCustomerID(customerID):
		return PointsUnbind{}, invalid("customer_id %q is not a customer id", customerID)
	case reason == "" || len(reason) > 200:
		return PointsUnbind{}, invalid("reason is required (at most 200 bytes)")
	}
	return p.store.UnbindPointsCoupons(ctx, PointsUnbind{UnbindID: unbindID, OrderID: orderID, CustomerID: customerID,
		CreatedAt: p.now().UTC().Truncate(time.Microsecond)}, "aftersales", reason)
}
