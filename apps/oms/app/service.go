// Package app holds OMS's use cases, one per file: accepting an order,
// cancelling an unpaid one, expiring it at its payment deadline, applying a
// verified payment, the queries other apps ask, and customers' address
// books (AddressBooks, checked against inventory's served areas). It talks to storage,
// inventory, PAY and the reminder scheduler through the small interfaces
// below, so each use case can be tested against the real database with
// in-memory fakes of the other services.
package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Inventory is what OMS needs of the inventory service; *inventoryclient.Client
// satisfies it.
type Inventory interface {
	Reserve(ctx context.Context, r inventoryclient.ReserveRequest) (inventoryclient.Reservation, error)
	Release(ctx context.Context, orderID string) (inventoryclient.Reservation, error)
}

// Pay is what OMS needs of PAY; *payclient.Client satisfies it.
type Pay interface {
	GetDeduction(ctx context.Context, id string) (payclient.Deduction, error)
	// GetTrade is how OMS checks a pay.trade.succeeded with PAY before
	// marking an order paid.
	GetTrade(ctx context.Context, id string) (payclient.Trade, error)
}

// Warehouse is what OMS asks WMS about an order's parcels before
// believing a parcel event; *wmsclient.Client satisfies it.
type Warehouse interface {
	OrderParcels(ctx context.Context, orderID string) (wmsclient.OrderParcels, error)
}

// Coupons is what OMS asks the coupon wallet (marketing) at placement:
// whether the coupons the order's deductions hold apply to its lines;
// *marketingclient.Client satisfies it.
type Coupons interface {
	CheckCouponUse(ctx context.Context, r marketingclient.UseCheckRequest) ([]marketingclient.UseCheck, error)
}

// Reminders arms the durable reminder that expires an unpaid order at its
// deadline (in production a Dapr actor reminder per one-second deadline
// window, shared by every order due in that second, or with
// HARVEST_EXPIRY_REMINDERS=order one per order; see apps/oms/actors).
// Nothing disarms it: a fire finds paid or cancelled orders settled.
type Reminders interface {
	Arm(ctx context.Context, orderID string, payBy time.Time) error
}

// Idempotency is the record of an accept-order key's first use.
type Idempotency struct {
	CustomerID  string
	Key         string
	RequestHash string
	OrderID     string
	CreatedAt   time.Time
}

// InboxClaim names a consumed message whose effect must happen once.
type InboxClaim struct {
	Consumer string
	MsgID    string
}

// ListQuery selects one page of a customer's orders.
type ListQuery struct {
	CustomerID string
	// Phone lists the orders delivered to this phone instead (customer
	// service's search; the gateway lets only CS ask).
	Phone  string
	Status domain.Status // empty: any
	First  int
	After  string // opaque cursor from a previous page
}

// Page is one page of orders, newest first.
type Page struct {
	Orders     []*domain.Order
	EndCursor  string
	HasNext    bool
	TotalCount int64
}

// Storage errors the repository answers with.
var (
	// ErrDuplicateKey: another call committed an order for the same
	// idempotency key first.
	ErrDuplicateKey = errors.New("idempotency key already used")
	// ErrDuplicateMessage: the inbox already holds the message.
	ErrDuplicateMessage = errors.New("message already applied")
	// ErrNoChange, returned by an update function, rolls the transaction
	// back without an error: nothing was to be done.
	ErrNoChange = errors.New("no change")
	// ErrKeyBusy: the lock of an idempotency key was not acquired in time.
	ErrKeyBusy = errors.New("idempotency key is being used by a call in flight")
	// ErrBadCursor: a list cursor that this service did not make.
	ErrBadCursor = errors.New("malformed cursor")
)

// ErrPlacementVoided: the order's id was answered "no such order" by
// inventory's check-back before the order committed (the placement
// stalled past its reservation's TTL), so its stock went back and the
// order may not be created; the caller places again.
var ErrPlacementVoided = errors.New("placement took longer than its stock reservation; the reservation was released")

// DeductionInUseError is the repository's answer when a deduction is already
// bound to another order (IDs), or was released by PAY's sweep (Released).
type DeductionInUseError struct{ IDs, Released []string }

func (e *DeductionInUseError) Error() string {
	return "deductions already used by another order: " + strings.Join(e.IDs, ", ") +
		"; released: " + strings.Join(e.Released, ", ")
}

// Repository stores orders. Update runs fn on the locked order inside one
// transaction that also writes the events fn returns to the outbox, and,
// with a claim, the inbox row; it returns the order as it stands after.
// UpdateEach is Update without a claim for a batch of orders in one
// transaction, returning those fn changed.
type Repository interface {
	FindIdempotency(ctx context.Context, customerID, key string) (Idempotency, bool, error)
	Create(ctx context.Context, o *domain.Order, idem Idempotency, events []outbox.Event) error
	Get(ctx context.Context, id string) (*domain.Order, error)
	GetMany(ctx context.Context, ids []string) ([]*domain.Order, error)
	Update(ctx context.Context, id string, claim *InboxClaim, fn func(o *domain.Order) ([]outbox.Event, error)) (*domain.Order, error)
	UpdateEach(ctx context.Context, ids []string, fn func(o *domain.Order) ([]outbox.Event, error)) ([]*domain.Order, error)
	Record(ctx context.Context, claim *InboxClaim, events []outbox.Event) error
	List(ctx context.Context, q ListQuery) (Page, error)
	DueUnpaid(ctx context.Context, after, before time.Time, limit int) ([]string, error)
	// ClaimUnusedDeduction returns the order using a deduction, or "" after
	// claiming it so that no order can use it any more.
	ClaimUnusedDeduction(ctx context.Context, deductionID string) (string, error)
	// VoidOrderID makes sure no order can be created with id any more (an
	// existing order is left as it is).
	VoidOrderID(ctx context.Context, id string, at time.Time) error
	// DeductionsInUse maps ids bound to an order to it, and ids released
	// by a check-back to "".
	DeductionsInUse(ctx context.Context, ids []string) (map[string]string, error)
}

// Config tunes the use cases.
type Config struct {
	// PayDeadline is how long an order waits for cash (DOMAIN 1.4: 10 min).
	PayDeadline time.Duration
	// ChannelDeadlines overrides PayDeadline per payment channel (upper case).
	ChannelDeadlines map[string]time.Duration
	// ReserveTTL is how long inventory holds a reservation before asking
	// OMS whether the order exists (the check-back).
	ReserveTTL time.Duration
	// SweepGrace is how long past its deadline an unpaid order may stay
	// before the sweep cancels it (the reminder normally does it first).
	SweepGrace time.Duration
	// SweepBatch bounds the orders one sweep pass cancels.
	SweepBatch int
	// KeyLockWait bounds the wait for a concurrent call with the same
	// idempotency key.
	KeyLockWait time.Duration
	// CallTimeout bounds best-effort calls (release, reminders).
	CallTimeout time.Duration
	// SoldOutTTL is how long a SKU inventory refused as short is refused
	// by OMS alone (see soldOut); 0 turns the memory off.
	SoldOutTTL time.Duration
	// SlotCheck reserves a unit of the order's delivery slot with its
	// stock, refusing a full slot (SLOT_FULL). Off, placements do not
	// touch slot capacity: the baseline of the place load run.
	SlotCheck bool
}

func (c Config) withDefaults() Config {
	if c.PayDeadline <= 0 {
		c.PayDeadline = 10 * time.Minute
	}
	if c.ReserveTTL <= 0 {
		c.ReserveTTL = 2 * time.Minute
	}
	if c.SweepGrace <= 0 {
		c.SweepGrace = 2 * time.Second
	}
	if c.SweepBatch <= 0 {
		c.SweepBatch = 500
	}
	if c.KeyLockWait <= 0 {
		c.KeyLockWait = 10 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 3 * time.Second
	}
	return c
}

// PayWindow is the payment deadline of a channel.
func (c Config) PayWindow(channel string) time.Duration {
	if d, ok := c.ChannelDeadlines[strings.ToUpper(channel)]; ok && d > 0 {
		return d
	}
	return c.PayDeadline
}

// Deps are the collaborators of the use cases.
type Deps struct {
	Repo      Repository
	Inventory Inventory
	Pay       Pay
	Coupons   Coupons // may be nil where no order names a coupon (tests)
	Reminders Reminders
	Warehouse Warehouse // nil: parcel events are retried until one is set
	Clock     clock.Clock
	Notify    func() // wakes the outbox relay after a commit; may be nil
	Logger    *slog.Logger
}

// Service runs OMS's use cases.
type Service struct {
	repo    Repository
	inv     Inventory
	pay     Pay
	coupons Coupons
	rem     Reminders
	wh      Warehouse
	clock   clock.Clock
	notify  func()
	log     *slog.Logger
	cfg     Config
	soldOut *soldOut
	keys    keyLocks
}

// New returns the use cases over deps.
func New(d Deps, cfg Config) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Notify == nil {
		d.Notify = func() {}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	return &Service{repo: d.Repo, inv: d.Inventory, pay: d.Pay, coupons: d.Coupons, rem: d.Reminders, wh: d.Warehouse, clock: d.Clock,
		notify: d.Notify, log: d.Logger, cfg: cfg, soldOut: newSoldOut(cfg.SoldOutTTL)}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// bestEffort runs f detached from the caller's cancellation, bounded: the
// work matters even when the request that caused it has gone away.
func (s *Service) bestEffort(ctx context.Context, f func(ctx context.Context) error) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CallTimeout)
	defer cancel()
	return f(bctx)
}
