package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Group commit of reservations.
//
// A reservation alone is a transaction of five statements (BEGIN, the
// reservation row, a conditional decrement per ordinary part, the parts,
// COMMIT). Reservations made at the same moment (a batch of placements
// from OMS, a flash sale) are written together instead (group.Writer): one
// transaction that inserts all reservation rows with one statement, checks
// the hot counters' epochs with one read, takes the ordinary parts of the
// whole group with one UPDATE of each SKU's summed quantity (takeAll) — or,
// when some SKU cannot give its sum, part by part with conditional
// decrements in SKU order — and inserts all parts with one statement.
// As for OMS's orders, a caller that finds fewer than group.InFlight groups
// committing starts one at once, so a lone reservation waits for nobody,
// and a lone reservation is a group of one: writeReservations is the only
// way a reservation is written.
//
// Each reservation keeps the answer it would have had alone, in the order
// a lone one meets them:
//   - the order already reserved (or a release's tombstone): the group's
//     transaction fails and every reservation of the group is tried again
//     alone (group.AllOrEach), where this one gets app.ErrExists; so does
//     a deadlock beyond retries;
//   - a hot counter rebuilt since its take: domain.ErrStale, nothing taken;
//   - short of a part: that reservation takes nothing (what it took of
//     its other parts is put back in the same transaction) and gets the
//     OUT_OF_STOCK naming every short part. If the group put back stock of
//     a SKU another reservation was refused, that refusal may have been
//     caused by the group itself, so that reservation is tried again alone
//     after the commit;
//   - a full delivery slot (slots are taken after all stock rows, one
//     UPDATE per slot key of the group's summed units): a key that cannot
//     give its sum takes nothing; a reservation alone on it (or in a group
//     of one) gets the SLOT_FULL naming its full slots, the others sharing
//     it are tried again alone after the commit, where each learns whether
//     it still fits. Either way it puts back its stock and the units it
//     took of its other slots.
// A reservation that fails in a group that commits has its row deleted in
// the same transaction.

var reserveGroupSize = group.NewSizeHistogram("harvest_inventory_reserve_group_reservations", "Reservations written per group commit (1 = alone).")

type reserveReq struct {
	req     domain.Request
	parts   []domain.Part
	slots   []domain.SlotKey
	expires time.Time
	epochs  map[string]int64
	// answers
	res   domain.Reservation
	err   error
	retry bool // refused maybe for stock its own group put back
}

// CreateReservation writes a held reservation and takes the ordinary
// (non-hot) parts from stock and one unit of each slot atomically, in a
// group with the reservations made at the same moment (see above). Every
// part that lacks stock is named and nothing is taken; so is every full
// slot. hotEpochs are the counter epochs the hot
// parts were taken from: if a rebuild has replaced a counter since,
// domain.ErrStale. ErrExists when the order already has a reservation.
// It waits for the outcome even when ctx ends first, so that the caller's
// answer (and its give-back of hot units on failure) matches what was
// written.
func (s *Store) CreateReservation(ctx context.Context, req domain.Request, parts []domain.Part, slots []domain.SlotKey, expires time.Time, hotEpochs map[string]int64) (domain.Reservation, error) {
	r := &reserveReq{req: req, parts: parts, slots: slots, expires: expires, epochs: hotEpochs}
	err := s.reserves.Write(ctx, r)
	if err == nil && r.retry {
		err = group.InTx(s.db, s.writeReservations)(context.WithoutCancel(ctx), []*reserveReq{r})
	}
	if err != nil {
		return domain.Reservation{}, err
	}
	return r.res, r.err
}

type stockTake struct {
	item int
	sku  string
	qty  int64
}

// writeReservations writes batch in tx (see above), leaving each
// reservation's answer in it.
func (s *Store) writeReservations(ctx context.Context, tx *sql.Tx, batch []*reserveReq) error {
	now := s.now()
	failed := make([]bool, len(batch))
	var resArgs []any
	for _, r := range batch {
		r.res, r.err, r.retry = domain.Reservation{}, nil, false // a retried transaction starts over
		res, body, err := newReservation(r.req, r.parts, r.slots, r.expires)
		if err != nil {
			return err
		}
		r.res = res
		resArgs = append(resArgs, r.req.OrderID(), domain.Held, r.req.Fingerprint(), body, res.HasHot(), res.ExpiresAt(), now, now)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reservations (`+resCols+`, created_at, updated_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,0,?,?,?)", len(batch)), resArgs...); err != nil {
		if sqltx.IsDuplicate(err) {
			return app.ErrExists // alone; a group is tried again reservation by reservation
		}
		return fmt.Errorf("insert reservations: %w", err)
	}
	fail := func(i int, err error) {
		batch[i].res, batch[i].err, failed[i] = domain.Reservation{}, err, true
	}

	// Hot counters: one read of every epoch the group depends on.
	var hot []string
	for _, r := range batch {
		for _, p := range r.parts {
			if p.Hot {
				hot = append(hot, p.SKU)
			}
		}
	}
	if len(hot) > 0 {
		hot = slices.Compact(slices.Sorted(slices.Values(hot)))
		epochs, err := readEpochs(ctx, tx, hot)
		if err != nil {
			return err
		}
		for i, r := range batch {
			for _, p := range r.parts {
				if p.Hot && r.epochs != nil && epochs[p.SKU] > r.epochs[p.SKU] {
					fail(i, domain.ErrStale)
					break
				}
			}
		}
	}

	// Ordinary parts: conditional decrements in SKU order across the group.
	takes := takesOf(batch, failed)
	short := map[int][]string{}
	var taken []stockTake
	allTaken, err := takeAll(ctx, tx, takes, now)
	if err != nil {
		return err
	}
	if allTaken {
		takes = nil // every reservation of the group holds its ordinary parts
	}
	for _, tk := range takes {
		res, err := tx.ExecContext(ctx, `UPDATE stock SET available = available - ?, updated_at = ? WHERE sku = ? AND available >= ?`,
			tk.qty, now, tk.sku, tk.qty)
		if err != nil {
			return fmt.Errorf("take %s: %w", tk.sku, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("take %s: %w", tk.sku, err)
		} else if n == 0 {
			short[tk.item] = append(short[tk.item], tk.sku)
		} else {
			taken = append(taken, tk)
		}
	}
	// Slots, after every stock row, for the reservations still holding.
	holding := slices.Clone(failed)
	for i := range short {
		holding[i] = true
	}
	full, err := takeGroupSlots(ctx, tx, batch, holding, now)
	if err != nil {
		return err
	}
	// A short reservation, or one refused a slot, takes nothing: put back
	// what it took.
	undo := func(i int) bool { return short[i] != nil || full[i].keys != nil }
	if allTaken {
		for _, tk := range takesOf(batch, failed) {
			if undo(tk.item) {
				taken = append(taken, tk)
			}
		}
	}
	putBack := map[string]bool{}
	for _, tk := range taken {
		if !undo(tk.item) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stock SET available = available + ?, updated_at = ? WHERE sku = ?`,
			tk.qty, now, tk.sku); err != nil {
			return fmt.Errorf("put back %s: %w", tk.sku, err)
		}
		putBack[tk.sku] = true
	}
	for i, f := range full {
		fail(i, &domain.SlotFullError{Slots: f.keys})
		batch[i].retry = f.shared // maybe refused for units others of its group took
	}
	for i, skus := range short {
		fail(i, &domain.SKUError{Kind: domain.ErrOutOfStock, SKUs: slices.Sorted(slices.Values(skus))})
		if len(batch) > 1 && slices.ContainsFunc(skus, func(sku string) bool { return putBack[sku] }) {
			batch[i].retry = true // maybe refused for stock the group took and put back
		}
	}

	// The reservations that failed leave no row; those that hold, their
	// parts and slots.
	var dropped, partArgs []any
	var slotRows []slotRow
	nParts := 0
	for i, r := range batch {
		if failed[i] {
			dropped = append(dropped, r.req.OrderID())
			continue
		}
		for _, k := range r.slots {
			slotRows = append(slotRows, slotRow{r.req.OrderID(), k})
		}
		for _, p := range r.parts {
			partArgs = append(partArgs, r.req.OrderID(), p.SKU, p.Qty, p.Hot)
			nParts++
		}
	}
	if len(dropped) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reservations WHERE order_id IN (`+placeholders(len(dropped))+`)`, dropped...); err != nil {
			return fmt.Errorf("drop %d failed reservations: %w", len(dropped), err)
		}
	}
	if nParts > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reservation_parts (order_id, sku, qty, hot) VALUES `+
			sqltx.Tuples("(?,?,?,?)", nParts), partArgs...); err != nil {
			return fmt.Errorf("insert parts: %w", err)
		}
	}
	return insertSlotRows(ctx, tx, slotRows)
}

// takesOf lists the ordinary parts of the group's items not yet failed,
// sorted by SKU (the lock order), then by item.
func takesOf(batch []*reserveReq, failed []bool) []stockTake {
	var takes []stockTake
	for i, r := range batch {
		if failed[i] {
			continue
		}
		for _, p := range r.parts {
			if !p.Hot {
				takes = append(takes, stockTake{i, p.SKU, p.Qty})
			}
		}
	}
	slices.SortFunc(takes, func(a, b stockTake) int {
		return cmp.Or(strings.Compare(a.sku, b.sku), cmp.Compare(a.item, b.item))
	})
	return takes
}

// readEpochs reads the hot counters' epochs under a shared lock: it waits
// for a rebuild in progress (which holds the row exclusively) without
// blocking other reservations.
func readEpochs(ctx context.Context, tx *sql.Tx, skus []string) (map[string]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT sku, hot_epoch FROM stock WHERE sku IN (`+placeholders(len(skus))+`) LOCK IN SHARE MODE`, anys(skus)...)
	if err != nil {
		return nil, fmt.Errorf("hot epochs: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64, len(skus))
	for rows.Next() {
		var sku string
		var epoch int64
		if err := rows.Scan(&sku, &epoch); err != nil {
			return nil, err
		}
		out[sku] = epoch
	}
	return out, rows.Err()
}

// takeAll tries the group's ordinary takes as one UPDATE of every SKU's
// summed quantity, the usual case when stock is ample: two statements
// instead of one per line. When some SKU cannot give its sum, the
// statement is undone (a savepoint) and the caller takes line by line,
// which tells each reservation what it is short of.
func takeAll(ctx context.Context, tx *sql.Tx, takes []stockTake, now time.Time) (bool, error) {
	if len(takes) < 2 {
		return false, nil
	}
	var q strings.Builder
	var args []any
	skus := 0
	for i := 0; i < len(takes); { // takes are sorted by SKU: one lock order
		j, sum := i, int64(0)
		for ; j < len(takes) && takes[j].sku == takes[i].sku; j++ {
			sum += takes[j].qty
		}
		if skus > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString("SELECT ? AS sku, ? AS qty")
		args = append(args, takes[i].sku, sum)
		skus++
		i = j
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT take_all`); err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE stock s JOIN (`+q.String()+`) t ON s.sku = t.sku
		SET s.available = s.available - t.qty, s.updated_at = ? WHERE s.available >= t.qty`, append(args, now)...)
	if err != nil {
		return false, fmt.Errorf("take %d SKUs: %w", skus, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == int64(skus) {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT take_all`); err != nil {
		return false, fmt.Errorf("undo the group's takes: %w", err)
	}
	return false, nil
}
