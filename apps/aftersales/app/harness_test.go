package app_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/store"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// fakeOMS holds orders with their fulfillment the way OMS answers: a
// pause holds the order and lists what reached a warehouse; a cancel of
// a paused order cancels it once (and, like PAY on oms.order.cancelled,
// refunds the order's trade in full and reverses its deductions).
type fakeOMS struct {
	mu       sync.Mutex
	orders   map[string]*omsclient.Order
	paused   map[string]bool
	reached  map[string][]string // delivery orders at a warehouse
	supplier map[string]string   // delivery order -> supplier
	started  map[string]bool     // in fulfillment
	cancels  int                 // effective cancels
	resumes  int
	pay      *fakePay
	// allocations are the orders' stage-5 allocations (returns).
	allocations map[string]omsclient.Allocation
}

func (f *fakeOMS) GetOrder(_ context.Context, id string) (omsclient.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return omsclient.Order{}, httpapi.Errorf(http.StatusNotFound, omsclient.CodeNotFound, "no order %s", id)
	}
	return *o, nil
}

func (f *fakeOMS) PauseFulfillment(_ context.Context, id string, r omsclient.PauseRequest) (omsclient.OrderPause, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.IdempotencyKey == "" || r.Reason == "" {
		return omsclient.OrderPause{}, httpapi.Errorf(http.StatusUnprocessableEntity, omsclient.CodeValidation, "key and reason")
	}
	if !f.started[id] {
		return omsclient.OrderPause{}, httpapi.Errorf(http.StatusNotFound, omsclient.CodeNoFulfillment, "not in fulfillment")
	}
	p := omsclient.OrderPause{OrderID: id, Paused: !f.paused[id], Dispatched: append([]string{}, f.reached[id]...)}
	p.Units = append(p.Units, omsclient.FulfillmentUnit{ID: id, State: omsclient.UnitSplit})
	for _, d := range f.reached[id] {
		p.Units = append(p.Units, omsclient.FulfillmentUnit{ID: d, ParentID: id, State: omsclient.UnitDone, Supplier: f.supplier[d]})
	}
	f.paused[id] = true
	return p, nil
}

func (f *fakeOMS) ResumeFulfillment(_ context.Context, id string, _ omsclient.ResumeRequest) (omsclient.ResumeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.paused[id] {
		return omsclient.ResumeResult{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeNotPaused, "not paused")
	}
	f.paused[id] = false
	f.resumes++
	return omsclient.ResumeResult{Resumed: 1}, nil
}

func (f *fakeOMS) CancelPaused(_ context.Context, id string, r omsclient.CancelPausedRequest) (omsclient.ReverseCancel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orders[id]
	if o.Status == omsclient.StatusCancelled {
		return omsclient.ReverseCancel{OrderID: id, Status: o.Status, Already: true}, nil
	}
	if f.started[id] && !f.paused[id] {
		return omsclient.ReverseCancel{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeNotPaused, "not paused")
	}
	for _, d := range f.reached[id] {
		ok := false
		for _, x := range r.Intercepted {
			ok = ok || x == d
		}
		if !ok {
			return omsclient.ReverseCancel{}, httpapi.Errorf(http.StatusConflict, omsclient.CodeReachedWarehouse, "%s at a warehouse", d)
		}
	}
	o.Status = omsclient.StatusCancelled
	f.cancels++
	f.pay.refundCancelled(*o)
	return omsclient.ReverseCancel{OrderID: id, Status: o.Status, CancelledUnits: 1}, nil
}

// fakePay holds one trade and deductions per order.
type fakePay struct {
	mu         sync.Mutex
	trades     map[string]*payclient.Trade
	deductions map[string]*payclient.Deduction
	refunds    int
	holdBack   bool // refunds not done yet
	// fullRefundStatus is where the channel has the full refund a cancel
	// makes (SUCCEEDED when empty); PAY reserves refunded_fen either way.
	fullRefundStatus string
	// returns' refunds: cash by idempotency key, non-cash by key
	cashRefunds map[string]*payclient.Refund
	nonCash     map[string]payclient.NonCashRefund
	refundCalls int
	retryCalls  int
}

func (p *fakePay) refundAll(orderID string) { p.refundCancelled(omsclient.Order{ID: orderID}) }

// refundCancelled is PAY on oms.order.cancelled: the order's trade and
// the trade OMS says paid it refunded in full, its deductions and those
// OMS names reversed.
func (p *fakePay) refundCancelled(o omsclient.Order) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holdBack {
		return
	}
	for _, t := range p.trades {
		if (t.OrderID == o.ID || o.TradeID != "" && t.ID == o.TradeID) && t.RefundedFen < t.PaidFen {
			status := p.fullRefundStatus
			if status == "" {
				status = payclient.RefundSucceeded
			}
			if p.cashRefunds == nil {
				p.cashRefunds = map[string]*payclient.Refund{}
			}
			p.cashRefunds["full-"+t.ID] = &payclient.Refund{ID: "RF-full-" + t.ID, TradeID: t.ID, OrderID: t.OrderID, AmountFen: t.PaidFen - t.RefundedFen,
				Reason: "order cancelled", Status: status}
			t.RefundedFen = t.PaidFen
			p.refunds++
		}
	}
	for _, d := range p.deductions {
		if d.OrderID == o.ID || slices.Contains(o.DeductionIDs, d.ID) {
			d.Status = payclient.DeductionReversed
		}
	}
}

// settleFull is the channel ending the order's full refund in status;
// a FAILED one gives its amount back to the trade, as PAY does.
func (p *fakePay) settleFull(orderID, status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.trades[orderID]
	f := p.cashRefunds["full-"+t.ID]
	f.Status = status
	if status == payclient.RefundFailed {
		t.RefundedFen -= f.AmountFen
	}
}

func (p *fakePay) TradesOfOrder(_ context.Context, orderID string) ([]payclient.Trade, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.trades[orderID]; t != nil {
		return []payclient.Trade{*t}, nil
	}
	return nil, nil
}

func (p *fakePay) TradesPaying(ctx context.Context, orderID, tradeID string) ([]payclient.Trade, error) {
	ts, _ := p.TradesOfOrder(ctx, orderID)
	if tradeID == "" || slices.ContainsFunc(ts, func(t payclient.Trade) bool { return t.ID == tradeID }) {
		return ts, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.trades {
		if t.ID == tradeID {
			ts = append(ts, *t)
		}
	}
	return ts, nil
}

func (p *fakePay) GetDeduction(_ context.Context, id string) (payclient.Deduction, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return *p.deductions[id], nil
}

// fakeWMS intercepts what it is asked, unless the order is too far along.
type fakeWMS struct {
	mu          sync.Mutex
	tooLate     map[string]bool
	intercepted map[string]int
	notices     map[string]int
}

// InterceptAll is WMS's all-or-none interception: one delivery order too
// late refuses the lot and none is intercepted.
func (w *fakeWMS) InterceptAll(_ context.Context, r wmsclient.InterceptAllRequest) (wmsclient.Interceptions, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range r.DeliveryOrderIDs {
		if w.tooLate[id] {
			return wmsclient.Interceptions{}, httpapi.Errorf(http.StatusConflict, wmsclient.CodeTooLate, "intercept %s: picked", id)
		}
	}
	var out wmsclient.Interceptions
	for _, id := range r.DeliveryOrderIDs {
		w.intercepted[id]++
		out.Interceptions = append(out.Interceptions, wmsclient.Interception{DeliveryOrderID: id, WMSOrderID: "W-" + id})
	}
	return out, nil
}

type env struct {
	svc    *app.Service
	st     *store.Store
	oms    *fakeOMS
	pay    *fakePay
	wms    *fakeWMS
	ptn    *fakePartners
	stock  *fakeStock
	cpn    *fakeCoupons
	filter *aftersalesclient.CancelFilter
	prefix string
}

func setup(t *testing.T, repo func(*store.Store) app.Repository) *env {
	t.Helper()
	db, _ := testdb.New(t, "aftersales")
	db.SetMaxOpenConns(16)
	rdb, prefix := testdb.Redis(t)
	pay := &fakePay{trades: map[string]*payclient.Trade{}, deductions: map[string]*payclient.Deduction{}}
	e := &env{st: store.New(db), pay: pay, prefix: prefix,
		oms: &fakeOMS{orders: map[string]*omsclient.Order{}, paused: map[string]bool{}, reached: map[string][]string{},
			supplier: map[string]string{}, started: map[string]bool{}, pay: pay, allocations: map[string]omsclient.Allocation{}},
		ptn:    &fakePartners{received: map[string]int{}, fail: map[string]int{}, refuse: map[string]bool{}, shipped: map[string]bool{}},
		stock:  &fakeStock{restored: map[string]int64{}, ids: map[string]int{}, products: map[string]inventoryclient.Product{}},
		cpn:    &fakeCoupons{unbinds: map[string]int{}},
		wms:    &fakeWMS{tooLate: map[string]bool{}, intercepted: map[string]int{}},
		filter: aftersalesclient.NewCancelFilter(rdb, prefix, aftersalesclient.WithLease(50*time.Millisecond))}
	var r app.Repository = e.st
	if repo != nil {
		r = repo(e.st)
	}
	e.svc = app.New(app.Deps{Repo: r, Orders: e.oms, Warehouse: e.wms, Payments: pay, Partners: e.ptn, Stock: e.stock, Coupons: e.cpn, Filter: e.filter})
	return e
}

// order adds a paid order of customer with a cash trade and one deduction.
func (e *env) order(id, customer, status string, cash, nonCash money.Fen) {
	e.oms.mu.Lock()
	e.oms.orders[id] = &omsclient.Order{ID: id, CustomerID: customer, Status: status, PaidFen: cash, DeductionIDs: []string{"D-" + id}}
	e.oms.started[id] = status == omsclient.StatusFulfilling || status == omsclient.StatusDispatched
	e.oms.mu.Unlock()
	e.pay.mu.Lock()
	e.pay.trades[id] = &payclient.Trade{ID: "T-" + id, OrderID: id, CustomerID: customer, Channel: "WECHAT", PaidFen: cash, Status: payclient.TradeSucceeded}
	e.pay.deductions["D-"+id] = &payclient.Deduction{ID: "D-" + id, OrderID: id, TotalFen: nonCash, Status: payclient.DeductionUsed}
	e.pay.mu.Unlock()
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
