package app

import (
	"context"
	"sync"
	"time"
)

// sweepLimit bounds what one sweep takes up of each step.
const sweepLimit = 500

// RunSweeper returns the worker that takes up every step whose message
// was lost or given up on (a crash between a commit and its delivery, a
// broker that stopped redelivering): staged orders still RECEIVED, plans
// still PLANNED and statuses not sent, idle for longer than idle, are run
// again every interval (Sweep). Every step is guarded by its row's status,
// so a step the broker delivers meanwhile is not done twice.
func (s *Service) RunSweeper(every, idle time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			s.Sweep(ctx, idle)
		}
	}
}

// Sweep runs once what stood still for longer than idle and is not
// merely waiting its turn in the broker. A group buy closing leaves tens
// of thousands of plans PLANNED whose messages the broker is still
// handing over a bulk at a time; they stand still for longer than idle
// without being lost, and taking them up as well placed each order twice
// (the 20 k run swept 2,500 to 6,000 of them: each a second accept-order
// call, answered by OMS's replay, while the CPU was the limit). So while
// the broker is delivering a step's messages, the sweep takes up only
// rows idle for longer than idle before the newest row a delivery found
// (stepMark.cutoff): the broker hands messages over roughly in order, so
// an older row still waiting that long after is one whose message is gone.
// It reports what it took up.
func (s *Service) Sweep(ctx context.Context, idle time.Duration) (received, planned, unsent int) {
	now := s.d.Clock.Now()
	rs, ps, us, err := s.d.Store.Stale(ctx, s.delivered.received.cutoff(now, idle), s.delivered.planned.cutoff(now, idle),
		s.delivered.unsent.cutoff(now, idle), sweepLimit)
	if err != nil {
		s.d.Logger.Warn("sweep", "err", err)
		return 0, 0, 0
	}
	if len(rs) > 0 {
		s.planAll(ctx, rs, nil)
	}
	for i, err := range s.orderAll(ctx, ps, nil) {
		if err != nil {
			s.d.Logger.Warn("sweep: order a plan", "plan", ps[i], "err", err)
		}
	}
	for i, err := range s.sendStatuses(ctx, us, nil) {
		if err != nil {
			s.d.Logger.Warn("sweep: send a status", "update", us[i], "err", err)
		}
	}
	if n := len(rs) + len(ps) + len(us); n > 0 {
		s.d.Logger.Info("swept", "received", len(rs), "planned", len(ps), "unsent", len(us))
	}
	return len(rs), len(ps), len(us)
}

// stepMarks follow the broker's deliveries of each step's messages.
type stepMarks struct{ received, planned, unsent stepMark }

// stepMark is what the broker's deliveries of one step's messages showed:
// when the last came, and the newest row (by the time the sweep orders
// that step's rows by) one of them found still waiting for the step.
type stepMark struct {
	mu     sync.Mutex
	at     time.Time
	newest time.Time
}

// saw records a delivery at now that found a row of the step waiting
// since row.
func (m *stepMark) saw(now, row time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at = now
	if row.After(m.newest) {
		m.newest = row
	}
}

// cutoff is the sweep's bound for the step: rows idle since before
// now-idle, and while the step's messages are being delivered (the last
// came within idle) also since before the newest row delivered less idle.
// A broker that is quiet, or keeps delivering newer rows, lets a lost
// one be taken up within idle of that.
func (m *stepMark) cutoff(now time.Time, idle time.Duration) time.Time {
	before := now.Add(-idle)
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.at) < idle {
		if b := m.newest.Add(-idle); b.Before(before) {
			before = b
		}
	}
	return before
}
