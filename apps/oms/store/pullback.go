package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// CreateTx writes a new order with its idempotency record and events in
// tx, the caller's transaction (a pull-back ends one order and makes its
// successor in one), outside the group commit. app.ErrDuplicateKey when
// the key was used before.
func (s *Store) CreateTx(ctx context.Context, tx *sql.Tx, o *domain.Order, idem app.Idempotency, events []outbox.Event) error {
	if err := insertOrders(ctx, tx, []*createReq{{snap: o.Snapshot(), idem: idem, events: events}}); err != nil {
		return err
	}
	o.MarkStored(0)
	return nil
}

// HandOverDeductionsTx lets go of the deductions order from uses in tx,
// for the order that takes its payment over in the same transaction (a
// pull-back's new order names them and CreateTx claims them again): a
// deduction is used by one order at a time. The rows stay locked until
// the commit, so PAY's check-back never finds them unused in between.
func (s *Store) HandOverDeductionsTx(ctx context.Context, tx *sql.Tx, from string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM order_deductions WHERE order_id = ?`, from); err != nil {
		return fmt.Errorf("hand over the deductions of %s: %w", from, err)
	}
	return nil
}
