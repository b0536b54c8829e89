package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Group commit of occupations and received orders.
//
// Every delivery order fulfillment hands over costs WMS an occupation and
// a received order, each a transaction of about seven statements; at a
// peak day's pace those were the largest share of the statements a
// fulfilled order cost the database. Fulfillment's calls reach WMS in
// batches (wmsclient.BatchRoutes), so they arrive together, and those
// arriving at the same moment are written together (group.Writer): one
// transaction, one multi-row INSERT per table, and for occupations one
// UPDATE of the stock rows of the whole group. A lone occupation or order
// is a group of one: occupyAll and receiveAll are the only ways they are
// written.
//
// A group is all or nothing (group.AllOrEach): if its transaction fails (a
// delivery order sent before, a line short of stock, an unknown
// warehouse…), every item of the group is written again on its own, and
// gets the answer it would have had alone.

var groupSize = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "harvest_wms_group_items",
	Help:    "Occupations or received orders written per group commit (1 = alone).",
	Buckets: group.SizeBuckets,
}, []string{"what"})

// errRepeat: a delivery order of the group was occupied or received
// before. Alone, its caller answers the first outcome, or a conflict.
var errRepeat = errors.New("delivery order seen before")

// errCancelled: an occupation of the group belongs to a cancelled order.
var errCancelled = errors.New("order cancelled")

// errIntercepted: a delivery order of the group was intercepted.
var errIntercepted = errors.New("delivery order intercepted")

type occupyReq struct {
	o   domain.Occupation
	now time.Time
}

// occupyAll records every occupation of g and takes their lines (see
// takeAlone and takeSummed).
func occupyAll(ctx context.Context, tx *sql.Tx, g []*occupyReq) error {
	var occArgs, lineArgs, orders []any
	lines := 0
	for _, r := range g {
		o := r.o
		occArgs = append(occArgs, o.DeliveryOrderID(), o.OrderID(), o.Warehouse(), domain.Occupied, o.Hash(), r.now, r.now)
		if o.OrderID() != "" {
			orders = append(orders, o.OrderID())
		}
		for _, l := range o.Lines() {
			lineArgs = append(lineArgs, o.DeliveryOrderID(), l.SKU, l.Qty)
			lines++
		}
	}
	if len(orders) > 0 {
		// A cancellation that came first released nothing of these; they
		// must hold nothing either (written alone, each gets its answer).
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM cancelled_orders WHERE order_id IN (`+sqltx.Tuples("?", len(orders))+`) LIMIT 1`, orders...).Scan(&one)
		if err == nil {
			return errCancelled
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read cancelled orders: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO erp_occupations (delivery_order_id, order_id, warehouse, status, request_hash, created_at, updated_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,?,?)", len(g)), occArgs...); err != nil {
		if sqltx.IsDuplicate(err) {
			return errRepeat
		}
		return fmt.Errorf("record occupations from %s: %w", g[0].o.DeliveryOrderID(), err)
	}
	take := takeSummed
	if len(g) == 1 {
		take = takeAlone
	}
	if err := take(ctx, tx, g); err != nil {
		return err
	}
	if lines == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO erp_occupation_lines (delivery_order_id, sku, qty) VALUES `+sqltx.Tuples("(?,?,?)", lines), lineArgs...); err != nil {
		return fmt.Errorf("record occupation lines from %s: %w", g[0].o.DeliveryOrderID(), err)
	}
	return nil
}

// takeSummed takes all the lines of g with one UPDATE, summed per stock
// row; it fails unless every row could give its whole sum (the group is
// then written again occupation by occupation, and takeAlone tells each
// caller which lines are short).
func takeSummed(ctx context.Context, tx *sql.Tx, g []*occupyReq) error {
	type key struct{ warehouse, sku string }
	sums := map[key]int64{}
	for _, r := range g {
		for _, l := range r.o.Lines() {
			sums[key{r.o.Warehouse(), l.SKU}] += l.Qty
		}
	}
	if len(sums) == 0 {
		return nil
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	// One lock order for everyone: by warehouse and SKU, as takeAlone.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].warehouse != keys[j].warehouse {
			return keys[i].warehouse < keys[j].warehouse
		}
		return keys[i].sku < keys[j].sku
	})
	var takes strings.Builder
	var args []any
	for i, k := range keys {
		if i > 0 {
			takes.WriteString(" UNION ALL ")
		}
		takes.WriteString("SELECT ? AS warehouse, ? AS sku, ? AS qty")
		args = append(args, k.warehouse, k.sku, sums[k])
	}
	args = append(args, g[0].now)
	n, err := affected(tx.ExecContext(ctx, `UPDATE erp_stock e JOIN (`+takes.String()+`) t ON e.warehouse = t.warehouse AND e.sku = t.sku
		SET e.occupied = e.occupied + t.qty, e.updated_at = ? WHERE e.on_hand - e.occupied >= t.qty`, args...))
	if err != nil {
		return fmt.Errorf("occupy stock: %w", err)
	}
	if n != int64(len(keys)) {
		return fmt.Errorf("occupy stock: %d of %d stock rows could give their lines", n, len(keys))
	}
	return nil
}

// takeAlone takes the lines of a lone occupation one conditional UPDATE
// each, so that its answer can name every short line: all or none, a
// short line rolls back what was taken.
func takeAlone(ctx context.Context, tx *sql.Tx, g []*occupyReq) error {
	o, now := g[0].o, g[0].now
	var short []string
	for _, l := range o.Lines() { // sorted by SKU: one lock order for everyone
		n, err := affected(tx.ExecContext(ctx, `UPDATE erp_stock SET occupied = occupied + ?, updated_at=?
			WHERE warehouse=? AND sku=? AND on_hand - occupied >= ?`, l.Qty, now, o.Warehouse(), l.SKU, l.Qty))
		if err != nil {
			return fmt.Errorf("occupy %s/%s: %w", o.Warehouse(), l.SKU, err)
		}
		if n == 0 {
			short = append(short, l.SKU)
		}
	}
	if len(short) == 0 {
		return nil
	}
	// Only a short line asks whether the warehouse has stock rows at all:
	// an unknown warehouse is short of everything.
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM erp_stock WHERE warehouse=? LIMIT 1`, o.Warehouse()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", domain.ErrUnknownWarehouse, o.Warehouse())
	}
	if err != nil {
		return fmt.Errorf("find warehouse %s: %w", o.Warehouse(), err)
	}
	return &domain.StockShortError{SKUs: short}
}

type receiveReq struct {
	o  domain.Order
	ev outbox.Event
}

// receiveAll stores every order of g, the four tables and the outbox, one
// INSERT each; errRepeat when a delivery order was received before.
func receiveAll(ctx context.Context, tx *sql.Tx, g []*receiveReq) error {
	var header, detail, delivery, profiles []any
	var nDetail, nProfiles int
	evs := make([]outbox.Event, len(g))
	for i, r := range g {
		o := r.o
		header = append(header, o.WMSOrderID, o.DeliveryOrderID, o.OrderID, o.CustomerID, o.Warehouse, o.Status, o.Hash(), o.ReceivedAt)
		for n, l := range o.Lines {
			detail = append(detail, o.WMSOrderID, n+1, l.SKU, l.Name, l.Qty, l.Zone)
			nDetail++
		}
		d := o.Delivery
		delivery = append(delivery, o.WMSOrderID, d.Date, d.Express, d.Carrier, d.WaybillNo, d.Name, d.Phone, d.Address)
		keys := make([]string, 0, len(o.Profiles))
		for k := range o.Profiles {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			profiles = append(profiles, o.WMSOrderID, k, o.Profiles[k])
			nProfiles++
		}
		evs[i] = r.ev
	}
	// An interception's tombstone refuses the hand-over; the shared lock
	// orders this transaction with an interception of the same id.
	dids := make([]any, len(g))
	for i, r := range g {
		dids[i] = r.o.DeliveryOrderID
	}
	var stopped int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM order_interceptions WHERE delivery_order_id IN (`+
		strings.TrimSuffix(strings.Repeat("?,", len(g)), ",")+`) LOCK IN SHARE MODE`, dids...).Scan(&stopped); err != nil {
		return fmt.Errorf("read interceptions: %w", err)
	}
	if stopped > 0 {
		return errIntercepted
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO order_header (wms_order_id, delivery_order_id, order_id, customer_id, warehouse, status,
		request_hash, received_at) VALUES `+sqltx.Tuples("(?,?,?,?,?,?,?,?)", len(g)), header...); err != nil {
		if sqltx.IsDuplicate(err) {
			return errRepeat
		}
		return fmt.Errorf("insert order_header from %s: %w", g[0].o.DeliveryOrderID, err)
	}
	if nDetail > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_detail (wms_order_id, line_no, sku, name, qty, zone) VALUES `+
			sqltx.Tuples("(?,?,?,?,?,?)", nDetail), detail...); err != nil {
			return fmt.Errorf("insert order_detail: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO order_delivery (wms_order_id, delivery_date, express, carrier, waybill_no, name, phone, address)
		VALUES `+sqltx.Tuples("(?,?,?,?,?,?,?,?)", len(g)), delivery...); err != nil {
		return fmt.Errorf("insert order_delivery: %w", err)
	}
	if nProfiles > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_profiles (wms_order_id, profile_key, profile_value) VALUES `+
			sqltx.Tuples("(?,?,?)", nProfiles), profiles...); err != nil {
			return fmt.Errorf("insert order_profiles: %w", err)
		}
	}
	if _, err := outbox.Add(ctx, tx, evs...); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	return nil
}
