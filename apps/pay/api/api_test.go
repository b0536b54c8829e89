package api_test

import (
	"context"
	mapi "github.com/harvest/harvest/apps/marketing/api"
	mapp "github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	mstore "github.com/harvest/harvest/apps/marketing/store"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/pay/api"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// sidecar stands in for daprd's service invocation API
// (/v1.0/invoke/<app>/method/<method>), so the real daprx.Invoker and
// payclient talk HTTP to PAY's and partners' real routers.
type sidecar struct{ apps map[string]http.Handler }

func (s *sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/")
	app, method, ok2 := strings.Cut(rest, "/method/")
	h := s.apps[app]
	if !ok || !ok2 || h == nil {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.RequestURI = "/"+method, ""
	h.ServeHTTP(w, r2)
}

type oms struct{ p omsclient.Payability }

func (o oms) Payable(context.Context, string) (omsclient.Payability, error) { return o.p, nil }
func (o oms) ExistsForDeduction(context.Context, string) (omsclient.Existence, error) {
	return omsclient.Existence{}, nil
}
func (o oms) GetOrder(_ context.Context, id string) (omsclient.Order, error) {
	return omsclient.Order{ID: id, CustomerID: o.p.CustomerID, Status: omsclient.StatusPendingPayment}, nil
}

func setup(t *testing.T, p omsclient.Payability) (*payclient.Client, *sim.Server, *daprx.Invoker) {
	t.Helper()
	db, _ := testdb.New(t, "pay")
	pdb, _ := testdb.New(t, "partners")
	sc := &sidecar{apps: map[string]http.Handler{}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	inv := daprx.NewInvoker(port)
	clk := clock.System{}
	par := sim.New(pdb, inv, clk, sim.Config{WechatMchID: "m", WechatKey: "wk", AlipayAppID: "a", AlipayKey: "ak", RefundDelay: time.Millisecond}, nil)
	pm := chi.NewRouter()
	par.Mount(pm)
	chans := channel.NewSet(inv, channel.Config{App: "partners", WechatMchID: "m", WechatKey: "wk", AlipayAppID: "a", AlipayKey: "ak"})
	svc := app.New(store.New(db), oms{p}, app.WalletClient{C: marketingclient.New(inv)}, chans, inv, clk, nil, nil, app.Config{})
	m := chi.NewRouter()
	api.Mount(m, svc)
	// The coupon wallet, asking PAY back over the same stand-in sidecar.
	mdb, _ := testdb.New(t, "marketing")
	mm := chi.NewRouter()
	mapi.MountWallet(mm, mapp.NewWallet(mstore.New(mdb), mapp.PayHolds{C: payclient.New(inv)}, clk, nil))
	sc.apps["pay"], sc.apps["partners"], sc.apps["marketing"] = m, pm, mm
	return payclient.New(inv), par, inv
}

func TestClientContract(t *testing.T) {
	ctx := context.Background()
	c, par, inv := setup(t, omsclient.Payability{Payable: true, PayBy: time.Now().Add(10 * time.Minute), CashDueFen: 4_200, CustomerID: "C1"})

	credit := payclient.CreditRequest{IdempotencyKey: "cr1", BalanceFen: 1_000}
	a, err := c.Credit(ctx, "C1", credit)
	if err != nil || a.BalanceFen != 1_000 {
		t.Fatalf("credit: %+v %v", a, err)
	}
	wallet := marketingclient.New(inv)
	tp, err := wallet.CreateTemplate(ctx, marketingclient.CreateTemplateRequest{TemplateSpec: marketingclient.TemplateSpec{
		Title: "t", ValueFen: 300, ValidFrom: time.Now().Add(-time.Minute), ValidTo: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	coupon, err := wallet.GrantCoupon(ctx, marketingclient.GrantRequest{IdempotencyKey: "g1", TemplateID: tp.ID, CustomerID: "C1"})
	if err != nil || coupon.Status != marketingclient.CouponAvailable {
		t.Fatalf("grant: %+v %v", coupon, err)
	}
	if _, err := c.Credit(ctx, "C1", credit); err != nil {
		t.Fatalf("repeated credit: %v", err)
	}
	if a, _ := c.Accounts(ctx, "C1"); a.BalanceFen != 1_000 {
		t.Fatalf("repeated credit added again: %+v", a)
	}

	_, err = c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "d1", CustomerID: "C1", Items: []payclient.DeductItem{
		{Kind: payclient.KindBalance, AmountFen: 1_001}}})
	var p *httpapi.Problem
	if !httpapi.HasCode(err, payclient.CodeInsufficient) {
		t.Fatalf("insufficient: %v", err)
	}
	p = err.(*httpapi.Problem)
	if p.Details["kind"] != payclient.KindBalance {
		t.Fatalf("details %v", p.Details)
	}
	d, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "d2", CustomerID: "C1", Items: []payclient.DeductItem{
		{Kind: payclient.KindBalance, AmountFen: 500}, {Kind: payclient.KindCoupon, CouponID: coupon.ID}}})
	if err != nil || d.TotalFen != 800 || d.Status != payclient.DeductionHeld {
		t.Fatalf("deduct: %+v %v", d, err)
	}
	if got, err := c.GetDeduction(ctx, d.ID); err != nil || got.ID != d.ID || len(got.Items) != 2 {
		t.Fatalf("get deduction: %+v %v", got, err)
	}
	if st, err := c.CouponHoldState(ctx, d.ID); err != nil || st.State != payclient.HoldHeld {
		t.Fatalf("hold state of a held deduction: %+v %v", st, err)
	}
	if _, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "d3", CustomerID: "C1", Items: []payclient.DeductItem{
		{Kind: payclient.KindCoupon, CouponID: coupon.ID}}}); !httpapi.HasCode(err, marketingclient.CodeCouponNotUsable) {
		t.Fatalf("a held coupon again: %v", err)
	}
	if st, err := wallet.RecheckHold(ctx, d.ID); err != nil || st.State != marketingclient.HoldHeld {
		t.Fatalf("recheck of a held deduction: %+v %v", st, err)
	}
	if _, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "d2", CustomerID: "C1", Items: []payclient.DeductItem{
		{Kind: payclient.KindBalance, AmountFen: 1}}}); !httpapi.HasCode(err, payclient.CodeIdempotencyReuse) {
		t.Fatalf("key reuse: %v", err)
	}
	if _, err := c.GetDeduction(ctx, "nope"); !httpapi.HasCode(err, payclient.CodeNotFound) {
		t.Fatalf("missing deduction: %v", err)
	}

	red, err := c.StartCashPayment(ctx, payclient.StartPaymentRequest{IdempotencyKey: "s1", OrderID: "O1", CustomerID: "C1", Channel: payclient.ChannelWechat})
	if err != nil || red.AmountFen != 4_200 || !strings.Contains(red.CashierURL, "/cashier/WECHAT/"+red.TradeID) {
		t.Fatalf("start: %+v %v", red, err)
	}
	if _, err := c.StartCashPayment(ctx, payclient.StartPaymentRequest{IdempotencyKey: "s2", OrderID: "O1", CustomerID: "C1", Channel: "CASH"}); !httpapi.HasCode(err, payclient.CodeUnknownChannel) {
		t.Fatalf("unknown channel: %v", err)
	}
	// The customer pays; partners calls PAY back through the sidecar.
	if err := inv.Invoke(ctx, "partners", http.MethodPost, "cashier/WECHAT/"+red.TradeID+"/pay", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := par.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := c.GetTrade(ctx, red.TradeID)
	if err != nil || tr.Status != payclient.TradeSucceeded || tr.PaidFen != 4_200 || tr.PaidAt == nil {
		t.Fatalf("trade: %+v %v", tr, err)
	}
	if _, err := c.RequestRefund(ctx, payclient.RefundRequest{IdempotencyKey: "r1", TradeID: tr.ID, AmountFen: 4_201, Reason: "AFTERSALES"}); !httpapi.HasCode(err, payclient.CodeRefundTooLarge) {
		t.Fatalf("refund above paid: %v", err)
	}
	r, err := c.RequestRefund(ctx, payclient.RefundRequest{IdempotencyKey: "r2", TradeID: tr.ID, AmountFen: money.Fen(4_200), Reason: "AFTERSALES"})
	if err != nil || r.Status != payclient.RefundPendingAudit {
		t.Fatalf("refund: %+v %v", r, err)
	}
	ts, err := c.TradesOfOrder(ctx, "O1")
	if err != nil || len(ts) != 1 || ts[0].RefundedFen != 4_200 {
		t.Fatalf("trades of order: %+v %v", ts, err)
	}
}

func TestNotPayableCarriesReason(t *testing.T) {
	c, _, _ := setup(t, omsclient.Payability{Payable: false, Reason: "DEADLINE_PASSED", CustomerID: "C1"})
	_, err := c.StartCashPayment(context.Background(), payclient.StartPaymentRequest{IdempotencyKey: "s", OrderID: "O1", CustomerID: "C1", Channel: payclient.ChannelAlipay})
	if !httpapi.HasCode(err, payclient.CodeNotPayable) || err.(*httpapi.Problem).Details["reason"] != "DEADLINE_PASSED" {
		t.Fatalf("got %v", err)
	}
}
