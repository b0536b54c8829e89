package actors

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	queueDepth = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "harvest_oms_reminder_queue_depth", Help: "Reminder registrations waiting to be sent to the sidecar.",
	})
	queueResults = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_reminder_ops_total", Help: "Reminder registrations and removals, by op and result.",
	}, []string{"op", "result"})
)

// ErrQueueFull is returned when the reminder queue cannot take more work;
// the expiry sweep covers an order whose reminder was never armed.
var ErrQueueFull = errors.New("reminder queue full")

type reminderOp struct {
	arm     bool
	orderID string
	payBy   time.Time
}

// Queue arms and disarms reminders in the background, so an order's
// placement never waits for the sidecar to store its reminder. (daprd 1.14
// serializes reminder writes per actor type; done inline they became the
// slowest step of placing an order under load.) An order committed but not
// yet armed when OMS stops is cancelled by the sweep at its deadline.
type Queue struct {
	r       *Reminders
	ops     chan reminderOp
	workers int
	log     *slog.Logger
}

// NewQueue returns a queue of up to size operations sent by workers.
func NewQueue(r *Reminders, size, workers int, log *slog.Logger) *Queue {
	return &Queue{r: r, ops: make(chan reminderOp, size), workers: workers, log: log}
}

// Arm queues the registration of an order's reminder.
func (q *Queue) Arm(_ context.Context, orderID string, payBy time.Time) error {
	return q.put(reminderOp{arm: true, orderID: orderID, payBy: payBy})
}

// Disarm queues the removal of an order's reminder.
func (q *Queue) Disarm(_ context.Context, orderID string) error {
	return q.put(reminderOp{orderID: orderID})
}

func (q *Queue) put(op reminderOp) error {
	select {
	case q.ops <- op:
		queueDepth.Inc()
		return nil
	default:
		return ErrQueueFull
	}
}

// Run sends queued operations until ctx is done, then for at most drain
// more; what is left is logged and left to the sweep.
func (q *Queue) Run(ctx context.Context, drain time.Duration) error {
	done := make(chan struct{})
	for i := 0; i < q.workers; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case op := <-q.ops:
					q.do(op)
				case <-ctx.Done():
					deadline := time.After(drain)
					for {
						select {
						case op := <-q.ops:
							q.do(op)
						case <-deadline:
							return
						default:
							return
						}
					}
				}
			}
		}()
	}
	for i := 0; i < q.workers; i++ {
		<-done
	}
	if n := len(q.ops); n > 0 {
		q.log.Warn("reminder queue not drained; the expiry sweep covers these orders", "left", n)
	}
	return nil
}

func (q *Queue) do(op reminderOp) {
	queueDepth.Dec()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	name := "disarm"
	if op.arm {
		name = "arm"
		err = q.r.Arm(ctx, op.orderID, op.payBy)
	} else {
		err = q.r.Disarm(ctx, op.orderID)
	}
	if err != nil {
		queueResults.WithLabelValues(name, "error").Inc()
		q.log.Warn("reminder operation failed; the expiry sweep covers the order", "op", name, "order_id", op.orderID, "err", err)
		return
	}
	queueResults.WithLabelValues(name, "ok").Inc()
}
