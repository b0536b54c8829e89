package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// fakeAreas serves Shanghai only, and answers like inventory for a
// malformed area.
type fakeAreas struct{}

func (fakeAreas) Deliverable(_ context.Context, a inventoryclient.Area) (inventoryclient.Deliverability, error) {
	if len(a.District) > 64 {
		return inventoryclient.Deliverability{}, httpapi.Errorf(http.StatusBadRequest, inventoryclient.CodeValidation, "district: must be 1..64 characters").
			With(map[string]any{"field": "district"})
	}
	if a.Province == "Shanghai" {
		return inventoryclient.Deliverability{Deliverable: true, Warehouses: []string{"WH-SH"}, Restricted: true}, nil
	}
	return inventoryclient.Deliverability{Restricted: true}, nil
}

func TestAddressBook(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	books := app.NewAddressBooks(e.repo, fakeAreas{}, e.clock)
	home := domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"}
	first, all, err := books.Add(ctx, "C1", app.SaveAddress{Address: home, Label: "home"})
	if err != nil || !first.IsDefault() || len(all) != 1 {
		t.Fatalf("first add: %+v %v", first, err)
	}
	office := home
	office.Detail = "100 Nanjing Rd"
	second, _, err := books.Add(ctx, "C1", app.SaveAddress{Address: office, Label: "office", MakeDefault: true})
	if err != nil || !second.IsDefault() {
		t.Fatalf("second add: %+v %v", second, err)
	}
	// Outside every served area, or malformed: refused on the field, nothing saved.
	far := home
	far.Province, far.City, far.District = "Hebei", "Shijiazhuang", "Chang'an"
	_, _, err = books.Add(ctx, "C1", app.SaveAddress{Address: far})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || ve.Violations[0].Field != "address.district" || ve.Violations[0].Code != "NOT_SERVED" {
		t.Fatalf("unserved: %v", err)
	}
	bad := home
	bad.Phone = "call me"
	if _, _, err := books.Add(ctx, "C1", app.SaveAddress{Address: bad}); !errors.As(err, &ve) || ve.Violations[0].Code != "INVALID_PHONE" {
		t.Fatalf("bad phone: %v", err)
	}
	if _, _, err := books.Edit(ctx, "C1", first.ID(), app.SaveAddress{Address: far}); !errors.As(err, &ve) {
		t.Fatalf("edit to unserved: %v", err)
	}
	list, err := books.List(ctx, "C1")
	if err != nil || len(list) != 2 || list[0].ID() != second.ID() || list[1].Address() != home {
		t.Fatalf("book after refusals: %+v %v", list, err)
	}
	// Another customer sees none of it and cannot touch it.
	if l, _ := books.List(ctx, "C2"); len(l) != 0 {
		t.Fatalf("C2 sees %d addresses", len(l))
	}
	if _, err := books.Remove(ctx, "C2", first.ID()); !errors.Is(err, domain.ErrAddressNotFound) {
		t.Fatalf("C2 removes C1's address: %v", err)
	}
	// Removing the default promotes the other.
	list, err = books.Remove(ctx, "C1", second.ID())
	if err != nil || len(list) != 1 || !list[0].IsDefault() || list[0].ID() != first.ID() {
		t.Fatalf("after removing the default: %+v %v", list, err)
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM customer_addresses WHERE customer_id = 'C1' AND is_default = 1`); n != 1 {
		t.Fatalf("%d defaults stored", n)
	}
}

// Concurrent first adds of one customer: every one is saved, exactly one
// is the default.
func TestAddressBookConcurrentAddsKeepOneDefault(t *testing.T) {
	e := newEnv(t)
	books := app.NewAddressBooks(e.repo, fakeAreas{}, e.clock)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			a := domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: fmt.Sprintf("%d Century Ave", i)}
			if _, _, err := books.Add(context.Background(), "C9", app.SaveAddress{Address: a, MakeDefault: i%3 == 0}); err != nil {
				t.Errorf("add %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := count(t, e.db, `SELECT COUNT(*) FROM customer_addresses WHERE customer_id = 'C9'`); n != 10 {
		t.Fatalf("%d addresses saved, want 10", n)
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM customer_addresses WHERE customer_id = 'C9' AND is_default = 1`); n != 1 {
		t.Fatalf("%d defaults, want 1", n)
	}
}
