package actors

import (
	"context"
	"log/slog"
	"time"

	"github.com/dapr/go-sdk/actor"
	daprc "github.com/dapr/go-sdk/client"
)

// OrderActorType is the actor type of the per-order design: one actor per
// unpaid order (actor id = the order id) with one reminder at its deadline,
// stored by the Scheduler. It is the simpler design, and the slower at a
// deadline peak (measured in the package comment), so it is the option,
// not the default; OMS hosts the type either way, so reminders armed before
// a switch of HARVEST_EXPIRY_REMINDERS still fire.
const OrderActorType = "UnpaidOrder"

// Designs of the payment-deadline reminders (HARVEST_EXPIRY_REMINDERS).
const (
	// DesignOrder: one reminder per order, stored by the Scheduler.
	DesignOrder = "order"
	// DesignWindow: one reminder per second of deadlines (ExpiryWindow),
	// the faster at 100 k armed.
	DesignWindow = "window"
	// DefaultDesign is OMS's when HARVEST_EXPIRY_REMINDERS is not set.
	DefaultDesign = DesignWindow
)

// ArmWorkers is how many registrations OMS has in flight at once, in
// either design.
const ArmWorkers = 4

// OrderExpirer is the use case an order's fire runs (app.Service.ExpireUnpaid).
type OrderExpirer interface {
	ExpireUnpaid(ctx context.Context, id string) error
}

// UnpaidOrder is the actor of one unpaid order. Its one reminder fires
// once, at the deadline; the Scheduler deletes it after the fire, so
// nothing unregisters it, and a paid order's fire finds the order settled.
type UnpaidOrder struct {
	actor.ServerImplBaseCtx
	expirer OrderExpirer
	log     *slog.Logger
	timeout time.Duration
}

// Type is the actor type.
func (a *UnpaidOrder) Type() string { return OrderActorType }

// ReminderCall runs when the reminder fires. A failed pass is logged and
// left to the sweep (the reminder does not repeat: a period would cost one
// more Scheduler operation per order to remove it).
func (a *UnpaidOrder) ReminderCall(name string, _ []byte, _, _ string) {
	if name != ReminderName {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	if err := a.expirer.ExpireUnpaid(ctx, a.ID()); err != nil {
		a.log.WarnContext(ctx, "order's deadline reminder could not expire it; the sweep will", "order_id", a.ID(), "err", err)
	}
}

// OrderFactory returns the UnpaidOrder actor factory to register on the
// go-sdk HTTP service (RegisterActorImplFactoryContext).
func OrderFactory(e OrderExpirer, log *slog.Logger) actor.FactoryContext {
	return func() actor.ServerContext {
		return &UnpaidOrder{expirer: e, log: log, timeout: time.Minute}
	}
}

// RegisterOrder arms an order's reminder, due at its deadline rounded up
// to the second (daprd keeps due times to the second; an early fire would
// find the order not yet due) and firing once.
func RegisterOrder(ctx context.Context, c daprc.Client, orderID string, payBy time.Time) error {
	end, err := WindowEnd(WindowOf(payBy))
	if err != nil {
		return err
	}
	return c.RegisterActorReminder(ctx, &daprc.RegisterActorReminderRequest{
		ActorType: OrderActorType, ActorID: orderID, Name: ReminderName,
		DueTime: end.Format(time.RFC3339),
	})
}

type orderArm struct {
	id    string
	payBy time.Time
}

// Orders arms per-order reminders in the background, as Windows arms
// windows: placement queues the registration and never waits for the
// sidecar; a registration that still fails after the retries is dropped
// and its order left to the sweep.
type Orders struct {
	client func(ctx context.Context) (daprc.Client, error)
	log    *slog.Logger
	ops    chan orderArm
}

// NewOrders returns Orders over a lazily connected Dapr client, queueing up
// to size registrations.
func NewOrders(client func(ctx context.Context) (daprc.Client, error), size int, log *slog.Logger) *Orders {
	return &Orders{client: client, log: log, ops: make(chan orderArm, size)}
}

// Arm queues the registration of an order's reminder (app.Reminders).
func (o *Orders) Arm(_ context.Context, orderID string, payBy time.Time) error {
	select {
	case o.ops <- orderArm{orderID, payBy}:
		return nil
	default:
		return ErrQueueFull
	}
}

// Run registers queued reminders with workers until ctx is done, then
// drains what is queued for at most drain.
func (o *Orders) Run(ctx context.Context, workers int, drain time.Duration) error {
	if n := runArmWorkers(ctx, o.ops, workers, drain, o.arm); n > 0 {
		o.log.Warn("order reminders not armed at stop; the expiry sweep covers their orders", "left", n)
	}
	return nil
}

func (o *Orders) arm(ctx context.Context, a orderArm) {
	err := withRetries(func() error { return o.register(ctx, a) })
	if err != nil {
		windowOps.WithLabelValues("arm_order", "error").Inc()
		o.log.Warn("order reminder not armed; the sweep covers the order", "order_id", a.id, "err", err)
		return
	}
	windowOps.WithLabelValues("arm_order", "ok").Inc()
}

func (o *Orders) register(ctx context.Context, a orderArm) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	return RegisterOrder(ctx, c, a.id, a.payBy)
}
