package store

import (
	"context"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// DuePushes lists finance pushes waiting to be sent.
func (s *Store) DuePushes(ctx context.Context, now time.Time, limit int) ([]domain.Push, error) {
	ps, err := sqltx.Collect[domain.Push](s.db.QueryContext(ctx, `SELECT id, kind, ref_id, payload, attempts FROM finance_pushes
		WHERE status='PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`, now, limit))(
		func(row interface{ Scan(...any) error }) (domain.Push, error) {
			var p domain.Push
			err := row.Scan(&p.ID, &p.Kind, &p.RefID, &p.Payload, &p.Attempts)
			return p, err
		})
	if err != nil {
		return nil, fmt.Errorf("list finance pushes due: %w", err)
	}
	return ps, nil
}

// PushSent marks a push delivered.
func (s *Store) PushSent(ctx context.Context, id string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE finance_pushes SET status='SENT', sent_at=?, attempts=attempts+1 WHERE id=?`, now, id); err != nil {
		return fmt.Errorf("mark push %s sent: %w", id, err)
	}
	return nil
}

// PushFailed schedules a push's retry.
func (s *Store) PushFailed(ctx context.Context, id string, next time.Time, cause string) error {
	if len(cause) > 500 {
		cause = cause[:500]
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE finance_pushes SET attempts=attempts+1, next_attempt_at=?, last_error=? WHERE id=?`, next, cause, id); err != nil {
		return fmt.Errorf("schedule push %s: %w", id, err)
	}
	return nil
}
