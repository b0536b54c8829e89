package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/marketing/app"
	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// MountPointsCoupons registers the unbind of an order's coupons bought
// with points (after-sales' push).
func MountPointsCoupons(r chi.Router, p *app.PointsCoupons) {
	r.Post("/v1/points-coupons/unbinds", func(w http.ResponseWriter, r *http.Request) {
		var in mc.PointsCouponUnbindRequest
		if err := httpapi.Decode(r, &in); err != nil {
			walletFail(w, r, err)
			return
		}
		u, err := p.Unbind(r.Context(), in.UnbindID, in.OrderID, in.CustomerID, in.Reason)
		if err != nil {
			walletFail(w, r, err)
			return
		}
		out := mc.PointsCouponUnbind{UnbindID: u.UnbindID, OrderID: u.OrderID, Unbound: u.Unbound, Duplicate: u.Duplicate, Kept: []mc.KeptCoupon{}}
		for _, k := range u.Kept {
			out.Kept = append(out.Kept, mc.KeptCoupon{ID: k.ID, Status: string(k.Status)})
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
	})
}
