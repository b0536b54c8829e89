// Package store is after-sales' MySQL persistence: requests with their
// steps, lines and pushes, written with their outbox rows in one
// transaction; the order ledger that serializes an order's refund
// decisions and push writes (returns.go, pushes.go); the order-push table. One order
// has at most one cancel: its id sits in a unique column while the
// cancel exists, so concurrent cancels of it store one request and the
// others read it back; a replayed idempotency key reads its request back
// the same way.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is after-sales' database.
type Store struct{ db *sql.DB }

var _ app.Repository = (*Store)(nil)

// New returns a Store over db.
func New(db *sql.DB) *Store { return &Store{db: db} }

// DB returns the pool (tests count rows with it).
func (s *Store) DB() *sql.DB { return s.db }

const columns = `id, order_id, customer_id, kind, status, reason, refusal_code, refusal_note, idem_key, request_hash, intercepted, refunded_fen,
	refund_mode, photos, refund_cash_fen, refund_noncash_fen, refund_freight_fen, created_by, audited_by, audit_note, created_at, updated_at`

// Create stores r and ev; an existing request of the same customer and
// key, or the order's existing cancel, is returned with created=false.
func (s *Store) Create(ctx context.Context, r *domain.Request, ev outbox.Event) (*domain.Request, bool, error) {
	var openCancel any
	if r.Kind() == domain.KindCancel {
		openCancel = r.OrderID()
	}
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if err := insertRequest(ctx, tx, r, openCancel); err != nil {
			return err
		}
		if _, err := outbox.Add(ctx, tx, ev); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		return nil
	})
	if sqltx.IsDuplicate(err) {
		prev, err := s.existing(ctx, r)
		return prev, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("store request %s: %w", r.ID(), err)
	}
	r.MarkStored()
	return r, true, nil
}

func insertRequest(ctx context.Context, tx *sql.Tx, r *domain.Request, openCancel any) error {
	photos, err := json.Marshal(r.Photos())
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO requests (`+columns+`, open_cancel) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID(), r.OrderID(), r.CustomerID(), r.Kind(), r.Status(), r.Reason(), r.RefusalCode(), r.RefusalNote(), r.Key(), r.RequestHash(),
		strings.Join(r.InterceptedIDs(), ","), r.RefundedFen(), r.Mode(), photos, r.RefundCash(), r.RefundNonCash(), r.RefundFreight(),
		r.CreatedBy(), r.AuditedBy(), r.AuditNote(), r.CreatedAt(), r.UpdatedAt(), openCancel); err != nil {
		return err
	}
	if ls := r.Lines(); len(ls) > 0 {
		args := make([]any, 0, 6*len(ls))
		for _, l := range ls {
			args = append(args, r.ID(), l.SKU, l.Qty, l.Cash, l.NonCash, l.Freight)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO request_lines (request_id, sku, qty, cash_fen, noncash_fen, freight_fen) VALUES `+
			sqltx.Tuples("(?,?,?,?,?,?)", len(ls)), args...); err != nil {
			return fmt.Errorf("store lines of %s: %w", r.ID(), err)
		}
	}
	if err := insertSteps(ctx, tx, r); err != nil {
		return err
	}
	if err := insertForward(ctx, tx, r); err != nil {
		return err
	}
	return addPushes(ctx, tx, r.UpdatedAt(), r.NewPushes())
}

// existing is the request r collided with: the same key first, else the
// order's cancel.
func (s *Store) existing(ctx context.Context, r *domain.Request) (*domain.Request, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM requests WHERE customer_id=? AND idem_key=?`, r.CustomerID(), r.Key()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.db.QueryRowContext(ctx, `SELECT id FROM requests WHERE open_cancel=?`, r.OrderID()).Scan(&id)
	}
	if err != nil {
		return nil, fmt.Errorf("read the request %s collided with: %w", r.ID(), err)
	}
	return s.Get(ctx, id)
}

func insertSteps(ctx context.Context, tx *sql.Tx, r *domain.Request) error {
	steps := r.NewSteps()
	if len(steps) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(steps))
	for i, st := range steps {
		args = append(args, r.ID(), r.StoredSteps()+i+1, st.Step, st.Note, st.At)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO request_steps (request_id, seq, step, note, at) VALUES `+sqltx.Tuples("(?,?,?,?,?)", len(steps)), args...); err != nil {
		return fmt.Errorf("store steps of %s: %w", r.ID(), err)
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func scanRequest(row interface{ Scan(...any) error }) (domain.Snapshot, error) {
	var sn domain.Snapshot
	var kind, status, intercepted string
	var refunded, cash, nonCash, freight int64
	var photos []byte
	if err := row.Scan(&sn.ID, &sn.OrderID, &sn.CustomerID, &kind, &status, &sn.Reason, &sn.RefusalCode, &sn.RefusalNote, &sn.Key,
		&sn.RequestHash, &intercepted, &refunded, &sn.Mode, &photos, &cash, &nonCash, &freight, &sn.CreatedBy, &sn.AuditedBy, &sn.AuditNote,
		&sn.CreatedAt, &sn.UpdatedAt); err != nil {
		return sn, err
	}
	if len(photos) > 0 {
		if err := json.Unmarshal(photos, &sn.Photos); err != nil {
			return sn, fmt.Errorf("photos of %s: %w", sn.ID, err)
		}
	}
	sn.RefundCash, sn.RefundNonCash, sn.RefundFreight = money.Fen(cash), money.Fen(nonCash), money.Fen(freight)
	st, err := domain.ParseStatus(status)
	if err != nil {
		return sn, err
	}
	sn.Kind, sn.Status, sn.Refunded = domain.Kind(kind), st, money.Fen(refunded)
	if intercepted != "" {
		sn.Intercepted = strings.Split(intercepted, ",")
	}
	sn.CreatedAt, sn.UpdatedAt = sn.CreatedAt.UTC(), sn.UpdatedAt.UTC()
	return sn, nil
}

func (s *Store) load(ctx context.Context, q queryer, id, lock string) (*domain.Request, error) {
	sn, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+columns+` FROM requests WHERE id=?`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read request %s: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT step, note, at FROM request_steps WHERE request_id=? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read steps of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e domain.TimelineEntry
		var step string
		if err := rows.Scan(&step, &e.Note, &e.At); err != nil {
			return nil, fmt.Errorf("read steps of %s: %w", id, err)
		}
		e.Step, e.At = domain.Step(step), e.At.UTC()
		sn.Steps = append(sn.Steps, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read steps of %s: %w", id, err)
	}
	lines, err := q.QueryContext(ctx, `SELECT sku, qty, cash_fen, noncash_fen, freight_fen FROM request_lines WHERE request_id=? ORDER BY sku`, id)
	sn.Lines, err = sqltx.Collect[domain.LineRefund](lines, err)(func(row interface{ Scan(...any) error }) (domain.LineRefund, error) {
		var l domain.LineRefund
		err := row.Scan(&l.SKU, &l.Qty, &l.Cash, &l.NonCash, &l.Freight)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("read lines of %s: %w", id, err)
	}
	if err := loadForward(ctx, q, &sn); err != nil {
		return nil, err
	}
	return domain.Restore(sn), nil
}

// Get returns one request with its steps.
func (s *Store) Get(ctx context.Context, id string) (*domain.Request, error) {
	return s.load(ctx, s.db, id, "")
}

// Update locks request id, applies fn and saves the request and its new steps.
func (s *Store) Update(ctx context.Context, id string, fn func(r *domain.Request) error) (*domain.Request, error) {
	return s.UpdateEmitting(ctx, id, func(r *domain.Request) ([]outbox.Event, error) { return nil, fn(r) })
}

// UpdateEmitting is Update whose fn also names events to write in the
// same transaction (an approved document's accepted event). A request
// that gave its units back (an audit's rejection) has them subtracted
// from the order's returned units and ledger, under the order's lock.
func (s *Store) UpdateEmitting(ctx context.Context, id string, fn func(r *domain.Request) ([]outbox.Event, error)) (*domain.Request, error) {
	var out *domain.Request
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		r, err := s.load(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		evs, err := fn(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET status=?, refusal_code=?, refusal_note=?, intercepted=?, refunded_fen=?, audited_by=?,
			audit_note=?, updated_at=? WHERE id=?`, r.Status(), r.RefusalCode(), r.RefusalNote(), strings.Join(r.InterceptedIDs(), ","), r.RefundedFen(),
			r.AuditedBy(), r.AuditNote(), r.UpdatedAt(), id); err != nil {
			return fmt.Errorf("save request %s: %w", id, err)
		}
		if err := insertSteps(ctx, tx, r); err != nil {
			return err
		}
		if err := saveForward(ctx, tx, r); err != nil {
			return err
		}
		if r.Released() {
			if err := release(ctx, tx, r); err != nil {
				return err
			}
		}
		if err := addPushes(ctx, tx, r.UpdatedAt(), r.NewPushes()); err != nil {
			return err
		}
		if len(evs) > 0 {
			if _, err := outbox.Add(ctx, tx, evs...); err != nil {
				return fmt.Errorf("write outbox: %w", err)
			}
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.MarkStored()
	return out, nil
}

// release gives a request's units and refund back to its order.
func release(ctx context.Context, tx *sql.Tx, r *domain.Request) error {
	if err := lockOrder(ctx, tx, r.OrderID(), r.UpdatedAt()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE order_ledger SET refunded_cash_fen=refunded_cash_fen-?, refunded_noncash_fen=refunded_noncash_fen-?,
		updated_at=? WHERE order_id=?`, r.RefundCash(), r.RefundNonCash(), r.UpdatedAt(), r.OrderID()); err != nil {
		return fmt.Errorf("give %s's refund back to the ledger: %w", r.ID(), err)
	}
	for _, l := range r.Lines() {
		if _, err := tx.ExecContext(ctx, `UPDATE returned_units SET qty=qty-? WHERE order_id=? AND sku=?`, l.Qty, r.OrderID(), l.SKU); err != nil {
			return fmt.Errorf("give %s's units back: %w", r.ID(), err)
		}
	}
	return nil
}

// AwaitingAudit lists the documents awaiting audit, oldest first.
func (s *Store) AwaitingAudit(ctx context.Context, limit int) ([]*domain.Request, error) {
	return s.list(ctx, `status=? ORDER BY created_at, id LIMIT ?`, domain.StatusAwaitingAudit, limit)
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]*domain.Request, error) {
	ids, err := sqltx.Strings(ctx, s.db, `SELECT id FROM requests WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	out := make([]*domain.Request, 0, len(ids))
	for _, id := range ids {
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// OfOrder lists an order's requests, newest first.
func (s *Store) OfOrder(ctx context.Context, orderID string) ([]*domain.Request, error) {
	return s.list(ctx, `order_id=? ORDER BY created_at DESC, id DESC`, orderID)
}

// OfCustomer lists a customer's requests, newest first.
func (s *Store) OfCustomer(ctx context.Context, customerID string, limit int) ([]*domain.Request, error) {
	return s.list(ctx, `customer_id=? ORDER BY created_at DESC, id DESC LIMIT ?`, customerID, limit)
}

// Stale lists unfinished requests not changed since before, oldest
// first; those waiting on PAY (CANCELLED, REFUNDING) only when not changed
// since waitingBefore.
func (s *Store) Stale(ctx context.Context, before, waitingBefore time.Time, limit int) ([]string, error) {
	ids, err := sqltx.Strings(ctx, s.db, `SELECT id FROM requests WHERE (status IN (?,?,?) AND updated_at < ? OR status IN (?,?) AND updated_at < ?)
		ORDER BY updated_at LIMIT ?`, domain.StatusAccepted, domain.StatusPaused, domain.StatusReturning, before,
		domain.StatusCancelled, domain.StatusRefunding, waitingBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list stale requests: %w", err)
	}
	return ids, nil
}

// OrderIDs pages through the distinct order ids with requests.
func (s *Store) OrderIDs(ctx context.Context, after string, limit int) ([]string, error) {
	ids, err := sqltx.Strings(ctx, s.db, `SELECT DISTINCT order_id FROM requests WHERE order_id > ? ORDER BY order_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list order ids: %w", err)
	}
	return ids, nil
}
