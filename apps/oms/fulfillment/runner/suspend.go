package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Suspension: operators stop the whole pipeline and start it again, for
// every OMS instance at once — while a warehouse system is down for the
// night, or to let a peak's paid orders gather before a planned run.
// While suspended no instance claims a unit: paid orders still enter
// fulfillment (their units are written READY at the first stage) and
// wait, and nothing paused or backing off resumes. Units an instance
// holds in memory at that moment run on to their next commit point that
// leaves memory (a pause, the exception queue, the end). The switch is a
// row of its own; each instance re-reads it at most every
// SuspensionFresh, and at once after changing it itself.

// SuspensionFresh bounds how stale an instance's view of the switch is.
const SuspensionFresh = time.Second

// Suspension is the state of the switch.
type Suspension struct {
	Suspended bool
	Reason    string
	Operator  string
	Since     time.Time // when it was last switched; zero if never
}

// Suspend stops the pipeline on every instance within SuspensionFresh.
// Suspending a suspended pipeline keeps its first operator and time and
// takes the new reason.
func (r *Runner[D]) Suspend(ctx context.Context, reason, operator string) (Suspension, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Suspension{}, fmt.Errorf("%w: a reason is required to suspend the pipeline", ErrInvalid)
	case utf8.RuneCountInString(reason) > 500:
		return Suspension{}, fmt.Errorf("%w: the reason is longer than 500 characters", ErrInvalid)
	}
	now := r.clock.Now()
	_, err := r.db.ExecContext(ctx, `INSERT INTO fulfillment_suspension (id, suspended, reason, operator, since) VALUES (1, TRUE, ?, ?, ?)
		ON DUPLICATE KEY UPDATE reason = VALUES(reason),
		  operator = IF(suspended, operator, VALUES(operator)), since = IF(suspended, since, VALUES(since)), suspended = TRUE`,
		reason, truncate(operator, 128), now)
	if err != nil {
		return Suspension{}, fmt.Errorf("suspend fulfillment: %w", err)
	}
	return r.refreshSuspension(ctx)
}

// Resume starts the pipeline again; resuming a running one changes nothing.
func (r *Runner[D]) Resume(ctx context.Context, operator string) (Suspension, error) {
	_, err := r.db.ExecContext(ctx, `UPDATE fulfillment_suspension SET suspended = FALSE, reason = '', operator = ?, since = ?
		WHERE id = 1 AND suspended`, truncate(operator, 128), r.clock.Now())
	if err != nil {
		return Suspension{}, fmt.Errorf("resume fulfillment: %w", err)
	}
	s, err := r.refreshSuspension(ctx)
	if err == nil {
		r.Wake()
	}
	return s, err
}

// Suspension reads the switch.
func (r *Runner[D]) Suspension(ctx context.Context) (Suspension, error) {
	return r.refreshSuspension(ctx)
}

// refreshSuspension reads the switch and keeps it as this instance's view.
func (r *Runner[D]) refreshSuspension(ctx context.Context) (Suspension, error) {
	s, err := r.readSuspension(ctx)
	if err == nil {
		r.suspension.Set(s)
	}
	return s, err
}

func (r *Runner[D]) readSuspension(ctx context.Context) (Suspension, error) {
	var s Suspension
	err := r.db.QueryRowContext(ctx, `SELECT suspended, reason, operator, since FROM fulfillment_suspension WHERE id = 1`).
		Scan(&s.Suspended, &s.Reason, &s.Operator, &s.Since)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err != nil {
		return Suspension{}, fmt.Errorf("read the fulfillment switch: %w", err)
	}
	s.Since = s.Since.UTC()
	if s.Suspended {
		suspendedGauge.Set(1)
	} else {
		suspendedGauge.Set(0)
	}
	return s, nil
}

// suspended is the feeder's look at the switch: this instance's view
// while fresh, else read again. A failed read keeps the last known state.
func (r *Runner[D]) suspended(ctx context.Context) bool {
	s, err := r.suspension.Get(ctx, r.readSuspension)
	if err != nil {
		s, _ = r.suspension.Last()
		if ctx.Err() == nil {
			r.log.Warn("fulfillment switch unreadable; keeping the last known state", "suspended", s.Suspended, "err", err)
		}
	}
	return s.Suspended
}
