package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Settlement: a statement is closed once per business customer, period
// kind and period, under a MariaDB named lock taken with a timeout (the
// "no statement with this number exists yet" decision of DOMAIN 8: a
// close that cannot take the lock in time fails instead of going on
// without it), and its unique key refuses a second statement of the same
// period even so. It settles every plan of the customer and kind with an
// outcome recorded before the period's end and not settled yet, marking
// them in the same transaction; so a statement never changes, and an
// outcome recorded late is settled by the next one.

// ErrLockTimeout is a close that could not take its lock in time.
var ErrLockTimeout = errors.New("settlement lock not acquired in time")

// Unsettled lists the (customer, period kind) pairs with outcomes not settled yet.
func (s *Store) Unsettled(ctx context.Context) ([][2]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT customer_id, settlement_period FROM sales_plans
		WHERE (delivered_at IS NOT NULL AND settled_id IS NULL) OR (returned_at IS NOT NULL AND returned_settled_id IS NULL)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var c, p string
		if err := rows.Scan(&c, &p); err != nil {
			return nil, err
		}
		out = append(out, [2]string{c, p})
	}
	return out, rows.Err()
}

// CloseStatement writes the statement of customer's period [start, end)
// of kind, unless it exists; created false when it did (or when nothing
// was left to settle in it).
func (s *Store) CloseStatement(ctx context.Context, customer, kind string, start, end, now time.Time, lockWait time.Duration) (*domain.Statement, bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	lock := fmt.Sprintf("channels.settle.%s.%s.%s", customer, kind, start.Format(time.DateOnly))
	var got sql.NullInt64
	// Named locks are the server's: scoped by the database, and hashed
	// because MariaDB takes names of at most 64 characters.
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(SHA2(CONCAT(?, ':', DATABASE()), 256), ?)`, lock, int(lockWait.Seconds())).Scan(&got); err != nil {
		return nil, false, err
	}
	if got.Int64 != 1 {
		return nil, false, fmt.Errorf("%w: %s", ErrLockTimeout, lock)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK(SHA2(CONCAT(?, ':', DATABASE()), 256))`, lock) //nolint:errcheck
	var created bool
	st := &domain.Statement{ID: ids.NewAt(now), CustomerID: customer, Period: kind, Start: start, End: end, Status: "CLOSED", ClosedAt: &now}
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		created = false
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM settlement_statements WHERE customer_id=? AND period=? AND period_start=?`,
			customer, kind, start.Format(time.DateOnly)).Scan(&n); err != nil || n > 0 {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT p.id, p.order_id, p.agreed_fen,
			p.settled_id IS NULL AND p.delivered_at IS NOT NULL AND p.delivered_at < ?, p.returned_settled_id IS NULL AND p.returned_at IS NOT NULL AND p.returned_at < ?
			FROM sales_plans p WHERE p.customer_id=? AND p.settlement_period=?
			AND ((p.settled_id IS NULL AND p.delivered_at < ?) OR (p.returned_settled_id IS NULL AND p.returned_at < ?)) ORDER BY p.id FOR UPDATE`,
			end.UTC(), end.UTC(), customer, kind, end.UTC(), end.UTC())
		if err != nil {
			return err
		}
		st.Lines = nil
		var lines []settledLine
		for rows.Next() {
			var l settledLine
			var agreed int64
			if err := rows.Scan(&l.PlanID, &l.OrderID, &agreed, &l.delivered, &l.returned); err != nil {
				rows.Close()
				return err
			}
			if l.delivered {
				l.DeliveredFen = agreed
			}
			if l.returned {
				l.ReturnedFen = agreed
			}
			lines = append(lines, l)
			st.Lines = append(st.Lines, l.StatementLine)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(st.Lines) == 0 {
			return nil
		}
		st.Plans, st.DeliveredFen, st.ReturnedFen = len(st.Lines), 0, 0
		largs := make([]any, 0, 5*len(st.Lines))
		dargs, rargs := []any{st.ID}, []any{st.ID}
		for _, l := range lines {
			st.DeliveredFen += l.DeliveredFen
			st.ReturnedFen += l.ReturnedFen
			largs = append(largs, st.ID, l.PlanID, l.OrderID, l.DeliveredFen, l.ReturnedFen)
			if l.delivered {
				dargs = append(dargs, l.PlanID)
			}
			if l.returned {
				rargs = append(rargs, l.PlanID)
			}
		}
		st.OwedFen = st.DeliveredFen - st.ReturnedFen
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_statements (id, customer_id, period, period_start, period_end, plans, delivered_fen, returned_fen, owed_fen, closed_at)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, st.ID, customer, kind, start.Format(time.DateOnly), end.Format(time.DateOnly), st.Plans, st.DeliveredFen,
			st.ReturnedFen, st.OwedFen, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_lines (statement_id, plan_id, order_id, delivered_fen, returned_fen) VALUES `+
			sqltx.Tuples("(?,?,?,?,?)", len(st.Lines)), largs...); err != nil {
			return err
		}
		if len(dargs) > 1 {
			if _, err := tx.ExecContext(ctx, `UPDATE sales_plans SET settled_id=? WHERE id IN (`+sqltx.Tuples("?", len(dargs)-1)+`)`, dargs...); err != nil {
				return err
			}
		}
		if len(rargs) > 1 {
			if _, err := tx.ExecContext(ctx, `UPDATE sales_plans SET returned_settled_id=? WHERE id IN (`+sqltx.Tuples("?", len(rargs)-1)+`)`, rargs...); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	if err != nil || !created {
		return nil, false, err
	}
	return st, true, nil
}

// Statements lists a customer's closed statements, newest first, with
// their lines.
func (s *Store) Statements(ctx context.Context, customer string) ([]*domain.Statement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, customer_id, period, period_start, period_end, plans, delivered_fen, returned_fen, owed_fen, closed_at
		FROM settlement_statements WHERE customer_id=? ORDER BY period_start DESC, period`, customer)
	if err != nil {
		return nil, err
	}
	var out []*domain.Statement
	for rows.Next() {
		var st domain.Statement
		var start, end string
		var closed time.Time
		if err := rows.Scan(&st.ID, &st.CustomerID, &st.Period, &start, &end, &st.Plans, &st.DeliveredFen, &st.ReturnedFen, &st.OwedFen, &closed); err != nil {
			rows.Close()
			return nil, err
		}
		st.Status = "CLOSED"
		closed = closed.UTC()
		st.ClosedAt = &closed
		st.Start, _ = time.ParseInLocation(time.DateOnly, start[:10], shanghai)
		st.End, _ = time.ParseInLocation(time.DateOnly, end[:10], shanghai)
		out = append(out, &st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, st := range out {
		lr, err := s.db.QueryContext(ctx, `SELECT plan_id, order_id, delivered_fen, returned_fen FROM settlement_lines WHERE statement_id=? ORDER BY plan_id`, st.ID)
		if err != nil {
			return nil, err
		}
		for lr.Next() {
			var l domain.StatementLine
			if err := lr.Scan(&l.PlanID, &l.OrderID, &l.DeliveredFen, &l.ReturnedFen); err != nil {
				lr.Close()
				return nil, err
			}
			st.Lines = append(st.Lines, l)
		}
		lr.Close()
	}
	return out, nil
}

// Open is what customer's plans of kind came to since the last statement
// (not settled yet): the current period's statement, as it stands.
func (s *Store) Open(ctx context.Context, customer, kind string) (*domain.Statement, error) {
	st := &domain.Statement{CustomerID: customer, Period: kind, Status: "OPEN"}
	rows, err := s.db.QueryContext(ctx, `SELECT id, order_id, agreed_fen, delivered_at IS NOT NULL AND settled_id IS NULL, returned_at IS NOT NULL AND returned_settled_id IS NULL
		FROM sales_plans WHERE customer_id=? AND settlement_period=?
		AND ((delivered_at IS NOT NULL AND settled_id IS NULL) OR (returned_at IS NOT NULL AND returned_settled_id IS NULL)) ORDER BY id`, customer, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l domain.StatementLine
		var agreed int64
		var d, r bool
		if err := rows.Scan(&l.PlanID, &l.OrderID, &agreed, &d, &r); err != nil {
			return nil, err
		}
		if d {
			l.DeliveredFen = agreed
		}
		if r {
			l.ReturnedFen = agreed
		}
		st.DeliveredFen += l.DeliveredFen
		st.ReturnedFen += l.ReturnedFen
		st.Lines = append(st.Lines, l)
	}
	st.Plans, st.OwedFen = len(st.Lines), st.DeliveredFen-st.ReturnedFen
	return st, rows.Err()
}

// settledLine is a line with what of it this statement settles.
type settledLine struct {
	domain.StatementLine
	delivered, returned bool
}

var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)
