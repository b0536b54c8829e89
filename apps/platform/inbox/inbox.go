// Package inbox makes message consumers idempotent: a consumer claims a
// message id inside the same transaction as its effect, so a redelivered
// message finds its id taken and changes nothing.
package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Claim records that consumer handles msgID in tx. It reports false when the
// message was already handled; the caller must then skip its effect (and may
// commit or roll back, nothing was written).
func Claim(ctx context.Context, tx *sql.Tx, consumer, msgID string) (bool, error) {
	if msgID == "" {
		return false, fmt.Errorf("inbox: empty message id for %s", consumer)
	}
	res, err := tx.ExecContext(ctx,
		`INSERT IGNORE INTO inbox (consumer, msg_id, received_at) VALUES (?, ?, ?)`,
		consumer, msgID, time.Now().UTC())
	if err != nil {
		return false, fmt.Errorf("inbox claim %s/%s: %w", consumer, msgID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
