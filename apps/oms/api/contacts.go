package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// MountContacts adds customer service's contact changes, asked for by
// after-sales' actions, under their own prefix (v1/cs/): the ACL grants
// them to after-sales without granting it anything else below v1/orders.
func MountContacts(r chi.Router, eng *fulfillment.Engine) {
	r.Post("/v1/cs/orders/{id}/contacts", func(w http.ResponseWriter, r *http.Request) {
		var in omsclient.ContactChangeRequest
		if err := httpapi.Decode(r, &in); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		c := fulfillment.ContactChange{ChangeID: in.ChangeID, By: in.By, Note: in.Note, SMSRecipients: in.SMSRecipients}
		if in.Address != nil {
			a := domain.Address(*in.Address)
			c.Address = &a
		}
		res, err := eng.ChangeContact(r.Context(), chi.URLParam(r, "id"), c)
		if err != nil {
			httpapi.WriteError(w, r, contactProblem(err))
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, omsclient.ContactChange{Order: OrderView(res.Order, true), Already: res.Already, Units: res.Units})
	})
}

func contactProblem(err error) error {
	var d *fulfillment.ErrAddressDispatched
	switch {
	case errors.As(err, &d):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeOrderDispatched, "%s", d.Error()).
			With(map[string]any{"delivery_orders": d.DeliveryOrders})
	case errors.Is(err, domain.ErrAddressLocked):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeAddressLocked, "%s", err.Error())
	case errors.Is(err, domain.ErrContactLocked):
		return httpapi.Errorf(http.StatusConflict, omsclient.CodeContactLocked, "%s", err.Error())
	case errors.Is(err, fulfillment.ErrInvalid):
		return httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "%s", err.Error())
	}
	return problem(err)
}
