package fulfillment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// fakeWorld stands in for partners, marketing, WMS and the catalog. Like
// the real systems it deduplicates by the caller's id: a repeated id gets
// the first answer and has no second effect. effects counts first calls
// per kind, calls every call; latency and failures are switchable.
type fakeWorld struct {
	mu      sync.Mutex
	seen    map[string]any
	effects map[string]int
	calls   map[string]int
	perID   map[string]int // calls per kind+id

	minLat, maxLat time.Duration
	fail           atomic.Value // map[string]bool: kind -> answer UNAVAILABLE
	fraud          map[string]string
	short          map[string]bool // SKUs short in ERP
	gifts          []marketingclient.GiftGrant
	products       map[string]inventoryclient.Product
}

func newWorld() *fakeWorld {
	w := &fakeWorld{seen: map[string]any{}, effects: map[string]int{}, calls: map[string]int{}, perID: map[string]int{},
		fraud: map[string]string{}, short: map[string]bool{}, products: map[string]inventoryclient.Product{}}
	w.fail.Store(map[string]bool{})
	return w
}

func (w *fakeWorld) setFail(kind string, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := map[string]bool{}
	for k, v := range w.fail.Load().(map[string]bool) {
		m[k] = v
	}
	m[kind] = on
	w.fail.Store(m)
}

func (w *fakeWorld) count(kind string) (effects, calls int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.effects[kind], w.calls[kind]
}

// do simulates one call: latency, switched failures, then dedup by id.
func (w *fakeWorld) do(ctx context.Context, kind, id string, first func() any) (any, error) {
	if w.maxLat > 0 {
		d := w.minLat + time.Duration(rand.Int64N(int64(w.maxLat-w.minLat)+1))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls[kind]++
	if w.fail.Load().(map[string]bool)[kind] {
		return nil, &httpapi.Problem{Status: http.StatusServiceUnavailable, Code: partnersclient.CodeUnavailable, Message: kind + " is down"}
	}
	key := kind + "|" + id
	w.perID[key]++
	if v, ok := w.seen[key]; ok {
		return v, nil
	}
	v := first()
	w.seen[key] = v
	w.effects[kind]++
	return v, nil
}

func (w *fakeWorld) SendSMS(ctx context.Context, m partnersclient.SMS) (partnersclient.Receipt, error) {
	v, err := w.do(ctx, "sms:"+m.Template, m.MessageID, func() any { return partnersclient.Receipt{ID: "sms-" + m.MessageID} })
	if err != nil {
		return partnersclient.Receipt{}, err
	}
	return v.(partnersclient.Receipt), nil
}

func (w *fakeWorld) SendPush(ctx context.Context, p partnersclient.Push) (partnersclient.Receipt, error) {
	v, err := w.do(ctx, "push:"+p.Channel, p.MessageID, func() any { return partnersclient.Receipt{ID: "push-" + p.MessageID} })
	if err != nil {
		return partnersclient.Receipt{}, err
	}
	return v.(partnersclient.Receipt), nil
}

func (w *fakeWorld) PushVoucher(ctx context.Context, x partnersclient.Voucher) (partnersclient.Receipt, error) {
	v, err := w.do(ctx, "voucher", x.VoucherID, func() any { return partnersclient.Receipt{ID: "v-" + x.VoucherID} })
	if err != nil {
		return partnersclient.Receipt{}, err
	}
	return v.(partnersclient.Receipt), nil
}

func (w *fakeWorld) ScoreFraud(ctx context.Context, f partnersclient.FraudRequest) (partnersclient.FraudVerdict, error) {
	v, err := w.do(ctx, "fraud", f.OrderID, func() any {
		d := w.fraud[f.CustomerID]
		if d == "" {
			d = partnersclient.FraudAccept
		}
		return partnersclient.FraudVerdict{Score: 10, Decision: d}
	})
	if err != nil {
		return partnersclient.FraudVerdict{}, err
	}
	return v.(partnersclient.FraudVerdict), nil
}

func (w *fakeWorld) PushPresale(ctx context.Context, p partnersclient.PresaleOrder) (partnersclient.Receipt, error) {
	v, err := w.do(ctx, "presale", p.OrderID, func() any { return partnersclient.Receipt{ID: "p-" + p.OrderID} })
	if err != nil {
		return partnersclient.Receipt{}, err
	}
	return v.(partnersclient.Receipt), nil
}

func (w *fakeWorld) RequestWaybill(ctx context.Context, r partnersclient.WaybillRequest) (partnersclient.Waybill, error) {
	v, err := w.do(ctx, "waybill", r.DeliveryOrderID, func() any {
		return partnersclient.Waybill{Carrier: "SF", WaybillNo: fmt.Sprintf("SF%d", len(w.seen))}
	})
	if err != nil {
		return partnersclient.Waybill{}, err
	}
	return v.(partnersclient.Waybill), nil
}

func (w *fakeWorld) IssueInvoice(ctx context.Context, i partnersclient.InvoiceRequest) (partnersclient.Receipt, error) {
	v, err := w.do(ctx, "invoice", i.InvoiceID, func() any { return partnersclient.Receipt{ID: "i-" + i.InvoiceID} })
	if err != nil {
		return partnersclient.Receipt{}, err
	}
	return v.(partnersclient.Receipt), nil
}

func (w *fakeWorld) SendToSupplier(ctx context.Context, s partnersclient.SupplierOrder) (partnersclient.Receipt, error) {
	v, err := w.do(ctx, "supplier", s.DeliveryOrderID, func() any { return partnersclient.Receipt{ID: "s-" + s.DeliveryOrderID} })
	if err != nil {
		return partnersclient.Receipt{}, err
	}
	return v.(partnersclient.Receipt), nil
}

func (w *fakeWorld) GiftsFor(ctx context.Context, q marketingclient.GiftQuery) ([]marketingclient.GiftGrant, error) {
	v, err := w.do(ctx, "gifts", q.OrderID, func() any {
		if q.GoodsFen >= 10000 {
			return w.gifts
		}
		return []marketingclient.GiftGrant(nil)
	})
	if err != nil {
		return nil, err
	}
	return v.([]marketingclient.GiftGrant), nil
}

func (w *fakeWorld) OccupyStock(ctx context.Context, r wmsclient.OccupyRequest) (wmsclient.Occupation, error) {
	for _, l := range r.Lines {
		if w.short[l.SKU] {
			return wmsclient.Occupation{}, &httpapi.Problem{Status: http.StatusConflict, Code: wmsclient.CodeStockShort, Message: "short " + l.SKU}
		}
	}
	v, err := w.do(ctx, "occupy", r.DeliveryOrderID, func() any {
		return wmsclient.Occupation{DeliveryOrderID: r.DeliveryOrderID, Status: "OCCUPIED"}
	})
	if err != nil {
		return wmsclient.Occupation{}, err
	}
	return v.(wmsclient.Occupation), nil
}

func (w *fakeWorld) Dispatch(ctx context.Context, r wmsclient.DispatchRequest) (wmsclient.Receipt, error) {
	v, err := w.do(ctx, "dispatch", r.DeliveryOrderID, func() any { return wmsclient.Receipt{WMSOrderID: "wms-" + r.DeliveryOrderID} })
	if err != nil {
		return wmsclient.Receipt{}, err
	}
	return v.(wmsclient.Receipt), nil
}

func (w *fakeWorld) CatalogEntries(ctx context.Context, skus []string) ([]inventoryclient.Product, error) {
	v, err := w.do(ctx, "catalog", fmt.Sprint(rand.Int64()), func() any {
		out := make([]inventoryclient.Product, 0, len(skus))
		for _, s := range skus {
			if p, ok := w.products[s]; ok {
				out = append(out, p)
			}
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	return v.([]inventoryclient.Product), nil
}
