package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/harvest/harvest/apps/wms/domain"
)

func TestNewOccupation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		id    string
		wh    string
		lines []domain.Line
		want  []domain.Line
	}{
		{"merged and sorted", "D1", "WH-SH", []domain.Line{{SKU: "B", Qty: 1}, {SKU: "A", Qty: 2}, {SKU: "B", Qty: 3}},
			[]domain.Line{{SKU: "A", Qty: 2}, {SKU: "B", Qty: 4}}},
		{"no id", "", "WH-SH", []domain.Line{{SKU: "A", Qty: 1}}, nil},
		{"bad warehouse", "D1", "WH SH", []domain.Line{{SKU: "A", Qty: 1}}, nil},
		{"no lines", "D1", "WH-SH", nil, nil},
		{"zero qty", "D1", "WH-SH", []domain.Line{{SKU: "A", Qty: 0}}, nil},
		{"no sku", "D1", "WH-SH", []domain.Line{{Qty: 1}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := domain.NewOccupation(tc.id, tc.wh, tc.lines)
			if tc.want == nil {
				if !errors.Is(err, domain.ErrValidation) {
					t.Fatalf("err = %v, want ErrValidation", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(o.Lines(), tc.want) || o.Status() != domain.Occupied {
				t.Fatalf("got %+v, %v", o, err)
			}
		})
	}
	a, _ := domain.NewOccupation("D1", "WH-SH", []domain.Line{{SKU: "A", Qty: 1}, {SKU: "B", Qty: 1}})
	b, _ := domain.NewOccupation("D1", "WH-SH", []domain.Line{{SKU: "B", Qty: 1}, {SKU: "A", Qty: 1}})
	c, _ := domain.NewOccupation("D1", "WH-SH", []domain.Line{{SKU: "B", Qty: 2}, {SKU: "A", Qty: 1}})
	if a.Hash() != b.Hash() || a.Hash() == c.Hash() {
		t.Fatal("hash must ignore line order and see quantities")
	}
}

func TestOrderValidate(t *testing.T) {
	t.Parallel()
	base := func() domain.Order {
		return domain.Order{DeliveryOrderID: "D1", OrderID: "O1", CustomerID: "C1", Warehouse: "WH-SH",
			Delivery: domain.Delivery{Date: "2025-11-12", Name: "张三", Phone: "138", Address: "上海"},
			Lines:    []domain.Line{{SKU: "A", Qty: 1}}}
	}
	cases := []struct {
		name string
		mod  func(o *domain.Order)
		ok   bool
	}{
		{"valid", func(*domain.Order) {}, true},
		{"no order id", func(o *domain.Order) { o.OrderID = "" }, false},
		{"bad date", func(o *domain.Order) { o.Delivery.Date = "2025-13-01" }, false},
		{"no address", func(o *domain.Order) { o.Delivery.Address = "" }, false},
		{"no lines", func(o *domain.Order) { o.Lines = nil }, false},
		{"negative qty", func(o *domain.Order) { o.Lines[0].Qty = -1 }, false},
		{"empty profile key", func(o *domain.Order) { o.Profiles = map[string]string{"": "x"} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := base()
			tc.mod(&o)
			if err := o.Validate(); tc.ok != (err == nil) || (err != nil && !errors.Is(err, domain.ErrValidation)) {
				t.Fatalf("ok=%v err=%v", tc.ok, err)
			}
		})
	}
}

func TestNewStockAndSetOnHand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		wh, sku string
		onHand  int64
		ok      bool
	}{{"WH-SH", "A", 0, true}, {"WH SH", "A", 1, false}, {"WH-SH", "", 1, false}, {"WH-SH", "A", -1, false}} {
		s, err := domain.NewStock(c.wh, c.sku, c.onHand)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, domain.ErrValidation)) {
			t.Errorf("NewStock(%q, %q, %d) = %v", c.wh, c.sku, c.onHand, err)
		}
		if err == nil && (s.Free() != c.onHand || s.Occupied() != 0) {
			t.Errorf("new stock %+v", s)
		}
	}
	if err := domain.SetOnHand(4, 5); !errors.Is(err, domain.ErrValidation) {
		t.Errorf("below occupied: %v", err)
	}
	if err := domain.SetOnHand(5, 5); err != nil {
		t.Errorf("at occupied: %v", err)
	}
}
