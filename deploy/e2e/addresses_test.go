package e2e

import (
	"testing"
)

const (
	mAddAddress = `mutation($in:SaveAddressInput!){ addAddress(input:$in){ address{ id isDefault } addresses{ id isDefault } errors{ code field reason } } }`
	mRemoveAddr = `mutation($id:ID!){ removeAddress(id:$id){ addresses{ id isDefault } errors{ code field } } }`
	qAddresses  = `{ myAddresses{ id isDefault label address{ district } } }`
)

type savedAddr struct {
	ID        string `json:"id"`
	IsDefault bool   `json:"isDefault"`
}

// A customer's address book through the stack: addresses inside the
// served areas are saved (the first the default), one outside is refused
// NOT_SERVED, another customer cannot remove them.
func TestAddressBookThroughTheStack(t *testing.T) {
	admin := client(t, "ADMIN", "a1")
	var area struct{ SetServedArea payloadErrors }
	if err := admin.Do(ctx(t), mArea, map[string]any{"in": map[string]any{"province": "Shanghai", "city": "Shanghai", "district": "",
		"warehouses": []string{"WH-SH", "WH-BJ"}}}, &area); err != nil || len(area.SetServedArea.Errors) > 0 {
		t.Fatalf("served area: %v %+v", err, area.SetServedArea.Errors)
	}
	c := client(t, "CUSTOMER", "C0092")
	add := func(district, label string, makeDefault bool) (savedAddr, []savedAddr, []userError) {
		t.Helper()
		var out struct {
			AddAddress struct {
				Address   *savedAddr
				Addresses []savedAddr
				Errors    []userError
			}
		}
		in := map[string]any{"address": map[string]any{"name": "Li Lei", "phone": "13800138000", "province": "Shanghai", "city": "Shanghai",
			"district": district, "detail": "1 Century Avenue"}, "label": label, "makeDefault": makeDefault}
		if district == "Chang'an" {
			in["address"].(map[string]any)["province"], in["address"].(map[string]any)["city"] = "Hebei", "Shijiazhuang"
		}
		if err := c.Do(ctx(t), mAddAddress, map[string]any{"in": in}, &out); err != nil {
			t.Fatal(err)
		}
		var a savedAddr
		if out.AddAddress.Address != nil {
			a = *out.AddAddress.Address
		}
		return a, out.AddAddress.Addresses, out.AddAddress.Errors
	}
	home, _, errs := add("Pudong", "home", false)
	if len(errs) > 0 || !home.IsDefault {
		t.Fatalf("first address: %+v %+v", home, errs)
	}
	office, book, errs := add("Huangpu", "office", true)
	if len(errs) > 0 || !office.IsDefault || len(book) != 2 || book[0].ID != office.ID || book[1].IsDefault {
		t.Fatalf("second address: %+v %+v %+v", office, book, errs)
	}
	if _, _, errs := add("Chang'an", "far", false); len(errs) != 1 || errs[0].Reason != "NOT_SERVED" {
		t.Fatalf("unserved address: %+v", errs)
	}
	var other struct{ RemoveAddress payloadErrors }
	if err := client(t, "CUSTOMER", "C0093").Do(ctx(t), mRemoveAddr, map[string]any{"id": home.ID}, &other); err != nil ||
		len(other.RemoveAddress.Errors) != 1 || other.RemoveAddress.Errors[0].Code != "NOT_FOUND" {
		t.Fatalf("another customer removed it: %+v %v", other, err)
	}
	var mine struct{ MyAddresses []savedAddr }
	if err := c.Do(ctx(t), qAddresses, nil, &mine); err != nil || len(mine.MyAddresses) != 2 {
		t.Fatalf("my addresses %+v %v", mine, err)
	}
}
