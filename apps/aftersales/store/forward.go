package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Forward documents' own row (forward_documents) beside their request.

func nullJSON(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return b, err
}

// insertForward stores a forward document's row in the request's transaction.
func insertForward(ctx context.Context, tx *sql.Tx, r *domain.Request) error {
	if !r.IsForward() {
		return nil
	}
	f := r.Forward()
	var addr, slot any
	var err error
	if f.Address != nil {
		if addr, err = nullJSON(f.Address); err != nil {
			return err
		}
	}
	if f.Slot != nil {
		if slot, err = nullJSON(f.Slot); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO forward_documents (request_id, outcome, address, slot, new_order_id) VALUES (?,?,?,?,?)`,
		r.ID(), f.Outcome, addr, slot, f.NewOrderID); err != nil {
		return fmt.Errorf("store document %s: %w", r.ID(), err)
	}
	return nil
}

// saveForward records a forward document's new order in the update's transaction.
func saveForward(ctx context.Context, tx *sql.Tx, r *domain.Request) error {
	if !r.IsForward() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE forward_documents SET new_order_id=? WHERE request_id=?`, r.Forward().NewOrderID, r.ID()); err != nil {
		return fmt.Errorf("save document %s: %w", r.ID(), err)
	}
	return nil
}

// loadForward reads a forward document's row into sn.
func loadForward(ctx context.Context, q queryer, sn *domain.Snapshot) error {
	if sn.Kind != domain.KindPullBack && sn.Kind != domain.KindExchange && sn.Kind != domain.KindReissue {
		return nil
	}
	var f domain.Forward
	var addr, slot []byte
	err := q.QueryRowContext(ctx, `SELECT outcome, address, slot, new_order_id FROM forward_documents WHERE request_id=?`, sn.ID).
		Scan(&f.Outcome, &addr, &slot, &f.NewOrderID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("document %s has no forward row", sn.ID)
	}
	if err != nil {
		return fmt.Errorf("read document %s: %w", sn.ID, err)
	}
	if len(addr) > 0 {
		f.Address = &domain.Address{}
		if err := json.Unmarshal(addr, f.Address); err != nil {
			return fmt.Errorf("address of %s: %w", sn.ID, err)
		}
	}
	if len(slot) > 0 {
		f.Slot = &domain.Slot{}
		if err := json.Unmarshal(slot, f.Slot); err != nil {
			return fmt.Errorf("slot of %s: %w", sn.ID, err)
		}
	}
	sn.Forward = &f
	return nil
}

// OpenPullBacks lists an order's pull-backs not finished yet.
func (s *Store) OpenPullBacks(ctx context.Context, orderID string) ([]*domain.Request, error) {
	return s.list(ctx, `order_id=? AND kind=? AND status NOT IN (?,?,?,?) ORDER BY created_at, id`, orderID, domain.KindPullBack,
		domain.StatusRefunded, domain.StatusRefused, domain.StatusRejected, domain.StatusCompleted)
}

// CreateReissue stores a reissue decided under the order's ledger lock:
// the same customer's key answers its request (created=false); else
// decide builds the request from the units the order's earlier reissues
// took (by SKU; those rejected or refused took none), and it is stored
// with its event. Two reissues of one order decide one after the other,
// the second seeing the first's units.
func (s *Store) CreateReissue(ctx context.Context, now time.Time, orderID, customerID, key string,
	decide func(reissued map[string]int64) (*domain.Request, error), event func(r *domain.Request) outbox.Event) (*domain.Request, bool, error) {
	var out *domain.Request
	var prevID string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out, prevID = nil, ""
		if err := lockOrder(ctx, tx, orderID, now); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM requests WHERE customer_id=? AND idem_key=?`, customerID, key).Scan(&prevID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read request of key %s: %w", key, err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT l.sku, SUM(l.qty) FROM request_lines l JOIN requests r ON r.id = l.request_id
			WHERE r.order_id=? AND r.kind=? AND r.status NOT IN (?,?) GROUP BY l.sku`, orderID, domain.KindReissue, domain.StatusRejected, domain.StatusRefused)
		if err != nil {
			return fmt.Errorf("read reissued units of %s: %w", orderID, err)
		}
		reissued := map[string]int64{}
		for rows.Next() {
			var sku string
			var n int64
			if err := rows.Scan(&sku, &n); err != nil {
				rows.Close()
				return err
			}
			reissued[sku] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		r, err := decide(reissued)
		if err != nil {
			return err
		}
		if err := insertRequest(ctx, tx, r, nil); err != nil {
			return err
		}
		if _, err := outbox.Add(ctx, tx, event(r)); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if prevID != "" {
		prev, err := s.Get(ctx, prevID)
		return prev, false, err
	}
	out.MarkStored()
	return out, true, nil
}
