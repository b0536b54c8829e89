package hotstock

import (
	"github.com/harvest/harvest/apps/inventory/app"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Outcome is the script's answer to a reservation of hot lines (the
// app's port type).
type Outcome = app.HotOutcome

// Outcomes of Reserve.
const (
	Taken    = app.HotTaken
	Repeat   = app.HotRepeat
	Conflict = app.HotConflict
	Short    = app.HotShort
	Missing  = app.HotMissing
)

// Result is what Reserve answers.
type Result = app.HotResult

// Stock is the Redis side of hot SKUs plus its MariaDB write-back.
type Stock struct {
	rdb    *redis.Client
	db     *sql.DB
	prefix string // ends with "{inv}:"
}

// New returns the hot stock under keyPrefix (e.g. "harvest:" or a test's).
func New(rdb *redis.Client, db *sql.DB, keyPrefix string) *Stock {
	return &Stock{rdb: rdb, db: db, prefix: keyPrefix + "{inv}:"}
}

func (s *Stock) counterKey(sku string) string  { return s.prefix + "stock:" + sku }
func (s *Stock) ledgerKey(order string) string { return s.prefix + "res:" + order }
func (s *Stock) streamKey() string             { return s.prefix + "events" }

// Ping checks that Redis answers (readiness).
func (s *Stock) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Reserve runs the reserve script for the hot parts of an order.
func (s *Stock) Reserve(ctx context.Context, orderID, fingerprint string, expires time.Time, parts []domain.Part) (Result, error) {
	keys := make([]string, 0, len(parts)+2)
	keys = append(keys, s.ledgerKey(orderID), s.streamKey())
	args := make([]any, 0, 3+2*len(parts))
	args = append(args, fingerprint, expires.UnixMilli(), orderID)
	for _, p := range parts {
		keys = append(keys, s.counterKey(p.SKU))
		args = append(args, p.SKU, p.Qty)
	}
	raw, err := reserveScript.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
		return Result{}, fmt.Errorf("hot reserve %s: %w", orderID, err)
	}
	if len(raw) == 0 {
		return Result{}, fmt.Errorf("hot reserve %s: empty answer", orderID)
	}
	r := Result{Outcome: Outcome(raw[0])}
	switch r.Outcome {
	case Taken, Repeat:
		r.Epochs = make(map[string]int64, len(parts))
		for i, p := range parts {
			e, err := strconv.ParseInt(raw[1+i], 10, 64)
			if err != nil {
				return Result{}, fmt.Errorf("hot reserve %s: epoch of %s: %w", orderID, p.SKU, err)
			}
			r.Epochs[p.SKU] = e
		}
	case Short, Missing:
		r.SKUs = raw[1:]
	case Conflict:
	default:
		return Result{}, fmt.Errorf("hot reserve %s: unexpected answer %q", orderID, raw[0])
	}
	return r, nil
}

// Release returns the units an order's ledger entry holds; it reports
// whether any went back. Safe to call any number of times.
func (s *Stock) Release(ctx context.Context, orderID string) (bool, error) {
	n, err := releaseScript.Run(ctx, s.rdb, []string{s.ledgerKey(orderID), s.streamKey()}, orderID, s.counterKey("")).Int()
	if err != nil {
		return false, fmt.Errorf("hot release %s: %w", orderID, err)
	}
	return n == 1, nil
}

// Available reads the counters of skus; missing lists those not in Redis.
func (s *Stock) Available(ctx context.Context, skus []string) (map[string]int64, []string, error) {
	out := make(map[string]int64, len(skus))
	if len(skus) == 0 {
		return out, nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(skus))
	for i, sku := range skus {
		cmds[i] = pipe.HGet(ctx, s.counterKey(sku), "avail")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("hot available: %w", err)
	}
	var missing []string
	for i, c := range cmds {
		v, err := c.Int64()
		if errors.Is(err, redis.Nil) {
			missing = append(missing, skus[i])
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("hot available %s: %w", skus[i], err)
		}
		out[skus[i]] = v
	}
	return out, missing, nil
}

// Rebuild recreates the counter of a hot SKU from MariaDB when Redis lacks
// it (see the package doc); it does nothing when the counter exists.
func (s *Stock) Rebuild(ctx context.Context, sku string) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var onHand, epoch int64
		var hot bool
		err := tx.QueryRowContext(ctx, `SELECT s.on_hand, s.hot_epoch, p.hot FROM stock s JOIN products p ON p.sku = s.sku
			WHERE s.sku = ? FOR UPDATE`, sku).Scan(&onHand, &epoch, &hot)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("rebuild %s: no stock row", sku)
		}
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", sku, err)
		}
		if !hot {
			return fmt.Errorf("rebuild %s: not a hot SKU", sku)
		}
		if n, err := s.rdb.Exists(ctx, s.counterKey(sku)).Result(); err != nil {
			return fmt.Errorf("rebuild %s: %w", sku, err)
		} else if n == 1 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.order_id, p.qty, r.fingerprint, r.expires_at
			FROM reservation_parts p JOIN reservations r ON r.order_id = p.order_id
			WHERE p.sku = ? AND p.hot = 1 AND r.status IN ('HELD', 'CONFIRMED')`, sku)
		if err != nil {
			return fmt.Errorf("rebuild %s: held parts: %w", sku, err)
		}
		keys := []string{s.counterKey(sku)}
		var entries []any
		var taken int64
		for rows.Next() {
			var order, fp string
			var qty int64
			var exp time.Time
			if err := rows.Scan(&order, &qty, &fp, &exp); err != nil {
				rows.Close()
				return err
			}
			taken += qty
			keys = append(keys, s.ledgerKey(order))
			entries = append(entries, qty, fp, exp.UnixMilli())
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		avail := onHand - taken
		newEpoch := max(epoch+1, time.Now().UnixMilli())
		args := append([]any{avail, newEpoch, sku}, entries...)
		if err := rebuildScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
			return fmt.Errorf("rebuild %s: script: %w", sku, err)
		}
		// If this commit fails the counter stands with a newer epoch than
		// MariaDB's: still exact (it was computed under the row lock), and
		// Reserve only refuses counters older than MariaDB's epoch.
		_, err = tx.ExecContext(ctx, `UPDATE stock SET hot_epoch = ?, available = ?, updated_at = ? WHERE sku = ?`,
			newEpoch, avail, time.Now().UTC(), sku)
		return err
	})
}

// EnsureAll rebuilds every hot counter that Redis lacks: run at start,
// since this Redis keeps nothing across a restart.
func (s *Stock) EnsureAll(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sku FROM products WHERE hot = 1 ORDER BY sku`)
	if err != nil {
		return 0, fmt.Errorf("list hot skus: %w", err)
	}
	var skus []string
	for rows.Next() {
		var sku string
		if err := rows.Scan(&sku); err != nil {
			rows.Close()
			return 0, err
		}
		skus = append(skus, sku)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	_, missing, err := s.Available(ctx, skus)
	if err != nil {
		return 0, err
	}
	for _, sku := range missing {
		if err := s.Rebuild(ctx, sku); err != nil {
			return 0, err
		}
	}
	return len(missing), nil
}

// padSeq turns a stream id "ms-n" into a string that sorts like the id.
func padSeq(id string) string {
	a, b, _ := strings.Cut(id, "-")
	ms, _ := strconv.ParseUint(a, 10, 64)
	n, _ := strconv.ParseUint(b, 10, 64)
	return fmt.Sprintf("%020d-%020d", ms, n)
}

// Restock raises a hot SKU's counter by qty received, after MariaDB's
// on_hand rose under epoch; a counter of another epoch (rebuilt since,
// from the new on_hand) or none is left alone.
func (s *Stock) Restock(ctx context.Context, sku string, qty, epoch int64) error {
	if err := restockScript.Run(ctx, s.rdb, []string{s.counterKey(sku)}, qty, epoch).Err(); err != nil {
		return fmt.Errorf("hot restock %s: %w", sku, err)
	}
	return nil
}

// restoredTTL is how long a restore's marker outlives it: far longer than
// after-sales takes to redeliver a push that failed.
const restoredTTL = 7 * 24 * time.Hour

// RestoreOnce raises a hot SKU's counter by units a restore gave back,
// once per (restore, sku) — a marker key set in the same script — and
// only while the counter is of epoch, the one MariaDB had when on_hand
// rose (a counter rebuilt since, or missing, reads the new on_hand).
func (s *Stock) RestoreOnce(ctx context.Context, restoreID, sku string, qty, epoch int64) error {
	marker := s.prefix + "restored:" + restoreID + ":" + sku
	if err := restoreOnceScript.Run(ctx, s.rdb, []string{s.counterKey(sku), marker}, qty, epoch, restoredTTL.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("hot restore %s of %s: %w", restoreID, sku, err)
	}
	return nil
}
