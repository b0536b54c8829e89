package actors_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	daprc "github.com/dapr/go-sdk/client"

	"github.com/harvest/harvest/apps/oms/actors"
)

type fakeExpirer struct {
	err   error
	calls []time.Time
}

func (f *fakeExpirer) ExpireWindow(_ context.Context, end time.Time) error {
	f.calls = append(f.calls, end)
	return f.err
}

func TestWindowOfRoundsUpToTheSecond(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		payBy time.Time
		want  time.Time
	}{
		{base, base},
		{base.Add(time.Microsecond), base.Add(time.Second)},
		{base.Add(999 * time.Millisecond), base.Add(time.Second)},
		{base.Add(time.Second).In(time.FixedZone("CST", 8*3600)), base.Add(time.Second)},
	}
	for _, c := range cases {
		win := actors.WindowOf(c.payBy)
		end, err := actors.WindowEnd(win)
		if err != nil || !end.Equal(c.want) {
			t.Fatalf("WindowOf(%s) = %s (%s, %v), want %s", c.payBy, win, end, err, c.want)
		}
		if c.payBy.After(end) {
			t.Fatalf("window %s ends before the deadline %s", end, c.payBy)
		}
	}
}

func TestReminderCallExpiresItsWindow(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 24, 10, 0, 7, 0, time.UTC)
	for _, fail := range []bool{false, true} {
		ex := &fakeExpirer{}
		if fail {
			ex.err = errors.New("db down")
		}
		a := actors.Factory(ex, nil, slog.Default())()
		if a.Type() != actors.ActorType {
			t.Fatalf("type %s", a.Type())
		}
		a.SetID(actors.WindowOf(end))
		a.(*actors.ExpiryWindow).ReminderCall("someone-else", nil, "", "")
		if fail {
			// A failed pass returns before disarming (a nil Windows would panic).
			a.(*actors.ExpiryWindow).ReminderCall(actors.ReminderName, nil, "", "5s")
		}
		if want := map[bool]int{false: 0, true: 1}[fail]; len(ex.calls) != want || (want == 1 && !ex.calls[0].Equal(end)) {
			t.Fatalf("fail=%v: expire calls %v", fail, ex.calls)
		}
	}
}

type fakeOrderExpirer struct {
	err   error
	calls []string
}

func (f *fakeOrderExpirer) ExpireUnpaid(_ context.Context, id string) error {
	f.calls = append(f.calls, id)
	return f.err
}

// An UnpaidOrder's fire expires its own order (actor id = order id) and
// ignores other reminders; a failed pass is left to the sweep, not retried.
func TestOrderReminderCallExpiresItsOrder(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		ex := &fakeOrderExpirer{}
		if fail {
			ex.err = errors.New("db down")
		}
		a := actors.OrderFactory(ex, slog.Default())()
		if a.Type() != actors.OrderActorType {
			t.Fatalf("type %s", a.Type())
		}
		a.SetID("01ORDER")
		o := a.(*actors.UnpaidOrder)
		o.ReminderCall("someone-else", nil, "", "")
		o.ReminderCall(actors.ReminderName, nil, "", "")
		if len(ex.calls) != 1 || ex.calls[0] != "01ORDER" {
			t.Fatalf("fail=%v: expire calls %v", fail, ex.calls)
		}
	}
}

// Arm only queues: placement never waits for the sidecar, and a full queue
// says so (the sweep covers that order).
func TestOrdersArmQueuesAndRefusesWhenFull(t *testing.T) {
	t.Parallel()
	o := actors.NewOrders(nil, 2, slog.Default())
	due := time.Now().Add(time.Minute)
	for i, want := range []error{nil, nil, actors.ErrQueueFull} {
		if err := o.Arm(context.Background(), fmt.Sprint("o", i), due); !errors.Is(err, want) {
			t.Fatalf("arm %d: %v, want %v", i, err, want)
		}
	}
}

type recordingClient struct {
	daprc.Client // only RegisterActorReminder is called
	got          []*daprc.RegisterActorReminderRequest
}

func (c *recordingClient) RegisterActorReminder(_ context.Context, r *daprc.RegisterActorReminderRequest) error {
	c.got = append(c.got, r)
	return nil
}

// An order's reminder is its own actor's, due at its deadline rounded up to
// the second, and fires once (no period: the Scheduler deletes it after
// the fire, so nothing has to unregister it).
func TestRegisterOrderFiresOnceAtTheDeadline(t *testing.T) {
	t.Parallel()
	c := &recordingClient{}
	payBy := time.Date(2026, 11, 24, 10, 0, 7, 250_000_000, time.FixedZone("CST", 8*3600))
	if err := actors.RegisterOrder(context.Background(), c, "01ORDER", payBy); err != nil {
		t.Fatal(err)
	}
	r := c.got[0]
	if r.ActorType != actors.OrderActorType || r.ActorID != "01ORDER" || r.Name != actors.ReminderName ||
		r.DueTime != "2026-11-24T02:00:08Z" || r.Period != "" {
		t.Fatalf("registered %+v", r)
	}
}
