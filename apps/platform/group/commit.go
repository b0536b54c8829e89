package group

import (
	"context"
	"database/sql"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Commit writes a group of items handed over by a Queue in one
// transaction: all writes them (run again by sqltx.Run after a deadlock,
// so it must not keep state from a failed try), and ok then answers each.
// With one item, or when the transaction fails for any reason (one item a
// repeat, a conflict, short of stock…), one writes every item on its own
// instead, so each caller gets exactly the answer, or the error, it would
// have had alone.
func Commit[T any](ctx context.Context, db *sql.DB, g []T, all func(ctx context.Context, tx *sql.Tx) error, ok, one func(T)) {
	if len(g) > 1 && sqltx.Run(ctx, db, func(tx *sql.Tx) error { return all(ctx, tx) }) == nil {
		for _, r := range g {
			ok(r)
		}
		return
	}
	for _, r := range g {
		one(r)
	}
}
