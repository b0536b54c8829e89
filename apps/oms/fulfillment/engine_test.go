package fulfillment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// shiftClock is the real clock moved by an offset the test sets, so pauses
// resume by real waiting and "tomorrow" comes when the test says.
type shiftClock struct{ off atomic.Int64 }

func (c *shiftClock) Now() time.Time           { return time.Now().UTC().Add(time.Duration(c.off.Load())) }
func (c *shiftClock) set(t time.Time)          { c.off.Store(int64(time.Until(t))) }
func (c *shiftClock) shanghaiToday() string    { return domain.ShanghaiDay(c.Now()) }
func (c *shiftClock) shanghaiDay(n int) string { return domain.ShanghaiDay(c.Now().AddDate(0, 0, n)) }

type env struct {
	t     *testing.T
	db    *sql.DB
	st    *store.Store
	world *fakeWorld
	clk   *shiftClock
}

func newEnv(t *testing.T) *env {
	db, _ := testdb.New(t, "oms")
	db.SetMaxOpenConns(12) // the server is shared; a small pool is plenty for these tests
	w := newWorld()
	for _, p := range []inventoryclient.Product{
		{SKU: "milk", Name: "Milk", PriceFen: 890, Zone: inventoryclient.ZoneChilledHigh, TaxRateBP: 900, Warehouse: "SH1"},
		{SKU: "egg", Name: "Eggs", PriceFen: 1500, Zone: inventoryclient.ZoneAmbient, TaxRateBP: 900, Warehouse: "SH1"},
		{SKU: "beef", Name: "Beef", PriceFen: 9900, Zone: inventoryclient.ZoneFrozenLow, TaxRateBP: 900, Warehouse: "SH2"},
		{SKU: "crab", Name: "Crab", PriceFen: 19900, Zone: inventoryclient.ZoneChilledLow, TaxRateBP: 900, Warehouse: "SH1", Supplier: "lake-farm", DropShip: true},
		{SKU: "mooncake", Name: "Mooncake", PriceFen: 5000, Zone: inventoryclient.ZoneAmbient, TaxRateBP: 1300, Warehouse: "SH1", Presale: true},
		{SKU: "breakfast", Name: "Breakfast box", PriceFen: 2000, Warehouse: "SH1",
			Components: []inventoryclient.Component{{SKU: "milk", Qty: 1}, {SKU: "egg", Qty: 1}}},
		{SKU: "towel", Name: "Gift towel", PriceFen: 0, Zone: inventoryclient.ZoneAmbient, TaxRateBP: 1300, Warehouse: "SH1"},
	} {
		w.products[p.SKU] = p
	}
	w.gifts = []marketingclient.GiftGrant{{CampaignID: "c1", SKU: "towel", Qty: 1}}
	return &env{t: t, db: db, st: store.New(db), world: w, clk: &shiftClock{}}
}

func (e *env) engine(owner string, mod func(*Config)) *Engine {
	cfg := Config{Config: runner.Config{Owner: owner, Horizon: 300 * time.Millisecond, RetryBase: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond,
		LeaseTTL: 10 * time.Second, IOWorkers: 8, CPUWorkers: 2, QueueSize: 32, MaxInFlight: 256}}
	if mod != nil {
		mod(&cfg)
	}
	return New(Deps{DB: e.db, Orders: e.st, Partners: e.world, Gifts: e.world, Warehouse: e.world, Catalog: e.world, Clock: e.clk}, cfg)
}

func (e *env) run(en *Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = en.Run(ctx) }()
	return func() { cancel(); <-done }
}

type orderSpec struct {
	source  string
	lines   map[string]int64
	slot    domain.Slot
	freight money.Fen
	invoice string
	cust    string
}

// place makes a paid order in the database and returns its id.
func (e *env) place(s orderSpec) string {
	e.t.Helper()
	if s.source == "" {
		s.source = "APP"
	}
	if s.slot.Type == "" {
		s.slot = domain.Slot{Type: domain.SlotExpress, Date: e.clk.shanghaiToday()}
	}
	if s.cust == "" {
		s.cust = "c-" + ids.New()[20:]
	}
	p := domain.Placement{CustomerID: s.cust, Source: s.source, Slot: s.slot, Freight: s.freight, InvoiceTitle: s.invoice,
		Address: domain.Address{Name: "Li Lei", Phone: "13800000000", Province: "上海", City: "上海", District: "浦东", Detail: "世纪大道1号"}}
	if s.source == "REISSUE" || s.source == "EXCHANGE" {
		p.OriginalOrder = "orig-1"
	}
	cat := map[string]domain.Product{}
	var goods money.Fen
	for sku, q := range s.lines {
		pr := e.world.products[sku]
		p.Lines = append(p.Lines, domain.LineInput{SKU: sku, Qty: q, UnitPrice: pr.PriceFen})
		cat[sku] = domain.Product{SKU: sku, Name: pr.Name, Price: pr.PriceFen}
		goods += pr.PriceFen * money.Fen(q)
	}
	nonCash := money.Fen(0)
	src, _ := domain.ParseSource(s.source)
	if !src.ToB() {
		nonCash = (goods + s.freight) / 3
		p.DeductionIDs = []string{"d-" + ids.New()}
	}
	id := ids.New()
	o, err := domain.NewOrder(id, p, cat, nonCash, e.clk.Now(), 10*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	if o.Status() == domain.StatusPendingPayment {
		if err := o.MarkPaid("t-"+id, o.CashDue(), e.clk.Now()); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.st.Create(context.Background(), o, app.Idempotency{CustomerID: s.cust, Key: id, RequestHash: "h", OrderID: id, CreatedAt: e.clk.Now()}, nil); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) start(en *Engine, id string) {
	e.t.Helper()
	ok, err := en.Start(context.Background(), "msg-"+id, id)
	if err != nil || !ok {
		e.t.Fatalf("start %s: %v %v", id, ok, err)
	}
}

func (e *env) status(id string) domain.Status {
	o, err := e.st.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o.Status()
}

// waitFor polls the database until cond holds or the deadline passes.
func (e *env) waitFor(what string, d time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func (e *env) unitState(unitID string) (State, string) {
	var st, s string
	if err := e.db.QueryRow(`SELECT state, stage FROM fulfillments WHERE unit_id = ?`, unitID).Scan(&st, &s); err != nil {
		return "", ""
	}
	return State(st), s
}

func (e *env) dispatched(ids ...string) func() bool {
	return func() bool {
		for _, id := range ids {
			if e.status(id) != domain.StatusDispatched {
				return false
			}
		}
		return true
	}
}

func TestFullPipelineSplitsAndDispatches(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", nil)
	stop := e.run(en)
	defer stop()
	id := e.place(orderSpec{lines: map[string]int64{"milk": 2, "beef": 1, "crab": 1, "breakfast": 1, "mooncake": 1}, freight: 800, invoice: "Harvest Ltd"})
	e.start(en, id)
	if e.status(id) != domain.StatusFulfilling {
		t.Fatalf("status after start = %s", e.status(id))
	}
	e.waitFor("dispatch", 10*time.Second, e.dispatched(id))

	tl, err := en.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// SH1 (milk, breakfast's milk+egg, mooncake, the towel gift), SH2 (beef), drop-ship crab.
	if len(tl.Units) != 4 {
		t.Fatalf("units = %+v", tl.Units)
	}
	for _, u := range tl.Units {
		if u.State != StateDone {
			t.Errorf("unit %s is %s", u.ID, u.State)
		}
	}
	for kind, want := range map[string]int{"sms:ORDER_PAID": 1, "push:OFFICIAL_ACCOUNT": 1, "push:MINI_PROGRAM": 1, "gifts": 1,
		"voucher": 1, "fraud": 1, "presale": 1, "waybill": 2, "occupy": 2, "dispatch": 2, "supplier": 1, "invoice": 1} {
		if got, _ := e.world.count(kind); got != want {
			t.Errorf("%s effects = %d, want %d", kind, got, want)
		}
	}
	// The primary child's lines carry the allocation: freight and non-cash sum to the header.
	var doc []byte
	if err := e.db.QueryRow(`SELECT doc FROM fulfillments WHERE unit_id = ?`, id).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	var d stages.Doc
	if err := stages.Decode(doc, &d); err != nil {
		t.Fatal(err)
	}
	var fr, nc, cash, amt money.Fen
	gift, comps := false, 0
	for _, l := range d.Lines {
		fr, nc, cash, amt = fr+l.Freight, nc+l.NonCash, cash+l.Cash, amt+l.Amount
		gift = gift || (l.Kind == domain.KindGift && l.SKU == "towel" && l.Amount == 0)
		if l.Kind == domain.KindComponent {
			comps++
		}
	}
	if fr != d.Header.Freight || nc != d.Header.NonCash || amt != d.Header.Goods || cash != d.Header.Total-d.Header.NonCash {
		t.Errorf("allocation does not add up: freight %s nc %s cash %s goods %s; header %+v", fr, nc, cash, amt, d.Header)
	}
	if !gift || comps != 2 {
		t.Errorf("gift %v, components %d in %+v", gift, comps, d.Lines)
	}
	var used int
	if err := e.db.QueryRow(`SELECT SUM(used) FROM warehouse_capacity`).Scan(&used); err != nil || used != 2 {
		t.Errorf("capacity used = %d (%v), want 2 (drop-ship takes none)", used, err)
	}
}

// Every stage runs twice on the same input (a crash after the effect and
// before the commit), and each outside effect still happens once.
func TestEveryStageIsIdempotent(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", nil)
	var reruns sync.Map
	en.r.Wrap(func(s string, f runner.Func[stages.Doc]) runner.Func[stages.Doc] {
		return func(ctx context.Context, u *stages.Unit) stages.Outcome {
			var before stages.Unit
			b, _ := json.Marshal(u)
			_ = json.Unmarshal(b, &before)
			f(ctx, &before) // the first run's effects happen, its result is lost
			reruns.Store(s, true)
			return f(ctx, u)
		}
	})
	stop := e.run(en)
	defer stop()
	id := e.place(orderSpec{source: "REISSUE", lines: map[string]int64{"milk": 1, "beef": 1, "crab": 1, "mooncake": 20}, invoice: "Harvest Ltd"})
	e.start(en, id)
	e.waitFor("dispatch", 10*time.Second, e.dispatched(id))
	for _, s := range en.r.Stages() {
		if _, ok := reruns.Load(s.Name); !ok {
			t.Errorf("stage %s never ran", s.Name)
		}
	}
	// A reissue pays nothing: stage 1 sends no payment message, stage 14 announces it.
	for kind, want := range map[string]int{"sms:ORDER_PAID": 0, "push:OFFICIAL_ACCOUNT": 0, "push:MINI_PROGRAM": 0, "gifts": 1,
		"voucher": 1, "fraud": 1, "presale": 1, "waybill": 2, "occupy": 2, "dispatch": 2, "supplier": 1, "invoice": 1, "sms:REISSUE_CREATED": 1} {
		if got, calls := e.world.count(kind); got != want || calls < 2*want {
			t.Errorf("%s: %d effects in %d calls, want %d effects", kind, got, calls, want)
		}
	}
	var used, grants int
	_ = e.db.QueryRow(`SELECT SUM(used) FROM warehouse_capacity`).Scan(&used)
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM warehouse_capacity_grants`).Scan(&grants)
	if used != 2 || grants != 2 {
		t.Errorf("throttle ran twice per child: used %d, grants %d, want 2", used, grants)
	}
}

func TestFraudRejectCancelsAndReviewWaitsForOperator(t *testing.T) {
	e := newEnv(t)
	e.world.fraud["bad"] = partnersclient.FraudReject
	e.world.fraud["odd"] = partnersclient.FraudReview
	en := e.engine("a", nil)
	stop := e.run(en)
	defer stop()
	bad := e.place(orderSpec{cust: "bad", lines: map[string]int64{"milk": 1}})
	odd := e.place(orderSpec{cust: "odd", lines: map[string]int64{"milk": 1}})
	e.start(en, bad)
	e.start(en, odd)
	e.waitFor("fraud cancel", 10*time.Second, func() bool { return e.status(bad) == domain.StatusCancelled })
	o, _ := e.st.Get(context.Background(), bad)
	if o.CancelReason() != domain.ReasonFraud {
		t.Errorf("reason = %s", o.CancelReason())
	}
	var n int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE topic = 'oms.order.cancelled' AND aggregate_id = ?`, bad).Scan(&n)
	if n != 1 {
		t.Errorf("%d cancel events, want 1", n)
	}
	e.waitFor("review in exception queue", 10*time.Second, func() bool { st, _ := e.unitState(odd); return st == StateFailed })
	counts, err := en.StageCounts(context.Background())
	if err != nil || counts[slices.IndexFunc(counts, func(c StageCount) bool { return c.Stage == "fraud_audit" })].Failed != 1 {
		t.Fatalf("counts %+v %v", counts, err)
	}
	if st, _ := e.unitState(bad); st != StateCancelled {
		t.Errorf("rejected unit is %s", st)
	}
	if got, _ := e.world.count("dispatch"); got != 0 {
		t.Errorf("a dispatch happened: %d", got)
	}
	if _, err := en.Retry(context.Background(), odd, "ops"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("reviewed order dispatched", 10*time.Second, e.dispatched(odd))
	if _, err := en.Retry(context.Background(), odd, "ops"); err == nil {
		t.Error("retry of a finished order accepted")
	}
}

func TestERPShortGoesToExceptionQueue(t *testing.T) {
	e := newEnv(t)
	e.world.short["beef"] = true
	en := e.engine("a", nil)
	stop := e.run(en)
	defer stop()
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1, "beef": 1}})
	e.start(en, id)
	e.waitFor("ERP short", 10*time.Second, func() bool { st, _ := e.unitState(id + "-2"); return st == StateFailed })
	st, s := e.unitState(id + "-1")
	e.waitFor("SH1 child done", 5*time.Second, func() bool { st, s = e.unitState(id + "-1"); return st == StateDone })
	if e.status(id) != domain.StatusFulfilling {
		t.Errorf("order %s with a child in exception: %s (%s %s)", id, e.status(id), st, s)
	}
	e.world.short["beef"] = false
	if n, err := en.Retry(context.Background(), id, "ops"); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	e.waitFor("dispatch after retry", 10*time.Second, e.dispatched(id))
}

// Capacity N: N delivery orders pass, the next pauses until 00:00 Shanghai
// and then resumes by itself on the next day's capacity.
func TestWarehouseThrottle(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", func(c *Config) { c.DefaultCapacity = 100 })
	today := e.clk.shanghaiToday()
	if _, err := en.SetCapacity(context.Background(), "SH2", today, 3); err != nil {
		t.Fatal(err)
	}
	stop := e.run(en)
	defer stop()
	var orders []string
	for range 4 {
		id := e.place(orderSpec{lines: map[string]int64{"beef": 1}})
		e.start(en, id)
		orders = append(orders, id)
	}
	var paused string
	e.waitFor("three pass, one pauses", 10*time.Second, func() bool {
		done, pause := 0, 0
		for _, id := range orders {
			switch st, _ := e.unitState(id + "-1"); st {
			case StateDone:
				done++
			case StatePaused:
				pause++
				paused = id
			}
		}
		return done == 3 && pause == 1
	})
	var resume time.Time
	_ = e.db.QueryRow(`SELECT resume_at FROM fulfillments WHERE unit_id = ?`, paused+"-1").Scan(&resume)
	if want := domain.NextShanghaiMidnight(e.clk.Now()); !resume.Equal(want) {
		t.Fatalf("paused until %v, want %v", resume, want)
	}
	caps, _ := en.Capacities(context.Background(), today)
	if len(caps) != 1 || caps[0].Used != 3 || caps[0].Capacity != 3 {
		t.Fatalf("capacities %+v", caps)
	}
	// Midnight comes (the clock jumps to a second before it).
	e.clk.set(resume.Add(-time.Second))
	e.waitFor("resumed the next day", 5*time.Second, e.dispatched(paused))
	caps, _ = en.Capacities(context.Background(), domain.ShanghaiDay(resume))
	if len(caps) != 1 || caps[0].Used != 1 {
		t.Fatalf("next day's capacities %+v", caps)
	}
}

// A next-day order pauses until 18:00 Shanghai the day before delivery and
// resumes by itself within a second or two of it.
func TestEffectiveTimePauseResumesByItself(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", func(c *Config) { c.Horizon = 2 * time.Second })
	tomorrow := e.clk.shanghaiDay(1)
	at, _ := domain.EffectiveAt(domain.Slot{Type: domain.SlotNextDay, Date: tomorrow}, time.Time{})
	e.clk.set(at.Add(-1500 * time.Millisecond))
	stop := e.run(en)
	defer stop()
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1}, slot: domain.Slot{Type: domain.SlotNextDay, Date: tomorrow}})
	e.start(en, id)
	e.waitFor("paused", 5*time.Second, func() bool { st, s := e.unitState(id); return st == StatePaused && s == "effective_time" })
	e.waitFor("dispatched after its time", 6*time.Second, e.dispatched(id))
	if late := e.clk.Now().Sub(at); late > 2500*time.Millisecond {
		t.Errorf("resumed %v after its time", late)
	}
	var pausedN int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillment_steps WHERE order_id = ? AND outcome = 'PAUSE'`, id).Scan(&pausedN)
	if pausedN != 1 {
		t.Errorf("%d pauses recorded", pausedN)
	}
}

// shortLease lets a crashed instance's units be taken over within seconds.
func shortLease(c *Config) { c.LeaseTTL = 3 * time.Second }

// crashAt runs an instance "a" on a fresh order of spec until the order
// reaches stage s (the stage's run done, if afterRun) and kills it there
// as a crash would: nothing of it commits after that. It returns the
// order id.
func (e *env) crashAt(spec orderSpec, s string, afterRun bool) string {
	a := e.engine("a", shortLease)
	hold := make(chan struct{})
	entered := make(chan struct{}, 1)
	a.r.Wrap(func(st string, f runner.Func[stages.Doc]) runner.Func[stages.Doc] {
		return func(ctx context.Context, u *stages.Unit) stages.Outcome {
			if st == s && !afterRun {
				entered <- struct{}{}
				<-hold
			}
			out := f(ctx, u)
			if st == s && afterRun {
				entered <- struct{}{}
				<-hold
			}
			return out
		}
	})
	stopA := e.run(a)
	id := e.place(spec)
	e.start(a, id)
	<-entered
	a.r.Abandon()
	close(hold)
	stopA()
	return id
}

// An instance takes a lease, sends the SMS and dies before committing; a
// second instance takes the unit over after the lease runs out, and the
// customer still gets one SMS.
func TestCrashMidStageIsTakenOverAfterLease(t *testing.T) {
	e := newEnv(t)
	// the effect happened; the process "dies" before committing
	id := e.crashAt(orderSpec{lines: map[string]int64{"milk": 1}}, "initial", true)
	if st, s := e.unitState(id); st != StateRunning || s != "initial" {
		t.Fatalf("after the crash the unit is %s at %s", st, s)
	}
	b := e.engine("b", shortLease)
	stopB := e.run(b)
	defer stopB()
	e.waitFor("taken over and dispatched", 15*time.Second, e.dispatched(id))
	if eff, calls := e.world.count("sms:ORDER_PAID"); eff != 1 || calls != 2 {
		t.Errorf("SMS: %d effects in %d calls, want 1 in 2", eff, calls)
	}
	var owners []string
	rows, _ := e.db.Query(`SELECT DISTINCT owner FROM fulfillment_steps WHERE order_id = ? AND outcome = 'NEXT'`, id)
	for rows.Next() {
		var o string
		_ = rows.Scan(&o)
		owners = append(owners, o)
	}
	rows.Close()
	if len(owners) != 1 || owners[0] != "b" {
		t.Errorf("committed by %v, want only b", owners)
	}
}

// Two instances race over the same orders: every outside effect happens
// exactly once and no stage is run twice.
func TestTwoInstancesRace(t *testing.T) {
	e := newEnv(t)
	e.world.minLat, e.world.maxLat = time.Millisecond, 5*time.Millisecond
	a, b := e.engine("a", nil), e.engine("b", nil)
	stopA, stopB := e.run(a), e.run(b)
	defer stopA()
	defer stopB()
	const n = 40
	var orders []string
	for i := range n {
		id := e.place(orderSpec{lines: map[string]int64{"milk": 1, "beef": 1}})
		orders = append(orders, id)
		en := a
		if i%2 == 1 {
			en = b
		}
		e.start(en, id)
	}
	e.waitFor("all dispatched", 30*time.Second, e.dispatched(orders...))
	e.world.mu.Lock()
	defer e.world.mu.Unlock()
	for key, c := range e.world.perID {
		if c != 1 {
			t.Errorf("%s called %d times", key, c)
		}
	}
	for kind, want := range map[string]int{"sms:ORDER_PAID": n, "voucher": n, "fraud": n, "waybill": 2 * n, "occupy": 2 * n, "dispatch": 2 * n} {
		if e.world.effects[kind] != want {
			t.Errorf("%s: %d effects, want %d", kind, e.world.effects[kind], want)
		}
	}
	var byA, byB int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillment_steps WHERE owner = 'a' AND outcome = 'NEXT'`).Scan(&byA)
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillment_steps WHERE owner = 'b' AND outcome = 'NEXT'`).Scan(&byB)
	if byA == 0 || byB == 0 {
		t.Errorf("work not shared: a %d, b %d", byA, byB)
	}
}

// A broken partner opens the stage's breaker: the stage stops calling it
// after a few failures instead of failing every order, then recovers.
func TestCircuitBreakerBacksOff(t *testing.T) {
	e := newEnv(t)
	e.world.setFail("voucher", true)
	en := e.engine("a", func(c *Config) {
		c.BreakerThreshold, c.BreakerCooldown = 3, 400*time.Millisecond
		c.RetryBase, c.RetryMax, c.MaxAttempts = 20*time.Millisecond, 50*time.Millisecond, 1000
	})
	stop := e.run(en)
	defer stop()
	var orders []string
	for range 20 {
		id := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
		e.start(en, id)
		orders = append(orders, id)
	}
	e.waitFor("breaker open", 5*time.Second, func() bool { return en.r.BreakerOpen("payment_voucher") })
	// Count only what happens after the breaker opened: before, up to one
	// call per worker can be in flight, however loaded the machine is.
	_, before := e.world.count("voucher")
	time.Sleep(1500 * time.Millisecond)
	_, after := e.world.count("voucher")
	// Closed, 20 orders retried every ~50 ms for 1.5 s would make hundreds of
	// calls; open, the stage probes once per (doubling) cooldown: 400 ms,
	// 800 ms ... so at most a handful.
	if calls := after - before; calls > 5 {
		t.Errorf("%d voucher calls in 1.5 s while the breaker was open", calls)
	}
	var failed int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillments WHERE state = 'FAILED'`).Scan(&failed)
	if failed != 0 {
		t.Errorf("%d orders failed instead of waiting", failed)
	}
	e.world.setFail("voucher", false)
	e.waitFor("recovered", 20*time.Second, e.dispatched(orders...))
	if en.r.BreakerOpen("payment_voucher") {
		t.Error("breaker still open")
	}
}

func TestStartIsIdempotentAndSkipsUnpaid(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", nil)
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
	e.start(en, id)
	if ok, err := en.Start(context.Background(), "msg-"+id, id); ok || err != nil {
		t.Fatalf("redelivery: %v %v", ok, err)
	}
	if ok, err := en.Start(context.Background(), "other-msg", id); ok || err != nil {
		t.Fatalf("second message for a fulfilling order: %v %v", ok, err)
	}
	if ok, err := en.Start(context.Background(), "m3", "no-such-order"); ok || err != nil {
		t.Fatalf("unknown order: %v %v", ok, err)
	}
	var n int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillments`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d units", n)
	}
	_ = fmt.Sprint()
}

// Documents are stored compressed; rows written as plain JSON still read.
func TestStoredDocuments(t *testing.T) {
	d := stages.Doc{OrderID: "O1", CustomerID: "C1", Lines: []domain.FLine{{SKU: "A", Qty: 2, Name: "鲜牛奶 950ml"}}, Receipts: map[string]string{"O1:initial:sms": "SM1"}}
	b, err := stages.Encode(&d)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(d)
	if b[0] != stages.DocSnappy {
		t.Fatalf("stored document starts with %#x", b[0])
	}
	for _, stored := range [][]byte{b, plain} {
		var got stages.Doc
		if err := stages.Decode(stored, &got); err != nil || !reflect.DeepEqual(got, d) {
			t.Fatalf("decoded %+v, %v; want %+v", got, err, d)
		}
	}
	if err := stages.Decode(append([]byte{stages.DocSnappy}, "not snappy"...), new(stages.Doc)); err == nil {
		t.Fatal("a corrupt document decoded")
	}
}

// The effect-free stages pass without a commit of their own: their
// timeline rows ride on the next commit. A crash after passing them and
// before that commit leaves the unit at the last committed stage, and the
// instance that takes it over runs them again; every row still lands once.
func TestEffectFreeStagesRideOnTheNextCommit(t *testing.T) {
	e := newEnv(t)
	// exception check, gifts, fill and allocation passed; the process dies before the voucher
	id := e.crashAt(orderSpec{lines: map[string]int64{"milk": 1, "beef": 1}}, "payment_voucher", false)
	// initial committed; the stages after it passed in memory only
	if st, s := e.unitState(id); st != StateRunning || s != "exception_check" {
		t.Fatalf("after the crash the unit is %s at %s, want RUNNING at exception_check", st, s)
	}
	if eff, calls := e.world.count("gifts"); eff != 1 || calls != 1 {
		t.Fatalf("before the take-over: gifts %d effects in %d calls, want 1 in 1", eff, calls)
	}
	b := e.engine("b", shortLease)
	stopB := e.run(b)
	defer stopB()
	e.waitFor("taken over and dispatched", 15*time.Second, e.dispatched(id))

	rows, err := e.db.Query(`SELECT unit_id, stage, owner, COUNT(*) FROM fulfillment_steps WHERE order_id = ? AND outcome = 'NEXT' GROUP BY unit_id, stage, owner`, id)
	if err != nil {
		t.Fatal(err)
	}
	passes := map[string]int{} // unit/stage -> NEXT rows
	for rows.Next() {
		var unit, owner, stage string
		var n int
		if err := rows.Scan(&unit, &stage, &owner, &n); err != nil {
			t.Fatal(err)
		}
		if stage == "exception_check" && owner != "b" {
			t.Errorf("exception_check's pass was written by %s; a's pass died with it", owner)
		}
		passes[fmt.Sprintf("%s/%s", unit, stage)] += n
	}
	rows.Close()
	// gifts ran again on b and got marketing's first answer back
	if eff, calls := e.world.count("gifts"); eff != 1 || calls != 2 {
		t.Errorf("gifts: %d effects in %d calls, want 1 in 2", eff, calls)
	}
	for _, want := range []string{id + "/exception_check", id + "/gifts", id + "/fill", id + "/allocation", id + "/split", id + "/fraud_audit",
		id + "-1/erp_stock", id + "-2/erp_stock", id + "-1/warehouse_throttle", id + "-2/warehouse_throttle"} {
		if passes[want] != 1 {
			t.Errorf("%s passed %d times in the timeline, want 1 (all: %v)", want, passes[want], passes)
		}
	}
	// fewer commits than passes: the effect-free ones rode on others
	_, committed, _ := b.CommitStats()
	total := 0
	for _, n := range passes {
		total += n
	}
	if committed >= int64(total) {
		t.Errorf("b committed %d outcomes for %d passes; the effect-free stages should not commit on their own", committed, total)
	}
}

// Suspending the pipeline stops every instance from taking units: a paid
// order enters fulfillment and waits READY at the first stage until the
// pipeline is resumed, then goes all the way.
func TestSuspendStopsEveryInstanceUntilResumed(t *testing.T) {
	e := newEnv(t)
	a, b := e.engine("a", nil), e.engine("b", nil)
	ctx := context.Background()
	if _, err := a.Suspend(ctx, "  ", "ops"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("suspend without a reason: %v, want ErrInvalid", err)
	}
	if s, err := a.Suspension(ctx); err != nil || s.Suspended {
		t.Fatalf("a refused suspension changed the switch: %+v, %v", s, err)
	}
	s, err := a.Suspend(ctx, "WMS down for maintenance", "ADMIN:ops1")
	if err != nil || !s.Suspended || s.Operator != "ADMIN:ops1" || s.Since.IsZero() {
		t.Fatalf("suspend = %+v, %v", s, err)
	}
	// a second suspension keeps who and since, takes the new reason
	s2, err := b.Suspend(ctx, "WMS still down", "ADMIN:ops2")
	if err != nil || s2.Operator != "ADMIN:ops1" || !s2.Since.Equal(s.Since) || s2.Reason != "WMS still down" {
		t.Fatalf("second suspend = %+v, %v (first %+v)", s2, err, s)
	}
	stopA, stopB := e.run(a), e.run(b)
	defer stopA()
	defer stopB()
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
	e.start(a, id)
	time.Sleep(3 * runner.SuspensionFresh / 2)
	if st, stage := e.unitState(id); st != StateReady || stage != "initial" {
		t.Fatalf("while suspended the unit is %s at %s, want READY at initial", st, stage)
	}
	if n, _ := e.world.count("sms:ORDER_PAID"); n != 0 {
		t.Fatalf("a suspended pipeline sent %d SMS", n)
	}
	r, err := b.Resume(ctx, "ADMIN:ops2")
	if err != nil || r.Suspended {
		t.Fatalf("resume = %+v, %v", r, err)
	}
	e.waitFor("dispatched after resume", 10*time.Second, e.dispatched(id))
	if r, err := a.Resume(ctx, "ADMIN:ops1"); err != nil || r.Suspended || r.Operator != "ADMIN:ops2" {
		t.Errorf("resuming a running pipeline = %+v, %v; want unchanged", r, err)
	}
}

// Stage 2 asks inventory's served areas: an order to a district no
// warehouse delivers to goes to the exception queue, named, and nothing
// after it runs; one to a served district goes on.
func TestExceptionCheckAsksServedAreas(t *testing.T) {
	e := newEnv(t)
	e.world.unserved = map[string]bool{"浦东": true}
	en := e.engine("a", nil)
	stop := e.run(en)
	defer stop()
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
	e.start(en, id)
	e.waitFor("unserved order in the exception queue", 10*time.Second, func() bool { st, _ := e.unitState(id); return st == StateFailed })
	if st, stage := e.unitState(id); st != StateFailed || stage != "exception_check" {
		t.Fatalf("unit %s at %s, want FAILED at exception_check", st, stage)
	}
	var code, reason string
	if err := e.db.QueryRow(`SELECT fail_code, fail_reason FROM fulfillments WHERE order_id = ? AND parent_id = ''`, id).Scan(&code, &reason); err != nil {
		t.Fatal(err)
	}
	if code != "EXCEPTION_CHECK" || !strings.Contains(reason, "NOT_DELIVERABLE") || !strings.Contains(reason, "浦东") {
		t.Errorf("fail %s %q, want EXCEPTION_CHECK naming NOT_DELIVERABLE and the district", code, reason)
	}
	if _, calls := e.world.count("catalog"); calls != 0 {
		t.Errorf("fill ran after a failed check: %d catalog calls", calls)
	}
	e.world.mu.Lock()
	e.world.unserved = nil
	e.world.mu.Unlock()
	if _, err := en.Retry(context.Background(), id, "ops"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("served again: dispatched", 10*time.Second, e.dispatched(id))
}
