package store

import (
	"context"
	"database/sql"

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
