package actors_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/oms/actors"
	"github.com/harvest/harvest/apps/oms/app"
)

type fakeExpirer struct {
	outcome app.ExpiryOutcome
	err     error
	calls   []string
}

func (f *fakeExpirer) ExpireOrder(_ context.Context, id, by string) (app.ExpiryOutcome, error) {
	f.calls = append(f.calls, id+"/"+by)
	return f.outcome, f.err
}

type fakeDisarmer struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeDisarmer) Disarm(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, id)
	return nil
}

func TestReminderCallDisarmsOnlyWhenSettled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		outcome app.ExpiryOutcome
		err     error
		disarm  bool
	}{
		{"cancelled", app.ExpiryCancelled, nil, true},
		{"already paid or cancelled", app.ExpirySettled, nil, true},
		{"fired early", app.ExpiryNotDue, nil, false},
		{"cancel failed: fire again", 0, errors.New("db down"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ex := &fakeExpirer{outcome: c.outcome, err: c.err}
			dis := &fakeDisarmer{}
			a := actors.Factory(ex, dis, slog.Default())()
			if a.Type() != actors.ActorType {
				t.Fatalf("type %s", a.Type())
			}
			a.SetID("order-1")
			a.(*actors.OrderExpiry).ReminderCall(actors.ReminderName, nil, "", "15s")
			a.(*actors.OrderExpiry).ReminderCall("someone-else", nil, "", "")
			if len(ex.calls) != 1 || ex.calls[0] != "order-1/reminder" {
				t.Fatalf("expire calls %v", ex.calls)
			}
			if got := len(dis.ids) == 1 && dis.ids[0] == "order-1"; got != c.disarm {
				t.Fatalf("disarmed %v, want %v", dis.ids, c.disarm)
			}
		})
	}
}
