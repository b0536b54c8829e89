package actors

import (
	"context"
	"sync"
	"time"
)

// runArmWorkers is the worker loop both reminder designs share: workers
// take queued registrations from ops and arm them until ctx is done, then
// drain what is still queued for at most drain. It returns how many were
// left queued.
func runArmWorkers[T any](ctx context.Context, ops chan T, workers int, drain time.Duration, arm func(context.Context, T)) int {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case op := <-ops:
					arm(context.WithoutCancel(ctx), op)
				case <-ctx.Done():
					deadline := time.Now().Add(drain)
					for time.Now().Before(deadline) {
						select {
						case op := <-ops:
							arm(context.WithoutCancel(ctx), op)
						default:
							return
						}
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	return len(ops)
}

// withRetries calls register, waiting retryDelays between attempts, and
// returns the last error.
func withRetries(register func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = register()
		if err == nil || attempt == len(retryDelays) {
			return err
		}
		time.Sleep(retryDelays[attempt])
	}
}
