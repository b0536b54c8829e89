package group

import (
	"context"
	"database/sql"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Writer writes items in groups: the items written at the same moment go
// through one call of its write function (one transaction with one
// multi-row statement per table, say), and a group that fails is written
// again item by item with the same function (AllOrEach). So there is one
// way to write an item, whatever the load: a lone item is a group of one.
type Writer[T any] struct {
	q     *Queue[*pendingWrite[T]]
	write func(ctx context.Context, g []T) error
}

type pendingWrite[T any] struct {
	ctx  context.Context
	item T
	done chan error
}

// NewWriter returns a Writer over write, grouping as o says. write is
// called with groups of one or more items and must leave every answer it
// gives in the items themselves (they are pointers, typically); it may be
// called again for the same item (AllOrEach, or a transaction retried
// after a deadlock), so it must reset what it answers before it starts.
func NewWriter[T any](o Options, write func(ctx context.Context, g []T) error) *Writer[T] {
	return &Writer[T]{q: NewQueue[*pendingWrite[T]](o), write: write}
}

// Write writes item in a group with those written at the same moment and
// returns the error of the write that wrote it: nil, or the error the item
// would have had alone. It waits for the outcome even when ctx ends
// first: a caller must never take for failed a write that was made (OMS
// releases an order's stock when creating it fails).
func (w *Writer[T]) Write(ctx context.Context, item T) error {
	p := &pendingWrite[T]{ctx: ctx, item: item, done: make(chan error, 1)}
	w.q.Submit(p, w.handle)
	return <-p.done
}

func (w *Writer[T]) handle(g []*pendingWrite[T]) {
	// The group serves callers with contexts of their own; it runs on the
	// first one's values but is not cut short by its end.
	ctx := context.WithoutCancel(g[0].ctx)
	items := make([]T, len(g))
	for i, p := range g {
		items[i] = p.item
	}
	AllOrEach(items, func(part []T) error { return w.write(ctx, part) }, func(i int, err error) { g[i].done <- err })
}

// AllOrEach writes g with write and, when that fails and g holds more than
// one item, writes every item again on its own with the same function, so
// each gets exactly the answer, or the error, it would have had alone:
// one item a repeat, short of stock or in conflict spoils only itself.
// done gets each item's answer by its index in g. It is the one way
// Harvest falls back from a group to one by one.
func AllOrEach[T any](g []T, write func(g []T) error, done func(i int, err error)) {
	err := write(g)
	if err != nil && len(g) > 1 {
		for i := range g {
			done(i, write(g[i:i+1:i+1]))
		}
		return
	}
	for i := range g {
		done(i, err)
	}
}

// InTx makes a transaction's writer a Writer's write function: each call
// runs write in a transaction of its own (sqltx.Run, which runs it again
// after a deadlock).
func InTx[T any](db *sql.DB, write func(ctx context.Context, tx *sql.Tx, g []T) error) func(ctx context.Context, g []T) error {
	return func(ctx context.Context, g []T) error {
		return sqltx.Run(ctx, db, func(tx *sql.Tx) error { return write(ctx, tx, g) })
	}
}
