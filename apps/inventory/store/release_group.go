package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Group commit of releases.
//
// Every release of an order placed for the same delivery slot gives a unit
// back to the same slot row, and usually stock to the same few SKU rows. A
// burst of cancels released one by one queued every release's transaction
// on those rows' locks, each holding a connection while it waited, until
// the pool had none left for the catalog reads placements need (10,000
// cancels at 200/s: "load products/begin: context canceled"). Releases
// made at the same moment are written together instead (group.Writer):
// one transaction that claims every message (inbox.ClaimAll), reads and
// locks every reservation with one statement per table, gives stock back
// with one UPDATE per SKU and slot units with one UPDATE per slot key of
// the group's summed quantities, and marks the reservations released with
// one statement. At most group.InFlight groups are written at once, so
// however many deliveries arrive together, releases hold at most that many
// connections: the rest wait in the queue, not in the pool.
//
// Each release keeps the answer it would have had alone, and has its
// effect once: a message claimed before (a redelivery) changes nothing
// (applied false); a reservation already released, or confirmed when the
// release is only for held ones, is answered as read and gives nothing
// back; an order released twice in one group (two messages) gives back
// once, the second release seeing the first's outcome. An unknown order
// gets a RELEASED tombstone. If the group's transaction fails (a
// concurrent claim of one of its messages or tombstone of one of its
// orders: a duplicate key), every release is tried again alone
// (group.AllOrEach), where it meets the answer a lone release meets.

var releaseGroupSize = group.NewSizeHistogram("harvest_inventory_release_group_reservations", "Releases written per group commit (1 = alone).")

type releaseReq struct {
	orderID  string
	onlyHeld bool
	claim    *app.Claim
	// answers
	res     domain.Reservation
	applied bool
}

// Release gives a reservation's stock back: held, or confirmed too unless
// onlyHeld (the check-back must never undo a confirmation that raced it),
// in a group with the releases made at the same moment (see above).
// Ordinary parts go back to stock in the same transaction; for hot parts
// the row keeps hot_pending=1 until the caller has returned them in Redis
// and called ClearHotPending. An unknown order gets a RELEASED tombstone
// (also hot_pending, since Redis may hold an orphaned take for it). With a
// claim, applied is false when the message was handled before. Like
// CreateReservation it waits for the outcome even when ctx ends first.
func (s *Store) Release(ctx context.Context, orderID string, onlyHeld bool, claim *app.Claim) (res domain.Reservation, applied bool, err error) {
	for attempt := 0; ; attempt++ {
		r := &releaseReq{orderID: orderID, onlyHeld: onlyHeld, claim: claim}
		err = s.releases.Write(ctx, r)
		// Two releases of an unknown order both insert a tombstone; the
		// loser, alone by then, reads the winner's.
		if !sqltx.IsDuplicate(err) || attempt == 2 {
			return r.res, r.applied, err
		}
	}
}

// writeReleases writes batch in tx (see above), leaving each release's
// answer in it.
func (s *Store) writeReleases(ctx context.Context, tx *sql.Tx, batch []*releaseReq) error {
	now := s.now()
	for _, r := range batch {
		r.res, r.applied = domain.Reservation{}, r.claim == nil // a retried transaction starts over
	}
	if err := claimReleases(ctx, tx, batch); err != nil {
		return err
	}
	var ids []string
	for _, r := range batch {
		if r.applied {
			ids = append(ids, r.orderID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids))) // one lock order
	current, err := readReservations(ctx, tx, ids, true)
	if err != nil {
		return err
	}

	// Each release in turn against the order's state so far: the first of
	// an order's releases in the group gives back, a later one sees it
	// released.
	var tombstones []any
	released := map[string]domain.Reservation{}
	for _, r := range batch {
		if !r.applied {
			continue
		}
		cur, ok := current[r.orderID]
		switch {
		case !ok:
			cur = domain.Tombstone(r.orderID, now)
			tombstones = append(tombstones, r.orderID, domain.Released, now, now, now)
		case cur.Releasable(r.onlyHeld):
			cur.Release()
			released[r.orderID] = cur
		}
		current[r.orderID], r.res = cur, cur
	}
	if len(tombstones) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reservations (`+resCols+`, created_at, updated_at) VALUES `+
			sqltx.Tuples("(?,?,'','[]',0,1,?,?,?)", len(tombstones)/5), tombstones...); err != nil {
			return fmt.Errorf("tombstone %s: %w", reservationsNamed(ids), err)
		}
	}
	if len(released) == 0 {
		return nil
	}
	return giveBack(ctx, tx, released, now)
}

// claimReleases claims the messages of the releases that carry one, each
// consumer's with one inbox.ClaimAll, and marks applied those claimed now.
func claimReleases(ctx context.Context, tx *sql.Tx, batch []*releaseReq) error {
	byConsumer := map[string][]*releaseReq{}
	for _, r := range batch {
		if r.claim != nil {
			byConsumer[r.claim.Consumer] = append(byConsumer[r.claim.Consumer], r)
		}
	}
	for _, consumer := range slices.Sorted(maps.Keys(byConsumer)) {
		rs := byConsumer[consumer]
		msgIDs := make([]string, len(rs))
		for i, r := range rs {
			msgIDs[i] = r.claim.MsgID
		}
		fresh, err := inbox.ClaimAll(ctx, tx, consumer, msgIDs)
		if err != nil {
			return fmt.Errorf("claim %d messages of %s: %w", len(msgIDs), consumer, err)
		}
		for i, r := range rs {
			r.applied = fresh[i]
		}
	}
	return nil
}

// giveBack returns what the released reservations held: their ordinary
// parts' stock with one UPDATE per SKU, their slot units with one UPDATE
// per slot key (each the group's sum, stock rows before slot rows, each
// sorted, like every transaction's locks), and marks them released. Hot
// parts stay with the caller (hot_pending), after a shared lock on their
// counters' epochs orders the release against a counter rebuild.
func giveBack(ctx context.Context, tx *sql.Tx, released map[string]domain.Reservation, now time.Time) error {
	stock := map[string]int64{}
	slots := map[domain.SlotKey]int64{}
	var hotSKUs []string
	var withHot, withoutHot []any
	for id, r := range released {
		for _, p := range r.Parts() {
			if p.Hot {
				hotSKUs = append(hotSKUs, p.SKU)
			} else {
				stock[p.SKU] += p.Qty
			}
		}
		for _, k := range r.Slots() {
			slots[k]++
		}
		if r.HasHot() {
			withHot = append(withHot, id)
		} else {
			withoutHot = append(withoutHot, id)
		}
	}
	if len(hotSKUs) > 0 {
		if err := checkEpochs(ctx, tx, slices.Compact(slices.Sorted(slices.Values(hotSKUs))), nil); err != nil {
			return err
		}
	}
	for _, sku := range slices.Sorted(maps.Keys(stock)) {
		if _, err := tx.ExecContext(ctx, `UPDATE stock SET available = available + ?, updated_at = ? WHERE sku = ?`, stock[sku], now, sku); err != nil {
			return fmt.Errorf("return %s: %w", sku, err)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(slots), domain.CompareSlotKeys) {
		if err := giveSlot(ctx, tx, k, slots[k]); err != nil {
			return err
		}
	}
	for _, ids := range []struct {
		hotPending bool
		ids        []any
	}{{true, withHot}, {false, withoutHot}} {
		if len(ids.ids) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reservations SET status = 'RELEASED', hot_pending = ?, updated_at = ? WHERE order_id IN (`+
			placeholders(len(ids.ids))+`)`, append([]any{ids.hotPending, now}, ids.ids...)...); err != nil {
			return fmt.Errorf("release %d reservations: %w", len(ids.ids), err)
		}
	}
	return nil
}
