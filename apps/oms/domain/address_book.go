package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a customer's address book.
const (
	MaxSavedAddresses = 20
	maxLabelLen       = 32
)

// ErrAddressNotFound: no saved address with that id in the customer's book.
var ErrAddressNotFound = errors.New("saved address not found")

// CheckAddress applies the rules every delivery address meets (complete,
// a phone number, bounded lengths); fields are named address.<field>.
func CheckAddress(a Address) []Violation {
	var vs violations
	Placement{Address: a}.checkAddress(&vs)
	return vs
}

// SavedAddress is one entry of a customer's address book.
type SavedAddress struct {
	id        string
	address   Address
	label     string // "home", "office"…; optional
	isDefault bool
	createdAt time.Time
	updatedAt time.Time
}

// ID identifies the entry.
func (s SavedAddress) ID() string { return s.id }

// Address is where to deliver.
func (s SavedAddress) Address() Address { return s.address }

// Label is the customer's name for it.
func (s SavedAddress) Label() string { return s.label }

// IsDefault reports whether it is the book's default.
func (s SavedAddress) IsDefault() bool { return s.isDefault }

// CreatedAt is when it was saved first.
func (s SavedAddress) CreatedAt() time.Time { return s.createdAt }

// UpdatedAt is when it last changed.
func (s SavedAddress) UpdatedAt() time.Time { return s.updatedAt }

// SavedAddressSnapshot is an entry as the store keeps it.
type SavedAddressSnapshot struct {
	ID                   string
	Address              Address
	Label                string
	IsDefault            bool
	CreatedAt, UpdatedAt time.Time
}

// AddressBook is a customer's saved addresses: at most
// MaxSavedAddresses, exactly one of them the default when there is any.
type AddressBook struct {
	customerID string
	entries    []SavedAddress // default first, then newest first
	removed    []string
}

// RestoreAddressBook rebuilds a book the store read.
func RestoreAddressBook(customerID string, entries []SavedAddressSnapshot) *AddressBook {
	b := &AddressBook{customerID: customerID}
	for _, e := range entries {
		b.entries = append(b.entries, SavedAddress{id: e.ID, address: e.Address, label: e.Label, isDefault: e.IsDefault,
			createdAt: e.CreatedAt, updatedAt: e.UpdatedAt})
	}
	b.sort()
	return b
}

// CustomerID is whose book it is.
func (b *AddressBook) CustomerID() string { return b.customerID }

// Entries are the saved addresses, the default first, then newest first.
func (b *AddressBook) Entries() []SavedAddress { return slices.Clone(b.entries) }

// Removed lists the ids removed since the book was read.
func (b *AddressBook) Removed() []string { return slices.Clone(b.removed) }

// Get finds an entry.
func (b *AddressBook) Get(id string) (SavedAddress, error) {
	i := b.index(id)
	if i < 0 {
		return SavedAddress{}, ErrAddressNotFound
	}
	return b.entries[i], nil
}

func (b *AddressBook) index(id string) int {
	return slices.IndexFunc(b.entries, func(s SavedAddress) bool { return s.id == id })
}

func (b *AddressBook) sort() {
	slices.SortStableFunc(b.entries, func(x, y SavedAddress) int {
		switch {
		case x.isDefault != y.isDefault:
			if x.isDefault {
				return -1
			}
			return 1
		case !x.createdAt.Equal(y.createdAt):
			return y.createdAt.Compare(x.createdAt)
		}
		return strings.Compare(x.id, y.id)
	})
}

func checkEntry(a Address, label string) error {
	var vs violations
	vs = append(vs, CheckAddress(a)...)
	if utf8.RuneCountInString(label) > maxLabelLen {
		vs.add("label", "TOO_LONG", "label longer than %d characters", maxLabelLen)
	}
	if len(vs) > 0 {
		return &ValidationError{Violations: vs}
	}
	return nil
}

func trimAddress(a Address) Address {
	return Address{Name: strings.TrimSpace(a.Name), Phone: strings.TrimSpace(a.Phone), Province: strings.TrimSpace(a.Province),
		City: strings.TrimSpace(a.City), District: strings.TrimSpace(a.District), Detail: strings.TrimSpace(a.Detail)}
}

// Add saves a new address under id; the first one, or one asked to be,
// becomes the default.
func (b *AddressBook) Add(id string, a Address, label string, makeDefault bool, now time.Time) (SavedAddress, error) {
	a, label = trimAddress(a), strings.TrimSpace(label)
	if err := checkEntry(a, label); err != nil {
		return SavedAddress{}, err
	}
	if len(b.entries) >= MaxSavedAddresses {
		return SavedAddress{}, &ValidationError{Violations: []Violation{{Field: "address", Code: "TOO_MANY_ADDRESSES",
			Message: fmt.Sprintf("an address book holds at most %d addresses; remove one first", MaxSavedAddresses)}}}
	}
	s := SavedAddress{id: id, address: a, label: label, createdAt: now, updatedAt: now}
	b.entries = append(b.entries, s)
	if makeDefault || len(b.entries) == 1 {
		b.setDefault(id, now)
	}
	b.sort()
	return b.Get(id)
}

// Edit replaces an entry's address and label.
func (b *AddressBook) Edit(id string, a Address, label string, now time.Time) (SavedAddress, error) {
	a, label = trimAddress(a), strings.TrimSpace(label)
	i := b.index(id)
	if i < 0 {
		return SavedAddress{}, ErrAddressNotFound
	}
	if err := checkEntry(a, label); err != nil {
		return SavedAddress{}, err
	}
	b.entries[i].address, b.entries[i].label, b.entries[i].updatedAt = a, label, now
	return b.entries[i], nil
}

// Remove deletes an entry; removing the default makes the newest other
// entry the default.
func (b *AddressBook) Remove(id string, now time.Time) error {
	i := b.index(id)
	if i < 0 {
		return ErrAddressNotFound
	}
	wasDefault := b.entries[i].isDefault
	b.entries = slices.Delete(b.entries, i, i+1)
	b.removed = append(b.removed, id)
	if wasDefault && len(b.entries) > 0 {
		b.sort()
		newest := slices.MaxFunc(b.entries, func(x, y SavedAddress) int { return x.createdAt.Compare(y.createdAt) })
		b.setDefault(newest.id, now)
	}
	b.sort()
	return nil
}

// SetDefault makes an entry the default (and no other).
func (b *AddressBook) SetDefault(id string, now time.Time) (SavedAddress, error) {
	if b.index(id) < 0 {
		return SavedAddress{}, ErrAddressNotFound
	}
	b.setDefault(id, now)
	b.sort()
	return b.Get(id)
}

func (b *AddressBook) setDefault(id string, now time.Time) {
	for i := range b.entries {
		is := b.entries[i].id == id
		if b.entries[i].isDefault != is {
			b.entries[i].isDefault, b.entries[i].updatedAt = is, now
		}
	}
}

// CheckServed is the served-area half of stage 2's deliverability check:
// deliverable is inventory's answer for the address's area
// (inventoryclient.Deliverable).
func CheckServed(a Address, deliverable bool) []Violation {
	if deliverable {
		return nil
	}
	var vs violations
	vs.add("address.district", "NOT_DELIVERABLE", "no warehouse delivers to %s %s %s", a.Province, a.City, a.District)
	return vs
}
