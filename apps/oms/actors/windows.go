package actors

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	daprc "github.com/dapr/go-sdk/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	windowsArmed = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "harvest_oms_deadline_windows_armed", Help: "Deadline windows this instance has armed and not yet seen fire.",
	})
	windowOps = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_reminder_ops_total", Help: "Deadline reminder registrations and removals, by op (arm, disarm: windows; arm_order: one per order) and result.",
	}, []string{"op", "result"})
)

// ErrQueueFull is returned when registrations cannot be queued; the expiry
// sweep covers an order whose window was never armed.
var ErrQueueFull = errors.New("reminder queue full")

// Windows arms deadline windows in the background: the first order due in a
// second queues its window's registration, later ones find it armed or on
// its way and cost nothing. Placement never waits for the sidecar. A failed
// registration is retried a few times and then forgotten, so the next order
// of that window queues it again; an order left unarmed is cancelled by the
// sweep at its deadline plus the grace.
type Windows struct {
	client func(ctx context.Context) (daprc.Client, error)
	log    *slog.Logger
	ops    chan string

	mu    sync.Mutex
	known map[string]bool // window → registered (true) or queued (false)
}

// NewWindows returns Windows over a lazily connected Dapr client, queueing
// up to size registrations.
func NewWindows(client func(ctx context.Context) (daprc.Client, error), size int, log *slog.Logger) *Windows {
	return &Windows{client: client, log: log, ops: make(chan string, size), known: map[string]bool{}}
}

// Arm makes sure the window of an order due at payBy is armed (app.Reminders).
func (w *Windows) Arm(_ context.Context, _ string, payBy time.Time) error {
	win := WindowOf(payBy)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.known[win]; ok {
		return nil
	}
	w.forgetPast()
	select {
	case w.ops <- win:
		w.known[win] = false
		return nil
	default:
		return ErrQueueFull
	}
}

// forgetPast drops windows that ended over a minute ago — their fire has
// come, perhaps on another instance — so the set stays about as small as
// the windows still ahead.
func (w *Windows) forgetPast() {
	if len(w.known) < 1024 {
		return
	}
	cutoff := time.Now().Add(-time.Minute)
	for win, registered := range w.known {
		if end, err := WindowEnd(win); err == nil && end.Before(cutoff) {
			if registered {
				windowsArmed.Dec()
			}
			delete(w.known, win)
		}
	}
}

// Run registers queued windows with workers until ctx is done, then
// drains what is queued for at most drain.
func (w *Windows) Run(ctx context.Context, workers int, drain time.Duration) error {
	if n := runArmWorkers(ctx, w.ops, workers, drain, w.arm); n > 0 {
		w.log.Warn("deadline windows not armed at stop; the expiry sweep covers their orders", "left", n)
	}
	return nil
}

// retryDelays are the waits between attempts to register one window.
var retryDelays = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second}

func (w *Windows) arm(ctx context.Context, win string) {
	err := withRetries(func() error { return w.register(ctx, win) })
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		delete(w.known, win)
		windowOps.WithLabelValues("arm", "error").Inc()
		w.log.Warn("deadline window not armed; the next order due in it tries again, the sweep covers the rest", "window", win, "err", err)
		return
	}
	if !w.known[win] {
		w.known[win] = true
		windowsArmed.Inc()
	}
	windowOps.WithLabelValues("arm", "ok").Inc()
}

func (w *Windows) register(ctx context.Context, win string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := w.client(ctx)
	if err != nil {
		return err
	}
	return Register(ctx, c, win)
}

// disarm unregisters a window's reminder once its pass succeeded, and
// forgets the window. A later order can no longer fall in it: its deadline
// would be in the past.
func (w *Windows) disarm(ctx context.Context, win string) error {
	w.mu.Lock()
	if w.known[win] {
		windowsArmed.Dec()
	}
	delete(w.known, win)
	w.mu.Unlock()
	c, err := w.client(ctx)
	if err == nil {
		err = c.UnregisterActorReminder(ctx, &daprc.UnregisterActorReminderRequest{
			ActorType: ActorType, ActorID: win, Name: ReminderName,
		})
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	windowOps.WithLabelValues("disarm", result).Inc()
	return err
}
