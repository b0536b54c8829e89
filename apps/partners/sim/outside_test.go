package sim_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// sidecar stands in for daprd's service invocation API
// (/v1.0/invoke/<app>/method/<method>), so the real daprx.Invoker and
// partnersclient talk HTTP to partners' real router.
type sidecar struct {
	mu   sync.Mutex
	apps map[string]http.Handler
}

func (s *sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/")
	app, method, ok2 := strings.Cut(rest, "/method/")
	s.mu.Lock()
	h := s.apps[app]
	s.mu.Unlock()
	if !ok || !ok2 || h == nil {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.RequestURI = "/"+method, ""
	h.ServeHTTP(w, r2)
}

type outside struct {
	ctx context.Context
	db  *sql.DB
	sc  *sidecar
	inv *daprx.Invoker
	c   *pc.Client
	s   *sim.Server
}

// newOutside starts partners over a fresh database, reached through a fake
// sidecar by partnersclient.
func newOutside(t *testing.T, cfg sim.Config) *outside {
	t.Helper()
	db, _ := testdb.New(t, "partners")
	sc := &sidecar{apps: map[string]http.Handler{}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	inv := daprx.NewInvoker(port)
	o := &outside{ctx: context.Background(), db: db, sc: sc, inv: inv, c: pc.New(inv, "")}
	o.start(cfg)
	return o
}

// start (re)starts the partners server over the same database, as a
// process restart would.
func (o *outside) start(cfg sim.Config) {
	o.s = sim.New(o.db, o.inv, clock.System{}, cfg, nil)
	m := chi.NewRouter()
	o.s.Mount(m)
	o.sc.mu.Lock()
	o.sc.apps[pc.DefaultAppID] = m
	o.sc.mu.Unlock()
}

func (o *outside) received(t *testing.T, api, ref string) []sim.Received {
	t.Helper()
	var out []sim.Received
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodGet, "admin/received?api="+url.QueryEscape(api)+"&ref="+url.QueryEscape(ref), nil, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	goods   = []pc.GoodsLine{{SKU: "milk", Name: "Milk 1L", Qty: 2}}
	sms     = pc.SMS{MessageID: "O1:initial:sms", Phone: "13800138000", Template: "ORDER_PAID", Params: map[string]string{"order_id": "O1"}}
	push    = pc.Push{MessageID: "O1:initial:push:MINI_PROGRAM", CustomerID: "C1", Channel: pc.PushMiniProgram, Template: "PAYMENT_SUCCEEDED"}
	voucher = pc.Voucher{VoucherID: "O1:voucher", OrderID: "O1", CustomerID: "C1", CashFen: 800, NonCashFen: 200, TotalFen: 1_000,
		Lines: []pc.VoucherLine{{SKU: "milk", AmountFen: 1_000, TaxRateBP: 900}}}
	fraud   = pc.FraudRequest{OrderID: "O1", CustomerID: "C1", AmountFen: 1_000, Phone: "13800138000", Address: "上海上海浦东世纪大道1号"}
	presale = pc.PresaleOrder{OrderID: "O1", Lines: goods}
	waybill = pc.WaybillRequest{DeliveryOrderID: "O1-1", Warehouse: "SH1", Address: "上海上海浦东世纪大道1号", Phone: "13800138000", DeliveryDate: "2026-01-02"}
	invoice = pc.InvoiceRequest{InvoiceID: "O1:invoice", OrderID: "O1", Title: "Harvest Ltd",
		Lines: []pc.InvoiceLine{{SKU: "milk", Name: "Milk 1L", Qty: 2, AmountFen: 1_000, TaxRateBP: 900}}}
	supplier = pc.SupplierOrder{DeliveryOrderID: "O1-2", Supplier: "farm-a", Lines: goods, Name: "Li Lei", Phone: "021-62345678",
		Address: "上海上海浦东世纪大道1号", DeliveryDate: "2026-01-02"}
	pickup = pc.PickupRequest{PickupID: "R1:TMS_PICKUP", OrderID: "O1", Name: "Li Lei", Phone: "13800138000",
		Address: "上海上海浦东世纪大道1号", Lines: goods}
	refundVoucher = pc.RefundVoucher{VoucherID: "R1:REFUND_VOUCHER", OrderID: "O1", RequestID: "R1", Kind: "RETURN", CashFen: 500}
	settlement    = pc.Settlement{SettlementID: "R1:SETTLEMENT", OrderID: "O1", RequestID: "R1", Kind: "RETURN", CashFen: 450, NonCashFen: 50,
		FreightFen: 20, Lines: []pc.SettlementLine{{SKU: "milk", Qty: 1, CashFen: 450, NonCashFen: 50, FreightFen: 20}}}
	presaleStock   = pc.PresaleStockUpdate{UpdateID: "R1:PRESALE_STOCK", OrderID: "O1", Kind: "CANCEL", Lines: goods}
	purchaseReturn = pc.PurchaseReturn{ReturnID: "R1:DROPSHIP_RETURN:farm-a", Supplier: "farm-a", OrderID: "O1", RequestID: "R1",
		Kind: "RETURN", Lines: goods}
)

// call sends one request of api and returns its answer's id and duplicate
// flag (the verdict for fraud, which has no flag).
type call struct {
	api, ref string
	do       func(o *outside) (id string, dup bool, err error)
}

func receiptCall(api, ref string, f func(*pc.Client, context.Context) (pc.Receipt, error)) call {
	return call{api, ref, func(o *outside) (string, bool, error) {
		r, err := f(o.c, o.ctx)
		return r.ID, r.Duplicate, err
	}}
}

var calls = []call{
	receiptCall(sim.APISMS, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) { return c.SendSMS(ctx, sms) }),
	receiptCall(sim.APIPush, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) { return c.SendPush(ctx, push) }),
	receiptCall(sim.APIVoucher, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) { return c.PushVoucher(ctx, voucher) }),
	receiptCall(sim.APIPresale, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) { return c.PushPresale(ctx, presale) }),
	receiptCall(sim.APIInvoice, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) { return c.IssueInvoice(ctx, invoice) }),
	receiptCall(sim.APISuppliers, "O1-2", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) {
		return c.SendToSupplier(ctx, supplier)
	}),
	receiptCall(sim.APIPickup, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) { return c.RequestPickup(ctx, pickup) }),
	receiptCall(sim.APIRefundVoucher, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) {
		return c.PushRefundVoucher(ctx, refundVoucher)
	}),
	receiptCall(sim.APISettlement, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) {
		return c.PushSettlement(ctx, settlement)
	}),
	receiptCall(sim.APIPresaleStock, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) {
		return c.UpdatePresaleStock(ctx, presaleStock)
	}),
	receiptCall(sim.APIPurchaseReturn, "O1", func(c *pc.Client, ctx context.Context) (pc.Receipt, error) {
		return c.ReturnToSupplier(ctx, purchaseReturn)
	}),
	{sim.APIWaybill, "O1-1", func(o *outside) (string, bool, error) {
		w, err := o.c.RequestWaybill(o.ctx, waybill)
		return w.Carrier + "/" + w.WaybillNo, w.Duplicate, err
	}},
	{sim.APIRisk, "O1", func(o *outside) (string, bool, error) {
		v, err := o.c.ScoreFraud(o.ctx, fraud)
		return fmt.Sprintf("%s/%d", v.Decision, v.Score), false, err
	}},
}

func TestEveryAPIRecordsAnIDOnceAndRepeatsItsFirstAnswer(t *testing.T) {
	o := newOutside(t, sim.Config{})
	seen := map[string]string{}
	for _, c := range calls {
		t.Run(c.api, func(t *testing.T) {
			id, dup, err := c.do(o)
			if err != nil || id == "" || dup {
				t.Fatalf("first call: %q dup=%v %v", id, dup, err)
			}
			if prev, ok := seen[id]; ok {
				t.Fatalf("%s answered %q, already the answer of %s", c.api, id, prev)
			}
			seen[id] = c.api
			id2, dup2, err := c.do(o)
			if err != nil || id2 != id || (c.api != sim.APIRisk && !dup2) {
				t.Fatalf("repeat: %q dup=%v %v, first %q", id2, dup2, err, id)
			}
			got := o.received(t, c.api, c.ref)
			if len(got) != 1 || got[0].API != c.api || got[0].Deliveries != 2 || got[0].Changed != 0 {
				t.Fatalf("received %+v", got)
			}
		})
	}
	// A restart keeps what was received: the repeat is still a duplicate.
	o.start(sim.Config{})
	w, err := o.c.RequestWaybill(o.ctx, waybill)
	if err != nil || !w.Duplicate || seen[w.Carrier+"/"+w.WaybillNo] != sim.APIWaybill {
		t.Fatalf("waybill after restart: %+v %v", w, err)
	}
	// Same id with another body: still the first answer, and the change is counted.
	changed := sms
	changed.Template = "ORDER_SHIPPED"
	r, err := o.c.SendSMS(o.ctx, changed)
	if err != nil || !r.Duplicate {
		t.Fatalf("changed repeat: %+v %v", r, err)
	}
	if got := o.received(t, "sms", "O1"); len(got) != 1 || got[0].Deliveries != 3 || got[0].Changed != 1 {
		t.Fatalf("received after a changed repeat %+v", got)
	}
	// The order's whole record: every API's request about O1 or its delivery orders.
	if got := o.received(t, "", "O1"); len(got) != len(calls) {
		t.Fatalf("received about O1: %d records, want %d", len(got), len(calls))
	}
	// A restart abandons the rest of its block of sequence numbers: a new
	// request's number is new, not one handed out before.
	fresh := sms
	fresh.MessageID, fresh.Params = "O9:after-restart:sms", map[string]string{"order_id": "O9"}
	if r, err := o.c.SendSMS(o.ctx, fresh); err != nil || r.Duplicate || seen[r.ID] != "" {
		t.Fatalf("a new SMS after restart: %+v %v (numbers handed out before: %v)", r, err, seen)
	}
}

func TestConcurrentDuplicatesHaveOneEffect(t *testing.T) {
	o := newOutside(t, sim.Config{})
	const n = 16
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
		nos   = map[string]bool{}
		errs  []error
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := o.c.RequestWaybill(o.ctx, waybill)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if !w.Duplicate {
				fresh++
			}
			nos[w.WaybillNo] = true
		}()
	}
	wg.Wait()
	if len(errs) > 0 || fresh != 1 || len(nos) != 1 {
		t.Fatalf("%d fresh answers, waybills %v, errors %v", fresh, nos, errs)
	}
	if got := o.received(t, "tms", "O1-1"); len(got) != 1 || got[0].Deliveries != n {
		t.Fatalf("received %+v", got)
	}
	// Different delivery orders racing each get their own number.
	nos = map[string]bool{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := waybill
			req.DeliveryOrderID = fmt.Sprintf("O2-%d", i)
			w, err := o.c.RequestWaybill(o.ctx, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || w.Duplicate {
				errs = append(errs, fmt.Errorf("%+v %v", w, err))
				return
			}
			nos[w.WaybillNo] = true
		}()
	}
	wg.Wait()
	if len(errs) > 0 || len(nos) != n {
		t.Fatalf("%d distinct waybills for %d delivery orders, errors %v", len(nos), n, errs)
	}
}

func TestBadInputIsRejectedAndNotRecorded(t *testing.T) {
	o := newOutside(t, sim.Config{})
	cases := []struct {
		name, field string
		do          func() error
	}{
		{"sms phone too short", "phone", func() error { m := sms; m.Phone = "1380013800"; _, err := o.c.SendSMS(o.ctx, m); return err }},
		{"sms landline", "phone", func() error { m := sms; m.Phone = "02162345678"; _, err := o.c.SendSMS(o.ctx, m); return err }},
		{"sms letters", "phone", func() error { m := sms; m.Phone = "1380013800x"; _, err := o.c.SendSMS(o.ctx, m); return err }},
		{"sms no id", "message_id", func() error { m := sms; m.MessageID = ""; _, err := o.c.SendSMS(o.ctx, m); return err }},
		{"sms bad template", "template", func() error { m := sms; m.Template = "order paid"; _, err := o.c.SendSMS(o.ctx, m); return err }},
		{"push unknown channel", "channel", func() error { p := push; p.Channel = "EMAIL"; _, err := o.c.SendPush(o.ctx, p); return err }},
		{"voucher no lines", "lines", func() error { v := voucher; v.Lines = nil; _, err := o.c.PushVoucher(o.ctx, v); return err }},
		{"voucher above total", "total_fen", func() error { v := voucher; v.CashFen = 900; _, err := o.c.PushVoucher(o.ctx, v); return err }},
		{"voucher negative", "amounts", func() error { v := voucher; v.NonCashFen = -1; _, err := o.c.PushVoucher(o.ctx, v); return err }},
		{"fraud no customer", "customer_id", func() error { f := fraud; f.CustomerID = ""; _, err := o.c.ScoreFraud(o.ctx, f); return err }},
		{"presale empty lines", "lines", func() error {
			p := presale
			p.Lines = []pc.GoodsLine{}
			_, err := o.c.PushPresale(o.ctx, p)
			return err
		}},
		{"presale zero qty", "lines[0].qty", func() error {
			p := presale
			p.Lines = []pc.GoodsLine{{SKU: "milk", Qty: 0}}
			_, err := o.c.PushPresale(o.ctx, p)
			return err
		}},
		{"waybill no warehouse", "warehouse", func() error { w := waybill; w.Warehouse = ""; _, err := o.c.RequestWaybill(o.ctx, w); return err }},
		{"waybill bad date", "delivery_date", func() error {
			w := waybill
			w.DeliveryDate = "02/01/2026"
			_, err := o.c.RequestWaybill(o.ctx, w)
			return err
		}},
		{"invoice no title", "title", func() error { i := invoice; i.Title = " "; _, err := o.c.IssueInvoice(o.ctx, i); return err }},
		{"invoice empty lines", "lines", func() error { i := invoice; i.Lines = nil; _, err := o.c.IssueInvoice(o.ctx, i); return err }},
		{"supplier bad phone", "phone", func() error { s := supplier; s.Phone = "123"; _, err := o.c.SendToSupplier(o.ctx, s); return err }},
		{"supplier empty lines", "lines", func() error { s := supplier; s.Lines = nil; _, err := o.c.SendToSupplier(o.ctx, s); return err }},
		{"settlement lines off the header", "lines", func() error {
			v := settlement
			v.CashFen = 451
			_, err := o.c.PushSettlement(o.ctx, v)
			return err
		}},
		{"settlement unknown kind", "kind", func() error { v := settlement; v.Kind = "EXCHANGE"; _, err := o.c.PushSettlement(o.ctx, v); return err }},
		{"presale stock no lines", "lines", func() error {
			u := presaleStock
			u.Lines = nil
			_, err := o.c.UpdatePresaleStock(o.ctx, u)
			return err
		}},
		{"purchase return no supplier", "supplier", func() error {
			p := purchaseReturn
			p.Supplier = ""
			_, err := o.c.ReturnToSupplier(o.ctx, p)
			return err
		}},
		{"interception no reason", "reason", func() error {
			_, err := o.c.InterceptAtSupplier(o.ctx, pc.SupplierInterception{DeliveryOrderID: "O1-2", Supplier: "farm-a"})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			p, ok := err.(*httpapi.Problem)
			if !ok || p.Status != http.StatusBadRequest || p.Code != pc.CodeRejected || p.Details["field"] != c.field {
				t.Fatalf("want 400 %s on %s, got %#v", pc.CodeRejected, c.field, err)
			}
		})
	}
	// A body the partner does not understand is refused too.
	err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodPost, "sms/v1/messages", map[string]any{"message_id": "x", "phone": "13800138000",
		"template": "ORDER_PAID", "recipients": []string{"13800138001"}}, nil)
	if !httpapi.HasCode(err, pc.CodeRejected) {
		t.Fatalf("unknown field: %v", err)
	}
	if got := o.received(t, "", "O1"); len(got) != 0 {
		t.Fatalf("refused requests were recorded: %+v", got)
	}
}

func TestFaultSwitchesApplyToOutsideAPIs(t *testing.T) {
	o := newOutside(t, sim.Config{})
	setFault := func(f sim.Fault) {
		t.Helper()
		if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodPost, "admin/faults", f, nil); err != nil {
			t.Fatal(err)
		}
	}
	unavailable := func(err error) bool {
		p, ok := err.(*httpapi.Problem)
		return ok && p.Status == http.StatusServiceUnavailable && p.Code == pc.CodeUnavailable
	}
	// By family: every TMS API fails, nothing is recorded.
	setFault(sim.Fault{Name: "tms", FailRate: 1})
	if _, err := o.c.RequestWaybill(o.ctx, waybill); !unavailable(err) {
		t.Fatalf("waybill with tms switched off: %v", err)
	}
	if got := o.received(t, "tms", "O1-1"); len(got) != 0 {
		t.Fatalf("a failed call was recorded: %+v", got)
	}
	// By exact name, and only that API.
	setFault(sim.Fault{Name: "risk.scores", FailRate: 1})
	if _, err := o.c.ScoreFraud(o.ctx, fraud); !unavailable(err) {
		t.Fatalf("fraud with risk.scores switched off: %v", err)
	}
	if _, err := o.c.SendSMS(o.ctx, sms); err != nil {
		t.Fatalf("sms while other APIs fail: %v", err)
	}
	// Delay: the answer comes no sooner than the switch says.
	setFault(sim.Fault{Name: "sms.messages", DelayMs: 80})
	start := time.Now()
	if r, err := o.c.SendSMS(o.ctx, sms); err != nil || !r.Duplicate {
		t.Fatalf("delayed sms: %+v %v", r, err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("delayed sms answered after %v", d)
	}
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodDelete, "admin/faults", nil, nil); err != nil {
		t.Fatal(err)
	}
	w, err := o.c.RequestWaybill(o.ctx, waybill)
	if err != nil || w.Duplicate || w.WaybillNo == "" {
		t.Fatalf("waybill after clearing: %+v %v", w, err)
	}
}

func TestConfiguredLatencyDelaysTheAnswer(t *testing.T) {
	o := newOutside(t, sim.Config{Latency: map[string]time.Duration{"tms": 100 * time.Millisecond}})
	start := time.Now()
	if _, err := o.c.RequestWaybill(o.ctx, waybill); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond { // 100 ms - 20% jitter
		t.Fatalf("tms answered after %v with 100ms latency", d)
	}
}

func TestFraudRules(t *testing.T) {
	o := newOutside(t, sim.Config{Risk: sim.RiskRules{RejectCustomerPrefixes: []string{"FRAUD-"}, ReviewCustomerPrefixes: []string{"REVIEW-"},
		ReviewAboveFen: 100_000}})
	score := func(order, customer string, amount int64) pc.FraudVerdict {
		t.Helper()
		f := fraud
		f.OrderID, f.CustomerID, f.AmountFen = order, customer, money.Fen(amount)
		v, err := o.c.ScoreFraud(o.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		order, customer string
		amount          int64
		decision        string
		lo, hi          int
	}{
		{"O1", "C1", 5_000, pc.FraudAccept, 0, 59},
		{"O2", "FRAUD-7", 5_000, pc.FraudReject, 85, 100},
		{"O3", "REVIEW-7", 5_000, pc.FraudReview, 60, 84},
		{"O4", "C1", 100_001, pc.FraudReview, 60, 84},
		{"O5", "C1", 100_000, pc.FraudAccept, 0, 59},
		{"O6", "FRAUD-8", 200_000, pc.FraudReject, 85, 100}, // reject wins over review
	}
	for _, c := range cases {
		v := score(c.order, c.customer, c.amount)
		if v.Decision != c.decision || v.Score < c.lo || v.Score > c.hi {
			t.Errorf("%s %s %d: %+v, want %s in %d..%d", c.order, c.customer, c.amount, v, c.decision, c.lo, c.hi)
		}
	}
	// Deterministic: another order of the same customer and amount scores the same.
	if a, b := score("O7", "C9", 12_345), score("O8", "C9", 12_345); a != b {
		t.Fatalf("same customer and amount scored %+v and %+v", a, b)
	}
	// Rules changed at run time apply to new orders; a scored order keeps its verdict.
	rules := sim.RiskRules{RejectCustomerPrefixes: []string{"C1"}}
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodPost, "admin/risk-rules", rules, nil); err != nil {
		t.Fatal(err)
	}
	if v := score("O9", "C1", 5_000); v.Decision != pc.FraudReject {
		t.Fatalf("new order under new rules: %+v", v)
	}
	if v := score("O1", "C1", 5_000); v.Decision != pc.FraudAccept {
		t.Fatalf("scored order under new rules: %+v", v)
	}
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodPost, "admin/risk-rules", sim.RiskRules{ReviewCustomerPrefixes: []string{""}}, nil); !httpapi.HasCode(err, httpapi.CodeBadRequest) {
		t.Fatalf("an empty prefix was accepted: %v", err)
	}
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodDelete, "admin/risk-rules", nil, nil); err != nil {
		t.Fatal(err)
	}
	if v := score("O10", "C1", 5_000); v.Decision != pc.FraudAccept {
		t.Fatalf("after clearing the rules: %+v", v)
	}
}

func TestDefaultRiskRules(t *testing.T) {
	o := newOutside(t, sim.Config{})
	for customer, want := range map[string]string{"FRAUD-1": pc.FraudReject, "REVIEW-1": pc.FraudReview, "C1": pc.FraudAccept} {
		f := fraud
		f.OrderID, f.CustomerID = "O-"+customer, customer
		if v, err := o.c.ScoreFraud(o.ctx, f); err != nil || v.Decision != want {
			t.Errorf("%s: %+v %v, want %s", customer, v, err, want)
		}
	}
}

func TestCarrierByWarehouseAndExpress(t *testing.T) {
	o := newOutside(t, sim.Config{Carriers: map[string]string{"SH1": "YTO"}})
	get := func(id, wh string, express bool) pc.Waybill {
		t.Helper()
		w := waybill
		w.DeliveryOrderID, w.Warehouse, w.Express = id, wh, express
		out, err := o.c.RequestWaybill(o.ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if w := get("D1", "SH1", true); w.Carrier != "SF" || !strings.HasPrefix(w.WaybillNo, "SF") {
		t.Fatalf("express: %+v", w)
	}
	if w := get("D2", "SH1", false); w.Carrier != "YTO" || !strings.HasPrefix(w.WaybillNo, "YT") {
		t.Fatalf("contracted warehouse: %+v", w)
	}
	a, b := get("D3", "BJ9", false), get("D4", "BJ9", false)
	if a.Carrier != b.Carrier || a.Carrier == "" || a.WaybillNo == b.WaybillNo {
		t.Fatalf("uncontracted warehouse: %+v %+v", a, b)
	}
}

func TestReceivedNeedsARef(t *testing.T) {
	o := newOutside(t, sim.Config{})
	err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodGet, "admin/received?api=sms", nil, nil)
	if !httpapi.HasCode(err, httpapi.CodeBadRequest) {
		t.Fatalf("no ref: %v", err)
	}
}

// A drop-ship supplier intercepts a delivery order it has not shipped,
// answers the same to a repeat, refuses one it shipped (nothing
// recorded), and refuses an order that arrives after its interception.
func TestSupplierInterception(t *testing.T) {
	o := newOutside(t, sim.Config{})
	stop := func(id string) (pc.Receipt, error) {
		return o.c.InterceptAtSupplier(o.ctx, pc.SupplierInterception{DeliveryOrderID: id, Supplier: "farm-a", Reason: "customer cancel"})
	}
	if _, err := o.c.SendToSupplier(o.ctx, supplier); err != nil {
		t.Fatal(err)
	}
	r1, err := stop(supplier.DeliveryOrderID)
	if err != nil || r1.ID == "" || r1.Duplicate {
		t.Fatalf("intercept: %+v %v", r1, err)
	}
	if r2, err := stop(supplier.DeliveryOrderID); err != nil || r2.ID != r1.ID || !r2.Duplicate {
		t.Fatalf("repeat: %+v %v", r2, err)
	}
	if st, _ := o.s.SupplierOrderState(o.ctx, supplier.DeliveryOrderID); st != "INTERCEPTED" {
		t.Fatalf("state %q", st)
	}
	// Shipped: too late, and the answer stays so.
	shipped := supplier
	shipped.DeliveryOrderID = "O1-3"
	if _, err := o.c.SendToSupplier(o.ctx, shipped); err != nil {
		t.Fatal(err)
	}
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodPost, "admin/suppliers/orders/O1-3/ship", struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := stop("O1-3"); !httpapi.HasCode(err, pc.CodeSupplierShipped) {
			t.Fatalf("shipped: %v", err)
		}
	}
	if got := o.received(t, sim.APIInterception, "O1-3"); len(got) != 0 {
		t.Fatalf("a refused interception was recorded: %+v", got)
	}
	// Intercepted before it arrived: the order is refused when it comes.
	if _, err := stop("O1-4"); err != nil {
		t.Fatal(err)
	}
	late := supplier
	late.DeliveryOrderID = "O1-4"
	if _, err := o.c.SendToSupplier(o.ctx, late); !httpapi.HasCode(err, pc.CodeIntercepted) {
		t.Fatalf("order after its interception: %v", err)
	}
	// A supplier that ships by itself after a delay is too late after it.
	o.start(sim.Config{SupplierShipDelay: 30 * time.Millisecond})
	quick := supplier
	quick.DeliveryOrderID = "O1-5"
	if _, err := o.c.SendToSupplier(o.ctx, quick); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := stop("O1-5"); !httpapi.HasCode(err, pc.CodeSupplierShipped) {
		t.Fatalf("after the ship delay: %v", err)
	}
}

// Releasing an interception gives a received delivery order back to its
// supplier's shipping (the admin can ship it again, an interception is
// needed to stop it again) and drops a tombstone, so the order's late
// hand-over is taken; a repeat answers the same receipt and changes
// nothing; releasing what was never intercepted changes nothing.
func TestSupplierInterceptionRelease(t *testing.T) {
	o := newOutside(t, sim.Config{})
	in := func(id string) pc.SupplierInterception {
		return pc.SupplierInterception{DeliveryOrderID: id, Supplier: "farm-a", Reason: "customer cancel"}
	}
	if _, err := o.c.SendToSupplier(o.ctx, supplier); err != nil {
		t.Fatal(err)
	}
	if _, err := o.c.InterceptAtSupplier(o.ctx, in(supplier.DeliveryOrderID)); err != nil {
		t.Fatal(err)
	}
	r1, err := o.c.ReleaseAtSupplier(o.ctx, in(supplier.DeliveryOrderID))
	if err != nil || r1.ID == "" || r1.Duplicate {
		t.Fatalf("release: %+v %v", r1, err)
	}
	if r2, err := o.c.ReleaseAtSupplier(o.ctx, in(supplier.DeliveryOrderID)); err != nil || r2.ID != r1.ID || !r2.Duplicate {
		t.Fatalf("repeat: %+v %v", r2, err)
	}
	if st, _ := o.s.SupplierOrderState(o.ctx, supplier.DeliveryOrderID); st != "RECEIVED" {
		t.Fatalf("released order is %q, want RECEIVED", st)
	}
	if err := o.inv.Invoke(o.ctx, pc.DefaultAppID, http.MethodPost, "admin/suppliers/orders/"+supplier.DeliveryOrderID+"/ship", struct{}{}, nil); err != nil {
		t.Fatalf("ship after release: %v", err)
	}
	if st, _ := o.s.SupplierOrderState(o.ctx, supplier.DeliveryOrderID); st != "SHIPPED" {
		t.Fatalf("shipped order is %q", st)
	}
	// A tombstone released: the order arriving later is taken.
	if _, err := o.c.InterceptAtSupplier(o.ctx, in("O1-6")); err != nil {
		t.Fatal(err)
	}
	if _, err := o.c.ReleaseAtSupplier(o.ctx, in("O1-6")); err != nil {
		t.Fatal(err)
	}
	late := supplier
	late.DeliveryOrderID = "O1-6"
	if _, err := o.c.SendToSupplier(o.ctx, late); err != nil {
		t.Fatalf("order after its released tombstone: %v", err)
	}
	if st, _ := o.s.SupplierOrderState(o.ctx, "O1-6"); st != "RECEIVED" {
		t.Fatalf("late order is %q", st)
	}
	// Never intercepted: nothing changes.
	if _, err := o.c.ReleaseAtSupplier(o.ctx, in("O1-7")); err != nil {
		t.Fatal(err)
	}
	if st, _ := o.s.SupplierOrderState(o.ctx, "O1-7"); st != "" {
		t.Fatalf("release of an unknown order left %q", st)
	}
}
