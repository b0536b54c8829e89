package main

import (
	"context"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/dapr/components-contrib/nameresolution"
	"github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/kit/logger"
)

// cachedSQLite is the sqlite name resolver made cacheable. daprd caches
// resolutions (20 s, dropped when a call to the address fails as
// unavailable) only for resolvers implementing ResolverMulti, which the
// contrib sqlite resolver does not (both still so in dapr and
// components-contrib v1.18.0: pkg/messaging/direct_messaging.go,
// nameresolution/sqlite); without it every service invocation ran a SQLite
// query, a measurable share of a sidecar's CPU per call.
//
// Its garbage collector stays off (dapr/config.yaml, cleanupInterval "0"):
// in v1.18.0 as in v1.14 it deletes the live rows; resolver_test.go shows it.
type cachedSQLite struct {
	nameresolution.Resolver
	log logger.Logger
}

func newCachedSQLite(l logger.Logger) nameresolution.Resolver {
	return &cachedSQLite{Resolver: sqlite.NewResolver(l), log: l}
}

// Init retries the contrib resolver's Init while the SQLite file is locked.
// Sidecars of one stack start together and each runs the resolver's
// migrations on the shared file; switching a new file to WAL takes an
// exclusive lock that SQLite refuses at once (SQLITE_BUSY) instead of
// waiting out busy_timeout, so a sidecar could die at start because its
// neighbour was migrating. Each attempt uses a fresh resolver because a
// failed Init leaves the old one holding a half-opened pool.
func (r *cachedSQLite) Init(ctx context.Context, md nameresolution.Metadata) error {
	const attempts = 20
	var err error
	for i := range attempts {
		if i > 0 {
			if c, ok := r.Resolver.(io.Closer); ok {
				_ = c.Close()
			}
			r.Resolver = sqlite.NewResolver(r.log)
			wait := time.Duration(50+rand.IntN(100)) * time.Millisecond * time.Duration(min(i, 5))
			r.log.Warnf("name resolution database busy, retrying in %v: %v", wait, err)
			select {
			case <-ctx.Done():
				return err
			case <-time.After(wait):
			}
		}
		if err = r.Resolver.Init(ctx, md); err == nil || !sqliteBusy(err) {
			return err
		}
	}
	return err
}

func sqliteBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
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
