package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// invoker serves app/method on in-process handlers (Dapr without sidecars).
type invoker struct{ apps map[string]http.Handler }

func (l *invoker) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	h, ok := l.apps[app]
	if !ok {
		return fmt.Errorf("no app %s", app)
	}
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req := httptest.NewRequestWithContext(context.WithValue(ctx, chi.RouteCtxKey, nil), httpMethod, "/"+method, body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode >= 300 {
		return httpapi.ReadProblem(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// payStub records callbacks and fails the first failFirst of them.
type payStub struct {
	mu        sync.Mutex
	failFirst int
	bodies    [][]byte
}

func (p *payStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bodies = append(p.bodies, b)
	if len(p.bodies) <= p.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

type env struct {
	ctx   context.Context
	clk   *clock.Fixed
	s     *sim.Server
	inv   *invoker
	pay   *payStub
	chans map[string]channel.Adapter
}

func newEnv(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	db, _ := testdb.New(t, "partners")
	clk := clock.NewFixed(time.Now().UTC().Truncate(time.Second))
	cfg.WechatMchID, cfg.WechatKey, cfg.AlipayAppID, cfg.AlipayKey = "m1", "wk", "a1", "ak"
	e := &env{ctx: context.Background(), clk: clk, pay: &payStub{}, inv: &invoker{apps: map[string]http.Handler{}}}
	e.s = sim.New(db, e.inv, clk, cfg, nil)
	m := chi.NewRouter()
	e.s.Mount(m)
	e.inv.apps["partners"], e.inv.apps["pay"] = m, e.pay
	// PAY's adapters serve as the merchant side of the protocol.
	e.chans = channel.NewSet(e.inv, channel.Config{App: "partners", WechatMchID: "m1", WechatKey: "wk", AlipayAppID: "a1", AlipayKey: "ak", Now: clk.Now})
	return e
}

func (e *env) open(t *testing.T, ch, no string, amount int64) {
	t.Helper()
	if _, err := e.chans[ch].Create(e.ctx, channel.CreateRequest{TradeNo: no, AmountFen: amount, Subject: "s", TimeExpire: e.clk.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) pay1(ch, no string) error {
	return e.inv.Invoke(e.ctx, "partners", http.MethodPost, "cashier/"+ch+"/"+no+"/pay", nil, nil)
}

func TestRequestsWithWrongKeyAreRefused(t *testing.T) {
	e := newEnv(t, sim.Config{})
	bad := channel.NewSet(e.inv, channel.Config{App: "partners", WechatMchID: "m1", WechatKey: "WRONG", AlipayAppID: "a1", AlipayKey: "WRONG", Now: e.clk.Now})
	_, err := bad["WECHAT"].Create(e.ctx, channel.CreateRequest{TradeNo: "T1", AmountFen: 100, TimeExpire: e.clk.Now().Add(time.Minute)})
	if !httpapi.HasCode(err, "SIGN_ERROR") {
		t.Fatalf("wechat with a wrong key: %v", err)
	}
	// Alipay signs its answers too: with the wrong key the answer does not verify either.
	if _, err := bad["ALIPAY"].Create(e.ctx, channel.CreateRequest{TradeNo: "T1", AmountFen: 100, TimeExpire: e.clk.Now().Add(time.Minute)}); err == nil {
		t.Fatal("alipay accepted a wrong signature")
	}
	if _, err := e.chans["WECHAT"].Query(e.ctx, "T1"); !errors.Is(err, channel.ErrUnknownTrade) {
		t.Fatalf("a refused create left a trade: %v", err)
	}
}

func TestTradeLifecycleBothChannels(t *testing.T) {
	for _, ch := range []string{"WECHAT", "ALIPAY"} {
		t.Run(ch, func(t *testing.T) {
			e := newEnv(t, sim.Config{RefundDelay: 2 * time.Second})
			e.open(t, ch, "T1", 1_050)
			q, err := e.chans[ch].Query(e.ctx, "T1")
			if err != nil || q.State != channel.TradeWaiting {
				t.Fatalf("query before paying: %+v %v", q, err)
			}
			if err := e.pay1(ch, "T1"); err != nil {
				t.Fatal(err)
			}
			if err := e.pay1(ch, "T1"); !httpapi.HasCode(err, "ALREADY_PAID") {
				t.Fatalf("second payment: %v", err)
			}
			q, err = e.chans[ch].Query(e.ctx, "T1")
			if err != nil || q.State != channel.TradePaid || q.AmountFen != 1_050 || q.PaidAt.IsZero() {
				t.Fatalf("query after paying: %+v %v", q, err)
			}
			if _, err := e.chans[ch].Refund(e.ctx, channel.RefundRequest{TradeNo: "T1", RefundNo: "R1", AmountFen: 1_000, TotalFen: 1_050}); err != nil {
				t.Fatal(err)
			}
			// Same refund number again: the same refund, nothing more taken.
			if _, err := e.chans[ch].Refund(e.ctx, channel.RefundRequest{TradeNo: "T1", RefundNo: "R1", AmountFen: 1_000, TotalFen: 1_050}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.chans[ch].Refund(e.ctx, channel.RefundRequest{TradeNo: "T1", RefundNo: "R2", AmountFen: 51, TotalFen: 1_050}); err == nil {
				t.Fatal("channel refunded more than the trade")
			}
			r, err := e.chans[ch].QueryRefund(e.ctx, "T1", "R1")
			if err != nil || r.State != channel.RefundProcessing {
				t.Fatalf("refund before its delay: %+v %v", r, err)
			}
			e.clk.Advance(2 * time.Second)
			r, err = e.chans[ch].QueryRefund(e.ctx, "T1", "R1")
			if err != nil || r.State != channel.RefundSucceeded {
				t.Fatalf("refund after its delay: %+v %v", r, err)
			}
		})
	}
}

func TestTimeExpireRefusesLatePayment(t *testing.T) {
	e := newEnv(t, sim.Config{})
	e.open(t, "ALIPAY", "T1", 100)
	e.clk.Advance(time.Minute + time.Second)
	if err := e.pay1("ALIPAY", "T1"); !httpapi.HasCode(err, "TRADE_EXPIRED") {
		t.Fatalf("late payment: %v", err)
	}
	q, err := e.chans["ALIPAY"].Query(e.ctx, "T1")
	if err != nil || q.State != channel.TradeClosed {
		t.Fatalf("expired trade: %+v %v", q, err)
	}
}

func TestCallbacksAreRetriedSignedAndSometimesDuplicated(t *testing.T) {
	e := newEnv(t, sim.Config{DuplicateRate: 1, MaxAttempts: 5})
	e.pay.failFirst = 2
	e.open(t, "WECHAT", "T1", 100)
	if err := e.pay1("WECHAT", "T1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := e.s.Tick(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Minute) // past the retry backoff
	}
	notes, err := e.s.Notifications(e.ctx, "T1")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Status != "DELIVERED" || notes[0].Attempts != 3 || notes[0].Deliveries != 2 {
		t.Fatalf("notification %+v", notes)
	}
	if len(e.pay.bodies) != 4 { // two failures, one delivery, one duplicate
		t.Fatalf("pay saw %d callbacks", len(e.pay.bodies))
	}
	for _, b := range e.pay.bodies {
		n, err := e.chans["WECHAT"].VerifyCallback(b)
		if err != nil || n.TradeNo != "T1" || n.Kind != channel.NotifyPayment {
			t.Fatalf("callback %s: %+v %v", b, n, err)
		}
	}
}

func TestFaultSwitches(t *testing.T) {
	e := newEnv(t, sim.Config{})
	if err := e.s.SetFault(e.ctx, sim.Fault{Name: "wechat.create", FailRate: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := e.chans["WECHAT"].Create(e.ctx, channel.CreateRequest{TradeNo: "T1", AmountFen: 100, TimeExpire: e.clk.Now().Add(time.Minute)})
	if !httpapi.HasCode(err, "SYSTEM_ERROR") {
		t.Fatalf("failing create: %v", err)
	}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodDelete, "admin/faults", nil, nil); err != nil {
		t.Fatal(err)
	}
	e.open(t, "WECHAT", "T1", 100)
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "admin/faults", sim.Fault{Name: "callbacks.WECHAT", DropCallbacks: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.pay1("WECHAT", "T1"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.pay.bodies) != 0 {
		t.Fatalf("dropped callback was sent %d times", len(e.pay.bodies))
	}
	notes, _ := e.s.Notifications(e.ctx, "T1")
	if len(notes) != 1 || notes[0].Status != "DROPPED" {
		t.Fatalf("notifications %+v", notes)
	}
}

func TestFinanceRecordsEachPushOnce(t *testing.T) {
	e := newEnv(t, sim.Config{AuditAuto: true, AuditDelay: time.Second})
	push := map[string]any{"push_id": "P1", "kind": "CASH_RECEIVED", "ref_id": "T1", "amount_fen": 500}
	for i := 0; i < 3; i++ {
		if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "fms/v1/receipts", push, nil); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := e.s.Receipts(e.ctx, "T1", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Deliveries != 3 || rs[0].AmountFen != 500 {
		t.Fatalf("receipts %+v", rs)
	}
	audit := map[string]any{"push_id": "P2", "kind": "REFUND_AUDIT", "ref_id": "R1", "trade_id": "T1", "order_id": "O1", "amount_fen": 200}
	if err := e.inv.Invoke(e.ctx, "partners", http.MethodPost, "fms/v1/refund-audits", audit, nil); err != nil {
		t.Fatal(err)
	}
	if a, _ := e.s.GetAudit(e.ctx, "R1"); a.Status != "PENDING" {
		t.Fatalf("audit %+v", a)
	}
	e.clk.Advance(time.Second)
	if err := e.s.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	if a, _ := e.s.GetAudit(e.ctx, "R1"); a.Status != "APPROVED" {
		t.Fatalf("audit after delay %+v", a)
	}
	if len(e.pay.bodies) != 1 || !bytes.Contains(e.pay.bodies[0], []byte(`"APPROVED"`)) {
		t.Fatalf("audit callbacks %q", e.pay.bodies)
	}
	if err := e.s.Decide(e.ctx, "R1", "REJECTED"); err == nil {
		t.Fatal("an approved audit was rejected afterwards")
	}
}

// gatedPay holds every callback until want of them are in flight at once
// (or the guard passes), and records which trades overlapped.
type gatedPay struct {
	chans     map[string]channel.Adapter
	want      int
	mu        sync.Mutex
	inFlight  map[string]int // by trade
	peak      int
	overlap   []string // trades with two callbacks in flight at once
	kinds     map[string][]channel.NotifyKind
	reached   chan struct{}
	closeOnce sync.Once
}

func (g *gatedPay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	n, err := g.chans["WECHAT"].VerifyCallback(b)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.inFlight[n.TradeNo]++
	if g.inFlight[n.TradeNo] > 1 {
		g.overlap = append(g.overlap, n.TradeNo)
	}
	g.kinds[n.TradeNo] = append(g.kinds[n.TradeNo], n.Kind)
	total := 0
	for _, c := range g.inFlight {
		total += c
	}
	g.peak = max(g.peak, total)
	if total >= g.want {
		g.closeOnce.Do(func() { close(g.reached) })
	}
	g.mu.Unlock()
	select {
	case <-g.reached:
	case <-time.After(5 * time.Second): // a guard, not a measurement
	}
	g.mu.Lock()
	g.inFlight[n.TradeNo]--
	g.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// The stand-in's notification service sends callbacks of different trades
// at once, as a channel serving many merchants does (one at a time held a
// checkout load run to ~15 paid orders/s), but one trade's callbacks one
// after the other, oldest first: a refund's never overtakes its payment's.
func TestCallbacksGoOutTogetherAcrossTradesInOrderWithinOne(t *testing.T) {
	e := newEnv(t, sim.Config{MaxAttempts: 5})
	g := &gatedPay{chans: e.chans, want: 6, inFlight: map[string]int{}, kinds: map[string][]channel.NotifyKind{}, reached: make(chan struct{})}
	e.inv.apps["pay"] = g
	for i := range 6 {
		no := fmt.Sprintf("T%d", i)
		e.open(t, "WECHAT", no, 100)
		if err := e.pay1("WECHAT", no); err != nil {
			t.Fatal(err)
		}
	}
	// T0 also has a refund whose callback falls due in the same pass.
	if _, err := e.chans["WECHAT"].Refund(e.ctx, channel.RefundRequest{TradeNo: "T0", RefundNo: "R0", AmountFen: 100, TotalFen: 100}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.reached:
	default:
		t.Fatalf("callbacks of 6 trades were never in flight together (peak %d): sent one at a time", g.peak)
	}
	if len(g.overlap) > 0 {
		t.Fatalf("trades %v had two callbacks in flight at once", g.overlap)
	}
	for i := range 6 {
		notes, err := e.s.Notifications(e.ctx, fmt.Sprintf("T%d", i))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notes {
			if n.Status != "DELIVERED" {
				t.Fatalf("T%d: %+v", i, notes)
			}
		}
	}
	if k := g.kinds["T0"]; len(k) != 2 || k[0] != channel.NotifyPayment || k[1] != channel.NotifyRefund {
		t.Fatalf("T0's callbacks came as %v; want the payment's before the refund's", k)
	}
}
