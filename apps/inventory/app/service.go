// Package app holds inventory's use cases: reading and searching the
// catalog with sellable stock, reserving stock for an order (ordinary SKUs
// in MariaDB, hot SKUs in Redis) together with a unit of its delivery slot
// at each shipping warehouse, confirming and releasing reservations,
// applying OMS's order events, and the check-back that settles reservations
// whose order never said whether it exists (and rolls scheduled prices
// on). Operators edit the catalog (versioned, audited, prices with
// validity periods), set slot capacities and draw the served areas. It
// depends on small interfaces that store (MariaDB), hotstock (Redis) and
// OMS's client satisfy.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
)

// Catalog is the product and stock side of the store.
type Catalog interface {
	Products(ctx context.Context, skus []string) (map[string]domain.Product, error)
	Levels(ctx context.Context, skus []string) (map[string]Level, error)
	Search(ctx context.Context, f Filter) ([]domain.Product, bool, int64, error)
}

// Reservations is the reservation side of the store.
type Reservations interface {
	GetReservation(ctx context.Context, orderID string) (domain.Reservation, bool, error)
	CreateReservation(ctx context.Context, req domain.Request, parts []domain.Part, slots []domain.SlotKey, expires time.Time, hotEpochs map[string]int64) (domain.Reservation, error)
	ShortSKUs(ctx context.Context, parts []domain.Part) ([]string, error)
	Confirm(ctx context.Context, orderID string, claim *Claim) (domain.Reservation, bool, error)
	ConfirmHeld(ctx context.Context, orderIDs ...string) error
	Release(ctx context.Context, orderID string, onlyHeld bool, claim *Claim) (domain.Reservation, bool, error)
	ClearHotPending(ctx context.Context, orderID string) error
	ExpiredHeld(ctx context.Context, now time.Time, limit int) ([]string, error)
	HotPending(ctx context.Context, limit int) ([]string, error)
	Orphans(ctx context.Context, before time.Time, limit int) ([]string, error)
	MarkReturned(ctx context.Context, orderID string) error
}

// Store is everything inventory keeps in MariaDB.
type Store interface {
	Catalog
	Reservations
	Slots
	CatalogAdmin
	Receiving
	// RestoreStock adds returned units back once per restore id, all
	// lines or none; ClearRestorePending marks its hot lines done in Redis.
	RestoreStock(ctx context.Context, restoreID, orderID string, parts []domain.Part, now time.Time) (RestoreResult, error)
	ClearRestorePending(ctx context.Context, restoreID string) error
}

// HotStock is the Redis side of hot SKUs.
type HotStock interface {
	Reserve(ctx context.Context, orderID, fingerprint string, expires time.Time, parts []domain.Part) (HotResult, error)
	Release(ctx context.Context, orderID string) (bool, error)
	Available(ctx context.Context, skus []string) (map[string]int64, []string, error)
	Rebuild(ctx context.Context, sku string) error
	// Restock raises a hot SKU's counter by qty if it is still the
	// counter of epoch (a rebuilt one read the new on-hand already).
	Restock(ctx context.Context, sku string, qty, epoch int64) error
	// RestoreOnce raises a hot SKU's counter by a restore's qty once per
	// restore id, if it is still the counter of epoch.
	RestoreOnce(ctx context.Context, restoreID, sku string, qty, epoch int64) error
}

// Orders answers check-backs; omsclient.Client satisfies it.
type Orders interface {
	Exists(ctx context.Context, id string) (omsclient.Existence, error)
}

// Options tune the service.
type Options struct {
	CheckBackBatch int           // reservations settled per check-back run (default 200)
	OrphanGrace    time.Duration // extra wait past expiry before an orphaned hot take is returned (default 30s)
	Logger         *slog.Logger
}

// Service runs inventory's use cases.
type Service struct {
	store  Store
	slots  Slots
	admin  CatalogAdmin
	hot    HotStock
	orders Orders
	clock  clock.Clock
	opt    Options
	log    *slog.Logger
}

// New returns a Service.
func New(st Store, hot HotStock, orders Orders, clk clock.Clock, opt Options) *Service {
	if opt.CheckBackBatch <= 0 {
		opt.CheckBackBatch = 200
	}
	if opt.OrphanGrace <= 0 {
		opt.OrphanGrace = 30 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{store: st, slots: st, admin: st, hot: hot, orders: orders, clock: clk, opt: opt, log: opt.Logger}
}
