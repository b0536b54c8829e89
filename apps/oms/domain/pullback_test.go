package domain_test

import (
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
)

// A pull-back's order carries its original's payment: PAID with the
// original's cash, non-cash, deductions and trade, so cancelling or
// returning it gives that money back; it survives a store round trip and
// passes stage 2's amount check. Made from a ToB order, it carries none.
func TestPullBackOrderCarriesThePayment(t *testing.T) {
	t.Parallel()
	orig := pending(t) // 350: 100 non-cash, 250 cash due
	if err := orig.MarkPaid("T-1", 250, now); err != nil {
		t.Fatal(err)
	}
	if err := orig.EndForPullBack(now, "pull-back [D1]", false); err != nil {
		t.Fatal(err)
	}
	n, err := domain.NewPullBackOrder("o2", orig, domain.PullBackChange{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status() != domain.StatusPaid || n.Paid() != 250 || n.CashDue() != 250 || n.NonCash() != 100 || n.TradeID() != "T-1" ||
		n.Total() != 350 || n.OriginalOrder() != "o1" || n.Source() != domain.SourcePullBack || n.Source().ToB() || !n.PayBy().IsZero() {
		t.Fatalf("pull-back's order: %+v", n.Snapshot())
	}
	back, err := domain.Restore(n.Snapshot())
	if err != nil || back.Paid() != 250 || back.TradeID() != "T-1" {
		t.Fatalf("restored: %v %+v", err, back)
	}
	h := domain.Header{Source: n.Source(), Goods: n.Goods(), Freight: n.Freight(), Total: n.Total(), NonCash: n.NonCash(), CashDue: n.CashDue(), Paid: n.Paid()}
	if vs := domain.CheckAmounts(h, []domain.FLine{{SKU: "A", Qty: 3, UnitPrice: 100, Amount: 300}}); len(vs) != 0 {
		t.Fatalf("stage 2 on the carried payment: %+v", vs)
	}

	tob, err := domain.NewOrder("o3", domain.Placement{CustomerID: "c", Source: "SALES_PLAN",
		Lines:   []domain.LineInput{{SKU: "A", Qty: 1, UnitPrice: 100}},
		Address: domain.Address{Name: "n", Phone: "13800138000", Province: "p", City: "c", District: "d", Detail: "x"},
		Slot:    domain.Slot{Type: domain.SlotNextDay, Date: "2026-03-11"}}, map[string]domain.Product{"A": {SKU: "A", Name: "a", Price: 100}}, 0, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	m, err := domain.NewPullBackOrder("o4", tob, domain.PullBackChange{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status() != domain.StatusPaid || m.Paid() != 0 || m.CashDue() != 0 || m.NonCash() != 0 || m.TradeID() != "" {
		t.Fatalf("pull-back of a ToB order: %+v", m.Snapshot())
	}
	if _, err := domain.Restore(m.Snapshot()); err != nil {
		t.Fatalf("restore the pull-back of a ToB order: %v", err)
	}
	h = domain.Header{Source: m.Source(), Goods: m.Goods(), Total: m.Total()}
	if vs := domain.CheckAmounts(h, []domain.FLine{{SKU: "A", Qty: 1, UnitPrice: 100, Amount: 100}}); len(vs) != 0 {
		t.Fatalf("stage 2 on the pull-back of a ToB order: %+v", vs)
	}
}

// TestPullBackOrderHoldsItsStockUnderTheFirstOrder: inventory keeps the
// reservation under the first order of a pull-back chain (no release at
// EndForPullBack), so each order of the chain names that order as where
// its stock is, and it survives the store's round trip.
func TestPullBackOrderHoldsItsStockUnderTheFirstOrder(t *testing.T) {
	t.Parallel()
	orig := pending(t)
	if orig.StockOrder() != "o1" {
		t.Fatalf("an order holds its own stock: %q", orig.StockOrder())
	}
	if err := orig.MarkPaid("T-1", 250, now); err != nil {
		t.Fatal(err)
	}
	if err := orig.EndForPullBack(now, "pull-back [D1]", false); err != nil {
		t.Fatal(err)
	}
	second, err := domain.NewPullBackOrder("o2", orig, domain.PullBackChange{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.EndForPullBack(now, "pull-back [D2]", false); err != nil {
		t.Fatal(err)
	}
	third, err := domain.NewPullBackOrder("o3", second, domain.PullBackChange{}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []*domain.Order{second, third} {
		back, err := domain.Restore(o.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		if o.StockOrder() != "o1" || back.StockOrder() != "o1" {
			t.Fatalf("%s holds its stock under %q (restored %q), want o1", o.ID(), o.StockOrder(), back.StockOrder())
		}
	}
}
