// Package app holds WMS's use cases for this slice: ERP stock occupation
// and release per delivery order (fulfillment stage 12), the admin setting
// of ERP stock and its seed for the local stack, and receiving dispatched
// delivery orders (stage 16, DOMAIN 7.1 step 1). It persists through the
// Repository it declares (apps/wms/store implements it).
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Repository is what WMS's use cases need persisted. Occupy and Receive
// commit together with the calls arriving at the same time (one
// transaction for a group), each falling back to its own transaction when
// the group's fails.
type Repository interface {
	// Occupy holds free ERP stock for o, all lines or none (a
	// domain.StockShortError names the short SKUs); the same delivery
	// order again returns its occupation, with other lines
	// domain.ErrConflict.
	Occupy(ctx context.Context, o domain.Occupation, now time.Time) (domain.Occupation, error)
	// Release gives a delivery order's stock back; idempotent.
	Release(ctx context.Context, deliveryOrderID string, now time.Time) (domain.Occupation, error)
	// ReleaseOrder releases the occupations of a cancelled order's
	// delivery orders (not those received and not intercepted: kept) and
	// remembers the cancellation, so a later Occupy of it holds nothing.
	ReleaseOrder(ctx context.Context, orderID string, now time.Time) (released, kept []string, err error)
	PruneCancelled(ctx context.Context, before time.Time, limit int) (int64, error)
	Occupation(ctx context.Context, id string) (domain.Occupation, error)
	// SetStock sets a SKU's on-hand stock (creating its row); it may not go
	// below what is occupied (domain.SetOnHand).
	SetStock(ctx context.Context, st domain.Stock, now time.Time) (domain.Stock, error)
	Stock(ctx context.Context, warehouse, sku string) (domain.Stock, error)
	CountStock(ctx context.Context) (int64, error)
	SeedStock(ctx context.Context, rows []domain.Stock, now time.Time) error
	// Receive stores a received delivery order with its event ev; the
	// same delivery order again returns the first WMS order id with
	// duplicate=true, with other content domain.ErrConflict.
	Receive(ctx context.Context, o domain.Order, ev outbox.Event) (wmsOrderID string, duplicate bool, err error)
	Order(ctx context.Context, id string) (domain.Order, error)
	Outbound
	// Intercept stops a delivery order (received or not yet) for the
	// reverse flow; a later hand-over of it fails with
	// domain.ErrIntercepted.
	Intercept(ctx context.Context, deliveryOrderID, reason string, now time.Time) (domain.Interception, error)
	// InterceptAll intercepts delivery orders all or none, in one
	// transaction (domain.ErrTooLateToIntercept names the one too late).
	InterceptAll(ctx context.Context, ids []string, reason string, now time.Time) ([]domain.Interception, error)
	// NoticeReturn records a return notice once by its id; a repeat
	// answers the stored one with dup true.
	NoticeReturn(ctx context.Context, n domain.ReturnNotice) (out domain.ReturnNotice, dup bool, err error)
}

// Service runs WMS's use cases.
type Service struct {
	store  Repository
	clock  clock.Clock
	notify func()
	log    *slog.Logger
	// weigh names the couriers that require every box weighed.
	weigh map[string]bool
	tms   TMS
	erp   ERP
}

// SetOutbound configures outbound: the couriers that require weighing and
// TMS (nil until set: importing then fails and is retried).
func (s *Service) SetOutbound(weighCarriers []string, tms TMS, erp ERP) {
	s.erp = erp
	s.weigh = map[string]bool{}
	for _, c := range weighCarriers {
		s.weigh[c] = true
	}
	s.tms = tms
}

// New returns a Service over repo. notify wakes the outbox relay after a
// commit that wrote events (nil in tests that read the outbox table).
func New(repo Repository, clk clock.Clock, notify func(), log *slog.Logger) *Service {
	if notify == nil {
		notify = func() {}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: repo, clock: clk, notify: notify, log: log}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }
