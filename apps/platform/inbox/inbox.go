// Package inbox makes message consumers idempotent: a consumer claims a
// message id inside the same transaction as its effect, so a redelivered
// message finds its id taken and changes nothing.
package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
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

// ClaimAll is Claim for several messages of one consumer with two
// statements instead of one each: it reads which ids are claimed already
// and inserts the rest. fresh[i] reports whether msgIDs[i] is claimed by
// this call (an id repeated in msgIDs is fresh once). A concurrent
// transaction claiming one of the same ids meanwhile makes the INSERT fail
// with a duplicate key, as Claim's caller would see a repeat: the caller
// may then roll back and claim one by one.
func ClaimAll(ctx context.Context, tx *sql.Tx, consumer string, msgIDs []string) (fresh []bool, err error) {
	fresh = make([]bool, len(msgIDs))
	switch len(msgIDs) {
	case 0:
		return fresh, nil
	case 1: // one statement, not two
		fresh[0], err = Claim(ctx, tx, consumer, msgIDs[0])
		return fresh, err
	}
	args := []any{consumer}
	for _, id := range msgIDs {
		if id == "" {
			return nil, fmt.Errorf("inbox: empty message id for %s", consumer)
		}
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx, `SELECT msg_id FROM inbox WHERE consumer = ? AND msg_id IN (`+
		sqltx.Tuples("?", len(msgIDs))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox read %s: %w", consumer, err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		seen[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var ins []any
	for i, id := range msgIDs {
		if !seen[id] {
			seen[id], fresh[i] = true, true
			ins = append(ins, consumer, id, now)
		}
	}
	if len(ins) == 0 {
		return fresh, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (consumer, msg_id, received_at) VALUES `+
		sqltx.Tuples("(?,?,?)", len(ins)/3), ins...); err != nil {
		return nil, fmt.Errorf("inbox claim %d messages for %s: %w", len(ins)/3, consumer, err)
	}
	return fresh, nil
}
