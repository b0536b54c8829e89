// Package store keeps inventory's rows in MariaDB: the catalog with its
// versions, audit and price schedule, stock of ordinary SKUs and
// delivery-slot capacity (both changed only by conditional atomic updates
// checked by rows affected), reservations, and the served areas, each use
// case in one transaction. It turns driver errors into the domain's
// errors.
package store

import (
	"github.com/harvest/harvest/apps/inventory/app"

	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is inventory's MariaDB repository.
type Store struct {
	db       *sql.DB
	clock    clock.Clock
	reserves *group.Writer[*reserveReq] // reservations committed together; see CreateReservation
	releases *group.Writer[*releaseReq] // releases committed together; see Release
	catalog  *group.Loader[string, domain.Product]
}

// New returns a Store.
func New(db *sql.DB, clk clock.Clock) *Store {
	s := &Store{db: db, clock: clk}
	s.reserves = group.NewWriter(group.Options{Sizes: reserveGroupSize}, group.InTx(db, s.writeReservations))
	s.releases = group.NewWriter(group.Options{Sizes: releaseGroupSize}, group.InTx(db, s.writeReleases))
	s.catalog = group.NewLoader(group.Options{}, s.productsOnce)
	return s
}

func placeholders(n int) string { return sqltx.Tuples("?", n) }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (s *Store) now() time.Time { return s.clock.Now().UTC() }

// --- reservations ---

const resCols = `order_id, status, fingerprint, request, has_hot, hot_pending, expires_at`

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func readReservation(ctx context.Context, q querier, orderID string, lock bool) (domain.Reservation, bool, error) {
	rs, err := readReservations(ctx, q, []string{orderID}, lock)
	if err != nil {
		return domain.Reservation{}, false, err
	}
	r, ok := rs[orderID]
	return r, ok, nil
}

// readReservations reads the reservations of orderIDs (those that exist)
// with one statement per table, locking their rows when lock is set.
func readReservations(ctx context.Context, q querier, orderIDs []string, lock bool) (map[string]domain.Reservation, error) {
	what := reservationsNamed(orderIDs)
	query := `SELECT ` + resCols + ` FROM reservations WHERE order_id IN (` + placeholders(len(orderIDs)) + `)`
	if lock {
		query += ` FOR UPDATE`
	}
	read, err := sqltx.Collect[domain.ReservationSnapshot](q.QueryContext(ctx, query, anys(orderIDs)...))(scanReservation)
	if err != nil {
		return nil, fmt.Errorf("read reservation %s: %w", what, err)
	}
	out := make(map[string]domain.Reservation, len(read))
	if len(read) == 0 {
		return out, nil
	}
	found := make([]string, len(read))
	byID := make(map[string]*domain.ReservationSnapshot, len(read))
	for i := range read {
		found[i], byID[read[i].OrderID] = read[i].OrderID, &read[i]
	}
	slices.Sort(found)
	parts, err := sqltx.Collect[partOf](q.QueryContext(ctx, `SELECT order_id, sku, qty, hot FROM reservation_parts WHERE order_id IN (`+
		placeholders(len(found))+`) ORDER BY order_id, sku`, anys(found)...))(scanPartOf)
	if err != nil {
		return nil, fmt.Errorf("reservation %s parts: %w", what, err)
	}
	for _, p := range parts {
		byID[p.orderID].Parts = append(byID[p.orderID].Parts, p.part)
	}
	slots, err := readSlots(ctx, q, found)
	if err != nil {
		return nil, err
	}
	for id, r := range byID {
		r.Slots = slots[id]
		out[id] = domain.RestoreReservation(*r)
	}
	return out, nil
}

func scanReservation(sc interface{ Scan(...any) error }) (domain.ReservationSnapshot, error) {
	var r domain.ReservationSnapshot
	var status string
	var req []byte
	var hasHot bool
	if err := sc.Scan(&r.OrderID, &status, &r.Fingerprint, &req, &hasHot, &r.HotPending, &r.ExpiresAt); err != nil {
		return r, err
	}
	r.Status = domain.Status(status)
	var lines []lineJSON
	if err := json.Unmarshal(req, &lines); err != nil {
		return r, fmt.Errorf("reservation %s request: %w", r.OrderID, err)
	}
	for _, l := range lines {
		r.Lines = append(r.Lines, domain.Line{SKU: l.SKU, Qty: l.Qty})
	}
	return r, nil
}

// partOf is one reservation_parts row.
type partOf struct {
	orderID string
	part    domain.Part
}

func scanPartOf(sc interface{ Scan(...any) error }) (partOf, error) {
	var p partOf
	return p, sc.Scan(&p.orderID, &p.part.SKU, &p.part.Qty, &p.part.Hot)
}

// newReservation is the held reservation req makes, and its request
// column (the lines as JSON).
func newReservation(req domain.Request, parts []domain.Part, slots []domain.SlotKey, expires time.Time) (domain.Reservation, []byte, error) {
	res := domain.NewReservation(req, parts, slots, expires)
	lines := make([]lineJSON, len(req.Lines()))
	for i, l := range req.Lines() {
		lines[i] = lineJSON{l.SKU, l.Qty}
	}
	body, err := json.Marshal(lines)
	if err != nil {
		return res, nil, fmt.Errorf("encode lines of %s: %w", req.OrderID(), err)
	}
	return res, body, nil
}

type lineJSON struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// GetReservation reads an order's reservation; false when there is none.
func (s *Store) GetReservation(ctx context.Context, orderID string) (domain.Reservation, bool, error) {
	return readReservation(ctx, s.db, orderID, false)
}

// checkEpochs reads the counters' epochs under a shared lock: it waits for
// a rebuild in progress (which holds the row exclusively) without blocking
// other reservations, and refuses a take from a counter older than the
// current one.
func checkEpochs(ctx context.Context, tx *sql.Tx, skus []string, seen map[string]int64) error {
	epochs, err := readEpochs(ctx, tx, skus)
	if err != nil {
		return err
	}
	for sku, epoch := range epochs {
		if seen != nil && epoch > seen[sku] {
			return domain.ErrStale
		}
	}
	return nil
}

// ShortSKUs names the ordinary parts whose stock is below the asked
// quantity right now. Read-only: it only completes an out-of-stock answer
// when the hot parts already failed.
func (s *Store) ShortSKUs(ctx context.Context, parts []domain.Part) ([]string, error) {
	var out []string
	for _, p := range parts {
		if p.Hot {
			continue
		}
		var avail int64
		err := s.db.QueryRowContext(ctx, `SELECT available FROM stock WHERE sku = ?`, p.SKU).Scan(&avail)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && avail < p.Qty) {
			out = append(out, p.SKU)
		} else if err != nil {
			return nil, fmt.Errorf("read stock of %s: %w", p.SKU, err)
		}
	}
	return out, nil
}

// ConfirmHeld turns the held reservations of orderIDs confirmed with one
// conditional UPDATE, outside any transaction, and reads nothing when
// every one of them was held. It needs no inbox: the transition HELD →
// CONFIRMED is guarded by its own WHERE clause, so a redelivered
// order.placed, or one arriving after the reservation was released,
// changes nothing. When some were not held, a lone order says why:
// ErrNotReserved when there is no reservation or it was released, nil
// when it was already confirmed; several fail together, and the caller
// settles them one by one (group.AllOrEach) to tell which: those
// confirmed stay so.
func (s *Store) ConfirmHeld(ctx context.Context, orderIDs ...string) error {
	if len(orderIDs) == 0 {
		return nil
	}
	ids := slices.Compact(slices.Sorted(slices.Values(orderIDs)))
	var n int64
	for attempt := 1; ; attempt++ {
		r, err := s.db.ExecContext(ctx, `UPDATE reservations SET status = 'CONFIRMED', updated_at = ? WHERE order_id IN (`+
			placeholders(len(ids))+`) AND status = 'HELD'`, append([]any{s.now()}, anys(ids)...)...)
		if err != nil {
			if sqltx.Retryable(err) && attempt < sqltx.MaxAttempts {
				continue
			}
			return fmt.Errorf("confirm %s: %w", reservationsNamed(ids), err)
		}
		if n, err = r.RowsAffected(); err != nil {
			return fmt.Errorf("confirm %s: %w", reservationsNamed(ids), err)
		}
		break
	}
	switch {
	case n == int64(len(ids)) && len(ids) == len(orderIDs):
		return nil
	case len(orderIDs) > 1:
		return fmt.Errorf("confirm %s: only %d were held", reservationsNamed(orderIDs), n)
	}
	var status string
	err := s.db.QueryRowContext(ctx, `SELECT status FROM reservations WHERE order_id = ?`, orderIDs[0]).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return domain.ErrNotReserved
	case err != nil:
		return fmt.Errorf("confirm %s: %w", orderIDs[0], err)
	}
	return domain.ConfirmableStatus(domain.Status(status))
}

// reservationsNamed names the reservations of ids for an error.
func reservationsNamed(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return fmt.Sprintf("%d reservations from %s", len(ids), ids[0])
}

// Confirm turns a held reservation into a deduction by a conditional
// update (HELD → CONFIRMED), so two confirmers, or a confirmer and a
// releaser, cannot both win. Confirming twice is fine; a released or
// missing reservation is domain.ErrNotReserved. With a claim, applied is
// false when the message was handled before (nothing changes).
func (s *Store) Confirm(ctx context.Context, orderID string, claim *app.Claim) (res domain.Reservation, applied bool, err error) {
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		applied = true
		if claim != nil {
			ok, err := inbox.Claim(ctx, tx, claim.Consumer, claim.MsgID)
			if err != nil {
				return fmt.Errorf("claim %s/%s: %w", claim.Consumer, claim.MsgID, err)
			}
			if !ok {
				applied = false
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reservations SET status = 'CONFIRMED', updated_at = ? WHERE order_id = ? AND status = 'HELD'`,
			s.now(), orderID); err != nil {
			return fmt.Errorf("confirm %s: %w", orderID, err)
		}
		rr, ok, err := readReservation(ctx, tx, orderID, false)
		if err != nil {
			return err
		}
		if !ok {
			return domain.ErrNotReserved
		}
		res = rr
		return rr.Confirmable()
	})
	return res, applied, err
}

// ClearHotPending records that the Redis side of a release has run.
func (s *Store) ClearHotPending(ctx context.Context, orderID string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE reservations SET hot_pending = 0 WHERE order_id = ? AND status = 'RELEASED'`, orderID); err != nil {
		return fmt.Errorf("clear hot pending of %s: %w", orderID, err)
	}
	return nil
}

func (s *Store) ids(ctx context.Context, what, q string, args ...any) ([]string, error) {
	ids, err := sqltx.Strings(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return ids, nil
}

// ExpiredHeld lists held reservations past their TTL, oldest first.
func (s *Store) ExpiredHeld(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return s.ids(ctx, "expired reservations", `SELECT order_id FROM reservations WHERE status = 'HELD' AND expires_at < ? ORDER BY expires_at LIMIT ?`, now.UTC(), limit)
}

// HotPending lists releases whose Redis side has not run yet.
func (s *Store) HotPending(ctx context.Context, limit int) ([]string, error) {
	return s.ids(ctx, "pending hot returns", `SELECT order_id FROM reservations WHERE hot_pending = 1 LIMIT ?`, limit)
}

// Orphans lists orders Redis holds hot units for (as written back) past
// their expiry whose reservation is missing or released: takes whose
// Reserve died before its row committed, or whose return was lost.
func (s *Store) Orphans(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return s.ids(ctx, "orphaned hot takes", `SELECT DISTINCT h.order_id FROM hot_ledger h LEFT JOIN reservations r ON r.order_id = h.order_id
		WHERE h.state = 'TAKEN' AND h.expires_at < ? AND (r.order_id IS NULL OR r.status = 'RELEASED') LIMIT ?`, before.UTC(), limit)
}

// MarkReturned records in the written-back ledger that an order's hot
// units are back (used when Redis had nothing left to return).
func (s *Store) MarkReturned(ctx context.Context, orderID string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE hot_ledger SET state = 'RETURNED', updated_at = ? WHERE order_id = ? AND state = 'TAKEN'`, s.now(), orderID); err != nil {
		return fmt.Errorf("mark hot units of %s returned: %w", orderID, err)
	}
	return nil
}
