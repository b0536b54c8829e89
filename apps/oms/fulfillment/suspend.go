package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
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
// suspensionFresh, and at once after changing it itself.

// suspensionFresh bounds how stale an instance's view of the switch is.
const suspensionFresh = time.Second

// Suspension is the state of the switch.
type Suspension struct {
	Suspended bool
	Reason    string
	Operator  string
	Since     time.Time // when it was last switched; zero if never
}

// suspensionView is this instance's cached copy of the switch.
type suspensionView struct {
	mu   sync.Mutex
	s    Suspension
	read time.Time // when s was read; zero: read it at the next look
}

// Suspend stops the pipeline on every instance within suspensionFresh.
// Suspending a suspended pipeline keeps its first operator and time and
// takes the new reason.
func (e *Engine) Suspend(ctx context.Context, reason, operator string) (Suspension, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Suspension{}, fmt.Errorf("%w: a reason is required to suspend fulfillment", ErrInvalid)
	case utf8.RuneCountInString(reason) > 500:
		return Suspension{}, fmt.Errorf("%w: the reason is longer than 500 characters", ErrInvalid)
	}
	now := e.clock.Now()
	_, err := e.db.ExecContext(ctx, `INSERT INTO fulfillment_suspension (id, suspended, reason, operator, since) VALUES (1, TRUE, ?, ?, ?)
		ON DUPLICATE KEY UPDATE reason = VALUES(reason),
		  operator = IF(suspended, operator, VALUES(operator)), since = IF(suspended, since, VALUES(since)), suspended = TRUE`,
		reason, truncate(operator, 128), now)
	if err != nil {
		return Suspension{}, fmt.Errorf("suspend fulfillment: %w", err)
	}
	return e.refreshSuspension(ctx)
}

// Resume starts the pipeline again; resuming a running one changes nothing.
func (e *Engine) Resume(ctx context.Context, operator string) (Suspension, error) {
	_, err := e.db.ExecContext(ctx, `UPDATE fulfillment_suspension SET suspended = FALSE, reason = '', operator = ?, since = ?
		WHERE id = 1 AND suspended`, truncate(operator, 128), e.clock.Now())
	if err != nil {
		return Suspension{}, fmt.Errorf("resume fulfillment: %w", err)
	}
	s, err := e.refreshSuspension(ctx)
	if err == nil {
		e.Wake()
	}
	return s, err
}

// Suspension reads the switch.
func (e *Engine) Suspension(ctx context.Context) (Suspension, error) {
	return e.refreshSuspension(ctx)
}

func (e *Engine) refreshSuspension(ctx context.Context) (Suspension, error) {
	var s Suspension
	err := e.db.QueryRowContext(ctx, `SELECT suspended, reason, operator, since FROM fulfillment_suspension WHERE id = 1`).
		Scan(&s.Suspended, &s.Reason, &s.Operator, &s.Since)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err != nil {
		return Suspension{}, fmt.Errorf("read the fulfillment switch: %w", err)
	}
	s.Since = s.Since.UTC()
	v := &e.suspension
	v.mu.Lock()
	v.s, v.read = s, time.Now()
	v.mu.Unlock()
	if s.Suspended {
		suspendedGauge.Set(1)
	} else {
		suspendedGauge.Set(0)
	}
	return s, nil
}

// suspended is the feeder's look at the switch: the cached copy while
// fresh, else read again. A failed read keeps the last known state.
func (e *Engine) suspended(ctx context.Context) bool {
	v := &e.suspension
	v.mu.Lock()
	s, fresh := v.s, !v.read.IsZero() && time.Since(v.read) < suspensionFresh
	v.mu.Unlock()
	if fresh {
		return s.Suspended
	}
	got, err := e.refreshSuspension(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("fulfillment switch unreadable; keeping the last known state", "suspended", s.Suspended, "err", err)
		}
		v.mu.Lock()
		v.read = time.Now() // look again after suspensionFresh, not in a tight loop
		v.mu.Unlock()
		return s.Suspended
	}
	return got.Suspended
}
