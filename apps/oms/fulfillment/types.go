package fulfillment

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Stage numbers a fulfillment stage (DOMAIN 1.6 table).
type Stage int

// The sixteen stages.
const (
	StageInitial Stage = iota + 1
	StageCheck
	StageGifts
	StageFill
	StageAllocate
	StageVoucher
	StageSplit
	StageAudit
	StagePresale
	StageEffective
	StageWaybill
	StageERPStock
	StageThrottle
	StageReissueSMS
	StageInvoice
	StageDispatch
)

// NumStages is how many stages there are.
const NumStages = 16

// lastOrderStage is the last stage the order's own unit runs; the
// delivery orders run the rest.
const lastOrderStage = StageEffective

var stageNames = [NumStages + 1]string{"", "initial", "exception_check", "gifts", "fill", "allocation", "payment_voucher",
	"split", "fraud_audit", "presale_push", "effective_time", "waybill", "erp_stock", "warehouse_throttle",
	"reissue_sms", "invoice", "dispatch"}

// String is the stage's name, as metrics and operators see it.
func (s Stage) String() string {
	if s < 1 || s > NumStages {
		return fmt.Sprintf("stage%d", int(s))
	}
	return stageNames[s]
}

// Kind says what bounds a stage: waiting on a partner, or the CPU.
type Kind string

// Stage kinds; they pick the default concurrency.
const (
	KindIO  Kind = "IO"
	KindCPU Kind = "CPU"
)

// State is where a unit stands.
type State string

// Unit states.
const (
	StateReady     State = "READY"     // due at resume_at, waiting to be claimed
	StateRunning   State = "RUNNING"   // leased by an instance: queued or running there
	StatePaused    State = "PAUSED"    // waiting for resume_at (effective time, throttle)
	StateFailed    State = "FAILED"    // in the exception queue, waiting for an operator
	StateSplit     State = "SPLIT"     // the order's unit, handed over to its delivery orders
	StateDone      State = "DONE"      // dispatched
	StateCancelled State = "CANCELLED" // stopped by the fraud audit
)

// OutcomeKind is what a stage run decided.
type OutcomeKind string

// Outcome kinds.
const (
	OutcomeNext   OutcomeKind = "NEXT"
	OutcomePause  OutcomeKind = "PAUSE"
	OutcomeRetry  OutcomeKind = "RETRY"
	OutcomeFail   OutcomeKind = "FAIL"
	OutcomeCancel OutcomeKind = "CANCEL"
)

// Outcome is a stage run's result.
type Outcome struct {
	Kind  OutcomeKind
	Until time.Time     // Pause: resume at
	After time.Duration // Retry: not before now+After
	Code  string        // Fail/Cancel/Retry: a short reason code
	Note  string        // for the timeline
	// tx runs inside the commit transaction (cancel the order, ...).
	tx func(ctx context.Context, tx *sql.Tx) error
	// passing marks a Retry caused by a partner fault: it counts against
	// the stage's circuit breaker.
	passing bool
}

// Next moves on.
func Next(note string) Outcome { return Outcome{Kind: OutcomeNext, Note: note} }

// Pause waits until t.
func Pause(t time.Time, code, note string) Outcome {
	return Outcome{Kind: OutcomePause, Until: t, Code: code, Note: note}
}

// Fail sends the unit to the exception queue.
func Fail(code, note string) Outcome { return Outcome{Kind: OutcomeFail, Code: code, Note: note} }

// Retry runs the stage again after d.
func Retry(d time.Duration, code, note string) Outcome {
	return Outcome{Kind: OutcomeRetry, After: d, Code: code, Note: note}
}

// Child is a delivery order's own part of a unit's document.
type Child struct {
	domain.Delivery
	Primary   bool   `json:"primary,omitempty"` // carries the order-level stages 14 and 15
	Carrier   string `json:"carrier,omitempty"` // stage 11
	WaybillNo string `json:"waybillNo,omitempty"`
	Occupied  bool   `json:"occupied,omitempty"` // stage 12
	Day       string `json:"day,omitempty"`      // stage 13: the capacity day taken
	WMSID     string `json:"wmsId,omitempty"`    // stage 16
}

// Doc is a unit's working document: what the stages read and the results
// they recorded, saved with every commit.
type Doc struct {
	OrderID       string         `json:"orderId,omitempty"`
	CustomerID    string         `json:"customerId,omitempty"`
	Source        domain.Source  `json:"source,omitempty"`
	Address       domain.Address `json:"address,omitempty"`
	Slot          domain.Slot    `json:"slot,omitempty"`
	InvoiceTitle  string         `json:"invoiceTitle,omitempty"`
	OriginalOrder string         `json:"originalOrder,omitempty"`
	Header        domain.Header  `json:"header,omitempty"`
	PlacedAt      time.Time      `json:"placedAt,omitempty"`
	PaidAt        time.Time      `json:"paidAt,omitempty"`
	// Lines are the working lines: the order's own at first, then with
	// gifts, expanded bundles, catalog data and allocation. A child's doc
	// carries its delivery's lines here.
	Lines []domain.FLine `json:"lines,omitempty"`
	// Receipts maps an effect's idempotency id to the partner's answer.
	Receipts map[string]string `json:"receipts,omitempty"`
	// Stage results of the order's unit.
	Gifts        []marketingclient.GiftGrant  `json:"gifts,omitempty"`
	GiftsAsked   bool                         `json:"giftsAsked,omitempty"`
	Filled       bool                         `json:"filled,omitempty"`
	Allocated    bool                         `json:"allocated,omitempty"`
	Deliveries   []domain.Delivery            `json:"deliveries,omitempty"`
	Fraud        *partnersclient.FraudVerdict `json:"fraud,omitempty"`
	FraudCleared bool                         `json:"fraudCleared,omitempty"` // an operator cleared a REVIEW verdict
	EffectiveAt  time.Time                    `json:"effectiveAt,omitempty"`
	// Child is set on delivery orders.
	Child *Child `json:"child,omitempty"`
	// OrderLines are the whole order's lines, on the primary child only
	// (the invoice covers the order, not one delivery).
	OrderLines []domain.FLine `json:"orderLines,omitempty"`
}

// Unit is a unit in memory: a copy of its row, held under a lease.
type Unit struct {
	ID         string
	OrderID    string
	ParentID   string
	Seq        int
	Stage      Stage
	Attempts   int
	Token      string
	LeaseUntil time.Time
	Doc        Doc
	// carried are the timeline rows of effect-free stages the unit passed
	// since its last commit (see effectFree); the next commit writes them.
	carried []step
}

// IsChild reports whether the unit is a delivery order.
func (u *Unit) IsChild() bool { return u.ParentID != "" }

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

// Orders changes an order inside the engine's transaction; *store.Store
// satisfies it.
type Orders interface {
	UpdateTx(ctx context.Context, tx *sql.Tx, id string, fn func(o *domain.Order) ([]outbox.Event, error)) (*domain.Order, error)
}

// manyOrders changes several orders inside the engine's transaction in a
// few statements; *store.Store satisfies it. Without it, the engine
// changes them one by one through Orders.
type manyOrders interface {
	UpdateManyTx(ctx context.Context, tx *sql.Tx, ids []string, fn func(o *domain.Order) ([]outbox.Event, error)) ([]*domain.Order, error)
}

var (
	_ Partners  = (*partnersclient.Client)(nil)
	_ Gifts     = (*marketingclient.Client)(nil)
	_ Warehouse = (*wmsclient.Client)(nil)
	_ Catalog   = (*inventoryclient.Client)(nil)
)
