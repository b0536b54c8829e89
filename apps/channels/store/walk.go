package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Walk is a newest-first pull platform's cursor and the walk in progress
// down to it (migration 00003). All times are on the platform's clock.
type Walk struct {
	Since  time.Time // the newest update time of the last finished walk (zero: none yet)
	Active bool      // a walk is in progress: From, End, Page, Top hold
	From   time.Time // its fixed lower end
	End    time.Time // the upper end of the next page asked
	Page   int       // the page at End (1-based)
	Top    time.Time // the newest update time it saw
}

// Walk reads platform's walk (zero when it never pulled).
func (s *Store) Walk(ctx context.Context, platform string) (Walk, error) {
	var w Walk
	var from, end, top sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT since, walk_from, walk_end, walk_page, walk_top FROM pull_cursors WHERE platform=?`, platform).
		Scan(&w.Since, &from, &end, &w.Page, &top)
	if errors.Is(err, sql.ErrNoRows) {
		return Walk{}, nil
	}
	if err != nil {
		return w, err
	}
	w.Since = w.Since.UTC()
	if end.Valid {
		w.Active, w.From, w.End, w.Top = true, from.Time.UTC(), end.Time.UTC(), top.Time.UTC()
	}
	return w, nil
}

// TakeWalkPage stages a page's orders and saves where the walk goes next
// (next; a finished walk has Active false and the new Since), in one
// transaction: a crash before its commit leaves both as they were, and
// the next run asks the same page again.
func (s *Store) TakeWalkPage(ctx context.Context, platform string, items []*Item, next Walk, now time.Time) (fresh int, err error) {
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if err := stageTx(ctx, tx, items); err != nil {
			return err
		}
		fresh = 0
		for _, it := range items {
			if !it.Dup {
				fresh++
			}
		}
		var from, end, top any
		if next.Active {
			from, end, top = next.From, next.End, next.Top
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pull_cursors (platform, since, pages, taken, updated_at, walk_from, walk_end, walk_page, walk_top)
			VALUES (?,?,1,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE since=GREATEST(since, VALUES(since)), pages=pages+1, taken=taken+VALUES(taken),
			updated_at=VALUES(updated_at), walk_from=VALUES(walk_from), walk_end=VALUES(walk_end), walk_page=VALUES(walk_page), walk_top=VALUES(walk_top)`,
			platform, next.Since, fresh, now, from, end, next.Page, top)
		return err
	})
	return fresh, err
}
