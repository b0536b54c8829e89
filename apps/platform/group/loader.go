package group

import "context"

// Loader reads values by key for concurrent callers with one fetch per
// group: the keys of every call in a group are fetched together, and each
// call gets the values of its own keys.
type Loader[K comparable, V any] struct {
	q     *Queue[*load[K, V]]
	fetch func(ctx context.Context, keys []K) (map[K]V, error)
}

type load[K comparable, V any] struct {
	ctx  context.Context
	keys []K
	done chan loaded[K, V]
}

type loaded[K comparable, V any] struct {
	vals map[K]V
	err  error
}

// NewLoader returns a Loader over fetch, which answers the values of the
// keys it found (absent keys are simply missing); a group holds the keys
// of at most o.MaxSize calls, and at most o.InFlight fetches run at once.
func NewLoader[K comparable, V any](o Options, fetch func(ctx context.Context, keys []K) (map[K]V, error)) *Loader[K, V] {
	return &Loader[K, V]{q: NewQueue[*load[K, V]](o), fetch: fetch}
}

// Load returns the values found for keys.
func (l *Loader[K, V]) Load(ctx context.Context, keys ...K) (map[K]V, error) {
	x := &load[K, V]{ctx: ctx, keys: keys, done: make(chan loaded[K, V], 1)}
	l.q.Submit(x, l.handle)
	select {
	case r := <-x.done:
		return r.vals, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *Loader[K, V]) handle(g []*load[K, V]) {
	var live []*load[K, V]
	seen := map[K]bool{}
	var keys []K
	for _, x := range g {
		if x.ctx.Err() != nil {
			continue // its caller stopped waiting
		}
		live = append(live, x)
		for _, k := range x.keys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(live) == 0 {
		return
	}
	// The group's fetch serves callers with contexts of their own; it runs
	// on the first live one's values but is not cut short by its end.
	vals, err := l.fetch(context.WithoutCancel(live[0].ctx), keys)
	for _, x := range live {
		if err != nil {
			x.done <- loaded[K, V]{err: err}
			continue
		}
		mine := make(map[K]V, len(x.keys))
		for _, k := range x.keys {
			if v, ok := vals[k]; ok {
				mine[k] = v
			}
		}
		x.done <- loaded[K, V]{vals: mine}
	}
}
