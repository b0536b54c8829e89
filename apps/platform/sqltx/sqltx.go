// Package sqltx opens an app's MariaDB database and runs functions in
// transactions that are retried, a bounded number of times, when MariaDB
// picks them as a deadlock victim or times out waiting for a row lock.
package sqltx

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MaxAttempts bounds how often a transaction is tried.
const MaxAttempts = 5

// Open opens a pool on dsn, sized for an app on a small machine, and pings it.
//
// Parameters are interpolated by the driver (interpolateParams): otherwise
// every statement with arguments costs three round trips — prepare,
// execute, close — and the server's work of preparing it, which under load
// was the largest share of both the apps' and MariaDB's CPU per order.
func Open(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	cfg.InterpolateParams = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	db.SetMaxOpenConns(64)
	db.SetMaxIdleConns(64)
	db.SetConnMaxLifetime(30 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ping mysql: %w", err)
	}
	return db, nil
}

// Run calls fn inside a transaction and commits it. When MariaDB aborts the
// transaction as a deadlock victim (1213) or a lock wait times out (1205),
// the whole function is run again, so fn must not have effects outside tx.
func Run(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	return RunWith(ctx, db, nil, fn)
}

// RunWith is Run with transaction options, such as READ COMMITTED for
// batches that must not take gap locks.
func RunWith(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		err = runOnce(ctx, db, opts, fn)
		if err == nil || !Retryable(err) {
			return err
		}
		backoff := time.Duration(attempt*attempt)*5*time.Millisecond + time.Duration(rand.IntN(5))*time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
	return fmt.Errorf("transaction gave up after %d attempts: %w", MaxAttempts, err)
}

func runOnce(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Retryable reports whether err is a deadlock or lock-wait timeout.
func Retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// IsDuplicate reports whether err is a unique-key violation (1062).
func IsDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

// Querier is what *sql.DB, *sql.Conn and *sql.Tx share for reading.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Strings runs a query whose rows are one string column (ids, mostly) and
// returns them in order.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Collect reads every row of a query with scan, closing the rows; pass the
// query's results straight in: Collect(db.QueryContext(...))(scanX).
func Collect[T any](rows *sql.Rows, err error) func(scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	return func(scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []T
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
}

// Tuples is n copies of tuple joined by commas: the placeholders of an IN
// list (Tuples("?", n)) or of a multi-row INSERT (Tuples("(?,?,?)", n)).
func Tuples(tuple string, n int) string {
	return strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
}
