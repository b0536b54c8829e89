package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
)

func TestAddressBookKeepsOneDefault(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"}
	b := domain.RestoreAddressBook("C1", nil)
	first, err := b.Add("a1", a, "home", false, now)
	if err != nil || !first.IsDefault() {
		t.Fatalf("the first address is the default: %+v, %v", first, err)
	}
	if _, err := b.Add("a2", a, "office", true, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add("a3", a, "", false, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	defaults := func() (ids []string) {
		for _, e := range b.Entries() {
			if e.IsDefault() {
				ids = append(ids, e.ID())
			}
		}
		return ids
	}
	if d := defaults(); len(d) != 1 || d[0] != "a2" || b.Entries()[0].ID() != "a2" {
		t.Fatalf("defaults %v", d)
	}
	// Removing the default promotes the newest other address.
	if err := b.Remove("a2", now); err != nil {
		t.Fatal(err)
	}
	if d := defaults(); len(d) != 1 || d[0] != "a3" {
		t.Fatalf("after removing the default: %v", d)
	}
	if _, err := b.SetDefault("a1", now); err != nil || defaults()[0] != "a1" || len(defaults()) != 1 {
		t.Fatalf("set default: %v %v", defaults(), err)
	}
	if err := b.Remove("nope", now); !errors.Is(err, domain.ErrAddressNotFound) {
		t.Fatalf("remove unknown: %v", err)
	}
	bad := a
	bad.Phone, bad.District = "call me", ""
	_, err = b.Edit("a1", bad, "", now)
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 2 {
		t.Fatalf("bad edit: %v", err)
	}
	if e, _ := b.Get("a1"); e.Address() != a {
		t.Fatal("a refused edit changed the address")
	}
	for i := len(b.Entries()); i < domain.MaxSavedAddresses; i++ {
		if _, err := b.Add(string(rune('b'+i)), a, "", false, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Add("over", a, "", false, now); !errors.As(err, &ve) || ve.Violations[0].Code != "TOO_MANY_ADDRESSES" {
		t.Fatalf("21st address: %v", err)
	}
}

func TestCheckServed(t *testing.T) {
	t.Parallel()
	a := domain.Address{Province: "Hebei", City: "Shijiazhuang", District: "Chang'an"}
	if vs := domain.CheckServed(a, true); len(vs) != 0 {
		t.Fatalf("served: %+v", vs)
	}
	if vs := domain.CheckServed(a, false); len(vs) != 1 || vs[0].Code != "NOT_DELIVERABLE" || vs[0].Field != "address.district" {
		t.Fatalf("not served: %+v", vs)
	}
}
