package app

import (
	"context"
	"time"
)

// RunSweeper returns the worker that takes up every step whose message
// was lost or given up on (a crash between a commit and its delivery, a
// broker that stopped redelivering): staged orders still RECEIVED, plans
// still PLANNED and statuses not sent, idle for longer than idle, are run
// again every interval. Every step is guarded by its row's status, so a
// step the broker delivers meanwhile is not done twice.
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
			received, planned, unsent, err := s.d.Store.Stale(ctx, s.d.Clock.Now().Add(-idle), 500)
			if err != nil {
				s.d.Logger.Warn("sweep", "err", err)
				continue
			}
			if len(received) > 0 {
				s.PlanAll(ctx, received)
			}
			for i, err := range s.OrderAll(ctx, planned) {
				if err != nil {
					s.d.Logger.Warn("sweep: order a plan", "plan", planned[i], "err", err)
				}
			}
			for i, err := range s.SendStatuses(ctx, unsent) {
				if err != nil {
					s.d.Logger.Warn("sweep: send a status", "update", unsent[i], "err", err)
				}
			}
			if n := len(received) + len(planned) + len(unsent); n > 0 {
				s.d.Logger.Info("swept", "received", len(received), "planned", len(planned), "unsent", len(unsent))
			}
		}
	}
}
