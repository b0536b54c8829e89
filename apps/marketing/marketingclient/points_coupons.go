package marketingclient

import (
	"context"
	"net/http"
)

// PointsCouponUnbindRequest unbinds the coupons a customer bought with an
// order's points (the order was cancelled: its points come back), once
// per UnbindID.
type PointsCouponUnbindRequest struct {
	UnbindID   string `json:"unbind_id"`
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	Reason     string `json:"reason"`
}

// KeptCoupon is a coupon bought with points that was not unbound (held
// by a deduction, used, expired or unbound before).
type KeptCoupon struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// PointsCouponUnbind is what the unbind did; a repeat answers the first.
type PointsCouponUnbind struct {
	UnbindID  string       `json:"unbind_id"`
	OrderID   string       `json:"order_id"`
	Unbound   []string     `json:"unbound"`
	Kept      []KeptCoupon `json:"kept"`
	Duplicate bool         `json:"duplicate"`
}

// UnbindPointsCoupons unbinds an order's coupons bought with points.
func (c *Client) UnbindPointsCoupons(ctx context.Context, r PointsCouponUnbindRequest) (PointsCouponUnbind, error) {
	var out PointsCouponUnbind
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/points-coupons/unbinds", r, &out)
}
