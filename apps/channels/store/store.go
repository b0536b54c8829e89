// Package store is channels' MariaDB persistence: staged marketplace
// orders (process, main, detail, steps), SKU mappings, sales plans, the
// status updates owed to platforms and the pull cursors, each step's rows
// written with the outbox row of the next step in one transaction.
//
// A platform order is one row however often and however concurrently it
// arrives: its process row is inserted with INSERT IGNORE under the unique
// (platform, platform_order_id), then read back with a locking read, which
// waits for a concurrent insert of the same order to commit and sees its
// row; only the request whose id is on that row writes the order's other
// rows and its message. Every later step moves a row by a conditional
// UPDATE on its status, which a redelivered message cannot repeat.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is channels' database.
type Store struct{ db *sql.DB }

// New returns a Store over db.
func New(db *sql.DB) *Store { return &Store{db: db} }

// DB is the pool (tests and the load run count rows with it).
func (s *Store) DB() *sql.DB { return s.db }

// Item is one order to stage. Out: ID is the staged order's id (the
// first arrival's for a repeat), Dup whether it was there already.
type Item struct {
	Order  platforms.Order
	Way    string
	At     time.Time
	ID     string
	Dup    bool
	Status string
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Stage stores items in one transaction (a group of pushes).
func (s *Store) Stage(ctx context.Context, items []*Item) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error { return stageTx(ctx, tx, items) })
}

// stageTx writes the items new to the table and tells each its staged id.
func stageTx(ctx context.Context, tx *sql.Tx, items []*Item) error {
	if len(items) == 0 {
		return nil
	}
	args := make([]any, 0, 9*len(items))
	keys := make([]any, 0, 2*len(items))
	for _, it := range items {
		it.ID, it.Dup, it.Status = ids.NewAt(it.At), false, ""
		o := it.Order
		args = append(args, it.ID, o.Platform, o.PlatformOrderID, it.Way, domain.StageReceived, sha(o.Raw), it.At, it.At)
		keys = append(keys, o.Platform, o.PlatformOrderID)
	}
	res, err := tx.ExecContext(ctx, `INSERT IGNORE INTO staging_process (id, platform, platform_order_id, way, status, payload_sha, received_at, updated_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,?,?,?)", len(items)), args...)
	if err != nil {
		return fmt.Errorf("stage orders: %w", err)
	}
	// Every row inserted: each item is a first arrival (a repeat, within
	// the group or of a row already there, would have been ignored), and
	// the read-back that tells them apart is not needed: a group buy's
	// pushes are nearly all first arrivals.
	if n, err := res.RowsAffected(); err == nil && n == int64(len(items)) {
		for _, it := range items {
			it.Status = domain.StageReceived
		}
		return stageFresh(ctx, tx, items)
	}
	rows, err := tx.QueryContext(ctx, `SELECT platform, platform_order_id, id, status FROM staging_process WHERE (platform, platform_order_id) IN (`+
		sqltx.Tuples("(?,?)", len(items))+`) LOCK IN SHARE MODE`, keys...)
	if err != nil {
		return fmt.Errorf("read staged orders: %w", err)
	}
	type st struct{ id, status string }
	have := map[[2]string]st{}
	for rows.Next() {
		var p, o string
		var x st
		if err := rows.Scan(&p, &o, &x.id, &x.status); err != nil {
			rows.Close()
			return err
		}
		have[[2]string{p, o}] = x
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var fresh []*Item
	mine := map[string]bool{}
	for _, it := range items {
		x, ok := have[[2]string{it.Order.Platform, it.Order.PlatformOrderID}]
		if !ok {
			return fmt.Errorf("staged order %s/%s vanished", it.Order.Platform, it.Order.PlatformOrderID)
		}
		if x.id != it.ID || mine[x.id] { // another's row, or a repeat within the group
			it.ID, it.Dup, it.Status = x.id, true, x.status
			continue
		}
		mine[x.id] = true
		it.Status = domain.StageReceived
		fresh = append(fresh, it)
	}
	if len(fresh) == 0 {
		return nil
	}
	return stageFresh(ctx, tx, fresh)
}

// stageFresh writes the other rows of first arrivals, whose process rows
// were just inserted, and the one message that plans them.
func stageFresh(ctx context.Context, tx *sql.Tx, fresh []*Item) error {
	margs := make([]any, 0, 13*len(fresh))
	var dargs, sargs []any
	nd := 0
	staged := make([]string, 0, len(fresh))
	for _, it := range fresh {
		o := it.Order
		margs = append(margs, it.ID, o.ShopID, o.Receiver.Name, o.Receiver.Phone, o.Receiver.Province, o.Receiver.City, o.Receiver.District,
			o.Receiver.Detail, o.SlotType, o.SlotDate, o.TotalFen, o.PlatformTime, string(o.Raw))
		for i, l := range o.Lines {
			dargs = append(dargs, it.ID, i, l.PlatformSKU, l.Qty, l.UnitPriceFen)
			nd++
		}
		sargs = append(sargs, it.ID, "RECEIVED", "by "+it.Way, it.At)
		staged = append(staged, it.ID)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO staging_main (process_id, shop_id, receiver_name, receiver_phone, province, city, district, detail, slot_type, slot_date, total_fen, platform_time, raw) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,?,?,?,?,?,?,?,?)", len(fresh)), margs...); err != nil {
		return fmt.Errorf("stage order headers: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO staging_detail (process_id, line_no, platform_sku, qty, unit_price_fen) VALUES `+
		sqltx.Tuples("(?,?,?,?,?)", nd), dargs...); err != nil {
		return fmt.Errorf("stage order lines: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO staging_steps (process_id, step, note, at) VALUES `+sqltx.Tuples("(?,?,?,?)", len(fresh)), sargs...); err != nil {
		return fmt.Errorf("stage steps: %w", err)
	}
	// One message for the group (events.MaxIDs bounds a group), not one per order.
	if _, err := outbox.Add(ctx, tx, receivedEvent(staged...)); err != nil {
		return err
	}
	return nil
}

// receivedEvent is the message that plans the staged orders processIDs.
func receivedEvent(processIDs ...string) outbox.Event {
	return outbox.Event{Topic: events.TopicOrderReceived, AggregateID: processIDs[0], Type: events.TypeOrderReceived,
		Payload: events.OrderReceived{ProcessIDs: processIDs}}
}

// planCreatedEvent is the message that orders the plans planIDs.
func planCreatedEvent(planIDs ...string) outbox.Event {
	return outbox.Event{Topic: events.TopicPlanCreated, AggregateID: planIDs[0], Type: events.TypePlanCreated, Payload: events.PlanCreated{PlanIDs: planIDs}}
}

// statusQueuedEvent is the message that sends the status updates updateIDs;
// aggregate is the staged order of the first.
func statusQueuedEvent(aggregate string, updateIDs ...string) outbox.Event {
	return outbox.Event{Topic: events.TopicStatusQueued, AggregateID: aggregate, Type: events.TypeStatusQueued, Payload: events.StatusQueued{UpdateIDs: updateIDs}}
}

// Cursor is a pull platform's cursor (zero time when it has none).
func (s *Store) Cursor(ctx context.Context, platform string) (time.Time, error) {
	var t time.Time
	err := s.db.QueryRowContext(ctx, `SELECT since FROM pull_cursors WHERE platform=?`, platform).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return t.UTC(), err
}

// TakePage stages a pulled page's orders and moves the platform's cursor
// to since, in one transaction: a crash before its commit leaves both as
// they were, and the next run reads the page again.
func (s *Store) TakePage(ctx context.Context, platform string, items []*Item, since time.Time, now time.Time) (fresh int, err error) {
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
		_, err := tx.ExecContext(ctx, `INSERT INTO pull_cursors (platform, since, pages, taken, updated_at) VALUES (?,?,1,?,?)
			ON DUPLICATE KEY UPDATE since=GREATEST(since, VALUES(since)), pages=pages+1, taken=taken+VALUES(taken), updated_at=VALUES(updated_at)`,
			platform, since, fresh, now)
		return err
	})
	return fresh, err
}

const stagedCols = `p.id, p.platform, p.platform_order_id, p.way, p.status, p.reason_code, p.reason_note, COALESCE(p.plan_id,''), p.order_id, p.attempts,
	p.received_at, p.updated_at, m.shop_id, m.receiver_name, m.receiver_phone, m.province, m.city, m.district, m.detail, m.slot_type, m.slot_date,
	m.total_fen, m.platform_time, m.raw`

func scanStaged(row interface{ Scan(...any) error }) (*domain.Staged, error) {
	var x domain.Staged
	var raw string
	o := &x.Order
	if err := row.Scan(&x.ID, &o.Platform, &o.PlatformOrderID, &x.Way, &x.Status, &x.ReasonCode, &x.ReasonNote, &x.PlanID, &x.OrderID, &x.Attempts,
		&x.ReceivedAt, &x.UpdatedAt, &o.ShopID, &o.Receiver.Name, &o.Receiver.Phone, &o.Receiver.Province, &o.Receiver.City, &o.Receiver.District,
		&o.Receiver.Detail, &o.SlotType, &o.SlotDate, &o.TotalFen, &o.PlatformTime, &raw); err != nil {
		return nil, err
	}
	o.Raw = []byte(raw)
	x.ReceivedAt, x.UpdatedAt, o.PlatformTime = x.ReceivedAt.UTC(), x.UpdatedAt.UTC(), o.PlatformTime.UTC()
	return &x, nil
}

// Staged reads staged orders with their lines (ids not found are left out).
func (s *Store) Staged(ctx context.Context, idList []string) (map[string]*domain.Staged, error) {
	out := map[string]*domain.Staged{}
	if len(idList) == 0 {
		return out, nil
	}
	args := make([]any, len(idList))
	for i, id := range idList {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+stagedCols+` FROM staging_process p JOIN staging_main m ON m.process_id=p.id WHERE p.id IN (`+
		sqltx.Tuples("?", len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read staged orders: %w", err)
	}
	for rows.Next() {
		x, err := scanStaged(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out[x.ID] = x
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT process_id, platform_sku, qty, unit_price_fen FROM staging_detail WHERE process_id IN (`+
		sqltx.Tuples("?", len(args))+`) ORDER BY process_id, line_no`, args...)
	if err != nil {
		return nil, fmt.Errorf("read staged lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l platforms.Line
		if err := rows.Scan(&id, &l.PlatformSKU, &l.Qty, &l.UnitPriceFen); err != nil {
			return nil, err
		}
		if x := out[id]; x != nil {
			x.Order.Lines = append(x.Order.Lines, l)
		}
	}
	return out, rows.Err()
}

// StagedOne reads one staged order with its lines and steps.
func (s *Store) StagedOne(ctx context.Context, id string) (*domain.Staged, error) {
	m, err := s.Staged(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	x := m[id]
	if x == nil {
		return nil, fmt.Errorf("%w: staged order %s", domain.ErrNotFound, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT step, note, at FROM staging_steps WHERE process_id=? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st domain.Step
		if err := rows.Scan(&st.Step, &st.Note, &st.At); err != nil {
			return nil, err
		}
		st.At = st.At.UTC()
		x.Steps = append(x.Steps, st)
	}
	return x, rows.Err()
}

// FindStaged finds a platform's order by the platform's id.
func (s *Store) FindStaged(ctx context.Context, platform, platformOrderID string) (*domain.Staged, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM staging_process WHERE platform=? AND platform_order_id=?`, platform, platformOrderID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s order %s", domain.ErrNotFound, platform, platformOrderID)
	}
	if err != nil {
		return nil, err
	}
	return s.StagedOne(ctx, id)
}

// ListStaged lists staged orders, newest first, filtered by platform
// and status when given.
func (s *Store) ListStaged(ctx context.Context, platform, status string, first int) ([]*domain.Staged, error) {
	q := `SELECT ` + stagedCols + ` FROM staging_process p JOIN staging_main m ON m.process_id=p.id WHERE 1=1`
	var args []any
	if platform != "" {
		q += ` AND p.platform=?`
		args = append(args, platform)
	}
	if status != "" {
		q += ` AND p.status=?`
		args = append(args, status)
	}
	q += ` ORDER BY p.id DESC LIMIT ?`
	args = append(args, first)
	return sqltx.Collect[*domain.Staged](s.db.QueryContext(ctx, q, args...))(func(r interface{ Scan(...any) error }) (*domain.Staged, error) {
		return scanStaged(r)
	})
}

// CountStaged counts staged orders by status (the load run, operators).
func (s *Store) CountStaged(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM staging_process GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Mappings returns platform's Harvest SKU for each of skus it maps.
func (s *Store) Mappings(ctx context.Context, platform string, skus []string) (map[string]string, error) {
	out := map[string]string{}
	if len(skus) == 0 {
		return out, nil
	}
	args := []any{platform}
	for _, k := range skus {
		args = append(args, k)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT platform_sku, sku FROM sku_mappings WHERE platform=? AND platform_sku IN (`+sqltx.Tuples("?", len(skus))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read SKU mappings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p, k string
		if err := rows.Scan(&p, &k); err != nil {
			return nil, err
		}
		out[p] = k
	}
	return out, rows.Err()
}

// SetMapping maps a platform SKU to a Harvest SKU.
func (s *Store) SetMapping(ctx context.Context, platform, platformSKU, sku, by string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sku_mappings (platform, platform_sku, sku, updated_by, updated_at) VALUES (?,?,?,?,?)
		ON DUPLICATE KEY UPDATE sku=VALUES(sku), updated_by=VALUES(updated_by), updated_at=VALUES(updated_at)`, platform, platformSKU, sku, by, at)
	return err
}

// Outcome is what planning decided for one staged order: a plan, or why
// it is parked.
type Outcome struct {
	ProcessID string
	Plan      domain.Plan
	Parked    *domain.Parked
	At        time.Time
	// PlanID is out: the plan made (empty when parked or already planned).
	PlanID string
}

// SavePlans applies outcomes in one transaction: each staged order still
// RECEIVED becomes PLANNED with its plan and channels.plan.created, or
// PARKED with its reason; one no longer RECEIVED (a redelivery) is left.
// The staged rows are locked first (one read) and the plans, their lines,
// steps and messages written with one statement each, so a bulk of a
// hundred costs a handful of statements, not five hundred.
func (s *Store) SavePlans(ctx context.Context, outs []*Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		args := make([]any, 0, len(outs))
		for _, o := range outs {
			o.PlanID = ""
			args = append(args, o.ProcessID)
		}
		open := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM staging_process WHERE id IN (`+sqltx.Tuples("?", len(args))+`) AND status=? ORDER BY id FOR UPDATE`,
			append(args, domain.StageReceived)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			open[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var plans []*domain.PlanRecord
		var stepArgs, planned []any
		for _, o := range outs {
			if !open[o.ProcessID] {
				continue
			}
			delete(open, o.ProcessID) // a repeat in the bulk is done once
			if o.Parked != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE staging_process SET status=?, reason_code=?, reason_note=?, attempts=attempts+1, updated_at=? WHERE id=?`,
					domain.StageParked, o.Parked.Code, clip(o.Parked.Field+": "+o.Parked.Note, 500), o.At, o.ProcessID); err != nil {
					return err
				}
				stepArgs = append(stepArgs, o.ProcessID, "PARKED", clip(o.Parked.Error(), 500), o.At)
				continue
			}
			o.PlanID = ids.NewAt(o.At)
			plans = append(plans, &domain.PlanRecord{Plan: o.Plan, ID: o.PlanID, Status: domain.PlanPlanned, Key: "process:" + o.ProcessID,
				CreatedBy: "marketplace", CreatedAt: o.At, UpdatedAt: o.At})
			stepArgs = append(stepArgs, o.ProcessID, "PLANNED", "sales plan "+o.PlanID, o.At)
			planned = append(planned, o.ProcessID)
		}
		if len(plans) > 0 {
			if err := insertPlans(ctx, tx, plans); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE staging_process p JOIN sales_plans s ON s.process_id = p.id
				SET p.status=?, p.plan_id=s.id, p.reason_code='', p.reason_note='', p.attempts=p.attempts+1, p.updated_at=s.created_at
				WHERE p.id IN (`+sqltx.Tuples("?", len(planned))+`)`, append([]any{domain.StagePlanned}, planned...)...); err != nil {
				return err
			}
		}
		if len(stepArgs) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staging_steps (process_id, step, note, at) VALUES `+sqltx.Tuples("(?,?,?,?)", len(stepArgs)/4), stepArgs...); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertPlans writes plans (no staff plans: no request hash), their lines
// and their channels.plan.created, one statement each.
func insertPlans(ctx context.Context, tx *sql.Tx, ps []*domain.PlanRecord) error {
	var pargs, largs []any
	nl := 0
	planIDs := make([]string, 0, len(ps))
	for _, p := range ps {
		var process any
		if p.ProcessID != "" {
			process = p.ProcessID
		}
		r := p.Receiver
		pargs = append(pargs, p.ID, p.CustomerID, p.Source, process, p.Status, r.Name, r.Phone, r.Province, r.City, r.District, r.Detail, p.SlotType,
			p.SlotDate, p.Period, p.AgreedFen(), p.Key, "", p.CreatedBy, p.CreatedAt, p.UpdatedAt)
		for i, l := range p.Lines {
			largs = append(largs, p.ID, i, l.SKU, l.Qty, l.AgreedPriceFen)
			nl++
		}
		planIDs = append(planIDs, p.ID)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sales_plans (id, customer_id, source, process_id, status, receiver_name, receiver_phone, province, city, district, detail,
		slot_type, slot_date, settlement_period, agreed_fen, idem_key, request_sha, created_by, created_at, updated_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", len(ps)), pargs...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sales_plan_lines (plan_id, line_no, sku, qty, agreed_price_fen) VALUES `+sqltx.Tuples("(?,?,?,?,?)", nl), largs...); err != nil {
		return err
	}
	_, err := outbox.Add(ctx, tx, planCreatedEvent(planIDs...))
	return err
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func step(ctx context.Context, tx *sql.Tx, processID, st, note string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO staging_steps (process_id, step, note, at) VALUES (?,?,?,?)`, processID, st, clip(note, 500), at)
	return err
}

// insertPlan writes a plan, its lines and its channels.plan.created.
func insertPlan(ctx context.Context, tx *sql.Tx, p *domain.PlanRecord, requestSHA string) error {
	var process any
	if p.ProcessID != "" {
		process = p.ProcessID
	}
	r := p.Receiver
	if _, err := tx.ExecContext(ctx, `INSERT INTO sales_plans (id, customer_id, source, process_id, status, receiver_name, receiver_phone, province, city, district, detail,
		slot_type, slot_date, settlement_period, agreed_fen, idem_key, request_sha, created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		p.ID, p.CustomerID, p.Source, process, p.Status, r.Name, r.Phone, r.Province, r.City, r.District, r.Detail, p.SlotType, p.SlotDate, p.Period,
		p.AgreedFen(), p.Key, requestSHA, p.CreatedBy, p.CreatedAt, p.UpdatedAt); err != nil {
		return err
	}
	args := make([]any, 0, 5*len(p.Lines))
	for i, l := range p.Lines {
		args = append(args, p.ID, i, l.SKU, l.Qty, l.AgreedPriceFen)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sales_plan_lines (plan_id, line_no, sku, qty, agreed_price_fen) VALUES `+sqltx.Tuples("(?,?,?,?,?)", len(p.Lines)), args...); err != nil {
		return err
	}
	_, err := outbox.Add(ctx, tx, planCreatedEvent(p.ID))
	return err
}

// CreateStaffPlan stores a plan entered by staff with its message; the
// same author and key returns the plan stored first (ErrKeyReused when
// its content differs).
func (s *Store) CreateStaffPlan(ctx context.Context, p *domain.PlanRecord, requestSHA string) (*domain.PlanRecord, bool, error) {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error { return insertPlan(ctx, tx, p, requestSHA) })
	if sqltx.IsDuplicate(err) {
		var id, prev string
		if err := s.db.QueryRowContext(ctx, `SELECT id, request_sha FROM sales_plans WHERE created_by=? AND idem_key=?`, p.CreatedBy, p.Key).Scan(&id, &prev); err != nil {
			return nil, false, err
		}
		if prev != requestSHA {
			return nil, false, fmt.Errorf("%w: plan %s", domain.ErrKeyReused, id)
		}
		rec, err := s.Plan(ctx, id)
		return rec, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("store plan: %w", err)
	}
	return p, true, nil
}

const planCols = `id, customer_id, source, COALESCE(process_id,''), status, reason_code, reason_note, receiver_name, receiver_phone, province, city, district, detail,
	slot_type, slot_date, settlement_period, order_id, idem_key, created_by, created_at, updated_at`

func scanPlan(row interface{ Scan(...any) error }) (*domain.PlanRecord, error) {
	var p domain.PlanRecord
	r := &p.Receiver
	if err := row.Scan(&p.ID, &p.CustomerID, &p.Source, &p.ProcessID, &p.Status, &p.ReasonCode, &p.ReasonNote, &r.Name, &r.Phone, &r.Province, &r.City,
		&r.District, &r.Detail, &p.SlotType, &p.SlotDate, &p.Period, &p.OrderID, &p.Key, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

func (s *Store) planLines(ctx context.Context, p *domain.PlanRecord) error {
	rows, err := s.db.QueryContext(ctx, `SELECT sku, qty, agreed_price_fen FROM sales_plan_lines WHERE plan_id=? ORDER BY line_no`, p.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var l domain.PlanLine
		if err := rows.Scan(&l.SKU, &l.Qty, &l.AgreedPriceFen); err != nil {
			return err
		}
		p.Lines = append(p.Lines, l)
	}
	return rows.Err()
}

// Plan reads one plan with its lines.
func (s *Store) Plan(ctx context.Context, id string) (*domain.PlanRecord, error) {
	m, err := s.PlansOf(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	p := m[id]
	if p == nil {
		return nil, fmt.Errorf("%w: plan %s", domain.ErrNotFound, id)
	}
	return p, nil
}

// PlansOf reads plans with their lines, two queries for all (ids not
// found are left out).
func (s *Store) PlansOf(ctx context.Context, idList []string) (map[string]*domain.PlanRecord, error) {
	out := map[string]*domain.PlanRecord{}
	if len(idList) == 0 {
		return out, nil
	}
	args := anys(idList)
	list, err := sqltx.Collect[*domain.PlanRecord](s.db.QueryContext(ctx, `SELECT `+planCols+` FROM sales_plans WHERE id IN (`+sqltx.Tuples("?", len(args))+`)`, args...))(
		func(r interface{ Scan(...any) error }) (*domain.PlanRecord, error) { return scanPlan(r) })
	if err != nil {
		return nil, fmt.Errorf("read plans: %w", err)
	}
	for _, p := range list {
		out[p.ID] = p
	}
	rows, err := s.db.QueryContext(ctx, `SELECT plan_id, sku, qty, agreed_price_fen FROM sales_plan_lines WHERE plan_id IN (`+sqltx.Tuples("?", len(args))+`) ORDER BY plan_id, line_no`, args...)
	if err != nil {
		return nil, fmt.Errorf("read plan lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l domain.PlanLine
		if err := rows.Scan(&id, &l.SKU, &l.Qty, &l.AgreedPriceFen); err != nil {
			return nil, err
		}
		if p := out[id]; p != nil {
			p.Lines = append(p.Lines, l)
		}
	}
	return out, rows.Err()
}

// Plans lists plans, newest first, of one customer when given.
func (s *Store) Plans(ctx context.Context, customerID string, first int) ([]*domain.PlanRecord, error) {
	q, args := `SELECT `+planCols+` FROM sales_plans`, []any{}
	if customerID != "" {
		q += ` WHERE customer_id=?`
		args = append(args, customerID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, first)
	out, err := sqltx.Collect[*domain.PlanRecord](s.db.QueryContext(ctx, q, args...))(func(r interface{ Scan(...any) error }) (*domain.PlanRecord, error) { return scanPlan(r) })
	if err != nil {
		return nil, err
	}
	for _, p := range out {
		if err := s.planLines(ctx, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OrderedItem is one plan whose Harvest order was made; Done is out:
// whether this write moved it (false: it was not PLANNED any more).
type OrderedItem struct {
	PlanID, OrderID string
	At              time.Time
	Done            bool
}

// OrderedAll is Ordered for the plans ordered at the same moment, in one
// transaction with one statement per table: the plans still PLANNED are
// locked by one read, marked ORDERED with their orders, their staged
// orders too, and each marketplace order's ACCEPTED queued with its
// message.
func (s *Store) OrderedAll(ctx context.Context, items []*OrderedItem) error {
	if len(items) == 0 {
		return nil
	}
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		args := make([]any, 0, len(items)+1)
		byID := map[string]*OrderedItem{}
		for _, it := range items {
			it.Done = false
			args = append(args, it.PlanID)
			byID[it.PlanID] = it
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(process_id,'') FROM sales_plans WHERE id IN (`+sqltx.Tuples("?", len(args))+`) AND status=? ORDER BY id FOR UPDATE`,
			append(args, domain.PlanPlanned)...)
		if err != nil {
			return err
		}
		var planned []*OrderedItem
		process := map[string]string{}
		for rows.Next() {
			var id, p string
			if err := rows.Scan(&id, &p); err != nil {
				rows.Close()
				return err
			}
			if it := byID[id]; it != nil && !it.Done {
				it.Done = true
				planned = append(planned, it)
				process[id] = p
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(planned) == 0 {
			return nil
		}
		var caseArgs, idArgs, stepArgs, upArgs []any
		var updates []string
		var procIDs []any
		for _, it := range planned {
			caseArgs = append(caseArgs, it.PlanID, it.OrderID)
			idArgs = append(idArgs, it.PlanID)
			if p := process[it.PlanID]; p != "" {
				procIDs = append(procIDs, p)
				stepArgs = append(stepArgs, p, "ORDERED", "Harvest order "+it.OrderID, it.At)
				uid := ids.NewAt(it.At)
				upArgs = append(upArgs, uid, p, platforms.StatusAccepted, it.At)
				updates = append(updates, uid)
			}
		}
		at := planned[0].At
		q := `UPDATE sales_plans SET status=?, order_id = CASE id` + strings.Repeat(` WHEN ? THEN ?`, len(planned)) + ` END, reason_code='', reason_note='', updated_at=?
			WHERE id IN (` + sqltx.Tuples("?", len(idArgs)) + `)`
		all := append(append(append([]any{domain.PlanOrdered}, caseArgs...), at), idArgs...)
		if _, err := tx.ExecContext(ctx, q, all...); err != nil {
			return err
		}
		if len(procIDs) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staging_process p JOIN sales_plans s ON s.process_id = p.id
			SET p.status=?, p.order_id=s.order_id, p.reason_code='', p.reason_note='', p.updated_at=s.updated_at
			WHERE p.id IN (`+sqltx.Tuples("?", len(procIDs))+`)`, append([]any{domain.StageOrdered}, procIDs...)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staging_steps (process_id, step, note, at) VALUES `+sqltx.Tuples("(?,?,?,?)", len(stepArgs)/4), stepArgs...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_updates (id, process_id, status, created_at) VALUES `+sqltx.Tuples("(?,?,?,?)", len(upArgs)/4), upArgs...); err != nil {
			return err
		}
		// One message for the statuses queued together, not one per order.
		_, err = outbox.Add(ctx, tx, statusQueuedEvent(procIDs[0].(string), updates...))
		return err
	})
}

// Failed records OMS's refusal of plan id's order.
func (s *Store) Failed(ctx context.Context, id, code, note string, at time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sales_plans SET status=?, reason_code=?, reason_note=?, updated_at=? WHERE id=? AND status=?`,
			domain.PlanFailed, clip(code, 48), clip(note, 500), at, id, domain.PlanPlanned)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		var process sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT process_id FROM sales_plans WHERE id=?`, id).Scan(&process); err != nil {
			return err
		}
		if !process.Valid {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staging_process SET status=?, reason_code=?, reason_note=?, updated_at=? WHERE id=?`,
			domain.StageFailed, clip(code, 48), clip(note, 500), at, process.String); err != nil {
			return err
		}
		return step(ctx, tx, process.String, "FAILED", code+": "+note, at)
	})
}

// queueStatus queues status for a staged order once, with its message.
func queueStatus(ctx context.Context, tx *sql.Tx, processID, status string, at time.Time) (bool, error) {
	id := ids.NewAt(at)
	res, err := tx.ExecContext(ctx, `INSERT IGNORE INTO status_updates (id, process_id, status, created_at) VALUES (?,?,?,?)`, id, processID, status, at)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = outbox.Add(ctx, tx, statusQueuedEvent(processID, id))
	return true, err
}

// Outcomes of a plan's order that settlement counts.
const (
	OutcomeDelivered = "DELIVERED"
	OutcomeReturned  = "RETURNED"
)

// QueueOrderStatus applies OMS's message msgID about Harvest order
// orderID (claimed in channels' inbox in the same transaction): outcome
// (OutcomeDelivered, OutcomeReturned or "") is recorded on the order's
// sales plan for settlement, and status ("" for none), for a marketplace
// order, queued for its platform once. queued reports a status queued
// now (false: no marketplace order, or queued before).
func (s *Store) QueueOrderStatus(ctx context.Context, consumer, msgID, orderID, status, outcome string, at time.Time) (bool, error) {
	var queued bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		queued = false
		fresh, err := inbox.Claim(ctx, tx, consumer, msgID)
		if err != nil || !fresh {
			return err
		}
		switch outcome {
		case OutcomeDelivered:
			_, err = tx.ExecContext(ctx, `UPDATE sales_plans SET delivered_at=COALESCE(delivered_at, ?) WHERE order_id=? AND status=?`, at, orderID, domain.PlanOrdered)
		case OutcomeReturned:
			_, err = tx.ExecContext(ctx, `UPDATE sales_plans SET returned_at=COALESCE(returned_at, ?) WHERE order_id=? AND status=?`, at, orderID, domain.PlanOrdered)
		}
		if err != nil || status == "" {
			return err
		}
		var process string
		err = tx.QueryRowContext(ctx, `SELECT id FROM staging_process WHERE order_id=? AND status=?`, orderID, domain.StageOrdered).Scan(&process)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if queued, err = queueStatus(ctx, tx, process, status, at); err != nil {
			return err
		}
		if queued {
			return step(ctx, tx, process, "STATUS_"+status, "queued for the platform", at)
		}
		return nil
	})
	return queued, err
}

// StatusUpdate reads one queued status with the order it is about.
func (s *Store) StatusUpdate(ctx context.Context, id string) (*domain.Update, error) {
	m, err := s.StatusUpdatesOf(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	u := m[id]
	if u == nil {
		return nil, fmt.Errorf("%w: status update %s", domain.ErrNotFound, id)
	}
	return u, nil
}

// StatusUpdatesOf reads queued statuses with the orders they are about,
// in one query (ids not found are left out).
func (s *Store) StatusUpdatesOf(ctx context.Context, idList []string) (map[string]*domain.Update, error) {
	out := map[string]*domain.Update{}
	if len(idList) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.process_id, u.status, u.attempts, u.created_at, u.sent_at, p.platform, p.platform_order_id, p.order_id
		FROM status_updates u JOIN staging_process p ON p.id=u.process_id WHERE u.id IN (`+sqltx.Tuples("?", len(idList))+`)`, anys(idList)...)
	if err != nil {
		return nil, fmt.Errorf("read status updates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u domain.Update
		var sent sql.NullTime
		if err := rows.Scan(&u.ID, &u.ProcessID, &u.Status, &u.Attempts, &u.CreatedAt, &sent, &u.Platform, &u.PlatformOrderID, &u.OrderID); err != nil {
			return nil, err
		}
		if sent.Valid {
			t := sent.Time.UTC()
			u.SentAt = &t
		}
		out[u.ID] = &u
	}
	return out, rows.Err()
}

// StatusUpdates lists a staged order's queued statuses, oldest first.
func (s *Store) StatusUpdates(ctx context.Context, processID string) ([]*domain.Update, error) {
	idList, err := sqltx.Strings(ctx, s.db, `SELECT id FROM status_updates WHERE process_id=? ORDER BY id`, processID)
	if err != nil {
		return nil, err
	}
	out := make([]*domain.Update, 0, len(idList))
	for _, id := range idList {
		u, err := s.StatusUpdate(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// StatusSent marks a status as taken by its platform, once.
func (s *Store) StatusSent(ctx context.Context, id string, at time.Time) error {
	return s.StatusesSent(ctx, []string{id}, at)
}

// StatusesSent marks statuses as taken by their platforms, once each, in
// one transaction: those not yet sent are locked by one read, marked by
// one UPDATE and their steps written by one INSERT.
func (s *Store) StatusesSent(ctx context.Context, idList []string, at time.Time) error {
	if len(idList) == 0 {
		return nil
	}
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		args := anys(idList)
		rows, err := tx.QueryContext(ctx, `SELECT id, process_id, status FROM status_updates WHERE id IN (`+sqltx.Tuples("?", len(args))+`) AND sent_at IS NULL ORDER BY id FOR UPDATE`, args...)
		if err != nil {
			return err
		}
		var unsent, stepArgs []any
		for rows.Next() {
			var id, process, status string
			if err := rows.Scan(&id, &process, &status); err != nil {
				rows.Close()
				return err
			}
			unsent = append(unsent, id)
			stepArgs = append(stepArgs, process, "SENT_"+status, "the platform took it", at)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(unsent) == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE status_updates SET sent_at=?, attempts=attempts+1, last_error='' WHERE id IN (`+sqltx.Tuples("?", len(unsent))+`)`,
			append([]any{at}, unsent...)...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO staging_steps (process_id, step, note, at) VALUES `+sqltx.Tuples("(?,?,?,?)", len(unsent)), stepArgs...)
		return err
	})
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// StatusFailed notes a failed attempt to tell the platform.
func (s *Store) StatusFailed(ctx context.Context, id, why string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE status_updates SET attempts=attempts+1, last_error=? WHERE id=? AND sent_at IS NULL`, clip(why, 500), id)
	return err
}

// Retry puts a parked or failed staged order back on its way, writing the
// message of the step it stopped at: a PARKED one is planned again
// (channels.order.received), a FAILED one ordered again
// (channels.plan.created, the same plan, so OMS's idempotency key is the
// same). Anything else is ErrNotRetryable.
func (s *Store) Retry(ctx context.Context, id, by string, at time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var status, plan string
		err := tx.QueryRowContext(ctx, `SELECT status, COALESCE(plan_id,'') FROM staging_process WHERE id=? FOR UPDATE`, id).Scan(&status, &plan)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: staged order %s", domain.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		switch status {
		case domain.StageParked:
			if _, err := tx.ExecContext(ctx, `UPDATE staging_process SET status=?, updated_at=? WHERE id=?`, domain.StageReceived, at, id); err != nil {
				return err
			}
			if _, err := outbox.Add(ctx, tx, receivedEvent(id)); err != nil {
				return err
			}
		case domain.StageFailed:
			if _, err := tx.ExecContext(ctx, `UPDATE staging_process SET status=?, updated_at=? WHERE id=?`, domain.StagePlanned, at, id); err != nil {
				return err
			}
			if err := retryPlanTx(ctx, tx, plan, at); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: staged order %s is %s", domain.ErrNotRetryable, id, status)
		}
		return step(ctx, tx, id, "RETRIED", "by "+by, at)
	})
}

func retryPlanTx(ctx context.Context, tx *sql.Tx, plan string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE sales_plans SET status=?, updated_at=? WHERE id=? AND status=?`, domain.PlanPlanned, at, plan, domain.PlanFailed)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: plan %s is not FAILED", domain.ErrNotRetryable, plan)
	}
	_, err = outbox.Add(ctx, tx, planCreatedEvent(plan))
	return err
}

// RetryPlan orders a FAILED staff plan again (a marketplace plan is
// retried through its staged order, Retry).
func (s *Store) RetryPlan(ctx context.Context, id string, at time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var process sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT process_id FROM sales_plans WHERE id=? FOR UPDATE`, id).Scan(&process)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: plan %s", domain.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if process.Valid {
			return fmt.Errorf("%w: plan %s comes from staged order %s: retry that", domain.ErrNotRetryable, id, process.String)
		}
		return retryPlanTx(ctx, tx, id, at)
	})
}

// Stale lists what stood still, each step since its own bound: staged
// orders RECEIVED (not planned) since before receivedBefore, plans
// PLANNED (not ordered) since before plannedBefore and statuses not sent
// since before unsentBefore, oldest first, at most limit of each.
func (s *Store) Stale(ctx context.Context, receivedBefore, plannedBefore, unsentBefore time.Time, limit int) (received, planned, unsent []string, err error) {
	if received, err = sqltx.Strings(ctx, s.db, `SELECT id FROM staging_process WHERE status=? AND updated_at < ? ORDER BY updated_at LIMIT ?`,
		domain.StageReceived, receivedBefore, limit); err != nil {
		return
	}
	if planned, err = sqltx.Strings(ctx, s.db, `SELECT id FROM sales_plans WHERE status=? AND updated_at < ? ORDER BY updated_at LIMIT ?`,
		domain.PlanPlanned, plannedBefore, limit); err != nil {
		return
	}
	unsent, err = sqltx.Strings(ctx, s.db, `SELECT id FROM status_updates WHERE sent_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?`, unsentBefore, limit)
	return
}
