// Package actors hosts OMS's payment-deadline actor, OrderExpiry, and arms
// its reminders through the Dapr sidecar.
//
// One actor per unpaid order (actor id = order id) carries one durable
// reminder, "pay-deadline", due at the order's PayBy and repeating every
// SafetyPeriod. The reminder lives in Dapr's actor state store, so it
// survives restarts of OMS and its sidecar and costs nothing while it
// waits. On each fire the actor asks the use case to cancel the order if it
// is still unpaid — a conditional update, so late or duplicate fires, or a
// fire racing the sweep or a payment, are harmless — and then unregisters
// the reminder unless the order is unpaid and not yet due. The period is
// the safety net for a fire whose cancel failed (database down): the
// reminder simply fires again. Reminders never registered (OMS stopped
// right after the commit) or lost are covered by the expiry sweep.
package actors

import (
	"context"
	"log/slog"
	"time"

	"github.com/dapr/go-sdk/actor"
	daprc "github.com/dapr/go-sdk/client"

	"github.com/harvest/harvest/apps/oms/app"
)

// ActorType is the Dapr actor type hosted by OMS.
const ActorType = "OrderExpiry"

// ReminderName names the payment-deadline reminder of an order's actor.
const ReminderName = "pay-deadline"

// SafetyPeriod is how often a reminder fires again until it is disarmed.
const SafetyPeriod = 5 * time.Second

// Expirer is the use case a fire runs.
type Expirer interface {
	ExpireOrder(ctx context.Context, id, by string) (app.ExpiryOutcome, error)
}

// Disarmer removes an order's reminder.
type Disarmer interface {
	Disarm(ctx context.Context, orderID string) error
}

// OrderExpiry is the actor of one unpaid order.
type OrderExpiry struct {
	actor.ServerImplBaseCtx
	expirer  Expirer
	disarmer Disarmer
	log      *slog.Logger
	timeout  time.Duration
}

// Type is the actor type.
func (a *OrderExpiry) Type() string { return ActorType }

// ReminderCall runs when the reminder fires. The SDK gives it neither a
// context nor a way to fail, so a failed cancel is logged and left to the
// next period or the sweep.
func (a *OrderExpiry) ReminderCall(name string, _ []byte, _, _ string) {
	if name != ReminderName {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	id := a.ID()
	outcome, err := a.expirer.ExpireOrder(ctx, id, "reminder")
	if err != nil {
		a.log.WarnContext(ctx, "payment reminder could not expire the order; it fires again", "order_id", id, "err", err)
		return
	}
	if outcome == app.ExpiryNotDue {
		return
	}
	if err := a.disarmer.Disarm(ctx, id); err != nil {
		a.log.WarnContext(ctx, "payment reminder could not unregister itself; its next fire does nothing", "order_id", id, "err", err)
	}
}

// Factory returns the actor factory to register on the go-sdk HTTP
// service (RegisterActorImplFactoryContext).
func Factory(e Expirer, d Disarmer, log *slog.Logger) actor.FactoryContext {
	return func() actor.ServerContext {
		return &OrderExpiry{expirer: e, disarmer: d, log: log, timeout: 10 * time.Second}
	}
}

// Reminders arms and disarms reminders through the sidecar; it implements
// app.Reminders.
type Reminders struct {
	client func(ctx context.Context) (daprc.Client, error)
}

// NewReminders returns Reminders over a lazily connected Dapr client.
func NewReminders(client func(ctx context.Context) (daprc.Client, error)) *Reminders {
	return &Reminders{client: client}
}

// Arm registers the order's reminder, due at payBy (an absolute RFC 3339
// time, so the delay between computing and registering it does not shift
// the deadline). Registering again replaces it, so arming is idempotent.
func (r *Reminders) Arm(ctx context.Context, orderID string, payBy time.Time) error {
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return c.RegisterActorReminder(ctx, &daprc.RegisterActorReminderRequest{
		ActorType: ActorType, ActorID: orderID, Name: ReminderName,
		DueTime: dueTime(payBy), Period: SafetyPeriod.String(),
	})
}

// Disarm unregisters the order's reminder; unregistering a missing one is
// not an error for Dapr.
func (r *Reminders) Disarm(ctx context.Context, orderID string) error {
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return c.UnregisterActorReminder(ctx, &daprc.UnregisterActorReminderRequest{
		ActorType: ActorType, ActorID: orderID, Name: ReminderName,
	})
}

// dueTime is payBy rounded up to the next whole second: daprd keeps an
// absolute due time to the second, and a fire a fraction of a second before
// the deadline would find the order not yet due and wait a whole period.
func dueTime(payBy time.Time) string {
	t := payBy.UTC()
	if t.Nanosecond() != 0 {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	return t.Format(time.RFC3339)
}
