package graph

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

func saveAddress(in model.SaveAddressInput) omsclient.SaveAddressRequest {
	a := in.Address
	return omsclient.SaveAddressRequest{Label: str(in.Label), MakeDefault: flag(in.MakeDefault),
		Address: omsclient.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}}
}

// addressCall runs an address-book change for the caller (never for an
// argument) and answers the payload.
func (r *mutationResolver) addressCall(ctx context.Context, call func(customer string) (omsclient.AddressBook, error)) (*model.AddressBookPayload, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	b, err := call(id.Subject)
	if err != nil {
		var p *httpapi.Problem
		if errors.As(err, &p) && p.Code == omsclient.CodeAddressNotFound {
			return &model.AddressBookPayload{Addresses: []*model.SavedAddress{}, Errors: []*model.UserError{{
				Code: model.UserErrorCodeNotFound, Message: p.Message, Field: []string{"id"}}}}, nil
		}
		ues, err := userErrors(err, hints{input: []string{"input"}})
		if err != nil {
			return nil, err
		}
		return &model.AddressBookPayload{Addresses: []*model.SavedAddress{}, Errors: ues}, nil
	}
	out := &model.AddressBookPayload{Addresses: toSavedAddresses(b.Addresses), Errors: []*model.UserError{}}
	if b.Address != nil {
		out.Address = toSavedAddresses([]omsclient.SavedAddress{*b.Address})[0]
	}
	return out, nil
}

func toSavedAddresses(as []omsclient.SavedAddress) []*model.SavedAddress {
	out := make([]*model.SavedAddress, len(as))
	for i, s := range as {
		a := s.Address
		out[i] = &model.SavedAddress{ID: s.ID, IsDefault: s.IsDefault, UpdatedAt: s.UpdatedAt, Label: optional(s.Label),
			Address: &model.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}}
	}
	return out
}
