package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// MountAddresses adds the address-book routes to r.
func MountAddresses(r chi.Router, books *app.AddressBooks) {
	h := addressHandler{books}
	r.Get("/v1/customers/{cid}/addresses", h.list)
	r.Post("/v1/customers/{cid}/addresses", h.add)
	r.Put("/v1/customers/{cid}/addresses/{id}", h.edit)
	r.Delete("/v1/customers/{cid}/addresses/{id}", h.remove)
	r.Post("/v1/customers/{cid}/addresses/{id}/default", h.setDefault)
}

type addressHandler struct{ books *app.AddressBooks }

func savedAddress(s domain.SavedAddress) omsclient.SavedAddress {
	a := s.Address()
	return omsclient.SavedAddress{ID: s.ID(), Label: s.Label(), IsDefault: s.IsDefault(), UpdatedAt: s.UpdatedAt(),
		Address: omsclient.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}}
}

func (h addressHandler) answer(w http.ResponseWriter, r *http.Request, one *domain.SavedAddress, all []domain.SavedAddress, err error) {
	if errors.Is(err, domain.ErrAddressNotFound) {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusNotFound, omsclient.CodeAddressNotFound, "saved address not found"))
		return
	}
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	out := omsclient.AddressBook{Addresses: make([]omsclient.SavedAddress, len(all))}
	for i, s := range all {
		out.Addresses[i] = savedAddress(s)
	}
	if one != nil {
		s := savedAddress(*one)
		out.Address = &s
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h addressHandler) list(w http.ResponseWriter, r *http.Request) {
	all, err := h.books.List(r.Context(), chi.URLParam(r, "cid"))
	h.answer(w, r, nil, all, err)
}

func (h addressHandler) save(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, in app.SaveAddress) (domain.SavedAddress, []domain.SavedAddress, error)) {
	var in omsclient.SaveAddressRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	a := in.Address
	one, all, err := do(r.Context(), app.SaveAddress{Label: in.Label, MakeDefault: in.MakeDefault,
		Address: domain.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}})
	h.answer(w, r, &one, all, err)
}

func (h addressHandler) add(w http.ResponseWriter, r *http.Request) {
	h.save(w, r, func(ctx context.Context, in app.SaveAddress) (domain.SavedAddress, []domain.SavedAddress, error) {
		return h.books.Add(ctx, chi.URLParam(r, "cid"), in)
	})
}

func (h addressHandler) edit(w http.ResponseWriter, r *http.Request) {
	h.save(w, r, func(ctx context.Context, in app.SaveAddress) (domain.SavedAddress, []domain.SavedAddress, error) {
		return h.books.Edit(ctx, chi.URLParam(r, "cid"), chi.URLParam(r, "id"), in)
	})
}

func (h addressHandler) remove(w http.ResponseWriter, r *http.Request) {
	all, err := h.books.Remove(r.Context(), chi.URLParam(r, "cid"), chi.URLParam(r, "id"))
	h.answer(w, r, nil, all, err)
}

func (h addressHandler) setDefault(w http.ResponseWriter, r *http.Request) {
	one, all, err := h.books.SetDefault(r.Context(), chi.URLParam(r, "cid"), chi.URLParam(r, "id"))
	h.answer(w, r, &one, all, err)
}
