// Package store is WMS's MySQL persistence for this slice: ERP stock and
// its occupations, and received delivery orders. Stock moves only by
// conditional UPDATEs checked by rows affected inside one transaction per
// occupation, so an occupation takes all its lines or none and free stock
// never goes below zero; a received order's four tables and its outbox row
// commit together.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/harvest/harvest/apps/wms/app"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Store is WMS's database.
type Store struct {
	db       *sql.DB
	occupies *group.Writer[*occupyReq] // occupations committed together (group.go)
	receives *group.Writer[*receiveReq]
}

var _ app.Repository = (*Store)(nil)

// New returns a Store over db.
func New(db *sql.DB) *Store {
	return &Store{db: db,
		occupies: group.NewWriter(group.Options{Sizes: groupSize.WithLabelValues("occupation")}, group.InTx(db, occupyAll)),
		receives: group.NewWriter(group.Options{Sizes: groupSize.WithLabelValues("order")}, group.InTx(db, receiveAll))}
}

// DB returns the pool (tests count rows with it).
func (s *Store) DB() *sql.DB { return s.db }

const batch = 500

// insertMany writes n rows with a multi-row INSERT, batch rows at a time.
func insertMany(ctx context.Context, tx *sql.Tx, prefix, tuple string, n int, args func(i int) []any) error {
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		var q strings.Builder
		q.WriteString(prefix)
		var vals []any
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(",")
			}
			q.WriteString(tuple)
			vals = append(vals, args(i)...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), vals...); err != nil {
			return fmt.Errorf("insert rows %d..%d: %w", start, end, err)
		}
	}
	return nil
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---------------------------------------------------------------- ERP stock

// SetStock sets the on-hand quantity of a SKU in a warehouse, creating the
// row when missing (the admin endpoint and the seeder). It refuses to go
// below what is occupied.
func (s *Store) SetStock(ctx context.Context, st domain.Stock, now time.Time) (domain.Stock, error) {
	warehouse, sku, onHand := st.Warehouse(), st.SKU(), st.OnHand()
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var occupied int64
		err := tx.QueryRowContext(ctx, `SELECT occupied FROM erp_stock WHERE warehouse=? AND sku=? FOR UPDATE`, warehouse, sku).Scan(&occupied)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO erp_stock (warehouse, sku, on_hand, occupied, updated_at) VALUES (?,?,?,0,?)`,
				warehouse, sku, onHand, now); err != nil {
				return fmt.Errorf("add stock %s/%s: %w", warehouse, sku, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock stock %s/%s: %w", warehouse, sku, err)
		}
		if err := domain.SetOnHand(onHand, occupied); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE erp_stock SET on_hand=?, updated_at=? WHERE warehouse=? AND sku=?`, onHand, now, warehouse, sku); err != nil {
			return fmt.Errorf("set stock %s/%s: %w", warehouse, sku, err)
		}
		return nil
	})
	if err != nil {
		return domain.Stock{}, err
	}
	return s.Stock(ctx, warehouse, sku)
}

// Stock returns one stock row.
func (s *Store) Stock(ctx context.Context, warehouse, sku string) (domain.Stock, error) {
	var onHand, occupied int64
	var updated time.Time
	err := s.db.QueryRowContext(ctx, `SELECT on_hand, occupied, updated_at FROM erp_stock WHERE warehouse=? AND sku=?`, warehouse, sku).
		Scan(&onHand, &occupied, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Stock{}, fmt.Errorf("%w: no ERP stock for %s in %s", domain.ErrNotFound, sku, warehouse)
	}
	if err != nil {
		return domain.Stock{}, fmt.Errorf("read stock %s/%s: %w", warehouse, sku, err)
	}
	return domain.RestoreStock(warehouse, sku, onHand, occupied, updated.UTC()), nil
}

// CountStock counts stock rows (the seeder runs on an empty table only).
func (s *Store) CountStock(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM erp_stock`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stock: %w", err)
	}
	return n, nil
}

// SeedStock adds stock rows in one transaction, leaving rows already there
// alone, so a seed is all there or not at all.
func (s *Store) SeedStock(ctx context.Context, rows []domain.Stock, now time.Time) error {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		return insertMany(ctx, tx, `INSERT IGNORE INTO erp_stock (warehouse, sku, on_hand, occupied, updated_at) VALUES `, "(?,?,?,0,?)",
			len(rows), func(i int) []any { return []any{rows[i].Warehouse(), rows[i].SKU(), rows[i].OnHand(), now} })
	})
	if err != nil {
		return fmt.Errorf("seed stock: %w", err)
	}
	return nil
}

// Occupy holds ERP stock for a delivery order, all lines or none. The same
// id with the same content returns the occupation as it stands (OCCUPIED,
// or RELEASED once released, or when a release came first); other content
// fails with domain.ErrConflict. A warehouse without stock rows fails with
// domain.ErrUnknownWarehouse; lines the free stock cannot cover fail with
// *domain.StockShortError naming every short SKU.
func (s *Store) Occupy(ctx context.Context, o domain.Occupation, now time.Time) (domain.Occupation, error) {
	err := s.occupies.Write(ctx, &occupyReq{o: o, now: now})
	if errors.Is(err, errCancelled) {
		// Its order was cancelled first: record it released, holding
		// nothing (a repeat then answers RELEASED as a repeat does).
		if _, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO erp_occupations (delivery_order_id, order_id, warehouse, status, request_hash,
			created_at, updated_at) VALUES (?,?,?,?,?,?,?)`, o.DeliveryOrderID(), o.OrderID(), o.Warehouse(), domain.Released, o.Hash(), now, now); err != nil {
			return o, fmt.Errorf("record occupation %s of a cancelled order: %w", o.DeliveryOrderID(), err)
		}
		err = errRepeat
	}
	if errors.Is(err, errRepeat) {
		var h string
		var status domain.OccupationStatus
		if err := s.db.QueryRowContext(ctx, `SELECT status, request_hash FROM erp_occupations WHERE delivery_order_id=?`,
			o.DeliveryOrderID()).Scan(&status, &h); err != nil {
			return o, fmt.Errorf("read occupation %s: %w", o.DeliveryOrderID(), err)
		}
		if h != "" && h != o.Hash() { // a release's tombstone has no hash
			return o, fmt.Errorf("%w: occupation %s", domain.ErrConflict, o.DeliveryOrderID())
		}
		return o.As(status), nil
	}
	if err != nil {
		return o, err
	}
	return o.As(domain.Occupied), nil
}

// Release gives an occupation's stock back. Idempotent; releasing an id
// never occupied records a tombstone so a late Occupy for it holds nothing.
func (s *Store) Release(ctx context.Context, deliveryOrderID string, now time.Time) (domain.Occupation, error) {
	var warehouse string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		warehouse, err = releaseTx(ctx, tx, deliveryOrderID, now)
		return err
	})
	return domain.ReleasedOccupation(deliveryOrderID, warehouse), err
}

// releaseTx is Release inside tx; it returns the occupation's warehouse
// ("" for a tombstone).
func releaseTx(ctx context.Context, tx *sql.Tx, deliveryOrderID string, now time.Time) (string, error) {
	var warehouse string
	var status domain.OccupationStatus
	err := tx.QueryRowContext(ctx, `SELECT warehouse, status FROM erp_occupations WHERE delivery_order_id=? FOR UPDATE`,
		deliveryOrderID).Scan(&warehouse, &status)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO erp_occupations (delivery_order_id, warehouse, status, request_hash, created_at, updated_at)
			VALUES (?,'',?,'',?,?)`, deliveryOrderID, domain.Released, now, now)
		if err != nil {
			return "", fmt.Errorf("tombstone %s: %w", deliveryOrderID, err)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lock occupation %s: %w", deliveryOrderID, err)
	}
	if status == domain.Released {
		return warehouse, nil
	}
	lines, err := occupationLines(ctx, tx, deliveryOrderID)
	if err != nil {
		return "", err
	}
	for _, l := range lines { // l.Qty: what picking has not consumed
		if l.Qty == 0 {
			continue
		}
		n, err := affected(tx.ExecContext(ctx, `UPDATE erp_stock SET occupied = occupied - ?, updated_at=?
			WHERE warehouse=? AND sku=? AND occupied >= ?`, l.Qty, now, warehouse, l.SKU, l.Qty))
		if err != nil {
			return "", fmt.Errorf("release %s/%s: %w", warehouse, l.SKU, err)
		}
		if n == 0 {
			return "", fmt.Errorf("release %s: %s/%s holds less than the %d units occupied", deliveryOrderID, warehouse, l.SKU, l.Qty)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE erp_occupations SET status=?, updated_at=? WHERE delivery_order_id=?`,
		domain.Released, now, deliveryOrderID); err != nil {
		return "", fmt.Errorf("release %s: %w", deliveryOrderID, err)
	}
	return warehouse, nil
}

// PruneCancelled deletes up to limit remembered cancellations older than
// before; it reports how many.
func (s *Store) PruneCancelled(ctx context.Context, before time.Time, limit int) (int64, error) {
	n, err := affected(s.db.ExecContext(ctx, `DELETE FROM cancelled_orders WHERE created_at < ? LIMIT ?`, before, limit))
	if err != nil {
		return 0, fmt.Errorf("prune cancelled orders: %w", err)
	}
	return n, nil
}

// ReleaseOrder releases the ERP occupations of a cancelled order's
// delivery orders and remembers the cancellation (a later occupation of
// it holds nothing), in one transaction. A delivery order WMS received
// and is working on (not INTERCEPTED) keeps its occupation: OMS cancels
// no order with one, so it is reported (kept) rather than released under
// the pickers' feet. Idempotent.
func (s *Store) ReleaseOrder(ctx context.Context, orderID string, now time.Time) (released, kept []string, err error) {
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		released, kept = nil, nil
		if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO cancelled_orders (order_id, created_at) VALUES (?,?)`, orderID, now); err != nil {
			return fmt.Errorf("record cancellation of %s: %w", orderID, err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT o.delivery_order_id, COALESCE(h.status, '') FROM erp_occupations o
			LEFT JOIN order_header h ON h.delivery_order_id=o.delivery_order_id
			WHERE o.order_id=? AND o.status=? ORDER BY o.delivery_order_id`, orderID, domain.Occupied)
		if err != nil {
			return fmt.Errorf("read occupations of %s: %w", orderID, err)
		}
		var ids []string
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				rows.Close()
				return fmt.Errorf("read occupations of %s: %w", orderID, err)
			}
			if st != "" && st != string(domain.OrderIntercepted) {
				kept = append(kept, id)
				continue
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read occupations of %s: %w", orderID, err)
		}
		for _, id := range ids {
			if _, err := releaseTx(ctx, tx, id, now); err != nil {
				return err
			}
		}
		released = ids
		return nil
	})
	return released, kept, err
}

func occupationLines(ctx context.Context, q interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}, id string) ([]domain.Line, error) {
	rows, err := q.QueryContext(ctx, `SELECT sku, qty - consumed FROM erp_occupation_lines WHERE delivery_order_id=? ORDER BY sku`, id)
	if err != nil {
		return nil, fmt.Errorf("read occupation lines of %s: %w", id, err)
	}
	defer rows.Close()
	var ls []domain.Line
	for rows.Next() {
		var l domain.Line
		if err := rows.Scan(&l.SKU, &l.Qty); err != nil {
			return nil, fmt.Errorf("read occupation lines of %s: %w", id, err)
		}
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read occupation lines of %s: %w", id, err)
	}
	return ls, nil
}

// Occupation returns an occupation with its lines.
func (s *Store) Occupation(ctx context.Context, id string) (domain.Occupation, error) {
	var warehouse string
	var status domain.OccupationStatus
	err := s.db.QueryRowContext(ctx, `SELECT warehouse, status FROM erp_occupations WHERE delivery_order_id=?`, id).Scan(&warehouse, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Occupation{}, fmt.Errorf("%w: occupation %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return domain.Occupation{}, fmt.Errorf("read occupation %s: %w", id, err)
	}
	lines, err := occupationLines(ctx, s.db, id)
	if err != nil {
		return domain.Occupation{}, err
	}
	return domain.RestoreOccupation(id, warehouse, status, lines), nil
}

// ------------------------------------------------------------------- orders

// Receive stores a dispatched delivery order (order_header, order_detail,
// order_delivery, order_profiles) and its wms.order.received outbox row in
// one transaction. The same delivery order id again returns the first WMS
// order id with duplicate=true; with other content, domain.ErrConflict.
func (s *Store) Receive(ctx context.Context, o domain.Order, ev outbox.Event) (wmsOrderID string, duplicate bool, err error) {
	err = s.receives.Write(ctx, &receiveReq{o: o, ev: ev})
	if errors.Is(err, errIntercepted) {
		return "", false, fmt.Errorf("%w: %s", domain.ErrIntercepted, o.DeliveryOrderID)
	}
	if errors.Is(err, errRepeat) {
		var h string
		if err := s.db.QueryRowContext(ctx, `SELECT wms_order_id, request_hash FROM order_header WHERE delivery_order_id=?`,
			o.DeliveryOrderID).Scan(&wmsOrderID, &h); err != nil {
			return "", false, fmt.Errorf("read order of %s: %w", o.DeliveryOrderID, err)
		}
		if h != o.Hash() {
			return wmsOrderID, false, fmt.Errorf("%w: delivery order %s", domain.ErrConflict, o.DeliveryOrderID)
		}
		return wmsOrderID, true, nil
	}
	if err != nil {
		return "", false, err
	}
	return o.WMSOrderID, false, nil
}

// Order returns a received order by its WMS order id or its delivery order id.
func (s *Store) Order(ctx context.Context, id string) (domain.Order, error) {
	var o domain.Order
	d := &o.Delivery
	err := s.db.QueryRowContext(ctx, `SELECT h.wms_order_id, h.delivery_order_id, h.order_id, h.customer_id, h.warehouse, h.status,
		h.received_at, d.delivery_date, d.express, d.carrier, d.waybill_no, d.name, d.phone, d.address
		FROM order_header h JOIN order_delivery d ON d.wms_order_id=h.wms_order_id
		WHERE h.wms_order_id=? OR h.delivery_order_id=? LIMIT 1`, id, id).
		Scan(&o.WMSOrderID, &o.DeliveryOrderID, &o.OrderID, &o.CustomerID, &o.Warehouse, &o.Status, &o.ReceivedAt,
			&d.Date, &d.Express, &d.Carrier, &d.WaybillNo, &d.Name, &d.Phone, &d.Address)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("%w: order %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return o, fmt.Errorf("read order %s: %w", id, err)
	}
	o.ReceivedAt = o.ReceivedAt.UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT sku, name, qty, zone FROM order_detail WHERE wms_order_id=? ORDER BY line_no`, o.WMSOrderID)
	if err != nil {
		return o, fmt.Errorf("read order_detail %s: %w", o.WMSOrderID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l domain.Line
		if err := rows.Scan(&l.SKU, &l.Name, &l.Qty, &l.Zone); err != nil {
			return o, fmt.Errorf("read order_detail %s: %w", o.WMSOrderID, err)
		}
		o.Lines = append(o.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("read order_detail %s: %w", o.WMSOrderID, err)
	}
	prows, err := s.db.QueryContext(ctx, `SELECT profile_key, profile_value FROM order_profiles WHERE wms_order_id=?`, o.WMSOrderID)
	if err != nil {
		return o, fmt.Errorf("read order_profiles %s: %w", o.WMSOrderID, err)
	}
	defer prows.Close()
	for prows.Next() {
		var k, v string
		if err := prows.Scan(&k, &v); err != nil {
			return o, fmt.Errorf("read order_profiles %s: %w", o.WMSOrderID, err)
		}
		if o.Profiles == nil {
			o.Profiles = map[string]string{}
		}
		o.Profiles[k] = v
	}
	if err := prows.Err(); err != nil {
		return o, fmt.Errorf("read order_profiles %s: %w", o.WMSOrderID, err)
	}
	return o, nil
}

// Intercept stops a delivery order for the reverse flow. The interception
// row is written first, then the order, if received or split with no
// work order on a pick list yet, is marked INTERCEPTED with its work
// orders (the bin stock allocated ones occupied given back); one not
// received yet keeps only the row, the tombstone that refuses its
// hand-over. Either way its ERP occupation is released in the same
// transaction. Repeating it answers the same; an order a picker has
// started fails with domain.ErrTooLateToIntercept and writes nothing.
func (s *Store) Intercept(ctx context.Context, deliveryOrderID, reason string, now time.Time) (domain.Interception, error) {
	var out domain.Interception
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		out, err = interceptTx(ctx, tx, deliveryOrderID, reason, now)
		return err
	})
	return out, err
}

// InterceptAll intercepts every delivery order of ids (one order's, in
// every warehouse) in one transaction, all or none: one past
// interception fails the lot with domain.ErrTooLateToIntercept and
// nothing is written, so a cancel refused by one warehouse never leaves
// another's delivery order stopped. Ids are taken in sorted order, so
// two calls over overlapping ids lock alike and do not deadlock.
func (s *Store) InterceptAll(ctx context.Context, ids []string, reason string, now time.Time) ([]domain.Interception, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var out []domain.Interception
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = out[:0]
		for _, id := range sorted {
			x, err := interceptTx(ctx, tx, id, reason, now)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// interceptTx is Intercept inside tx.
func interceptTx(ctx context.Context, tx *sql.Tx, deliveryOrderID, reason string, now time.Time) (domain.Interception, error) {
	out := domain.Interception{DeliveryOrderID: deliveryOrderID}
	err := func() error {
		if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO order_interceptions (delivery_order_id, reason, created_at) VALUES (?,?,?)`,
			deliveryOrderID, reason, now); err != nil {
			return fmt.Errorf("record interception of %s: %w", deliveryOrderID, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT created_at FROM order_interceptions WHERE delivery_order_id=?`, deliveryOrderID).
			Scan(&out.At); err != nil {
			return fmt.Errorf("read interception of %s: %w", deliveryOrderID, err)
		}
		out.At = out.At.UTC()
		var status domain.OrderStatus
		err := tx.QueryRowContext(ctx, `SELECT wms_order_id, status FROM order_header WHERE delivery_order_id=? FOR UPDATE`, deliveryOrderID).
			Scan(&out.WMSOrderID, &status)
		if errors.Is(err, sql.ErrNoRows) {
			out.Tombstone = true
			// Nothing of it will ship: its ERP occupation (or, before one,
			// its tombstone) goes with the interception.
			_, err := releaseTx(ctx, tx, deliveryOrderID, now)
			return err
		}
		if err != nil {
			return fmt.Errorf("lock order of %s: %w", deliveryOrderID, err)
		}
		// Its work orders, locked: a pick list takes them only ALLOCATED
		// and under the same locks, so interception and picking serialize.
		rows, err := tx.QueryContext(ctx, `SELECT work_order_id, status FROM sales_order WHERE wms_order_id=? ORDER BY seq FOR UPDATE`, out.WMSOrderID)
		if err != nil {
			return fmt.Errorf("lock work orders of %s: %w", deliveryOrderID, err)
		}
		wos := map[string]domain.WorkOrderStatus{}
		var ids []string
		for rows.Next() {
			var id string
			var st domain.WorkOrderStatus
			if err := rows.Scan(&id, &st); err != nil {
				rows.Close()
				return err
			}
			wos[id] = st
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := domain.CanIntercept(status, wos); err != nil {
			return fmt.Errorf("intercept %s: %w", deliveryOrderID, err)
		}
		for _, id := range ids {
			if wos[id] == domain.WOIntercepted {
				continue
			}
			if wos[id] == domain.WOAllocated {
				// Nothing was picked: give the occupied bin stock back.
				if _, err := tx.ExecContext(ctx, `UPDATE wms_inv i JOIN work_order_picks p ON p.inv_id=i.inv_id
					SET i.occupied=i.occupied-p.qty, i.updated_at=? WHERE p.work_order_id=?`, now, id); err != nil {
					return fmt.Errorf("release bins of %s: %w", id, err)
				}
				// The allocation is undone with it: left behind, its rows
				// would still count as holding stock (the reconciliation's
				// OCCUPIED check found them).
				if _, err := tx.ExecContext(ctx, `DELETE FROM work_order_picks WHERE work_order_id=?`, id); err != nil {
					return fmt.Errorf("drop the allocation of %s: %w", id, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sales_order SET status=?, reason=?, updated_at=? WHERE work_order_id=?`,
				domain.WOIntercepted, "intercepted: "+reason, now, id); err != nil {
				return fmt.Errorf("intercept work order %s: %w", id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_header SET status=? WHERE wms_order_id=?`, domain.OrderIntercepted, out.WMSOrderID); err != nil {
			return fmt.Errorf("intercept %s: %w", deliveryOrderID, err)
		}
		_, err = releaseTx(ctx, tx, deliveryOrderID, now)
		return err
	}()
	return out, err
}
