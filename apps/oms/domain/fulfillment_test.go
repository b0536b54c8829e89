package domain

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Property: for any lines, freight and non-cash within the total, the
// allocation sums exactly to the header per column and no line is negative.
func TestAllocateProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 20000; i++ {
		n := 1 + r.IntN(15)
		lines := make([]FLine, n)
		var goods money.Fen
		for j := range lines {
			amt := money.Fen(r.IntN(50000))
			if r.IntN(5) == 0 {
				amt = 0 // gifts
			}
			lines[j] = FLine{SKU: "s", Qty: 1, UnitPrice: amt, Amount: amt}
			goods += amt
		}
		freight := money.Fen(r.IntN(2000))
		nonCash := money.Fen(0)
		if goods+freight > 0 {
			nonCash = money.Fen(r.Int64N(int64(goods+freight) + 1))
		}
		out, err := Allocate(lines, freight, nonCash)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var sf, sn, sc, sa money.Fen
		for _, l := range out {
			if l.Freight < 0 || l.NonCash < 0 || l.Cash < 0 {
				t.Fatalf("case %d: negative line %+v", i, l)
			}
			if l.NonCash+l.Cash != l.Amount+l.Freight {
				t.Fatalf("case %d: line does not add up %+v", i, l)
			}
			sf, sn, sc, sa = sf+l.Freight, sn+l.NonCash, sc+l.Cash, sa+l.Amount
		}
		if sf != freight || sn != nonCash || sc != goods+freight-nonCash || sa != goods {
			t.Fatalf("case %d: sums freight %s/%s non-cash %s/%s cash %s", i, sf, freight, sn, nonCash, sc)
		}
	}
	if _, err := Allocate([]FLine{{Amount: 100}}, 0, 101); err == nil {
		t.Fatal("non-cash above the total accepted")
	}
}

func TestExpandBundle(t *testing.T) {
	t.Parallel()
	b := FLine{SKU: "box", Qty: 2, UnitPrice: 5000, Amount: 10000, DeliveryDate: "2026-01-02"}
	out, err := ExpandBundle(b, []ComponentPrice{{SKU: "a", Qty: 1, UnitPrice: 3000}, {SKU: "b", Qty: 2, UnitPrice: 1500}, {SKU: "c", Qty: 1, UnitPrice: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var sum money.Fen
	for _, l := range out {
		sum += l.Amount
		if l.Kind != KindComponent || l.Bundle != "box" || l.DeliveryDate != "2026-01-02" {
			t.Fatalf("component %+v", l)
		}
	}
	if sum != 10000 || out[0].Qty != 2 || out[1].Qty != 4 || out[2].Qty != 2 {
		t.Fatalf("components %+v sum %s", out, sum)
	}
	if out[0].Amount != 4999 && out[0].Amount != 5000 {
		t.Fatalf("a got %s, want about half", out[0].Amount)
	}
	if _, err := ExpandBundle(b, nil); err == nil {
		t.Fatal("bundle without components accepted")
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	lines := []FLine{
		{SKU: "milk", Warehouse: "SH1", DeliveryDate: "2026-01-02"},
		{SKU: "crab", Warehouse: "SH1", Supplier: "farm-a", DropShip: true, DeliveryDate: "2026-01-02"},
		{SKU: "egg", Warehouse: "SH1", DeliveryDate: "2026-01-02"},
		{SKU: "beef", Warehouse: "SH2", DeliveryDate: "2026-01-02"},
		{SKU: "cake", Warehouse: "SH1", DeliveryDate: "2026-01-03"},
		{SKU: "mango", Warehouse: "SH2", Supplier: "farm-b", DropShip: true, DeliveryDate: "2026-01-02"},
		{SKU: "lychee", Warehouse: "SH1", Supplier: "farm-a", DropShip: true, DeliveryDate: "2026-01-02"},
		{SKU: "tea", Warehouse: "SH1", Supplier: "tea-co", DeliveryDate: "2026-01-02"}, // supplier, not drop-ship: our warehouse ships it
	}
	got := Split(lines)
	type want struct {
		wh, sup, date string
		drop          bool
		skus          []string
	}
	wants := []want{
		{"SH1", "", "2026-01-02", false, []string{"milk", "egg", "tea"}},
		{"SH1", "", "2026-01-03", false, []string{"cake"}},
		{"SH2", "", "2026-01-02", false, []string{"beef"}},
		{"SH1", "farm-a", "2026-01-02", true, []string{"crab", "lychee"}},
		{"SH2", "farm-b", "2026-01-02", true, []string{"mango"}},
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d deliveries: %+v", len(got), got)
	}
	for i, w := range wants {
		d := got[i]
		if d.Seq != i+1 || d.Warehouse != w.wh || d.Supplier != w.sup || d.DeliveryDate != w.date || d.DropShip != w.drop || len(d.Lines) != len(w.skus) {
			t.Fatalf("delivery %d = %+v, want %+v", i, d, w)
		}
		for j, s := range w.skus {
			if d.Lines[j].SKU != s {
				t.Fatalf("delivery %d line %d = %s, want %s", i, j, d.Lines[j].SKU, s)
			}
		}
	}
	// A re-run makes the same children.
	again := Split(lines)
	for i := range got {
		if again[i].Seq != got[i].Seq || again[i].Warehouse != got[i].Warehouse || again[i].Supplier != got[i].Supplier {
			t.Fatal("split is not deterministic")
		}
	}
}

func TestEffectiveAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC) // 10:00 Shanghai on Jan 1
	cases := []struct {
		slot Slot
		want time.Time
	}{
		{Slot{Type: SlotExpress, Date: "2026-01-01"}, now},
		{Slot{Type: SlotNextDay, Date: "2026-01-02"}, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}, // 18:00 Shanghai Jan 1
		{Slot{Type: SlotNextDay, Date: "2026-01-05"}, time.Date(2026, 1, 4, 10, 0, 0, 0, time.UTC)},
		{Slot{Type: SlotNextDay, Date: "2026-01-01"}, now}, // cutoff passed: at once
	}
	for _, c := range cases {
		got, err := EffectiveAt(c.slot, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("EffectiveAt(%+v) = %v, %v; want %v", c.slot, got, err, c.want)
		}
	}
	if _, err := EffectiveAt(Slot{Type: "X"}, now); err == nil {
		t.Error("unknown slot accepted")
	}
	if got := NextShanghaiMidnight(now); !got.Equal(time.Date(2026, 1, 1, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("next midnight = %v", got)
	}
	if d := ShanghaiDay(time.Date(2026, 1, 1, 17, 0, 0, 0, time.UTC)); d != "2026-01-02" {
		t.Errorf("Shanghai day = %s", d)
	}
}

func TestCheckAmounts(t *testing.T) {
	t.Parallel()
	lines := []FLine{{SKU: "a", Qty: 2, UnitPrice: 100, Amount: 200}, {SKU: "b", Qty: 1, UnitPrice: 50, Amount: 50}}
	ok := Header{Source: SourceApp, Goods: 250, Freight: 10, Total: 260, NonCash: 60, CashDue: 200, Paid: 200}
	if vs := CheckAmounts(ok, lines); len(vs) != 0 {
		t.Fatalf("good order flagged: %+v", vs)
	}
	bad := []struct {
		h    Header
		code string
	}{
		{Header{Source: SourceApp, Goods: 251, Freight: 10, Total: 261, NonCash: 61, CashDue: 200, Paid: 200}, "GOODS_MISMATCH"},
		{Header{Source: SourceApp, Goods: 250, Freight: 10, Total: 270, NonCash: 70, CashDue: 200, Paid: 200}, "TOTAL_MISMATCH"},
		{Header{Source: SourceApp, Goods: 250, Freight: 10, Total: 260, NonCash: 50, CashDue: 200, Paid: 200}, "PAYMENT_MISMATCH"},
		{Header{Source: SourceApp, Goods: 250, Freight: 10, Total: 260, NonCash: 60, CashDue: 200, Paid: 199}, "CASH_MISMATCH"},
		{Header{Source: SourceSalesPlan, Goods: 250, Freight: 10, Total: 260, NonCash: 60}, "TOB_PAID"},
	}
	for _, b := range bad {
		vs := CheckAmounts(b.h, lines)
		found := false
		for _, v := range vs {
			found = found || v.Code == b.code
		}
		if !found {
			t.Errorf("%+v: want %s, got %+v", b.h, b.code, vs)
		}
	}
	if vs := CheckAmounts(ok, []FLine{{SKU: "a", Qty: 2, UnitPrice: 100, Amount: 250}}); len(vs) == 0 {
		t.Error("line mismatch not flagged")
	}
	addr := Address{Name: "Li", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "1号"}
	if vs := CheckDelivery(addr); len(vs) != 0 {
		t.Errorf("complete address flagged: %+v", vs)
	}
	if vs := CheckServed(addr, false); len(vs) != 1 || vs[0].Code != "NOT_DELIVERABLE" {
		t.Errorf("undeliverable address: %+v", vs)
	}
	addr.Phone = "abc"
	if vs := CheckDelivery(addr); len(vs) != 1 || vs[0].Code != "INVALID_PHONE" {
		t.Errorf("bad phone: %+v", vs)
	}
}
