package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// GetAllocation answers the allocation a test set for the order, else
// the order with no lines.
func (f *fakeOMS) GetAllocation(_ context.Context, id string) (omsclient.Allocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return omsclient.Allocation{}, httpapi.Errorf(http.StatusNotFound, omsclient.CodeNotFound, "no order %s", id)
	}
	if a, ok := f.allocations[id]; ok {
		a.Status = o.Status
		return a, nil
	}
	return omsclient.Allocation{OrderID: id, CustomerID: o.CustomerID, Status: o.Status, PaidFen: o.PaidFen}, nil
}

// NoticeReturn records a notice once by its id, as WMS does.
func (w *fakeWMS) NoticeReturn(_ context.Context, n wmsclient.ReturnNotice) (wmsclient.ReturnReceipt, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.notices == nil {
		w.notices = map[string]int{}
	}
	w.notices[n.NoticeID]++
	return wmsclient.ReturnReceipt{NoticeID: n.NoticeID, Status: "EXPECTED", Duplicate: w.notices[n.NoticeID] > 1}, nil
}

// RequestRefund is PAY's audited refund: one refund per key (the same
// key answers the first), never above the trade's paid amount counting
// earlier refunds (CodeRefundTooLarge), PENDING_AUDIT until approved.
func (p *fakePay) RequestRefund(_ context.Context, r payclient.RefundRequest) (payclient.Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cashRefunds == nil {
		p.cashRefunds = map[string]*payclient.Refund{}
	}
	p.refundCalls++
	if f, ok := p.cashRefunds[r.IdempotencyKey]; ok {
		return *f, nil
	}
	var t *payclient.Trade
	for _, x := range p.trades {
		if x.ID == r.TradeID {
			t = x
		}
	}
	if t == nil {
		return payclient.Refund{}, httpapi.Errorf(http.StatusNotFound, payclient.CodeNotFound, "no trade %s", r.TradeID)
	}
	var earlier money.Fen
	for _, f := range p.cashRefunds {
		if f.TradeID == t.ID && f.Status != payclient.RefundRejected {
			earlier += f.AmountFen
		}
	}
	if earlier+r.AmountFen > t.PaidFen {
		return payclient.Refund{}, httpapi.Errorf(http.StatusConflict, payclient.CodeRefundTooLarge, "above paid")
	}
	f := &payclient.Refund{ID: fmt.Sprintf("RF-%d", len(p.cashRefunds)+1), TradeID: t.ID, OrderID: t.OrderID, AmountFen: r.AmountFen,
		Reason: r.Reason, Status: payclient.RefundPendingAudit}
	p.cashRefunds[r.IdempotencyKey] = f
	return *f, nil
}

func (p *fakePay) RefundsOfTrade(_ context.Context, tradeID string) ([]payclient.Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []payclient.Refund
	for _, f := range p.cashRefunds {
		if f.TradeID == tradeID {
			out = append(out, *f)
		}
	}
	return out, nil
}

// approveAll is finance approving every refund and the channel paying it.
func (p *fakePay) approveAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.cashRefunds {
		if f.Status == payclient.RefundPendingAudit {
			f.Status = payclient.RefundSucceeded
			for _, t := range p.trades {
				if t.ID == f.TradeID {
					t.RefundedFen += f.AmountFen
				}
			}
		}
	}
}

func (p *fakePay) RefundNonCash(_ context.Context, r payclient.NonCashRefundRequest) (payclient.NonCashRefund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nonCash == nil {
		p.nonCash = map[string]payclient.NonCashRefund{}
	}
	if f, ok := p.nonCash[r.IdempotencyKey]; ok {
		return f, nil
	}
	f := payclient.NonCashRefund{ID: fmt.Sprintf("NR-%d", len(p.nonCash)+1), OrderID: r.OrderID, AmountFen: r.AmountFen, BalanceFen: r.AmountFen}
	p.nonCash[r.IdempotencyKey] = f
	return f, nil
}

// fakePartners records each outside push once by its id.
type fakePartners struct {
	mu       sync.Mutex
	received map[string]int // api + id -> deliveries
	failTMS  int            // fail the next n pickups
	// fail fails the next n calls of an API (503, retried); refuse
	// refuses every call of an API (400 REJECTED, for good); shipped
	// are the drop-ship delivery orders their supplier shipped.
	fail    map[string]int
	refuse  map[string]bool
	shipped map[string]bool
	bodies  map[string]any // api + id -> the first body
	// stopped are the drop-ship delivery orders intercepted at their
	// supplier and not released.
	stopped map[string]bool
}

// gate applies the switches of api: false with the error to answer.
func (f *fakePartners) gate(api string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse[api] {
		return httpapi.Errorf(http.StatusBadRequest, partnersclient.CodeRejected, "%s refuses it", api)
	}
	if f.fail[api] > 0 {
		f.fail[api]--
		return httpapi.Errorf(http.StatusServiceUnavailable, partnersclient.CodeUnavailable, "%s down", api)
	}
	return nil
}

func (f *fakePartners) takeBody(api, id string, body any) (partnersclient.Receipt, error) {
	if err := f.gate(api); err != nil {
		return partnersclient.Receipt{}, err
	}
	f.mu.Lock()
	if f.bodies == nil {
		f.bodies = map[string]any{}
	}
	if _, ok := f.bodies[api+" "+id]; !ok {
		f.bodies[api+" "+id] = body
	}
	f.mu.Unlock()
	return f.take(api, id), nil
}

func (f *fakePartners) body(api, id string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[api+" "+id]
}

func (f *fakePartners) PushSettlement(_ context.Context, v partnersclient.Settlement) (partnersclient.Receipt, error) {
	return f.takeBody("fms.settlements", v.SettlementID, v)
}

func (f *fakePartners) UpdatePresaleStock(_ context.Context, u partnersclient.PresaleStockUpdate) (partnersclient.Receipt, error) {
	return f.takeBody("presale.sellable_stock", u.UpdateID, u)
}

func (f *fakePartners) ReturnToSupplier(_ context.Context, p partnersclient.PurchaseReturn) (partnersclient.Receipt, error) {
	return f.takeBody("suppliers.purchase_returns", p.ReturnID, p)
}

func (f *fakePartners) InterceptAtSupplier(_ context.Context, i partnersclient.SupplierInterception) (partnersclient.Receipt, error) {
	if err := f.gate("suppliers.interceptions"); err != nil {
		return partnersclient.Receipt{}, err
	}
	f.mu.Lock()
	shipped := f.shipped[i.DeliveryOrderID]
	f.mu.Unlock()
	if shipped {
		return partnersclient.Receipt{}, httpapi.Errorf(http.StatusConflict, partnersclient.CodeSupplierShipped, "shipped")
	}
	f.mu.Lock()
	if f.stopped == nil {
		f.stopped = map[string]bool{}
	}
	f.stopped[i.DeliveryOrderID] = true
	f.mu.Unlock()
	return f.take("suppliers.interceptions", i.DeliveryOrderID), nil
}

// ReleaseAtSupplier lifts a supplier's interception (a repeat is harmless).
func (f *fakePartners) ReleaseAtSupplier(_ context.Context, i partnersclient.SupplierInterception) (partnersclient.Receipt, error) {
	if err := f.gate("suppliers.interception_releases"); err != nil {
		return partnersclient.Receipt{}, err
	}
	f.mu.Lock()
	delete(f.stopped, i.DeliveryOrderID)
	f.mu.Unlock()
	return f.take("suppliers.interception_releases", i.DeliveryOrderID), nil
}

func (f *fakePartners) take(api, id string) partnersclient.Receipt {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received[api+" "+id]++
	return partnersclient.Receipt{ID: "P-" + id, Duplicate: f.received[api+" "+id] > 1}
}

func (f *fakePartners) RequestPickup(_ context.Context, p partnersclient.PickupRequest) (partnersclient.Receipt, error) {
	f.mu.Lock()
	if f.failTMS > 0 {
		f.failTMS--
		f.mu.Unlock()
		return partnersclient.Receipt{}, httpapi.Errorf(http.StatusServiceUnavailable, partnersclient.CodeUnavailable, "tms down")
	}
	f.mu.Unlock()
	return f.take("tms.pickups", p.PickupID), nil
}

func (f *fakePartners) PushRefundVoucher(_ context.Context, v partnersclient.RefundVoucher) (partnersclient.Receipt, error) {
	return f.take("fms.refund_vouchers", v.VoucherID), nil
}

func (f *fakePartners) SendPush(_ context.Context, p partnersclient.Push) (partnersclient.Receipt, error) {
	return f.take("push.messages", p.MessageID), nil
}

func (f *fakePartners) count(api string) (ids, deliveries int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, n := range f.received {
		if len(k) > len(api) && k[:len(api)+1] == api+" " {
			ids++
			deliveries += n
		}
	}
	return ids, deliveries
}

// fakeStock records restores once by id, refusing the SKU "HOT" as
// inventory refuses hot SKUs.
type fakeStock struct {
	mu       sync.Mutex
	restored map[string]int64 // sku -> units
	ids      map[string]int
	products map[string]inventoryclient.Product // catalog entries; others: own stock, not presale
}

func (f *fakeStock) CatalogEntries(_ context.Context, skus []string) ([]inventoryclient.Product, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]inventoryclient.Product, 0, len(skus))
	for _, s := range skus {
		p, ok := f.products[s]
		if !ok {
			p = inventoryclient.Product{SKU: s}
		}
		out = append(out, p)
	}
	return out, nil
}

func (f *fakeStock) RestoreStock(_ context.Context, r inventoryclient.RestoreRequest) (inventoryclient.Restore, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range r.Lines {
		if l.SKU == "HOT" {
			return inventoryclient.Restore{}, httpapi.Errorf(http.StatusUnprocessableEntity, inventoryclient.CodeHotRestore, "hot")
		}
	}
	f.ids[r.RestoreID]++
	if f.ids[r.RestoreID] > 1 {
		return inventoryclient.Restore{RestoreID: r.RestoreID, Duplicate: true}, nil
	}
	for _, l := range r.Lines {
		f.restored[l.SKU] += l.Qty
	}
	return inventoryclient.Restore{RestoreID: r.RestoreID}, nil
}

// fakeCoupons is marketing's wallet: unbinds once by id, with switches.
type fakeCoupons struct {
	mu      sync.Mutex
	unbinds map[string]int // unbind id -> deliveries
	fail    int
	refuse  bool
}

// UnbindCoupon is customer service's unbind, which the reverse flow
// never asks for.
func (f *fakeCoupons) UnbindCoupon(context.Context, string, marketingclient.UnbindRequest) (marketingclient.Coupon, error) {
	return marketingclient.Coupon{}, httpapi.Errorf(http.StatusServiceUnavailable, "UNAVAILABLE", "the reverse flow unbinds no customer coupon")
}

func (f *fakeCoupons) UnbindPointsCoupons(_ context.Context, r marketingclient.PointsCouponUnbindRequest) (marketingclient.PointsCouponUnbind, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse {
		return marketingclient.PointsCouponUnbind{}, httpapi.Errorf(http.StatusUnprocessableEntity, marketingclient.CodeValidation, "bad customer")
	}
	if f.fail > 0 {
		f.fail--
		return marketingclient.PointsCouponUnbind{}, httpapi.Errorf(http.StatusServiceUnavailable, "UNAVAILABLE", "marketing down")
	}
	f.unbinds[r.UnbindID]++
	return marketingclient.PointsCouponUnbind{UnbindID: r.UnbindID, OrderID: r.OrderID, Unbound: []string{"CP1"}, Duplicate: f.unbinds[r.UnbindID] > 1}, nil
}

// RetryRefund is PAY's retry by hand of a failed automatic refund: once
// per key, of whatever the trade still holds, PROCESSING at the channel
// (settleRetry ends it); NOTHING_TO_RETRY when the refund did not fail
// or the trade holds nothing more.
func (p *fakePay) RetryRefund(_ context.Context, failedID string, r payclient.RetryRefundRequest) (payclient.Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retryCalls++
	if f, ok := p.cashRefunds["retry-"+r.IdempotencyKey]; ok {
		return *f, nil
	}
	var failed *payclient.Refund
	for _, f := range p.cashRefunds {
		if f.ID == failedID {
			failed = f
		}
	}
	if failed == nil || failed.Status != payclient.RefundFailed {
		return payclient.Refund{}, httpapi.Errorf(http.StatusConflict, payclient.CodeNothingToRetry, "refund %s did not fail", failedID)
	}
	for _, t := range p.trades {
		if t.ID == failed.TradeID && t.RefundedFen < t.PaidFen {
			f := &payclient.Refund{ID: "RF-retry-" + r.IdempotencyKey, TradeID: t.ID, OrderID: t.OrderID, AmountFen: t.PaidFen - t.RefundedFen,
				Reason: failed.Reason, Status: payclient.RefundProcessing}
			t.RefundedFen = t.PaidFen
			p.cashRefunds["retry-"+r.IdempotencyKey] = f
			return *f, nil
		}
	}
	return payclient.Refund{}, httpapi.Errorf(http.StatusConflict, payclient.CodeNothingToRetry, "trade holds nothing more")
}

// settleRetries is the channel paying every retried refund back.
func (p *fakePay) settleRetries() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.cashRefunds {
		if strings.HasPrefix(f.ID, "RF-retry-") && f.Status == payclient.RefundProcessing {
			f.Status = payclient.RefundSucceeded
		}
	}
}
