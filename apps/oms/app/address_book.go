package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
)

// AddressStore keeps customers' address books. UpdateBook runs fn on the
// book under a lock of the customer's entries and saves what fn changed.
type AddressStore interface {
	LoadBook(ctx context.Context, customerID string) (*domain.AddressBook, error)
	UpdateBook(ctx context.Context, customerID string, fn func(b *domain.AddressBook) error) (*domain.AddressBook, error)
}

// Areas answers whether an address's area is served; *inventoryclient.Client
// satisfies it (inventory owns the served-area list).
type Areas interface {
	Deliverable(ctx context.Context, a inventoryclient.Area) (inventoryclient.Deliverability, error)
}

// AddressBooks runs the use cases of customers' saved addresses: add,
// edit, remove, pick the default. Every address saved is one a warehouse
// delivers to, by the served-area list operators maintain in inventory.
type AddressBooks struct {
	store AddressStore
	areas Areas
	clock clock.Clock
}

// NewAddressBooks returns the use cases.
func NewAddressBooks(st AddressStore, areas Areas, clk clock.Clock) *AddressBooks {
	if clk == nil {
		clk = clock.System{}
	}
	return &AddressBooks{store: st, areas: areas, clock: clk}
}

// SaveAddress is what the customer enters.
type SaveAddress struct {
	Address     domain.Address
	Label       string
	MakeDefault bool
}

func customer(id string) error {
	if strings.TrimSpace(id) == "" {
		return invalid("customer_id", "REQUIRED", "customer is required")
	}
	return nil
}

// served refuses, as a violation of address.district, an address no
// warehouse delivers to; the address's own rules are checked first, so
// a malformed one never reaches inventory.
func (b *AddressBooks) served(ctx context.Context, a domain.Address) error {
	if vs := domain.CheckAddress(a); len(vs) > 0 {
		return &domain.ValidationError{Violations: vs}
	}
	area := inventoryclient.Area{Province: strings.TrimSpace(a.Province), City: strings.TrimSpace(a.City), District: strings.TrimSpace(a.District)}
	d, err := b.areas.Deliverable(ctx, area)
	var p *httpapi.Problem
	switch {
	case errors.As(err, &p) && p.Code == inventoryclient.CodeValidation:
		field, _ := p.Details["field"].(string)
		return invalid("address."+field, "INVALID_AREA", p.Message)
	case err != nil:
		return fmt.Errorf("served areas: %w", err)
	case !d.Deliverable:
		return invalid("address.district", "NOT_SERVED",
			fmt.Sprintf("no warehouse delivers to %s %s %s", area.Province, area.City, area.District))
	}
	return nil
}

// List returns a customer's saved addresses, the default first.
func (b *AddressBooks) List(ctx context.Context, customerID string) ([]domain.SavedAddress, error) {
	if err := customer(customerID); err != nil {
		return nil, err
	}
	book, err := b.store.LoadBook(ctx, customerID)
	if err != nil {
		return nil, err
	}
	return book.Entries(), nil
}

// Add saves a new address (the first one becomes the default).
func (b *AddressBooks) Add(ctx context.Context, customerID string, in SaveAddress) (domain.SavedAddress, []domain.SavedAddress, error) {
	if err := customer(customerID); err != nil {
		return domain.SavedAddress{}, nil, err
	}
	if err := b.served(ctx, in.Address); err != nil {
		return domain.SavedAddress{}, nil, err
	}
	var saved domain.SavedAddress
	book, err := b.store.UpdateBook(ctx, customerID, func(book *domain.AddressBook) error {
		var err error
		saved, err = book.Add(ids.New(), in.Address, in.Label, in.MakeDefault, b.clock.Now())
		return err
	})
	if err != nil {
		return domain.SavedAddress{}, nil, err
	}
	return saved, book.Entries(), nil
}

// Edit replaces a saved address (and makes it the default if asked).
func (b *AddressBooks) Edit(ctx context.Context, customerID, id string, in SaveAddress) (domain.SavedAddress, []domain.SavedAddress, error) {
	if err := customer(customerID); err != nil {
		return domain.SavedAddress{}, nil, err
	}
	if err := b.served(ctx, in.Address); err != nil {
		return domain.SavedAddress{}, nil, err
	}
	var saved domain.SavedAddress
	book, err := b.store.UpdateBook(ctx, customerID, func(book *domain.AddressBook) error {
		now := b.clock.Now()
		var err error
		if saved, err = book.Edit(id, in.Address, in.Label, now); err != nil || !in.MakeDefault {
			return err
		}
		saved, err = book.SetDefault(id, now)
		return err
	})
	if err != nil {
		return domain.SavedAddress{}, nil, err
	}
	return saved, book.Entries(), nil
}

// Remove deletes a saved address; the newest other becomes the default
// when it was.
func (b *AddressBooks) Remove(ctx context.Context, customerID, id string) ([]domain.SavedAddress, error) {
	if err := customer(customerID); err != nil {
		return nil, err
	}
	book, err := b.store.UpdateBook(ctx, customerID, func(book *domain.AddressBook) error { return book.Remove(id, b.clock.Now()) })
	if err != nil {
		return nil, err
	}
	return book.Entries(), nil
}

// SetDefault makes a saved address the default.
func (b *AddressBooks) SetDefault(ctx context.Context, customerID, id string) (domain.SavedAddress, []domain.SavedAddress, error) {
	if err := customer(customerID); err != nil {
		return domain.SavedAddress{}, nil, err
	}
	var saved domain.SavedAddress
	book, err := b.store.UpdateBook(ctx, customerID, func(book *domain.AddressBook) error {
		var err error
		saved, err = book.SetDefault(id, b.clock.Now())
		return err
	})
	if err != nil {
		return domain.SavedAddress{}, nil, err
	}
	return saved, book.Entries(), nil
}
