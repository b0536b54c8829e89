package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	mapi "github.com/harvest/harvest/apps/marketing/api"
	mapp "github.com/harvest/harvest/apps/marketing/app"
	mdomain "github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	mstore "github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/pay/api"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// localInvoker is Dapr service invocation without the sidecar: it serves
// app/method on an in-process handler, with the same JSON and Problem
// conventions as daprx.Invoker.
type localInvoker struct {
	mu   sync.RWMutex
	apps map[string]http.Handler
}

func (l *localInvoker) set(app string, h http.Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.apps[app] = h
}

func (l *localInvoker) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	l.mu.RLock()
	h, ok := l.apps[app]
	l.mu.RUnlock()
	if !ok {
		return fmt.Errorf("invoke %s/%s: no such app", app, method)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	// A nested call (a handler invoking another app) must not carry the
	// caller's chi route context, or chi would route it as a sub-request;
	// over Dapr every call is a fresh HTTP request anyway.
	ctx = context.WithValue(ctx, chi.RouteCtxKey, nil)
	req := httptest.NewRequestWithContext(ctx, httpMethod, "/"+method, body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return httpapi.ReadProblem(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// fakeOMS answers PAY's questions from maps the test fills.
type fakeOMS struct {
	mu      sync.Mutex
	payable map[string]omsclient.Payability
	exists  map[string]bool
	orders  map[string]omsclient.Order
	asked   []string
}

func (f *fakeOMS) GetOrder(_ context.Context, id string) (omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return o, httpapi.Errorf(404, omsclient.CodeNotFound, "no order %s", id)
	}
	return o, nil
}

func (f *fakeOMS) Payable(_ context.Context, id string) (omsclient.Payability, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.payable[id]
	if !ok {
		return p, httpapi.Errorf(404, omsclient.CodeNotFound, "no order %s", id)
	}
	return p, nil
}

func (f *fakeOMS) ExistsForDeduction(_ context.Context, id string) (omsclient.Existence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, id)
	return omsclient.Existence{Exists: f.exists[id]}, nil
}

type harness struct {
	t        *testing.T
	ctx      context.Context
	db       *sql.DB
	clk      *clock.Fixed
	svc      *app.Service
	oms      *fakeOMS
	partners *sim.Server
	payMux   http.Handler
	parMux   http.Handler
	inv      *localInvoker
	chans    map[string]channel.Adapter
	wallet   *mapp.Wallet
	mdb      *sql.DB
	notified int
}

// payAsWalletSeesIt answers the wallet's hold questions from PAY's use case,
// as PAY's route does.
type payAsWalletSeesIt struct{ h *harness }

func (p payAsWalletSeesIt) HoldState(ctx context.Context, id string) (mdomain.HoldState, error) {
	a, err := p.h.svc.HoldState(ctx, id)
	switch {
	case err != nil:
		return "", err
	case a.Void:
		return mdomain.HoldVoid, nil
	case a.Deduction == domain.DeductionHeld:
		return mdomain.HoldHeld, nil
	case a.Deduction == domain.DeductionUsed:
		return mdomain.HoldUsed, nil
	}
	return mdomain.HoldReversed, nil
}

const (
	wechatKey = "test-wechat-key"
	alipayKey = "test-alipay-key"
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, _ := testdb.New(t, "pay")
	pdb, _ := testdb.New(t, "partners")
	clk := clock.NewFixed(time.Now().UTC().Truncate(time.Second))
	inv := &localInvoker{apps: map[string]http.Handler{}}
	h := &harness{t: t, ctx: context.Background(), db: db, clk: clk, inv: inv,
		oms: &fakeOMS{payable: map[string]omsclient.Payability{}, exists: map[string]bool{}, orders: map[string]omsclient.Order{}}}
	h.partners = sim.New(pdb, inv, clk, sim.Config{WechatMchID: "1900000109", WechatKey: wechatKey, AlipayAppID: "2021000000000001",
		AlipayKey: alipayKey, PublicURL: "http://partners.test", CallbackDelay: 0, RefundDelay: 2 * time.Second,
		AuditDelay: 3 * time.Second, AuditAuto: true, MaxAttempts: 3}, nil)
	pm := chi.NewRouter()
	h.partners.Mount(pm)
	h.parMux = pm
	chans := channel.NewSet(inv, channel.Config{App: "partners", WechatMchID: "1900000109", WechatAppID: "wxtest", WechatKey: wechatKey,
		AlipayAppID: "2021000000000001", AlipayKey: alipayKey, Now: clk.Now})
	h.chans = chans
	h.mdb, _ = testdb.New(t, "marketing")
	h.wallet = mapp.NewWallet(mstore.New(h.mdb), payAsWalletSeesIt{h}, clk, nil)
	mm := chi.NewRouter()
	mapi.MountWallet(mm, h.wallet)
	inv.set("marketing", mm)
	h.svc = app.New(store.New(db), h.oms, app.WalletClient{C: marketingclient.New(inv)}, chans, inv, clk, func() { h.notified++ }, nil,
		app.Config{HoldBound: 15 * time.Minute, PollAfter: 5 * time.Second, FinanceApp: "partners"})
	m := chi.NewRouter()
	api.Mount(m, h.svc)
	h.payMux = m
	inv.set("partners", pm)
	inv.set("pay", m)
	return h
}

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("count %q: %v", q, err)
	}
	return n
}

func (h *harness) credit(customer string, a app.Amounts) {
	h.t.Helper()
	a.CustomerID = customer
	if err := h.svc.Credit(h.ctx, "credit:"+customer+fmt.Sprint(time.Now().UnixNano()), a); err != nil {
		h.t.Fatal(err)
	}
}

// coupon binds a coupon worth value, valid for an hour, in the wallet.
func (h *harness) coupon(customer string, value money.Fen) string {
	h.t.Helper()
	tp, err := h.wallet.CreateTemplate(h.ctx, "", mdomain.TemplateSpec{Title: "coupon", ValueFen: value,
		ValidFrom: h.clk.Now().Add(-time.Minute), ValidTo: h.clk.Now().Add(time.Hour)})
	if err != nil {
		h.t.Fatal(err)
	}
	c, _, err := h.wallet.Grant(h.ctx, "grant:"+tp.ID(), tp.ID(), customer)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.ID
}

// couponStatus is where the wallet says the coupon stands.
func (h *harness) couponStatus(id string) mdomain.CouponStatus {
	h.t.Helper()
	var st mdomain.CouponStatus
	if err := h.mdb.QueryRow(`SELECT status FROM coupons WHERE id=?`, id).Scan(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) accounts(customer string) domain.Account {
	h.t.Helper()
	a, err := h.svc.Accounts(h.ctx, customer)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

// order registers an unpaid order at the fake OMS.
func (h *harness) order(id, customer string, due int64) {
	h.oms.mu.Lock()
	defer h.oms.mu.Unlock()
	h.oms.payable[id] = omsclient.Payability{Payable: true, PayBy: h.clk.Now().Add(10 * time.Minute), CashDueFen: money.Fen(due), CustomerID: customer}
}

// atOMS sets what OMS answers about an order: its status and deductions.
func (h *harness) atOMS(id, status string, deductionIDs ...string) {
	h.oms.mu.Lock()
	defer h.oms.mu.Unlock()
	h.oms.orders[id] = omsclient.Order{ID: id, CustomerID: "C1", Status: status, DeductionIDs: deductionIDs}
}

// startAndPay opens a trade and has the customer pay at the channel's cashier.
func (h *harness) startAndPay(channelName, orderID string, due int64) domain.Trade {
	h.t.Helper()
	h.order(orderID, "C1", due)
	tr, err := h.svc.StartCashPayment(h.ctx, app.StartInput{IdempotencyKey: "pay:" + orderID, OrderID: orderID, CustomerID: "C1", Channel: channelName})
	if err != nil {
		h.t.Fatalf("start payment: %v", err)
	}
	h.payAtCashier(channelName, tr.ID(), false)
	return tr
}

func (h *harness) payAtCashier(channelName, tradeID string, ignoreExpire bool) error {
	path := "cashier/" + channelName + "/" + tradeID + "/pay"
	if ignoreExpire {
		path += "?ignore_expire=true"
	}
	return h.inv.Invoke(h.ctx, "partners", http.MethodPost, path, nil, nil)
}

// callback posts a callback body to PAY's route and returns the status.
func (h *harness) callback(channelName string, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/"+channelName, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.payMux.ServeHTTP(rec, req)
	return rec.Code
}

func (h *harness) trade(id string) domain.Trade {
	h.t.Helper()
	t, err := h.svc.Trade(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return t
}

func (h *harness) outbox(topic, aggregate string) int {
	return h.count(`SELECT COUNT(*) FROM outbox WHERE topic=? AND aggregate_id=?`, topic, aggregate)
}

func simFault(name string, failRate float64) sim.Fault {
	return sim.Fault{Name: name, FailRate: failRate}
}
