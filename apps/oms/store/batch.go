package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// UpdateManyTx is UpdateTx for several orders in the caller's transaction,
// in a fixed number of statements whatever their number: the orders are
// locked in id order by one SELECT … FOR UPDATE and read with their lines
// and timelines, fn changes each (in id order), and the changes are saved
// by one UPDATE conditional on the versions read, the new timeline entries
// by one INSERT and fn's events by one outbox INSERT. An
// order fn leaves unchanged (app.ErrNoChange) or that does not exist is
// skipped, and any other error of fn fails the call. It returns the orders
// fn changed, marked stored (valid if the caller's transaction commits).
// Fulfillment starts, and marks dispatched, many orders at once with it,
// in its group commits.
func (s *Store) UpdateManyTx(ctx context.Context, tx *sql.Tx, ids []string, fn func(o *domain.Order) ([]outbox.Event, error)) ([]*domain.Order, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	orders, err := loadMany(ctx, tx, ids, true)
	if err != nil {
		return nil, err
	}
	var (
		events  []outbox.Event
		changed []*domain.Order
	)
	for _, o := range orders {
		evs, err := fn(o)
		if errors.Is(err, app.ErrNoChange) {
			continue
		}
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
		changed = append(changed, o)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := save(ctx, tx, changed, events); err != nil {
		return nil, err
	}
	return changed, nil
}

// save writes what changed in orders (each read at its version) in tx, in
// a fixed number of statements whatever their number: one UPDATE
// conditional on the versions read, the new timeline entries by one
// INSERT and events by one outbox INSERT; then it marks them stored. One
// order changed alone (UpdateTx) is saved the same way.
func save(ctx context.Context, tx *sql.Tx, orders []*domain.Order, events []outbox.Event) error {
	snaps := make([]domain.Snapshot, len(orders))
	var entries []timelineRow
	for i, o := range orders {
		snaps[i] = o.Snapshot()
		for n, e := range o.NewEvents() {
			entries = append(entries, timelineRow{orderID: o.ID(), seq: o.StoredEvents() + n, ev: e})
		}
	}
	cases := func(col string, val func(domain.Snapshot) any, args *[]any) string {
		var b strings.Builder
		b.WriteString(col + " = CASE id")
		for _, sn := range snaps {
			b.WriteString(" WHEN ? THEN ?")
			*args = append(*args, sn.ID, val(sn))
		}
		b.WriteString(" END")
		return b.String()
	}
	var args []any
	sets := []string{
		cases("status", func(sn domain.Snapshot) any { return string(sn.Status) }, &args),
		cases("paid_fen", func(sn domain.Snapshot) any { return sn.Paid }, &args),
		cases("trade_id", func(sn domain.Snapshot) any { return sn.TradeID }, &args),
		cases("cancel_pending", func(sn domain.Snapshot) any { return sn.CancelPending }, &args),
		cases("cancel_reason", func(sn domain.Snapshot) any { return sn.CancelReason }, &args),
		cases("updated_at", func(sn domain.Snapshot) any { return sn.UpdatedAt }, &args),
	}
	for _, sn := range snaps {
		args = append(args, sn.ID)
	}
	version := cases("version", func(sn domain.Snapshot) any { return sn.Version }, &args)
	q := `UPDATE orders SET ` + strings.Join(sets, ", ") + `, version = version + 1 WHERE id IN (` + placeholders(len(snaps)) + `) AND ` + version
	which := fmt.Sprintf("order %s at version %d", snaps[0].ID, snaps[0].Version)
	if len(snaps) > 1 {
		which = fmt.Sprintf("%d orders from %s", len(snaps), snaps[0].ID)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update %s: %w", which, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(snaps)) {
		return fmt.Errorf("%w: %d of %s", domain.ErrConcurrentChange, n, which)
	}
	if err := insertTimeline(ctx, tx, entries); err != nil {
		return err
	}
	if _, err := outbox.Add(ctx, tx, events...); err != nil {
		return err
	}
	for i, o := range orders {
		o.MarkStored(snaps[i].Version + 1)
	}
	return nil
}
