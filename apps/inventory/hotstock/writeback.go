package hotstock

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Group is the consumer group of the write-back on the stream.
const Group = "writeback"

// WriteBackOptions tune the worker.
type WriteBackOptions struct {
	Consumer string        // this process's consumer name in the group
	Batch    int           // entries per MariaDB transaction (default 256)
	MinIdle  time.Duration // pending entries idle this long are taken over (default 10s)
	Block    time.Duration // wait for new entries (default 1s)
	Logger   *slog.Logger
}

func (o *WriteBackOptions) defaults() {
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MinIdle <= 0 {
		o.MinIdle = 10 * time.Second
	}
	if o.Block <= 0 {
		o.Block = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// RunWriteBack applies the stream to MariaDB until ctx is done.
func (s *Stock) RunWriteBack(ctx context.Context, o WriteBackOptions) error {
	o.defaults()
	for ctx.Err() == nil {
		if _, err := s.WriteBackOnce(ctx, o); err != nil && ctx.Err() == nil {
			o.Logger.Warn("hot stock write-back failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// WriteBackOnce applies one batch: first entries another (dead) consumer
// left pending longer than MinIdle, else new ones. It reports how many it
// applied. Entries are acknowledged only after their transaction commits.
func (s *Stock) WriteBackOnce(ctx context.Context, o WriteBackOptions) (int, error) {
	o.defaults()
	if err := s.ensureGroup(ctx); err != nil {
		return 0, err
	}
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: s.streamKey(), Group: Group, Consumer: o.Consumer, MinIdle: o.MinIdle, Start: "0-0", Count: int64(o.Batch),
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, s.groupErr(ctx, fmt.Errorf("write-back claim: %w", err))
	}
	if len(msgs) == 0 {
		streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: Group, Consumer: o.Consumer, Streams: []string{s.streamKey(), ">"}, Count: int64(o.Batch), Block: o.Block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return 0, nil
		}
		if err != nil {
			return 0, s.groupErr(ctx, fmt.Errorf("write-back read: %w", err))
		}
		for _, st := range streams {
			msgs = append(msgs, st.Messages...)
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := s.apply(ctx, msgs); err != nil {
		return 0, err
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	if err := s.rdb.XAck(ctx, s.streamKey(), Group, ids...).Err(); err != nil {
		return 0, fmt.Errorf("write-back ack: %w", err)
	}
	s.trim(ctx, ids[len(ids)-1])
	return len(msgs), nil
}

func (s *Stock) ensureGroup(ctx context.Context) error {
	// Start at 0, not $: entries appended before the group existed must be
	// written back too.
	err := s.rdb.XGroupCreateMkStream(ctx, s.streamKey(), Group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("write-back group: %w", err)
	}
	return nil
}

// groupErr recreates the group when Redis lost it (a restart).
func (s *Stock) groupErr(ctx context.Context, err error) error {
	if strings.Contains(err.Error(), "NOGROUP") {
		if gerr := s.ensureGroup(ctx); gerr != nil {
			return errors.Join(err, gerr)
		}
	}
	return err
}

// trim drops acknowledged entries: everything older than the oldest entry
// still pending, or than the last one acknowledged when none is pending.
func (s *Stock) trim(ctx context.Context, lastAcked string) {
	minID := lastAcked
	if p, err := s.rdb.XPending(ctx, s.streamKey(), Group).Result(); err == nil && p.Count > 0 {
		minID = p.Lower
	} else if err != nil {
		return
	}
	_ = s.rdb.XTrimMinID(ctx, s.streamKey(), minID).Err()
}

type entry struct {
	seq   string
	op    string
	order string
	exp   time.Time
	lines map[string]int64
	avail map[string]int64
}

func parseEntry(m redis.XMessage) (entry, error) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := entry{seq: padSeq(m.ID), op: str("op"), order: str("order")}
	ms, err := strconv.ParseInt(str("exp"), 10, 64)
	if err != nil {
		return e, fmt.Errorf("entry %s: exp: %w", m.ID, err)
	}
	e.exp = time.UnixMilli(ms).UTC()
	if err := json.Unmarshal([]byte(str("lines")), &e.lines); err != nil {
		return e, fmt.Errorf("entry %s: lines: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(str("avail")), &e.avail); err != nil {
		return e, fmt.Errorf("entry %s: avail: %w", m.ID, err)
	}
	if e.order == "" || (e.op != "take" && e.op != "return") {
		return e, fmt.Errorf("entry %s: bad op %q or order", m.ID, e.op)
	}
	return e, nil
}

// apply writes a batch in one transaction with upserts that only move
// forward by stream id, so applying an entry twice changes nothing.
func (s *Stock) apply(ctx context.Context, msgs []redis.XMessage) error {
	type level struct {
		avail int64
		seq   string
	}
	var rows []any
	last := map[string]level{}
	now := time.Now().UTC()
	for _, m := range msgs {
		e, err := parseEntry(m)
		if err != nil {
			// A malformed entry can never apply; skipping it must not block
			// the stream (our own script wrote it, so this means a bug).
			slog.Error("hot stock write-back: skipping malformed entry", "err", err)
			continue
		}
		state := "TAKEN"
		if e.op == "return" {
			state = "RETURNED"
		}
		for sku, qty := range e.lines {
			rows = append(rows, e.order, sku, qty, state, e.exp, e.seq, now)
		}
		for sku, v := range e.avail {
			if l, ok := last[sku]; !ok || e.seq > l.seq {
				last[sku] = level{v, e.seq}
			}
		}
	}
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		if len(rows) > 0 {
			q := `INSERT INTO hot_ledger (order_id, sku, qty, state, expires_at, seq, updated_at) VALUES ` +
				sqltx.Tuples("(?,?,?,?,?,?,?)", len(rows)/7) +
				` ON DUPLICATE KEY UPDATE
				qty = IF(VALUES(seq) > seq, VALUES(qty), qty),
				state = IF(VALUES(seq) > seq, VALUES(state), state),
				expires_at = IF(VALUES(seq) > seq, VALUES(expires_at), expires_at),
				updated_at = VALUES(updated_at),
				seq = GREATEST(seq, VALUES(seq))`
			if _, err := tx.ExecContext(ctx, q, rows...); err != nil {
				return fmt.Errorf("write-back ledger: %w", err)
			}
		}
		for sku, l := range last {
			if _, err := tx.ExecContext(ctx,
				`UPDATE stock SET available = ?, wb_seq = ?, updated_at = ? WHERE sku = ? AND wb_seq < ?`,
				l.avail, l.seq, now, sku, l.seq); err != nil {
				return fmt.Errorf("write-back stock %s: %w", sku, err)
			}
		}
		return nil
	})
}
