package app_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/channels/platforms"
)

func TestSettlementClosesEachPeriodOnceAndAClosedPeriodNeverChanges(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	clk := &settable{t: time.Date(2030, 1, 10, 2, 0, 0, 0, time.UTC)} // 10:00 in Shanghai
	svc := app.New(app.Deps{Store: h.st, Orders: h.oms, Catalog: fakeCatalog{"SKU-00010": 5750}, Clock: clk})
	plan := func(key string, qty int64) *domain.PlanRecord {
		p, err := svc.CreatePlan(ctx, app.PlanInput{IdempotencyKey: key, By: "SALES:s1", Plan: domain.Plan{CustomerID: "B-ACME", Period: domain.PeriodMonthly,
			Receiver: order("x").Receiver, SlotType: platforms.SlotNextDay, SlotDate: "2030-01-11",
			Lines: []domain.PlanLine{{SKU: "SKU-00010", Qty: qty, AgreedPriceFen: 5000}}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Order(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		p, _ = svc.Plan(ctx, p.ID)
		return p
	}
	a, b := plan("a", 2), plan("b", 3) // 10,000 and 15,000 fen agreed
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.OrderStatus(ctx, "channels.oms.order.completed", "m1", a.OrderID, "COMPLETED"))
	must(svc.OrderStatus(ctx, "channels.oms.order.completed", "m1", a.OrderID, "COMPLETED")) // redelivered
	clk.set(time.Date(2030, 1, 31, 15, 30, 0, 0, time.UTC))                                  // 23:30 on the 31st in Shanghai
	must(svc.OrderStatus(ctx, "channels.oms.order.completed", "m2", b.OrderID, "COMPLETED"))

	if n, err := svc.Settle(ctx); err != nil || n != 0 {
		t.Fatalf("January still open: closed %d %v", n, err)
	}
	sts, _ := svc.Statements(ctx, "B-ACME")
	if len(sts) != 1 || sts[0].Status != "OPEN" || sts[0].DeliveredFen != 25_000 || sts[0].Plans != 2 {
		t.Fatalf("open statement %+v", sts)
	}

	clk.set(time.Date(2030, 1, 31, 16, 30, 0, 0, time.UTC)) // 00:30 on 1 February in Shanghai
	// The door refusal of a's order arrives in February: credited then.
	must(svc.OrderStatus(ctx, "channels.oms.order.refused", "m3", a.OrderID, "REFUSED"))
	// Six replicas' jobs at once: January is closed once.
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 6 {
		wg.Go(func() {
			n, err := svc.Settle(ctx)
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	if total.Load() != 1 {
		t.Fatalf("six concurrent runs closed %d statements, want 1", total.Load())
	}
	if n, err := svc.Settle(ctx); err != nil || n != 0 {
		t.Fatalf("a later run closed %d %v", n, err)
	}
	sts, _ = svc.Statements(ctx, "B-ACME")
	if len(sts) != 2 {
		t.Fatalf("statements %+v", sts)
	}
	open, jan := sts[0], sts[1]
	if jan.Status != "CLOSED" || jan.Start.Format(time.DateOnly) != "2030-01-01" || jan.End.Format(time.DateOnly) != "2030-02-01" ||
		jan.DeliveredFen != 25_000 || jan.ReturnedFen != 0 || jan.OwedFen != 25_000 || len(jan.Lines) != 2 {
		t.Fatalf("January %+v", jan)
	}
	if open.Status != "OPEN" || open.ReturnedFen != 10_000 || open.DeliveredFen != 0 || open.OwedFen != -10_000 {
		t.Fatalf("February so far %+v", open)
	}
	clk.set(time.Date(2030, 3, 1, 1, 0, 0, 0, time.UTC))
	if n, err := svc.Settle(ctx); err != nil || n != 1 {
		t.Fatalf("February: %d %v", n, err)
	}
	sts, _ = svc.Statements(ctx, "B-ACME")
	if len(sts) != 2 || sts[0].Start.Format(time.DateOnly) != "2030-02-01" || sts[0].ReturnedFen != 10_000 || sts[1].ID != jan.ID || sts[1].OwedFen != 25_000 {
		t.Fatalf("after February's close: %+v", sts)
	}
	var n int
	_ = h.st.DB().QueryRow(`SELECT COUNT(*) FROM settlement_statements`).Scan(&n)
	if n != 2 {
		t.Fatalf("%d statements stored", n)
	}
}

// settable is a clock the test moves across period ends.
type settable struct{ t time.Time }

func (c *settable) Now() time.Time  { return c.t }
func (c *settable) set(t time.Time) { c.t = t }
