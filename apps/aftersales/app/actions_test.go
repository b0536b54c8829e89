package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// fakeWallet is marketing's wallet: an AVAILABLE coupon of its customer
// goes UNBOUND (an unbound one answers the same), a used one is refused.
type fakeWallet struct {
	*fakeCoupons // the points coupons' unbinds (not used by the actions)
	mu           sync.Mutex
	coupons      map[string]*marketingclient.Coupon
	calls        int
}

func (w *fakeWallet) UnbindCoupon(_ context.Context, id string, r marketingclient.UnbindRequest) (marketingclient.Coupon, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	c, ok := w.coupons[id]
	switch {
	case !ok || c.CustomerID != r.CustomerID:
		return marketingclient.Coupon{}, httpapi.Errorf(http.StatusNotFound, marketingclient.CodeCouponNotFound, "no coupon %s", id)
	case c.Status == "UNBOUND":
	case c.Status != "AVAILABLE":
		return marketingclient.Coupon{}, httpapi.Errorf(http.StatusConflict, marketingclient.CodeCouponNotUsable, "coupon %s is %s", id, c.Status)
	}
	c.Status = "UNBOUND"
	return *c, nil
}

// fakeContacts is OMS's contact change: applied once per change id,
// refused once a delivery order was dispatched; down answers 503.
type fakeContacts struct {
	mu         sync.Mutex
	oms        *fakeOMS
	dispatched map[string]bool
	applied    map[string]int // change id -> times applied
	address    map[string]omsclient.Address
	sms        map[string][]string
	down       bool
}

func (f *fakeContacts) ChangeContact(ctx context.Context, orderID string, r omsclient.ContactChangeRequest) (omsclient.ContactChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return omsclient.ContactChange{}, httpapi.Errorf(http.StatusServiceUnavailable, "UNAVAILABLE", "oms is down")
	}
	o, err := f.oms.GetOrder(ctx, orderID)
	if err != nil {
		return omsclient.ContactChange{}, err
	}
	if r.Address != nil && f.dispatched[orderID] {
		return omsclient.ContactChange{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeOrderDispatched, "D1 reached WH-SH").
			With(map[string]any{"delivery_orders": []string{orderID + "-1"}})
	}
	if f.applied[r.ChangeID] == 0 {
		if r.Address != nil {
			f.address[orderID] = *r.Address
		}
		if r.SMSRecipients != nil {
			f.sms[orderID] = r.SMSRecipients
		}
	}
	f.applied[r.ChangeID]++
	o.SMSRecipients = f.sms[orderID]
	return omsclient.ContactChange{Order: o, Already: f.applied[r.ChangeID] > 1, Units: 2}, nil
}

// fakeInvoicing issues one invoice per id.
type fakeInvoicing struct {
	mu       sync.Mutex
	invoices map[string]partnersclient.InvoiceRequest
	calls    int
}

func (f *fakeInvoicing) IssueInvoice(_ context.Context, i partnersclient.InvoiceRequest) (partnersclient.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	_, dup := f.invoices[i.InvoiceID]
	f.invoices[i.InvoiceID] = i
	return partnersclient.Receipt{ID: "FP-" + i.InvoiceID, Duplicate: dup}, nil
}

type actionEnv struct {
	*env
	svc      *app.Service
	wallet   *fakeWallet
	contacts *fakeContacts
	invoices *fakeInvoicing
}

func setupActions(t *testing.T) *actionEnv {
	t.Helper()
	e := setup(t, nil)
	a := &actionEnv{env: e, wallet: &fakeWallet{fakeCoupons: &fakeCoupons{unbinds: map[string]int{}}, coupons: map[string]*marketingclient.Coupon{}},
		contacts: &fakeContacts{oms: e.oms, dispatched: map[string]bool{}, applied: map[string]int{}, address: map[string]omsclient.Address{},
			sms: map[string][]string{}},
		invoices: &fakeInvoicing{invoices: map[string]partnersclient.InvoiceRequest{}}}
	a.svc = app.New(app.Deps{Repo: e.st, Orders: e.oms, Warehouse: e.wms, Payments: e.pay, Partners: e.ptn, Stock: e.stock, Filter: e.filter,
		Actions: e.st, Coupons: a.wallet, Contacts: a.contacts, Invoicing: a.invoices})
	return a
}

func agent(kind domain.ActionKind, key string) domain.ActionInput {
	return domain.ActionInput{Kind: kind, Actor: "agent-1", ActorRole: "CS_AGENT", IdempotencyKey: key, Reason: "the customer called"}
}

func refusalCode(err error) string {
	var r *domain.Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

func (a *actionEnv) events(t *testing.T) int {
	return a.count(t, `SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicActionRecorded)
}

func TestUnbindCouponAction(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.wallet.coupons["CP1"] = &marketingclient.Coupon{ID: "CP1", CustomerID: "C1", Status: "AVAILABLE"}
	a.wallet.coupons["CP2"] = &marketingclient.Coupon{ID: "CP2", CustomerID: "C1", Status: "USED"}
	in := agent(domain.ActionUnbindCoupon, "k1")
	in.CouponID, in.CustomerID = "CP1", "C1"

	// Bad input: refused before anything is asked or written.
	for _, bad := range []func(*domain.ActionInput){
		func(i *domain.ActionInput) { i.Reason = "  " },
		func(i *domain.ActionInput) { i.CouponID = "" },
		func(i *domain.ActionInput) { i.IdempotencyKey = "" },
		func(i *domain.ActionInput) { i.Kind = "DELETE_ORDER" },
	} {
		b := in
		bad(&b)
		if _, err := a.svc.Act(ctx, b); !errors.Is(err, domain.ErrValidation) {
			t.Fatalf("%+v: %v, want ErrValidation", b, err)
		}
	}
	// A used coupon: the wallet's code, nothing kept, the coupon as it was.
	used := agent(domain.ActionUnbindCoupon, "k2")
	used.CouponID, used.CustomerID = "CP2", "C1"
	if _, err := a.svc.Act(ctx, used); refusalCode(err) != marketingclient.CodeCouponNotUsable {
		t.Fatalf("used coupon: %v", err)
	}
	if n := a.count(t, `SELECT COUNT(*) FROM actions`); n != 0 || a.wallet.coupons["CP2"].Status != "USED" || a.wallet.calls != 1 {
		t.Fatalf("after refusals: %d actions, CP2 %s, %d wallet calls", n, a.wallet.coupons["CP2"].Status, a.wallet.calls)
	}

	before := time.Now().UTC().Add(-time.Second)
	got, err := a.svc.Act(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.ActionDone || a.wallet.coupons["CP1"].Status != "UNBOUND" || !strings.Contains(got.Result, "UNBOUND") {
		t.Fatalf("unbind: %+v, coupon %s", got, a.wallet.coupons["CP1"].Status)
	}
	// Who, when, why: read back from the log.
	log, err := a.svc.Actions(ctx, app.ActionQuery{CustomerID: "C1"})
	if err != nil || len(log) != 1 {
		t.Fatalf("log: %v %d", err, len(log))
	}
	l := log[0]
	if l.Input.Actor != "agent-1" || l.Input.ActorRole != "CS_AGENT" || l.Input.Reason != "the customer called" ||
		l.CreatedAt.Before(before) || l.DoneAt.Before(l.CreatedAt) || l.ID != got.ID {
		t.Fatalf("logged %+v", l)
	}
	// The same key: the same action, the wallet not asked again; another
	// input under it: refused.
	again, err := a.svc.Act(ctx, in)
	if err != nil || again.ID != got.ID || a.wallet.calls != 2 {
		t.Fatalf("repeat: %v %s vs %s, %d calls", err, again.ID, got.ID, a.wallet.calls)
	}
	other := in
	other.CouponID = "CP3"
	if _, err := a.svc.Act(ctx, other); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("reused key: %v", err)
	}
	if n := a.events(t); n != 1 {
		t.Fatalf("%d action events, want 1", n)
	}
}

func TestConcurrentActionsOfOneKeyRecordOnce(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.order("O1", "C1", omsclient.StatusFulfilling, 1000, 0)
	in := agent(domain.ActionSetSMSRecipients, "k1")
	in.OrderID, in.SMSRecipients = "O1", []string{"13900139000", "13700137000"}
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			got, err := a.svc.Act(ctx, in)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = got.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids %v", ids)
		}
	}
	if n := a.count(t, `SELECT COUNT(*) FROM actions`); n != 1 || a.events(t) != 1 || len(a.contacts.applied) != 1 {
		t.Fatalf("%d actions, %d events, %d changes", n, a.events(t), len(a.contacts.applied))
	}
	if got := a.contacts.sms["O1"]; len(got) != 2 {
		t.Fatalf("SMS recipients %v", got)
	}
}

func TestChangeAddressRefusedOnceDispatched(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.order("O1", "C1", omsclient.StatusFulfilling, 1000, 0)
	a.order("O2", "C2", omsclient.StatusDispatched, 1000, 0)
	a.contacts.dispatched["O2"] = true
	addr := &domain.Address{Name: "Han Meimei", Phone: "13900139000", Province: "Shanghai", City: "Shanghai", District: "Xuhui", Detail: "2 Tianyaoqiao Rd"}
	in := agent(domain.ActionChangeAddress, "k1")
	in.OrderID = "O2"
	if _, err := a.svc.Act(ctx, in); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("no address: %v", err)
	}
	in.Address = addr
	_, err := a.svc.Act(ctx, in)
	var ref *domain.Refusal
	if !errors.As(err, &ref) || ref.Code != omsclient.CodeOrderDispatched || ref.Details["delivery_orders"] == nil {
		t.Fatalf("dispatched: %v", err)
	}
	if n := a.count(t, `SELECT COUNT(*) FROM actions`); n != 0 || len(a.contacts.address) != 0 {
		t.Fatalf("after the refusal: %d actions, %d addresses", n, len(a.contacts.address))
	}
	in = agent(domain.ActionChangeAddress, "k2")
	in.OrderID, in.Address = "O1", addr
	got, err := a.svc.Act(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerID != "C1" || a.contacts.address["O1"].District != "Xuhui" || a.contacts.applied[got.ID] != 1 {
		t.Fatalf("changed: %+v, %v", got, a.contacts.address["O1"])
	}
	story, _ := a.svc.Actions(ctx, app.ActionQuery{OrderID: "O1"})
	if len(story) != 1 || story[0].Input.Address.District != "Xuhui" {
		t.Fatalf("order's actions %+v", story)
	}
}

func TestPendingActionCarriedOnBySweep(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.order("O1", "C1", omsclient.StatusFulfilling, 1000, 0)
	a.contacts.down = true
	in := agent(domain.ActionSetSMSRecipients, "k1")
	in.OrderID, in.SMSRecipients = "O1", []string{"13900139000"}
	if _, err := a.svc.Act(ctx, in); err == nil || refusalCode(err) != "" {
		t.Fatalf("OMS down: %v, want a plain error", err)
	}
	if n := a.count(t, `SELECT COUNT(*) FROM actions WHERE status='PENDING'`); n != 1 {
		t.Fatalf("%d pending", n)
	}
	a.contacts.down = false
	if n := a.svc.SweepActions(ctx, -time.Second); n != 1 {
		t.Fatalf("swept %d", n)
	}
	if n := a.count(t, `SELECT COUNT(*) FROM actions WHERE status='DONE'`); n != 1 || a.events(t) != 1 {
		t.Fatalf("%d done, %d events", n, a.events(t))
	}
	// The author's repeat afterwards finds it DONE; OMS applied it once.
	got, err := a.svc.Act(ctx, in)
	if err != nil || got.Status != domain.ActionDone || len(a.contacts.applied) != 1 {
		t.Fatalf("repeat: %v %+v %v", err, got, a.contacts.applied)
	}
}

func TestReissueInvoiceAction(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.delivered("O1", "C1")
	a.order("O0", "C1", omsclient.StatusPendingPayment, 1000, 0)
	in := agent(domain.ActionReissueInvoice, "k1")
	in.OrderID = "O1"
	if _, err := a.svc.Act(ctx, in); refusalCode(err) != app.RefusedNoInvoiceTitle {
		t.Fatalf("no title: %v", err)
	}
	unpaid := agent(domain.ActionReissueInvoice, "k0")
	unpaid.OrderID, unpaid.InvoiceTitle = "O0", "ACME Ltd"
	if _, err := a.svc.Act(ctx, unpaid); refusalCode(err) != app.RefusedNotInvoiceable {
		t.Fatalf("unpaid: %v", err)
	}
	if a.invoices.calls != 0 || a.count(t, `SELECT COUNT(*) FROM actions`) != 0 {
		t.Fatalf("refusals reached the invoicing system (%d) or the log", a.invoices.calls)
	}
	a.stock.mu.Lock()
	a.stock.products["A"] = inventoryclient.Product{SKU: "A", TaxRateBP: 900}
	a.stock.products["B"] = inventoryclient.Product{SKU: "B", TaxRateBP: 1300}
	a.stock.mu.Unlock()
	in.IdempotencyKey, in.InvoiceTitle = "k2", "ACME Ltd"
	got, err := a.svc.Act(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	inv, ok := a.invoices.invoices[got.ID]
	if !ok || inv.Title != "ACME Ltd" || len(inv.Lines) != 2 || inv.Lines[0].AmountFen != 3600 || !strings.Contains(got.Result, "FP-"+got.ID) ||
		inv.Lines[0].TaxRateBP != 900 || inv.Lines[1].TaxRateBP != 1300 {
		t.Fatalf("invoice %+v, result %q", inv, got.Result)
	}
	if _, err := a.svc.Act(ctx, in); err != nil || a.invoices.calls != 1 {
		t.Fatalf("repeat: %v, %d invoices issued", err, a.invoices.calls)
	}
}

func TestMarkMaliciousRefusesReturns(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.delivered("O1", "C1")
	in := agent(domain.ActionMarkMalicious, "k1")
	in.OrderID, in.Reason = "O1", "fifth refund-only claim this month"
	got, err := a.svc.Act(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.svc.Malicious(ctx, "O1")
	if err != nil || m == nil || m.ActionID != got.ID || m.By != "agent-1" || m.Reason != in.Reason {
		t.Fatalf("mark %+v %v", m, err)
	}
	if _, err := a.svc.Return(ctx, ret("O1", "C1", "r1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1})); !errors.Is(err, domain.ErrMarkedMalicious) {
		t.Fatalf("return of a malicious order: %v", err)
	}
	if n := a.count(t, `SELECT COUNT(*) FROM requests`); n != 0 {
		t.Fatalf("%d requests written", n)
	}
	missing := agent(domain.ActionMarkMalicious, "k2")
	missing.OrderID = "NOPE"
	if _, err := a.svc.Act(ctx, missing); refusalCode(err) != omsclient.CodeNotFound {
		t.Fatalf("unknown order: %v", err)
	}
}

func TestReviews(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.delivered("O1", "C1")
	a.order("O2", "C1", omsclient.StatusFulfilling, 1000, 0)
	cases := []struct {
		order, customer string
		rating          int
		text            string
		want            error
	}{
		{"O1", "C1", 0, "fine", domain.ErrValidation},
		{"O1", "C1", 6, "fine", domain.ErrValidation},
		{"O1", "C1", 4, " ", domain.ErrValidation},
		{"O1", "C2", 4, "fine", domain.ErrNotFound},
		{"O2", "C1", 4, "fine", domain.ErrNotReviewable},
		{"NOPE", "C1", 4, "fine", domain.ErrNotFound},
	}
	for _, c := range cases {
		if _, err := a.svc.Review(ctx, c.order, c.customer, c.rating, c.text); !errors.Is(err, c.want) {
			t.Fatalf("%+v: %v", c, err)
		}
	}
	if n := a.count(t, `SELECT COUNT(*) FROM reviews`); n != 0 {
		t.Fatalf("%d reviews after refusals", n)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := a.svc.Review(ctx, "O1", "C1", 5, "crisp lettuce, cold milk"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := a.svc.Review(ctx, "O1", "C1", 1, "changed my mind"); !errors.Is(err, domain.ErrAlreadyReviewed) {
		t.Fatalf("second review: %v", err)
	}
	rs, err := a.svc.Reviews(ctx, app.ReviewQuery{OrderID: "O1"})
	if err != nil || len(rs) != 1 || rs[0].Rating != 5 || rs[0].CustomerID != "C1" {
		t.Fatalf("reviews %+v %v", rs, err)
	}
}

// A cancel whose full refund the channel failed after PAY's own retries
// waits for customer service (PUSH_FAILED); their RETRY_REFUND action
// has PAY send the trade's money again once, and the request ends
// REFUNDED with exactly what was paid. The same key again is the same
// retry; another key finds nothing to retry; an order without a failed
// refund is refused with NOTHING_TO_RETRY and nothing logged.
func TestRetryRefundActionBringsAFailedCancelRefundBackOnce(t *testing.T) {
	a := setupActions(t)
	ctx := context.Background()
	a.order("O2", "C1", omsclient.StatusPaid, 100, 0)
	r := a.cancelWithFailedRefund(t, a.svc, "O1")
	early := agent(domain.ActionRetryRefund, "r0")
	early.OrderID = "O2"
	if _, err := a.svc.Act(ctx, early); refusalCode(err) != app.RefusedNothingToRetry {
		t.Fatalf("retry of an order without a failed refund: %v", err)
	}
	if n := a.count(t, `SELECT COUNT(*) FROM actions`); n != 0 {
		t.Fatalf("%d actions logged by a refusal", n)
	}
	retry := agent(domain.ActionRetryRefund, "r1")
	retry.OrderID = "O1"
	got, err := a.svc.Act(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.ActionDone || got.CustomerID != "C1" || !strings.Contains(got.Result, "RF-full-T-O1") {
		t.Fatalf("action %+v", got)
	}
	if again, err := a.svc.Act(ctx, retry); err != nil || again.ID != got.ID || a.pay.retryCalls != 1 {
		t.Fatalf("the same key again: %v, %d calls to PAY", err, a.pay.retryCalls)
	}
	other := agent(domain.ActionRetryRefund, "r2")
	other.OrderID = "O1"
	if _, err := a.svc.Act(ctx, other); refusalCode(err) != app.RefusedNothingToRetry {
		t.Fatalf("a second retry while the first is under way: %v", err)
	}
	a.pay.settleRetries()
	if err := a.svc.Process(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
	done, _ := a.svc.Request(ctx, "C1", r.ID())
	if done.Status() != domain.StatusRefunded || done.RefundedFen() != 100 {
		t.Fatalf("request %s refunded %s after the retry", done.Status(), done.RefundedFen())
	}
}
