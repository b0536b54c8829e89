// Package actors hosts OMS's payment-deadline actors, ExpiryWindow (the
// default) and UnpaidOrder (one per order, orders.go), and arms their
// reminders through the Dapr sidecar.
//
// Unpaid orders are grouped by the second their deadline falls in: one
// actor per window (actor id = the window's end, in Unix seconds) carries
// one durable reminder, "deadline", due at that second and repeating every
// SafetyPeriod. When it fires, the actor asks the use case to cancel every
// order still unpaid whose deadline is at or before the window's end (an
// indexed query and a conditional update per order, so late or duplicate
// fires, or a fire racing the sweep or a payment, are harmless), then
// unregisters the reminder. If the pass fails (database down) the reminder
// stays and fires again after the period.
//
// Why windows and not one reminder per order: on daprd 1.14 one per order
// could not reach 100 k armed (it rewrote an actor type's stored reminders
// on every registration). Dapr 1.18 keeps reminders in the Scheduler,
// where one per order does not rewrite the others, so that design is here
// too (UnpaidOrder, orders.go; HARVEST_EXPIRY_REMINDERS=order) and was
// measured against the windows with harvest-load expiry, 100 k unpaid
// orders due over 3 min (556 a second), on 2 cores (README "Payment
// deadline"): the Scheduler armed 900–1,200 reminders/s and fired
// 290–550/s, each fire an actor activation and a transaction of its own,
// and the orders came late (p50 12–33 s, over 90 % later than 2 s); the
// windows arm 181 reminders in under a second, fire 1/s on time and cancel
// 556 orders per pass in batches (p50 0.7–0.8 s, p99 1.2–1.7 s, none later
// than 2 s on the quieter run). Windows stay the default: they
// bound the armed reminders by the payment deadline in seconds (600 for
// the 10 min default), cost one registration per second of placements,
// not one per order, and nothing when an order is paid. The reminder
// lives in the Scheduler, so it survives restarts of OMS and its sidecar.
// Orders whose window was never armed (OMS stopped right after the commit)
// are cancelled by the expiry sweep.
package actors

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/dapr/go-sdk/actor"
	daprc "github.com/dapr/go-sdk/client"
)

// ActorType is the Dapr actor type hosted by OMS.
const ActorType = "ExpiryWindow"

// ReminderName names a window's reminder.
const ReminderName = "deadline"

// SafetyPeriod is how often a window's reminder fires again until its pass
// succeeds.
const SafetyPeriod = 5 * time.Second

// Expirer is the use case a fire runs: cancel every unpaid order due by end.
type Expirer interface {
	ExpireWindow(ctx context.Context, end time.Time) error
}

// ExpiryWindow is the actor of one deadline window.
type ExpiryWindow struct {
	actor.ServerImplBaseCtx
	expirer Expirer
	windows *Windows
	log     *slog.Logger
	timeout time.Duration
}

// Type is the actor type.
func (a *ExpiryWindow) Type() string { return ActorType }

// ReminderCall runs when the reminder fires. The SDK gives it neither a
// context nor a way to fail, so a failed pass is logged and left to the
// next period or the sweep.
func (a *ExpiryWindow) ReminderCall(name string, _ []byte, _, _ string) {
	if name != ReminderName {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	end, err := WindowEnd(a.ID())
	if err != nil {
		a.log.ErrorContext(ctx, "deadline reminder on an actor that is not a window; removing it", "actor_id", a.ID(), "err", err)
	} else if err := a.expirer.ExpireWindow(ctx, end); err != nil {
		a.log.WarnContext(ctx, "deadline window could not expire its orders; it fires again", "window", a.ID(), "err", err)
		return
	}
	if err := a.windows.disarm(ctx, a.ID()); err != nil {
		a.log.WarnContext(ctx, "deadline window could not unregister its reminder; its next fire finds nothing", "window", a.ID(), "err", err)
	}
}

// Factory returns the actor factory to register on the go-sdk HTTP
// service (RegisterActorImplFactoryContext).
func Factory(e Expirer, w *Windows, log *slog.Logger) actor.FactoryContext {
	return func() actor.ServerContext {
		return &ExpiryWindow{expirer: e, windows: w, log: log, timeout: time.Minute}
	}
}

// WindowOf names the window an order due at payBy belongs to: payBy rounded
// up to the whole second (daprd keeps reminder due times to the second, and
// the window must not end before the deadline).
func WindowOf(payBy time.Time) string {
	t := payBy.UTC()
	sec := t.Unix()
	if t.Nanosecond() != 0 {
		sec++
	}
	return strconv.FormatInt(sec, 10)
}

// WindowEnd reads a window's end from its actor id.
func WindowEnd(id string) (time.Time, error) {
	sec, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0).UTC(), nil
}

// Register arms a window's reminder, due at the window's end and repeating
// every SafetyPeriod until disarmed; registering again replaces it.
func Register(ctx context.Context, c daprc.Client, window string) error {
	end, err := WindowEnd(window)
	if err != nil {
		return err
	}
	return c.RegisterActorReminder(ctx, &daprc.RegisterActorReminderRequest{
		ActorType: ActorType, ActorID: window, Name: ReminderName,
		DueTime: end.Format(time.RFC3339), Period: SafetyPeriod.String(),
	})
}
