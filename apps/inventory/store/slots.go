package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Delivery slots. A reservation takes one unit of each of its slot keys in
// the transaction that takes its stock, after the stock (slot rows come
// after stock rows in every transaction's lock order, each sorted), and a
// release gives them back in the transaction that returns its stock. A
// slot nobody set a capacity for is created on its first take, unlimited.

// takeSlot takes n units of k if they fit: one statement that creates the
// row (unlimited) or adds n to taken only while taken+n stays within the
// capacity. MariaDB reports 1 row for an insert, 2 for a change and 0 for
// a row left as it was (the driver does not ask for found rows), so 0 is
// "full".
func takeSlot(ctx context.Context, tx *sql.Tx, k domain.SlotKey, n int64, now time.Time) (bool, error) {
	r, err := tx.ExecContext(ctx, `INSERT INTO delivery_slots (warehouse, day, slot_type, capacity, taken, updated_at) VALUES (?,?,?,NULL,?,?)
		ON DUPLICATE KEY UPDATE taken = IF(capacity IS NULL OR taken + VALUES(taken) <= capacity, taken + VALUES(taken), taken)`,
		k.Warehouse, k.Day, string(k.Type), n, now)
	if err != nil {
		return false, fmt.Errorf("take slot %s: %w", k, err)
	}
	affected, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take slot %s: %w", k, err)
	}
	return affected > 0, nil
}

// giveSlot returns n units of k.
func giveSlot(ctx context.Context, tx *sql.Tx, k domain.SlotKey, n int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE delivery_slots SET taken = taken - ? WHERE warehouse = ? AND day = ? AND slot_type = ? AND taken >= ?`,
		n, k.Warehouse, k.Day, string(k.Type), n); err != nil {
		return fmt.Errorf("give back slot %s: %w", k, err)
	}
	return nil
}

// slotRow is one reservation_slots row to insert.
type slotRow struct {
	orderID string
	key     domain.SlotKey
}

func insertSlotRows(ctx context.Context, tx *sql.Tx, rows []slotRow) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(rows))
	for _, r := range rows {
		args = append(args, r.orderID, r.key.Warehouse, r.key.Day, string(r.key.Type))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reservation_slots (order_id, warehouse, day, slot_type) VALUES `+
		sqltx.Tuples("(?,?,?,?)", len(rows)), args...); err != nil {
		return fmt.Errorf("insert reservation slots: %w", err)
	}
	return nil
}

// readSlots reads the slot keys of orderIDs' reservations, each order's
// sorted.
func readSlots(ctx context.Context, q querier, orderIDs []string) (map[string][]domain.SlotKey, error) {
	rows, err := sqltx.Collect[slotRow](q.QueryContext(ctx, `SELECT order_id, warehouse, day, slot_type FROM reservation_slots WHERE order_id IN (`+
		placeholders(len(orderIDs))+`) ORDER BY order_id, warehouse, day, slot_type`, anys(orderIDs)...))(scanSlotRow)
	if err != nil {
		return nil, fmt.Errorf("reservation %s slots: %w", reservationsNamed(orderIDs), err)
	}
	out := map[string][]domain.SlotKey{}
	for _, r := range rows {
		out[r.orderID] = append(out[r.orderID], r.key)
	}
	return out, nil
}

func scanSlotRow(sc interface{ Scan(...any) error }) (slotRow, error) {
	var r slotRow
	var day time.Time
	var typ string
	if err := sc.Scan(&r.orderID, &r.key.Warehouse, &day, &typ); err != nil {
		return r, err
	}
	r.key.Day, r.key.Type = day.Format(time.DateOnly), domain.SlotType(typ)
	return r, nil
}

const slotCols = `warehouse, day, slot_type, capacity, taken, updated_by, updated_at`

func scanCapacity(sc interface{ Scan(...any) error }) (domain.Capacity, error) {
	var c domain.Capacity
	var day time.Time
	var typ string
	var capacity sql.NullInt64
	if err := sc.Scan(&c.Key.Warehouse, &day, &typ, &capacity, &c.Taken, &c.UpdatedBy, &c.UpdatedAt); err != nil {
		return c, err
	}
	c.Key.Day, c.Key.Type = day.Format(time.DateOnly), domain.SlotType(typ)
	c.Limited, c.Capacity = capacity.Valid, capacity.Int64
	return c, nil
}

// SlotCapacities returns the slot rows of warehouses (all when empty)
// for the days from..to (YYYY-MM-DD, inclusive). Slots never taken nor set
// have no row.
func (s *Store) SlotCapacities(ctx context.Context, warehouses []string, from, to string) ([]domain.Capacity, error) {
	q := `SELECT ` + slotCols + ` FROM delivery_slots WHERE day BETWEEN ? AND ?`
	args := []any{from, to}
	if len(warehouses) > 0 {
		q += ` AND warehouse IN (` + placeholders(len(warehouses)) + `)`
		args = append(args, anys(warehouses)...)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY warehouse, day, slot_type`, args...)
	if err != nil {
		return nil, fmt.Errorf("slot capacities: %w", err)
	}
	defer rows.Close()
	var out []domain.Capacity
	for rows.Next() {
		c, err := scanCapacity(rows)
		if err != nil {
			return nil, fmt.Errorf("slot capacities: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("slot capacities: %w", err)
	}
	return out, nil
}

// SetSlotCapacity sets (limited) or lifts (!limited) the capacity of k
// under the row's lock, after check has approved it against the units
// taken, and records the change with who made it. An unchanged capacity
// writes nothing.
func (s *Store) SetSlotCapacity(ctx context.Context, k domain.SlotKey, limited bool, capacity int64, by string,
	check func(taken int64) error) (domain.Capacity, error) {
	var out domain.Capacity
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO delivery_slots (warehouse, day, slot_type, capacity, taken, updated_at) VALUES (?,?,?,NULL,0,?)`,
			k.Warehouse, k.Day, string(k.Type), now); err != nil {
			return fmt.Errorf("slot %s: %w", k, err)
		}
		cur, err := scanCapacity(tx.QueryRowContext(ctx, `SELECT `+slotCols+` FROM delivery_slots WHERE warehouse = ? AND day = ? AND slot_type = ? FOR UPDATE`,
			k.Warehouse, k.Day, string(k.Type)))
		if err != nil {
			return fmt.Errorf("lock slot %s: %w", k, err)
		}
		if limited {
			if err := check(cur.Taken); err != nil {
				return err
			}
		}
		if cur.Limited == limited && (!limited || cur.Capacity == capacity) {
			out = cur
			return nil
		}
		var before, after any
		if cur.Limited {
			before = cur.Capacity
		}
		if limited {
			after = capacity
		}
		if _, err := tx.ExecContext(ctx, `UPDATE delivery_slots SET capacity = ?, updated_by = ?, updated_at = ? WHERE warehouse = ? AND day = ? AND slot_type = ?`,
			after, by, now, k.Warehouse, k.Day, string(k.Type)); err != nil {
			return fmt.Errorf("set capacity of %s: %w", k, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_slot_changes (warehouse, day, slot_type, before_cap, after_cap, taken, changed_by, changed_at)
			VALUES (?,?,?,?,?,?,?,?)`, k.Warehouse, k.Day, string(k.Type), before, after, cur.Taken, by, now); err != nil {
			return fmt.Errorf("audit capacity of %s: %w", k, err)
		}
		out = domain.Capacity{Key: k, Limited: limited, Capacity: capacity, Taken: cur.Taken, UpdatedBy: by, UpdatedAt: now}
		return nil
	})
	return out, err
}

// Warehouses lists the warehouses that sell something.
func (s *Store) Warehouses(ctx context.Context) ([]string, error) {
	ws, err := sqltx.Strings(ctx, s.db, `SELECT DISTINCT warehouse FROM products ORDER BY warehouse`)
	if err != nil {
		return nil, fmt.Errorf("list warehouses: %w", err)
	}
	return ws, nil
}

// slotTakes is the group's slot demand: for every key, the group items
// that take one unit of it.
func slotTakes(batch []*reserveReq, failed []bool) (map[domain.SlotKey][]int, []domain.SlotKey) {
	users := map[domain.SlotKey][]int{}
	for i, r := range batch {
		if failed[i] {
			continue
		}
		for _, k := range r.slots {
			users[k] = append(users[k], i)
		}
	}
	keys := make([]domain.SlotKey, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, domain.CompareSlotKeys)
	return users, keys
}

// slotRefusal is why one reservation of a group got no slot: the keys
// that were full, and whether it shared one with others of its group (so
// that a unit may be left for it alone).
type slotRefusal struct {
	keys   []domain.SlotKey
	shared bool
}

// takeGroupSlots takes every key's summed units for the group, one
// statement per key, in key order. A key that cannot give its sum takes
// nothing, and every reservation needing it is refused here (the caller
// puts its stock back), with the units it took of its other keys given
// back.
func takeGroupSlots(ctx context.Context, tx *sql.Tx, batch []*reserveReq, failed []bool, now time.Time) (map[int]slotRefusal, error) {
	users, keys := slotTakes(batch, failed)
	var took []domain.SlotKey
	refused := map[int]slotRefusal{}
	for _, k := range keys {
		ok, err := takeSlot(ctx, tx, k, int64(len(users[k])), now)
		if err != nil {
			return nil, err
		}
		if ok {
			took = append(took, k)
			continue
		}
		for _, i := range users[k] {
			r := refused[i]
			r.keys = append(r.keys, k)
			r.shared = r.shared || len(users[k]) > 1
			refused[i] = r
		}
	}
	for _, k := range took { // sorted, like every slot lock
		var back int64
		for _, i := range users[k] {
			if _, ok := refused[i]; ok {
				back++
			}
		}
		if back > 0 {
			if err := giveSlot(ctx, tx, k, back); err != nil {
				return nil, err
			}
		}
	}
	return refused, nil
}
