// Package stages holds the fulfillment pipeline of DOMAIN 1.6: each stage
// is one definition in a file of its own (its name, kind, concurrency,
// whether it reaches a partner or is effect-free, the units it applies to
// and its function), and Pipeline lists them in order. Stage functions
// work on the unit's document (Doc) and return an outcome with the effects
// to commit; the runner (package runner) runs them and package
// fulfillment commits their effects.
package stages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Pipeline is the order of the stages. Adding a stage is a file with its
// definition and a line here.
func Pipeline(p *Ports) []Stage {
	return []Stage{
		initialStage(p),
		exceptionCheckStage(p),
		giftsStage(p),
		fillStage(p),
		allocationStage(p),
		paymentVoucherStage(p),
		splitStage(p),
		fraudAuditStage(p),
		presalePushStage(p),
		effectiveTimeStage(p),
		waybillStage(p),
		erpStockStage(p),
		warehouseThrottleStage(p),
		reissueSmsStage(p),
		invoiceStage(p),
		dispatchStage(p),
	}
}

// Numbered are the stages as rows stored them by number before stages
// were stored by name (migration 00005); frozen, never to grow.
var Numbered = []string{"initial", "exception_check", "gifts", "fill", "allocation", "payment_voucher", "split", "fraud_audit",
	"presale_push", "effective_time", "waybill", "erp_stock", "warehouse_throttle", "reissue_sms", "invoice", "dispatch"}

// Unit, Stage and Outcome are the runner's, over this pipeline's document.
type (
	Unit    = runner.Unit[Doc]
	Stage   = runner.Stage[Doc]
	Outcome = runner.Outcome
)

// Next, Pause, Fail and Retry are the runner's outcomes.
var (
	Next  = runner.Next
	Pause = runner.Pause
	Fail  = runner.Fail
	Retry = runner.Retry
)

// Partners is what fulfillment calls outside the company;
// *partnersclient.Client satisfies it. Every call is idempotent by its id.
type Partners interface {
	SendSMS(ctx context.Context, m partnersclient.SMS) (partnersclient.Receipt, error)
	SendPush(ctx context.Context, p partnersclient.Push) (partnersclient.Receipt, error)
	PushVoucher(ctx context.Context, v partnersclient.Voucher) (partnersclient.Receipt, error)
	ScoreFraud(ctx context.Context, f partnersclient.FraudRequest) (partnersclient.FraudVerdict, error)
	PushPresale(ctx context.Context, p partnersclient.PresaleOrder) (partnersclient.Receipt, error)
	RequestWaybill(ctx context.Context, w partnersclient.WaybillRequest) (partnersclient.Waybill, error)
	IssueInvoice(ctx context.Context, i partnersclient.InvoiceRequest) (partnersclient.Receipt, error)
	SendToSupplier(ctx context.Context, s partnersclient.SupplierOrder) (partnersclient.Receipt, error)
}

// Gifts is marketing's goods-gift evaluation; *marketingclient.Client
// satisfies it. Grants are idempotent per (campaign, order).
type Gifts interface {
	GiftsFor(ctx context.Context, q marketingclient.GiftQuery) ([]marketingclient.GiftGrant, error)
}

// Warehouse is WMS; *wmsclient.Client satisfies it. Idempotent by
// delivery order id.
type Warehouse interface {
	OccupyStock(ctx context.Context, r wmsclient.OccupyRequest) (wmsclient.Occupation, error)
	Dispatch(ctx context.Context, r wmsclient.DispatchRequest) (wmsclient.Receipt, error)
}

// Catalog is the product center; *inventoryclient.Client satisfies it.
type Catalog interface {
	CatalogEntries(ctx context.Context, skus []string) ([]inventoryclient.Product, error)
}

// Capacity takes one unit of a warehouse's capacity of a day for a
// delivery order, or finds the grant it took before; false: the day is full.
type Capacity interface {
	Take(ctx context.Context, unitID, warehouse, day string, now time.Time) (bool, error)
}

var (
	_ Partners  = (*partnersclient.Client)(nil)
	_ Gifts     = (*marketingclient.Client)(nil)
	_ Warehouse = (*wmsclient.Client)(nil)
	_ Catalog   = (*inventoryclient.Client)(nil)
)

// Ports are what the stages reach.
type Ports struct {
	Partners        Partners
	Gifts           Gifts
	Warehouse       Warehouse
	Catalog         Catalog
	Capacity        Capacity
	Clock           clock.Clock
	ServedProvinces []string // empty: all
	// Backoff is the delay before a stage's next attempt.
	Backoff func(attempts int) time.Duration
}

// failure turns a partner error into an outcome: a refusal (a 4xx
// Problem other than "unavailable") goes to the exception queue, anything
// else (timeouts, 5xx, a partner switched off) is passing: retry with
// backoff, and count against the stage's breaker.
func (p *Ports) failure(u *Unit, what string, err error) Outcome {
	var pr *httpapi.Problem
	if errors.As(err, &pr) && pr.Status >= 400 && pr.Status < 500 && pr.Code != partnersclient.CodeUnavailable &&
		pr.Status != http.StatusTooManyRequests && pr.Status != http.StatusRequestTimeout {
		return Fail("PARTNER_REJECTED", fmt.Sprintf("%s: %v", what, err))
	}
	o := Retry(p.Backoff(u.Attempts), "PARTNER_UNAVAILABLE", fmt.Sprintf("%s: %v", what, err))
	o.Passing = true
	return o
}

// once runs an effect unless the document records it under id already;
// the partner deduplicates id too, for a crash between call and commit.
func once(u *Unit, id string, call func() (string, error)) error {
	if u.Doc.Receipts == nil {
		u.Doc.Receipts = map[string]string{}
	}
	if _, done := u.Doc.Receipts[id]; done {
		return nil
	}
	r, err := call()
	if err != nil {
		return err
	}
	u.Doc.Receipts[id] = r
	return nil
}

func fen(f money.Fen) string { return f.String() }

func addressLine(a domain.Address) string {
	return a.Province + a.City + a.District + a.Detail
}

func deliveryLabel(d domain.Delivery) string {
	if d.DropShip {
		return "drop-ship by " + d.Supplier + " on " + d.DeliveryDate
	}
	return "warehouse " + d.Warehouse + " on " + d.DeliveryDate
}

// Which delivery orders the child stages apply to.

func notDropShip(u *Unit) bool {
	return u.Doc.Child != nil && !u.Doc.Child.DropShip // the supplier ships drop-ship lines with its own courier, from its own stock
}

func primaryReissue(u *Unit) bool {
	d := &u.Doc
	return d.Child != nil && d.Child.Primary && (d.Source == domain.SourceReissue || d.Source == domain.SourceExchange)
}

func primaryWithInvoice(u *Unit) bool {
	d := &u.Doc
	return d.Child != nil && d.Child.Primary && strings.TrimSpace(d.InvoiceTitle) != ""
}

func hasPresale(u *Unit) bool {
	return slices.ContainsFunc(u.Doc.Lines, func(l domain.FLine) bool { return l.Presale })
}
