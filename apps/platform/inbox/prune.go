package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Retention bounds. A claim must outlive every redelivery of its message:
// once it is pruned, a late copy of the message is applied again. RocketMQ
// (the production broker) keeps messages 72 hours by default and retries a
// consumer for under 5 hours; Redis streams redeliver what is pending as
// soon as a consumer comes back. A week covers those with margin, and
// nothing below MinRetention is accepted.
const (
	DefaultRetention = 7 * 24 * time.Hour
	MinRetention     = 72 * time.Hour
)

// Pruner deletes claims older than Retention from an app's inbox table,
// Batch rows per statement, every Every. Pruners of several replicas may
// run at once: each batch is a short READ COMMITTED DELETE of the oldest
// rows (no gap locks, so claims being inserted never wait for it), and a
// row already taken by another pruner is simply not there any more.
type Pruner struct {
	DB        *sql.DB
	Retention time.Duration // default DefaultRetention; below MinRetention Run refuses to start
	Batch     int           // rows per DELETE (default 1000)
	Every     time.Duration // between rounds (default 10 minutes)
	// Pause between batches of one round, so a large backlog is deleted
	// without holding the table's undo and the disk busy (default 50 ms).
	Pause  time.Duration
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

func (p Pruner) withDefaults() Pruner {
	if p.Retention == 0 {
		p.Retention = DefaultRetention
	}
	if p.Batch <= 0 {
		p.Batch = 1000
	}
	if p.Every <= 0 {
		p.Every = 10 * time.Minute
	}
	if p.Pause <= 0 {
		p.Pause = 50 * time.Millisecond
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// ErrRetentionTooShort is Run's answer to a Retention below MinRetention.
var ErrRetentionTooShort = errors.New("inbox retention shorter than the broker's redelivery window")

// Run prunes once at start and then every Every until ctx is done (a
// background worker, see runtime.App.Go). A failed round is logged and
// retried at the next one; only a Retention too short to be safe is an
// error.
func (p Pruner) Run(ctx context.Context) error {
	p = p.withDefaults()
	if p.Retention < MinRetention {
		return fmt.Errorf("%w: %s, want at least %s", ErrRetentionTooShort, p.Retention, MinRetention)
	}
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for {
		n, err := p.Prune(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.Logger.Warn("inbox prune round failed; retrying next round", "deleted", n, "err", err)
		case n > 0:
			p.Logger.Info("inbox pruned", "deleted", n, "retention", p.Retention.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Prune deletes the claims received before now - Retention, oldest first,
// in batches of Batch until none is left, and returns how many it deleted.
// It refuses a Retention below MinRetention.
func (p Pruner) Prune(ctx context.Context) (int64, error) {
	p = p.withDefaults()
	if p.Retention < MinRetention {
		return 0, fmt.Errorf("%w: %s, want at least %s", ErrRetentionTooShort, p.Retention, MinRetention)
	}
	cutoff := p.Now().UTC().Add(-p.Retention)
	var total int64
	for {
		var n int64
		err := sqltx.RunWith(ctx, p.DB, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM inbox WHERE received_at < ? ORDER BY received_at LIMIT ?`, cutoff, p.Batch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune inbox claims before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		total += n
		if n < int64(p.Batch) {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(p.Pause):
		}
	}
}
