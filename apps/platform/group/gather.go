package group

import "time"

// Gather takes a batch off ch for a consumer that has just received first:
// first and whatever else is queued at once, up to max. With a linger, a
// batch that holds at least lingerFrom items then waits up to linger for
// more to join it: lingerFrom 1 always lingers (work that waits on
// throughput, not latency), 2 only when items had queued behind the first
// (a busy consumer), so a lone item still goes at once. open is false
// when ch was closed.
func Gather[T any](ch <-chan T, first T, max int, linger time.Duration, lingerFrom int) (batch []T, open bool) {
	batch = []T{first}
	var timeout <-chan time.Time
	for len(batch) < max {
		select {
		case x, ok := <-ch:
			if !ok {
				return batch, false
			}
			batch = append(batch, x)
			continue
		default:
		}
		if linger <= 0 || len(batch) < lingerFrom {
			return batch, true
		}
		if timeout == nil {
			t := time.NewTimer(linger)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case x, ok := <-ch:
			if !ok {
				return batch, false
			}
			batch = append(batch, x)
		case <-timeout:
			return batch, true
		}
	}
	return batch, true
}
