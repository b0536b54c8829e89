package actors_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

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
