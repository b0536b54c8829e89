package domain

import (
	"testing"

	"github.com/harvest/harvest/apps/channels/platforms"
)

func TestPlanOfNamesWhatIsWrong(t *testing.T) {
	ok := platforms.Order{Platform: platforms.Meituan, Receiver: platforms.Receiver{Name: "Li", Phone: "13800138000", Province: "P", City: "C", District: "D", Detail: "1"},
		SlotType: platforms.SlotExpress, SlotDate: "2030-01-02", Lines: []platforms.Line{{PlatformSKU: "A", Qty: 1, UnitPriceFen: 100}}}
	mapping := map[string]string{"A": "SKU-1"}
	for name, c := range map[string]struct {
		change func(o *platforms.Order)
		code   string
		field  string
	}{
		"mappable":       {func(*platforms.Order) {}, "", ""},
		"landline":       {func(o *platforms.Order) { o.Receiver.Phone = "021-12345678" }, "", ""},
		"unmapped":       {func(o *platforms.Order) { o.Lines = append(o.Lines, platforms.Line{PlatformSKU: "B", Qty: 1}) }, ReasonUnknownMapping, "lines[1].sku"},
		"zero qty":       {func(o *platforms.Order) { o.Lines[0].Qty = 0 }, ReasonBadQuantity, "lines[0].qty"},
		"bad phone":      {func(o *platforms.Order) { o.Receiver.Phone = "12" }, ReasonBadAddress, "receiver.phone"},
		"no name":        {func(o *platforms.Order) { o.Receiver.Name = "" }, ReasonBadAddress, "receiver.name"},
		"past":           {func(o *platforms.Order) { o.SlotDate = "2029-12-31" }, ReasonBadSlot, "slot.date"},
		"bad slot type":  {func(o *platforms.Order) { o.SlotType = "TOMORROW" }, ReasonBadSlot, "slot.type"},
		"not a date":     {func(o *platforms.Order) { o.SlotDate = "soon" }, ReasonBadSlot, "slot.date"},
		"negative price": {func(o *platforms.Order) { o.Lines[0].UnitPriceFen = -1 }, ReasonBadPrice, "lines[0].price"},
	} {
		o := ok
		o.Lines = append([]platforms.Line(nil), ok.Lines...)
		c.change(&o)
		p, pk := PlanOf("X", o, mapping, "2030-01-01")
		switch {
		case c.code == "" && pk != nil:
			t.Errorf("%s: parked %v", name, pk)
		case c.code == "" && (p.CustomerID != "B-MEITUAN" || p.Lines[0].SKU != "SKU-1" || p.Period != PeriodMonthly):
			t.Errorf("%s: plan %+v", name, p)
		case c.code != "" && (pk == nil || pk.Code != c.code || pk.Field != c.field):
			t.Errorf("%s: %v, want %s at %s", name, pk, c.code, c.field)
		}
	}
}

func TestPlatformStatusOf(t *testing.T) {
	for oms, want := range map[string]string{"SHIPPED": "SHIPPED", "COMPLETED": "DELIVERED", "CANCELLED": "CANCELLED", "DISPATCHED": "", "PAID": ""} {
		if got := PlatformStatusOf(oms); got != want {
			t.Errorf("%s: %q, want %q", oms, got, want)
		}
	}
}
