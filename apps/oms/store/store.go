// Package store keeps OMS's orders in its MariaDB database: orders, their
// lines and timeline, the deductions they use, accept-order idempotency
// keys, and the outbox/inbox rows written in the same transactions. It
// implements app.Repository and turns driver errors into the app's and the
// domain's errors.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is the MariaDB repository of orders.
type Store struct {
	db      *sql.DB
	creates *group.Writer[*createReq] // new orders committed together; see Create
	keys    *group.Loader[idemKey, app.Idempotency]
}

// New returns a Store over db (migrated with schema/migrations/oms).
func New(db *sql.DB) *Store {
	s := &Store{db: db, creates: group.NewWriter(group.Options{Sizes: createGroupSize}, group.InTx(db, insertOrders))}
	s.keys = group.NewLoader(group.Options{}, s.findIdempotencies)
	return s
}

var _ app.Repository = (*Store)(nil)

type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type idemKey struct{ customerID, key string }

// FindIdempotency returns the record of an accept-order key. The keys of
// placements arriving together are read with one query (group.Loader).
func (s *Store) FindIdempotency(ctx context.Context, customerID, key string) (app.Idempotency, bool, error) {
	k := idemKey{customerID, key}
	found, err := s.keys.Load(ctx, k)
	if err != nil {
		return app.Idempotency{}, false, err
	}
	r, ok := found[k]
	return r, ok, nil
}

func (s *Store) findIdempotencies(ctx context.Context, keys []idemKey) (map[idemKey]app.Idempotency, error) {
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k.customerID, k.key)
	}
	recs, err := sqltx.Collect[app.Idempotency](s.db.QueryContext(ctx, `SELECT customer_id, idem_key, request_hash, order_id, created_at
		FROM order_idempotency WHERE (customer_id, idem_key) IN (`+sqltx.Tuples("(?,?)", len(keys))+`)`, args...))(
		func(row interface{ Scan(...any) error }) (app.Idempotency, error) {
			var r app.Idempotency
			return r, row.Scan(&r.CustomerID, &r.Key, &r.RequestHash, &r.OrderID, &r.CreatedAt)
		})
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	out := make(map[idemKey]app.Idempotency, len(recs))
	for _, r := range recs {
		out[idemKey{r.CustomerID, r.Key}] = r
	}
	return out, nil
}

// insertOrdersSQL inserts n new orders (version 0).
func insertOrdersSQL(n int) string {
	return `INSERT INTO orders (` + orderCols + `) VALUES ` +
		sqltx.Tuples("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)", n)
}

func orderArgs(snap domain.Snapshot) []any {
	addr, _ := json.Marshal(addressRow(snap.Address))
	dids, _ := json.Marshal(nonNil(snap.DeductionIDs))
	cids, _ := json.Marshal(nonNil(snap.CouponIDs))
	return []any{snap.ID, snap.CustomerID, snap.Source, snap.Channel, snap.Status,
		snap.Goods, snap.Freight, snap.Total, snap.NonCash, snap.CashDue, snap.Paid, snap.TradeID, snap.CancelPending, snap.CancelReason,
		addr, snap.Slot.Type, snap.Slot.Date, dids, cids, snap.InvoiceTitle, snap.OriginalOrder, snap.StockOrder,
		nullTime(snap.PayBy), snap.CreatedAt, snap.UpdatedAt}
}

func insertDeductions(ctx context.Context, tx *sql.Tx, id string, dids []string) error {
	if len(dids) == 0 {
		return nil
	}
	q := `INSERT INTO order_deductions (deduction_id, order_id) VALUES ` + sqltx.Tuples("(?,?)", len(dids))
	args := make([]any, 0, len(dids)*2)
	for _, d := range dids {
		args = append(args, d, id)
	}
	_, err := tx.ExecContext(ctx, q, args...)
	if err == nil {
		return nil
	}
	if !sqltx.IsDuplicate(err) {
		return fmt.Errorf("insert deductions of %s: %w", id, err)
	}
	used, qerr := deductionsInUse(ctx, tx, dids)
	if qerr != nil {
		return errors.Join(err, qerr)
	}
	e := &app.DeductionInUseError{}
	for _, d := range dids {
		switch o, ok := used[d]; {
		case !ok:
		case o == releasedDeduction:
			e.Released = append(e.Released, d)
		default:
			e.IDs = append(e.IDs, d)
		}
	}
	return e
}

// Get reads an order with its lines and timeline.
func (s *Store) Get(ctx context.Context, id string) (*domain.Order, error) {
	return load(ctx, s.db, id, false)
}

// GetMany reads the orders of ids with their lines and timelines, in id
// order; ids not found are left out.
func (s *Store) GetMany(ctx context.Context, ids []string) ([]*domain.Order, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return loadMany(ctx, s.db, ids, false)
}

const orderCols = `id, customer_id, source, channel, status, goods_fen, freight_fen, total_fen, non_cash_fen,
	cash_due_fen, paid_fen, trade_id, cancel_pending, cancel_reason, address, slot_type, slot_date, deduction_ids,
	coupon_ids, invoice_title, original_order, stock_order, pay_by, created_at, updated_at, version`

// selectCols are orderCols and what customer service sets later (never
// inserted with the order: contacts.go writes it).
const selectCols = orderCols + `, sms_recipients`

type scanner interface{ Scan(dest ...any) error }

func scanOrder(r scanner) (domain.Snapshot, error) {
	var (
		s              domain.Snapshot
		addr, did, cid []byte
		sms            []byte
		slotDate       time.Time
		payBy          sql.NullTime
	)
	err := r.Scan(&s.ID, &s.CustomerID, &s.Source, &s.Channel, &s.Status, &s.Goods, &s.Freight, &s.Total, &s.NonCash,
		&s.CashDue, &s.Paid, &s.TradeID, &s.CancelPending, &s.CancelReason, &addr, &s.Slot.Type, &slotDate, &did,
		&cid, &s.InvoiceTitle, &s.OriginalOrder, &s.StockOrder, &payBy, &s.CreatedAt, &s.UpdatedAt, &s.Version, &sms)
	if err != nil {
		return s, err
	}
	s.Slot.Date = slotDate.Format("2006-01-02")
	if payBy.Valid {
		s.PayBy = payBy.Time.UTC()
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	var a address
	if err := json.Unmarshal(addr, &a); err != nil {
		return s, fmt.Errorf("order %s address: %w", s.ID, err)
	}
	s.Address = domain.Address(a)
	if err := json.Unmarshal(did, &s.DeductionIDs); err != nil {
		return s, fmt.Errorf("order %s deductions: %w", s.ID, err)
	}
	if err := json.Unmarshal(cid, &s.CouponIDs); err != nil {
		return s, fmt.Errorf("order %s coupons: %w", s.ID, err)
	}
	if len(sms) > 0 {
		if err := json.Unmarshal(sms, &s.SMSRecipients); err != nil {
			return s, fmt.Errorf("order %s SMS recipients: %w", s.ID, err)
		}
	}
	return s, nil
}

func load(ctx context.Context, q queryer, id string, forUpdate bool) (*domain.Order, error) {
	found, err := loadMany(ctx, q, []string{id}, forUpdate)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: %s", domain.ErrNotFound, id)
	}
	return found[0], nil
}

func loadLines(ctx context.Context, q queryer, orderIDs []string) (map[string][]domain.Line, error) {
	out := make(map[string][]domain.Line, len(orderIDs))
	if len(orderIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(orderIDs))
	for i, id := range orderIDs {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT order_id, sku, name, qty, unit_price_fen, amount_fen FROM order_lines
		WHERE order_id IN (`+placeholders(len(orderIDs))+`) ORDER BY order_id, line_no`, args...)
	if err != nil {
		return nil, fmt.Errorf("read order lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l domain.Line
		if err := rows.Scan(&id, &l.SKU, &l.Name, &l.Qty, &l.UnitPrice, &l.Amount); err != nil {
			return nil, fmt.Errorf("read order lines: %w", err)
		}
		out[id] = append(out[id], l)
	}
	return out, rows.Err()
}

// Update locks the order row (SELECT … FOR UPDATE), runs fn, and saves the
// change conditionally on the version it read, with the new timeline
// entries and fn's outbox events, in one transaction. With a claim, the
// message is claimed in the inbox first; a message already applied returns
// app.ErrDuplicateMessage without calling fn. fn returning app.ErrNoChange
// rolls back and returns the order unchanged.
func (s *Store) Update(ctx context.Context, id string, claim *app.InboxClaim, fn func(o *domain.Order) ([]outbox.Event, error)) (*domain.Order, error) {
	var out *domain.Order
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if claim != nil {
			fresh, err := inbox.Claim(ctx, tx, claim.Consumer, claim.MsgID)
			if err != nil {
				return err
			}
			if !fresh {
				return app.ErrDuplicateMessage
			}
		}
		o, err := s.UpdateTx(ctx, tx, id, fn)
		out = o
		return err
	})
	if errors.Is(err, app.ErrNoChange) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateEach is UpdateManyTx in a transaction of its own: a batch of
// small changes (the expiry of a deadline window) paying for one commit and
// a handful of set-based statements instead of a transaction of six round
// trips each.
func (s *Store) UpdateEach(ctx context.Context, ids []string, fn func(o *domain.Order) ([]outbox.Event, error)) ([]*domain.Order, error) {
	var changed []*domain.Order
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		changed, err = s.UpdateManyTx(ctx, tx, ids, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// loadMany reads the orders of ids, locking them (in id order) when
// forUpdate, with their lines and timelines, in three queries; ids not
// found are left out.
func loadMany(ctx context.Context, q queryer, ids []string, forUpdate bool) ([]*domain.Order, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	query := `SELECT ` + selectCols + ` FROM orders WHERE id IN (` + placeholders(len(ids)) + `) ORDER BY id`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	snaps, err := sqltx.Collect[domain.Snapshot](q.QueryContext(ctx, query, args...))(func(r interface{ Scan(...any) error }) (domain.Snapshot, error) {
		return scanOrder(r)
	})
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	lines, err := loadLines(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	timelines := map[string][]domain.Event{}
	rows, err := q.QueryContext(ctx, `SELECT order_id, at, type, note FROM order_events WHERE order_id IN (`+
		placeholders(len(ids))+`) ORDER BY order_id, seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("read timelines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			e  domain.Event
			t  string
		)
		if err := rows.Scan(&id, &e.At, &t, &e.Note); err != nil {
			return nil, fmt.Errorf("read timelines: %w", err)
		}
		e.At, e.Type = e.At.UTC(), domain.EventType(t)
		timelines[id] = append(timelines[id], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read timelines: %w", err)
	}
	out := make([]*domain.Order, 0, len(snaps))
	for _, snap := range snaps {
		snap.Lines, snap.Timeline = lines[snap.ID], timelines[snap.ID]
		o, err := domain.Restore(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

type timelineRow struct {
	orderID string
	seq     int
	ev      domain.Event
}

// insertTimeline writes the new timeline entries of several orders in one statement.
func insertTimeline(ctx context.Context, tx *sql.Tx, rows []timelineRow) error {
	if len(rows) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO order_events (order_id, seq, at, type, note) VALUES `)
	args := make([]any, 0, len(rows)*5)
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?)")
		args = append(args, r.orderID, r.seq, r.ev.At, string(r.ev.Type), truncate(r.ev.Note, 500))
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert timelines: %w", err)
	}
	return nil
}

// UpdateTx is Update inside the caller's transaction, for use cases whose
// own rows must change atomically with the order (fulfillment starting,
// cancelling for fraud, dispatching). fn's app.ErrNoChange is returned as
// is, with the order as read, so the caller decides whether to roll back.
// The returned order is marked stored only when it was saved; it stays
// valid if the caller's transaction commits.
func (s *Store) UpdateTx(ctx context.Context, tx *sql.Tx, id string, fn func(o *domain.Order) ([]outbox.Event, error)) (*domain.Order, error) {
	o, err := load(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	events, err := fn(o)
	if err != nil {
		return o, err
	}
	if err := save(ctx, tx, []*domain.Order{o}, events); err != nil {
		return nil, err
	}
	return o, nil
}

// Record writes events with an inbox claim and no order change (a trade
// for an order that does not exist).
func (s *Store) Record(ctx context.Context, claim *app.InboxClaim, events []outbox.Event) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if claim != nil {
			fresh, err := inbox.Claim(ctx, tx, claim.Consumer, claim.MsgID)
			if err != nil {
				return err
			}
			if !fresh {
				return app.ErrDuplicateMessage
			}
		}
		_, err := outbox.Add(ctx, tx, events...)
		return err
	})
}

// DueUnpaid lists unpaid orders whose deadline is after after and before
// before, oldest first, through the (status, pay_by) index.
func (s *Store) DueUnpaid(ctx context.Context, after, before time.Time, limit int) ([]string, error) {
	if after.Before(minDatetime) {
		after = minDatetime
	}
	out, err := sqltx.Strings(ctx, s.db, `SELECT id FROM orders WHERE status = ? AND pay_by > ? AND pay_by < ? ORDER BY pay_by LIMIT ?`,
		string(domain.StatusPendingPayment), after, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list due unpaid orders: %w", err)
	}
	return out, nil
}

// Check-back tombstones.
//
// A check-back's "no" must stay true: once OMS has told PAY that no order
// uses a deduction, or told inventory that an order does not exist, the
// asker gives the money or the stock back, so a placement that read the
// deduction as HELD, or holds the reservation, before that answer must not
// commit after it. Each "no" is therefore written down under the very
// unique key the order's commit inserts into, and the commit that comes
// late hits it:
//   - a deduction no order uses is claimed in order_deductions with an
//     empty order id (releasedDeduction); insertDeductions then meets the
//     primary key and the placement fails with DEDUCTION_RELEASED;
//   - an order id that does not exist gets the first entry of its
//     timeline, order_events (id, 0), as a VOID mark; every new order
//     writes its PLACED entry at seq 0 in the same multi-row INSERT as the
//     rest of its group's timeline, so the late commit fails with
//     app.ErrPlacementVoided at no extra statement on the hot path.
// Both marks are taken with INSERT IGNORE, which waits for a placement
// committing the same key at that moment: the one that commits first wins,
// and the answer is read after the mark, so it is never contradicted.

// releasedDeduction is the order id of a deduction's tombstone.
const releasedDeduction = ""

// voidEvent is the timeline type of an order id's tombstone.
const voidEvent = "VOID"

// The widths of orders.id and order_deductions.deduction_id.
const (
	orderIDLen        = 26
	maxDeductionIDLen = 64
)

// ClaimUnusedDeduction answers PAY's check-back for a deduction: the
// order that uses it, or "" when none does; in that case it has claimed
// the deduction first, so no order can take it any more.
func (s *Store) ClaimUnusedDeduction(ctx context.Context, deductionID string) (string, error) {
	if len(deductionID) > maxDeductionIDLen {
		return "", nil // wider than the column: no order can hold it
	}
	if _, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO order_deductions (deduction_id, order_id) VALUES (?, ?)`,
		deductionID, releasedDeduction); err != nil {
		return "", fmt.Errorf("claim deduction %s: %w", deductionID, err)
	}
	var id string
	if err := s.db.QueryRowContext(ctx, `SELECT order_id FROM order_deductions WHERE deduction_id = ?`, deductionID).Scan(&id); err != nil {
		return "", fmt.Errorf("read deduction %s: %w", deductionID, err)
	}
	return id, nil
}

// VoidOrderID marks an order id inventory's check-back found without an
// order, so an order with that id can no longer be created. An order
// already there is left alone (its timeline has its seq 0).
func (s *Store) VoidOrderID(ctx context.Context, id string, at time.Time) error {
	if len(id) > orderIDLen {
		return nil // wider than the column: no order can have it
	}
	if _, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO order_events (order_id, seq, at, type, note) VALUES (?, 0, ?, ?, ?)`,
		id, at, voidEvent, "check-back: no order; a late commit is refused"); err != nil {
		return fmt.Errorf("void order id %s: %w", id, err)
	}
	return nil
}

// DeductionsInUse maps those of ids already bound to an order to that
// order, and those a check-back released to "".
func (s *Store) DeductionsInUse(ctx context.Context, ids []string) (map[string]string, error) {
	return deductionsInUse(ctx, s.db, ids)
}

func deductionsInUse(ctx context.Context, q queryer, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT deduction_id, order_id FROM order_deductions WHERE deduction_id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read used deductions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, o string
		if err := rows.Scan(&d, &o); err != nil {
			return nil, err
		}
		out[d] = o
	}
	return out, rows.Err()
}

type address struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
	Detail   string `json:"detail"`
}

func addressRow(a domain.Address) address { return address(a) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// minDatetime is the smallest DATETIME MariaDB takes.
var minDatetime = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)

func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t, Valid: true}
}

func placeholders(n int) string { return sqltx.Tuples("?", n) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
