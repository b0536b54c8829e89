// Package app holds after-sales' use cases (DOMAIN 4, 5): a customer's
// cancel of a paid order (pause fulfillment in OMS, intercept at WMS what
// reached a warehouse, cancel in OMS, see PAY's refund through); a
// customer's return of delivered lines and a rejection at the door made
// by itself from OMS's refusal, their refund spread with stage 5's
// allocation under the order's lock; customer service's documents held
// until a supervisor other than the author audits them; the order-push
// table's workers (pushes.go) and the receivers of each push type
// (deliver.go); the sweep that picks up a request whose flow stopped; the
// queries; and the rebuild of the cancel filter. It owns its ports:
// Repository (apps/aftersales/store), Orders, Warehouse, Payments, Stock
// and Partners (the other apps' typed clients) and Filter
// (aftersalesclient.CancelFilter).
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Repository is what after-sales persists.
type Repository interface {
	// Create stores r with ev in one transaction. A request with the same
	// customer and key, or (for a cancel) an existing cancel of the same
	// order, is returned instead with created=false.
	Create(ctx context.Context, r *domain.Request, ev outbox.Event) (out *domain.Request, created bool, err error)
	Get(ctx context.Context, id string) (*domain.Request, error)
	// Update locks the request, calls fn and saves it with its new steps;
	// fn's error rolls back and is returned.
	Update(ctx context.Context, id string, fn func(r *domain.Request) error) (*domain.Request, error)
	OfOrder(ctx context.Context, orderID string) ([]*domain.Request, error)
	OfCustomer(ctx context.Context, customerID string, limit int) ([]*domain.Request, error)
	// Stale lists unfinished requests not changed since before (those
	// waiting on PAY: since waitingBefore).
	Stale(ctx context.Context, before, waitingBefore time.Time, limit int) ([]string, error)
	// OrderIDs pages through the order ids with requests, after after.
	OrderIDs(ctx context.Context, after string, limit int) ([]string, error)
	// CreateReturn stores a return or rejection decided under the
	// order's lock (see store.Store.CreateReturn).
	CreateReturn(ctx context.Context, now time.Time, orderID, customerID, key string, caps ReturnCaps,
		decide func(returned map[string]int64) (*domain.Request, error), event func(r *domain.Request) outbox.Event) (*domain.Request, bool, error)
	// CreateReissue stores a reissue decided under the order's lock,
	// seeing the units earlier reissues took (store.Store.CreateReissue).
	CreateReissue(ctx context.Context, now time.Time, orderID, customerID, key string,
		decide func(reissued map[string]int64) (*domain.Request, error), event func(r *domain.Request) outbox.Event) (*domain.Request, bool, error)
	// UpdateEmitting is Update whose fn also names events to write in the
	// same transaction; a request that gave its units back (Released) has
	// them subtracted from its order's returned units and ledger.
	UpdateEmitting(ctx context.Context, id string, fn func(r *domain.Request) ([]outbox.Event, error)) (*domain.Request, error)
	// AwaitingAudit lists the documents awaiting audit, oldest first.
	AwaitingAudit(ctx context.Context, limit int) ([]*domain.Request, error)
	// PushesOf lists a request's pushes in commit order.
	PushesOf(ctx context.Context, requestID string) ([]domain.Push, error)
	// OpenPullBacks lists an order's unfinished pull-back documents.
	OpenPullBacks(ctx context.Context, orderID string) ([]*domain.Request, error)
}

// ReturnCaps bound what an order's returns may give back in all: what
// was paid, cash and non-cash.
type ReturnCaps struct{ Cash, NonCash money.Fen }

// Orders is OMS as the reverse flow uses it (*omsclient.Client).
type Orders interface {
	GetOrder(ctx context.Context, id string) (omsclient.Order, error)
	PauseFulfillment(ctx context.Context, orderID string, r omsclient.PauseRequest) (omsclient.OrderPause, error)
	ResumeFulfillment(ctx context.Context, orderID string, r omsclient.ResumeRequest) (omsclient.ResumeResult, error)
	CancelPaused(ctx context.Context, orderID string, r omsclient.CancelPausedRequest) (omsclient.ReverseCancel, error)
	GetAllocation(ctx context.Context, id string) (omsclient.Allocation, error)
}

// Warehouse is WMS (*wmsclient.Client).
type Warehouse interface {
	// InterceptAll stops an order's delivery orders all or none.
	InterceptAll(ctx context.Context, r wmsclient.InterceptAllRequest) (wmsclient.Interceptions, error)
	NoticeReturn(ctx context.Context, n wmsclient.ReturnNotice) (wmsclient.ReturnReceipt, error)
}

// Payments is PAY (*payclient.Client): what it refunded for an order.
type Payments interface {
	TradesOfOrder(ctx context.Context, orderID string) ([]payclient.Trade, error)
	// TradesPaying is TradesOfOrder with the trade OMS says paid the
	// order (a pull-back's order: its original's trade).
	TradesPaying(ctx context.Context, orderID, tradeID string) ([]payclient.Trade, error)
	GetDeduction(ctx context.Context, id string) (payclient.Deduction, error)
	RequestRefund(ctx context.Context, r payclient.RefundRequest) (payclient.Refund, error)
	RefundsOfTrade(ctx context.Context, tradeID string) ([]payclient.Refund, error)
	RefundNonCash(ctx context.Context, r payclient.NonCashRefundRequest) (payclient.NonCashRefund, error)
	// RetryRefund is customer service's retry of a failed automatic
	// refund, once per key (payclient.CodeNothingToRetry).
	RetryRefund(ctx context.Context, failedID string, r payclient.RetryRefundRequest) (payclient.Refund, error)
}

// Stock is inventory's sellable stock (*inventoryclient.Client): units
// that came back are given back to it.
type Stock interface {
	RestoreStock(ctx context.Context, r inventoryclient.RestoreRequest) (inventoryclient.Restore, error)
	// CatalogEntries tells which lines are drop-ship (and whose) or
	// presale: their pushes differ.
	CatalogEntries(ctx context.Context, skus []string) ([]inventoryclient.Product, error)
}

// Partners are the outside systems the reverse flow pushes to
// (*partnersclient.Client): TMS for pickups, finance for refund
// vouchers and settlement data, the customer's mini-program for answers,
// purchasing for presale stock, drop-ship suppliers for interceptions
// and purchase returns.
type Partners interface {
	RequestPickup(ctx context.Context, p partnersclient.PickupRequest) (partnersclient.Receipt, error)
	PushRefundVoucher(ctx context.Context, v partnersclient.RefundVoucher) (partnersclient.Receipt, error)
	SendPush(ctx context.Context, p partnersclient.Push) (partnersclient.Receipt, error)
	PushSettlement(ctx context.Context, s partnersclient.Settlement) (partnersclient.Receipt, error)
	UpdatePresaleStock(ctx context.Context, u partnersclient.PresaleStockUpdate) (partnersclient.Receipt, error)
	ReturnToSupplier(ctx context.Context, p partnersclient.PurchaseReturn) (partnersclient.Receipt, error)
	InterceptAtSupplier(ctx context.Context, i partnersclient.SupplierInterception) (partnersclient.Receipt, error)
	// ReleaseAtSupplier lifts an interception of a cancel that was refused.
	ReleaseAtSupplier(ctx context.Context, i partnersclient.SupplierInterception) (partnersclient.Receipt, error)
}

// Coupons is marketing's wallet (*marketingclient.Client): customer
// service unbinds a customer's coupon there (actions.go), and a cancelled
// order's coupons bought with points are unbound there.
type Coupons interface {
	UnbindCoupon(ctx context.Context, couponID string, r marketingclient.UnbindRequest) (marketingclient.Coupon, error)
	UnbindPointsCoupons(ctx context.Context, r marketingclient.PointsCouponUnbindRequest) (marketingclient.PointsCouponUnbind, error)
}

// Filter is the cancel filter (*aftersalesclient.CancelFilter).
type Filter interface {
	Add(ctx context.Context, orderID string) error
	Ready(ctx context.Context) (bool, error)
	Rebuild(ctx context.Context, next func(ctx context.Context) ([]string, error)) (bool, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Repo      Repository
	Orders    Orders
	Warehouse Warehouse
	Payments  Payments
	Partners  Partners
	Stock     Stock
	Coupons   Coupons
	Filter    Filter
	// Forward, Shortages and Locks serve customer service's forward
	// documents (forward.go); LockWait bounds a pull-back's wait for its
	// order's lock (DefaultLockWait).
	Forward   Forward
	Shortages Shortages
	Locks     Locks
	LockWait  time.Duration
	Clock     clock.Clock
	Notify    func() // wakes the outbox relay
	Logger    *slog.Logger
	// AfterCancel, when set, runs after OMS cancelled r's order and before
	// after-sales records it (already: OMS had cancelled it before); the
	// development crash test exits the process there.
	AfterCancel func(r *domain.Request, already bool)
	// Customer service's actions and the reviews (actions.go, reviews.go).
	Actions   ActionStore
	Contacts  Contacts
	Invoicing Invoicing
}

// CrashToken in a cancel's reason makes a development after-sales with
// faults on exit after OMS's cancel and before its record
// (aftersalesconfig.Config.CrashAfterCancel).
const CrashToken = "e2e:crash-after-cancel"

// Service runs after-sales' use cases.
type Service struct {
	d       Deps
	pushers *Pushers
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Notify == nil {
		d.Notify = func() {}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	return &Service{d: d}
}

func (s *Service) now() time.Time { return s.d.Clock.Now().UTC().Truncate(time.Microsecond) }
