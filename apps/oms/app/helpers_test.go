package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/store"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// 10:00 in Shanghai.
var t0 = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

type env struct {
	db    *sql.DB
	repo  *store.Store
	clock *clock.Fixed
	inv   *fakeInventory
	pay   *fakePay
	rem   *fakeReminders
	cps   *fakeCoupons
	svc   *app.Service
}

// fakeCoupons is the wallet's use check: a coupon with a threshold set
// needs that much of goods; it records what it was asked.
type fakeCoupons struct {
	mu        sync.Mutex
	threshold map[string]money.Fen
	asked     []marketingclient.UseCheckRequest
}

func (f *fakeCoupons) CheckCouponUse(_ context.Context, r marketingclient.UseCheckRequest) ([]marketingclient.UseCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r)
	var goods money.Fen
	for _, l := range r.Lines {
		goods += l.AmountFen
	}
	out := make([]marketingclient.UseCheck, 0, len(r.CouponIDs))
	for _, id := range r.CouponIDs {
		u := marketingclient.UseCheck{CouponID: id}
		if t := f.threshold[id]; goods < t {
			u.Code, u.Message = marketingclient.CodeThresholdNotMet, fmt.Sprintf("coupon %s needs %d", id, t)
		}
		out = append(out, u)
	}
	return out, nil
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, _ := testdb.New(t, "oms")
	e := &env{db: db, repo: store.New(db), clock: clock.NewFixed(t0)}
	e.inv = newFakeInventory(e.clock)
	e.pay = &fakePay{d: map[string]payclient.Deduction{}}
	e.rem = &fakeReminders{armed: map[string]time.Time{}}
	e.cps = &fakeCoupons{threshold: map[string]money.Fen{}}
	e.svc = e.service(e.repo)
	return e
}

func (e *env) service(repo app.Repository) *app.Service {
	return app.New(app.Deps{Repo: repo, Inventory: e.inv, Pay: e.pay, Coupons: e.cps, Reminders: e.rem, Clock: e.clock},
		app.Config{ChannelDeadlines: map[string]time.Duration{"ALIPAY": 15 * time.Minute}})
}

// deduction records a deduction at the fake PAY; coupons are COUPON items
// of it (worth nothing here: the total is fen).
func (e *env) deduction(id, customer, status string, fen int64, coupons ...string) {
	e.pay.mu.Lock()
	defer e.pay.mu.Unlock()
	d := payclient.Deduction{ID: id, CustomerID: customer, Status: status, TotalFen: money.Fen(fen)}
	for _, c := range coupons {
		d.Items = append(d.Items, payclient.DeductItem{Kind: payclient.KindCoupon, CouponID: c})
	}
	e.pay.d[id] = d
}

// paid records at the fake PAY the succeeded trade an event tells of, as
// PAY would have before publishing it, and returns the event.
func (e *env) paid(t payevents.TradeSucceeded) payevents.TradeSucceeded {
	e.pay.mu.Lock()
	defer e.pay.mu.Unlock()
	if e.pay.trades == nil {
		e.pay.trades = map[string]payclient.Trade{}
	}
	e.pay.trades[t.TradeID] = payclient.Trade{ID: t.TradeID, OrderID: t.OrderID, CustomerID: t.CustomerID, Channel: t.Channel,
		AmountFen: t.AmountFen, PaidFen: t.AmountFen, Status: payclient.TradeSucceeded}
	return t
}

func placement(source string) domain.Placement {
	p := domain.Placement{
		CustomerID: "cust-1", Source: source,
		Lines: []domain.LineInput{{SKU: "SKU-A", Qty: 2, UnitPrice: 1000}, {SKU: "SKU-B", Qty: 1, UnitPrice: 2550}},
		Address: domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai",
			District: "Pudong", Detail: "1 Century Ave"},
		Slot:    domain.Slot{Type: domain.SlotExpress, Date: "2026-03-10"},
		Freight: 600,
	}
	if source == string(domain.SourceReissue) || source == string(domain.SourceExchange) {
		p.OriginalOrder = "01ORIGINAL"
	}
	return p
}

func cmd(key string, p domain.Placement) app.PlaceOrder {
	return app.PlaceOrder{IdempotencyKey: key, Placement: p}
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func outboxCount(t *testing.T, db *sql.DB, topic string) int {
	return count(t, db, `SELECT COUNT(*) FROM outbox WHERE topic = ?`, topic)
}

func outboxPayload(t *testing.T, db *sql.DB, topic string, v any) {
	t.Helper()
	var b []byte
	if err := db.QueryRow(`SELECT payload FROM outbox WHERE topic = ? ORDER BY seq DESC LIMIT 1`, topic).Scan(&b); err != nil {
		t.Fatalf("outbox %s: %v", topic, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// nothingWritten asserts a failed placement left no trace.
func nothingWritten(t *testing.T, e *env) {
	t.Helper()
	for _, table := range []string{"orders", "order_lines", "order_events", "order_deductions", "order_idempotency", "outbox"} {
		if n := count(t, e.db, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after a failed placement", table, n)
		}
	}
}

func mustPlace(t *testing.T, e *env, key string, p domain.Placement) *domain.Order {
	t.Helper()
	o, created, err := e.svc.PlaceOrder(context.Background(), cmd(key, p))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if !created {
		t.Fatalf("place %s: not created", key)
	}
	return o
}
