package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/aftersales/domain"
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
