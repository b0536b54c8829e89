package main

import (
	"context"
	"io"
	"slices"

	"github.com/dapr/components-contrib/nameresolution"
	"github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/kit/logger"
)

// cachedSQLite is the sqlite name resolver made cacheable. daprd 1.14
// caches resolutions (20 s, dropped when a call to the address fails as
// unavailable) only for resolvers implementing ResolverMulti, which the
// contrib sqlite resolver does not; without it every service invocation
// ran a SQLite query, a measurable share of a sidecar's CPU per call.
type cachedSQLite struct {
	nameresolution.Resolver
}

func newCachedSQLite(l logger.Logger) nameresolution.Resolver {
	return &cachedSQLite{Resolver: sqlite.NewResolver(l)}
}

// multiPicks is how many random picks a resolution makes to find an app's
// instances: the contrib resolver returns one random live row per query.
// An instance missed now is found on a later miss of the cache; calls never
// go to a dead one for long because a failed call drops the entry.
const multiPicks = 4

// ResolveIDMulti returns the app's live addresses found by a few random picks.
func (r *cachedSQLite) ResolveIDMulti(ctx context.Context, req nameresolution.ResolveRequest) (nameresolution.AddressList, error) {
	var out nameresolution.AddressList
	for range multiPicks {
		addr, err := r.Resolver.ResolveID(ctx, req)
		if err != nil {
			if len(out) > 0 {
				return out, nil
			}
			return nil, err
		}
		if !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out, nil
}

// Close deregisters this sidecar's row, as the wrapped resolver does.
func (r *cachedSQLite) Close() error {
	if c, ok := r.Resolver.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
