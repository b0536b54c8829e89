// Package actors hosts OMS's payment-deadline actor, ExpiryWindow, and arms
// its reminders through the Dapr sidecar.
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
// Why windows and not one reminder per order: daprd 1.14 stored an actor
// type's reminders in state-store values it re-read and rewrote whole on
// every registration and removal, so the cost of arming grew with the
// number armed; at 100 k unpaid orders a reminder per order stopped keeping
// up. Windows bound the armed reminders by the payment deadline in seconds
// (600 for the 10 min default) and cost one registration per second of
// placements, not one per order, and nothing when an order is paid. Dapr
// 1.18 keeps reminders in the Scheduler (its etcd), where one per order
// does not rewrite the others; whether that design is now the faster one
// is measured separately (issue 11), and until then windows stay. The
// reminder lives in the Scheduler, so it survives restarts of OMS and its
// sidecar. Orders whose window was never armed (OMS stopped right after the
// commit) are cancelled by the expiry sweep.
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
