package fulfillment

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// The warehouse throttle's capacity takes, grouped. Each warehouse's
// capacity row of the day is hot: every delivery order of the warehouse
// increments it. One transaction per take serialized the throttle's
// workers on that row (and, taking it by INSERT IGNORE then UPDATE, the
// shared-then-exclusive locks deadlocked nearly every other take). So the
// takes waiting at a moment are written together: the first waiting
// caller leads and writes its own take and every other pending one in one
// short transaction — the capacity rows locked once, the grants inserted
// in one statement — then hands the lead to the next waiting caller, if
// any. A lone take is a batch of one: nothing waits for a batch to fill.
// The takes are queued by warehouse (grantShards queues), so the
// warehouses' transactions run side by side: they lock different rows.
// Each take still commits its grant row and its unit of capacity
// together, so a re-run finds the grant and takes nothing more.

// maxGrantBatch bounds the takes of one transaction.
const maxGrantBatch = 256

// grantShards is how many queues of takes there are; a warehouse's takes
// all go to the same one.
const grantShards = 8

func grantShard(warehouse string) int {
	h := fnv.New32a()
	h.Write([]byte(warehouse))
	return int(h.Sum32() % grantShards)
}

// capReq is one delivery order's take of its warehouse's capacity.
type capReq struct {
	unitID, warehouse, day string
	now                    time.Time
	// results
	ok  bool
	err error
}

// capacity is the engine's capacity takes, as the throttle stage reaches them.
type capacity struct{ e *Engine }

// Take takes one unit of warehouse's capacity of day for unitID, or finds
// the grant it took before; false means the day is full.
func (c capacity) Take(ctx context.Context, unitID, warehouse, day string, now time.Time) (bool, error) {
	e := c.e
	r := &capReq{unitID: unitID, warehouse: warehouse, day: day, now: now}
	if err := e.grants[grantShard(warehouse)].Write(ctx, r); err != nil {
		return false, err
	}
	return r.ok, r.err
}

// takeGroup takes the capacity of a group of takes in a transaction.
func (e *Engine) takeGroup(ctx context.Context, batch []*capReq) error {
	return runner.RunTx(ctx, e.db, func(tx *sql.Tx) error { return takeCapacities(ctx, tx, batch, e.cfg.DefaultCapacity) })
}

type capKey struct{ warehouse, day string }

type capRow struct{ capacity, used int }

// takeCapacities takes capacity for reqs in tx, in their order: a take
// whose delivery order holds a grant already is granted again without
// using more; otherwise it is granted while its warehouse's day has room.
// The capacity rows are made when missing (at def) and locked exclusively
// from the start, in key order.
func takeCapacities(ctx context.Context, tx *sql.Tx, reqs []*capReq, def int) error {
	ids := make([]any, 0, len(reqs))
	seen := map[string]bool{}
	for _, r := range reqs {
		r.ok, r.err = false, nil
		if !seen[r.unitID] {
			seen[r.unitID] = true
			ids = append(ids, r.unitID)
		}
	}
	granted := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT unit_id FROM warehouse_capacity_grants WHERE unit_id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return fmt.Errorf("read capacity grants: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("read capacity grants: %w", err)
		}
		granted[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read capacity grants: %w", err)
	}
	var keys []capKey
	for _, r := range reqs {
		if !granted[r.unitID] {
			keys = append(keys, capKey{r.warehouse, r.day})
		}
	}
	if len(keys) == 0 {
		for _, r := range reqs {
			r.ok = true
		}
		return nil
	}
	cmp := func(a, b capKey) int {
		if c := strings.Compare(a.day, b.day); c != 0 {
			return c
		}
		return strings.Compare(a.warehouse, b.warehouse)
	}
	slices.SortFunc(keys, cmp)
	keys = slices.Compact(keys)
	// Make the missing rows and lock all of them exclusively (a duplicate
	// key in INSERT … ON DUPLICATE KEY UPDATE locks the row X at once: no
	// shared lock that two takes would both hold and then both upgrade).
	var q strings.Builder
	args := make([]any, 0, 3*len(keys))
	q.WriteString(`INSERT INTO warehouse_capacity (warehouse, day, capacity, used) VALUES `)
	for i, k := range keys {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,0)")
		args = append(args, k.warehouse, k.day, def)
	}
	q.WriteString(` ON DUPLICATE KEY UPDATE used = used`)
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("capacity rows: %w", err)
	}
	q.Reset()
	args = args[:0]
	q.WriteString(`SELECT warehouse, day, capacity, used FROM warehouse_capacity WHERE `)
	for i, k := range keys {
		if i > 0 {
			q.WriteString(" OR ")
		}
		q.WriteString("(warehouse = ? AND day = ?)")
		args = append(args, k.warehouse, k.day)
	}
	q.WriteString(" FOR UPDATE")
	caps := map[capKey]*capRow{}
	rows, err = tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("read capacity: %w", err)
	}
	for rows.Next() {
		var k capKey
		var d time.Time
		c := &capRow{}
		if err := rows.Scan(&k.warehouse, &d, &c.capacity, &c.used); err != nil {
			rows.Close()
			return fmt.Errorf("read capacity: %w", err)
		}
		k.day = d.Format("2006-01-02")
		caps[k] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read capacity: %w", err)
	}
	var grants []*capReq
	changed := map[capKey]bool{}
	for _, r := range reqs {
		if granted[r.unitID] {
			r.ok = true
			continue
		}
		k := capKey{r.warehouse, r.day}
		c, found := caps[k]
		if !found {
			return fmt.Errorf("capacity of %s on %s: row not found", r.warehouse, r.day)
		}
		if c.used < c.capacity {
			c.used++
			changed[k] = true
			granted[r.unitID] = true
			grants = append(grants, r)
			r.ok = true
		}
	}
	if len(grants) == 0 {
		return nil
	}
	q.Reset()
	args = args[:0]
	q.WriteString(`INSERT INTO warehouse_capacity (warehouse, day, capacity, used) VALUES `)
	i := 0
	for _, k := range keys {
		if !changed[k] {
			continue
		}
		if i > 0 {
			q.WriteByte(',')
		}
		i++
		q.WriteString("(?,?,?,?)")
		args = append(args, k.warehouse, k.day, caps[k].capacity, caps[k].used)
	}
	q.WriteString(` ON DUPLICATE KEY UPDATE used = VALUES(used)`)
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("take capacity: %w", err)
	}
	q.Reset()
	args = args[:0]
	q.WriteString(`INSERT INTO warehouse_capacity_grants (unit_id, warehouse, day, granted_at) VALUES `)
	for i, r := range grants {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?)")
		args = append(args, r.unitID, r.warehouse, r.day, r.now)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("record capacity grants: %w", err)
	}
	return nil
}

func placeholders(n int) string {
	return sqltx.Tuples("?", n)
}
