// Package store is marketing's MySQL persistence: campaigns with their
// conditions, exclusions and gift stock, candidate lists, and gift grants.
// Gift stock moves only by a conditional UPDATE checked by rows affected, in
// the same transaction as the grant it pays for, so it never goes below zero
// and a grant never exists without its unit.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/harvest/harvest/apps/marketing/app"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Store is marketing's database.
type Store struct {
	db     *sql.DB
	grants *group.Writer[*grantReq]  // evaluations committed together (grant_group.go)
	claims *group.Writer[*recordReq] // claims recorded together (claims.go)
}

var _ app.Repository = (*Store)(nil)

// New returns a Store over db.
func New(db *sql.DB) *Store {
	s := &Store{db: db}
	s.grants = group.NewWriter(group.Options{Sizes: grantGroupSize}, group.InTx(db, s.grantAll))
	// A claim's group lingers up to 2 ms when claims queue behind the one
	// being written (a pop-up's peak), so each commit records more of them.
	s.claims = group.NewWriter(group.Options{Sizes: claimGroupSize, MaxSize: 512, Linger: 2 * time.Millisecond}, s.recordGroup)
	return s
}

// DB returns the pool (tests count rows with it).
func (s *Store) DB() *sql.DB { return s.db }

// batch bounds the rows of one multi-row INSERT.
const batch = 500

// insertMany writes rows with a multi-row INSERT prefix, batch rows at a
// time, and returns the rows affected (with IGNORE: the rows really added).
func insertMany(ctx context.Context, tx *sql.Tx, prefix, tuple string, n int, args func(i int) []any) (int64, error) {
	var total int64
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		var q strings.Builder
		q.WriteString(prefix)
		vals := make([]any, 0, (end-start)*3)
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(",")
			}
			q.WriteString(tuple)
			vals = append(vals, args(i)...)
		}
		res, err := tx.ExecContext(ctx, q.String(), vals...)
		if err != nil {
			return total, fmt.Errorf("insert rows %d..%d: %w", start, end, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("insert rows %d..%d: %w", start, end, err)
		}
		total += k
	}
	return total, nil
}

// ---------------------------------------------------------------- campaigns

// CreateCampaign stores a campaign with its conditions, exclusions and gift
// in one transaction. With a key already used, it returns the campaign
// created then (existing=true), or domain.ErrKeyReused when hash differs.
func (s *Store) CreateCampaign(ctx context.Context, c domain.Campaign, key, hash string) (id string, existing bool, err error) {
	var nullKey sql.NullString
	if key != "" {
		nullKey = sql.NullString{String: key, Valid: true}
	}
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		existing = false
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, idempotency_key, request_hash, name, starts_at, ends_at,
			min_goods_fen, gift_sku, gift_qty, gift_stock_total, gift_stock_left, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			c.ID(), nullKey, hash, c.Name(), c.StartsAt(), c.EndsAt(), c.Conditions().MinGoodsFen, c.Gift().SKU, c.Gift().QtyPerOrder,
			c.Gift().Stock, c.StockLeft(), c.CreatedAt())
		if sqltx.IsDuplicate(err) && key != "" {
			var h string
			if err := tx.QueryRowContext(ctx, `SELECT id, request_hash FROM campaigns WHERE idempotency_key=?`, key).Scan(&id, &h); err != nil {
				return fmt.Errorf("read campaign of key %s: %w", key, err)
			}
			if h != hash {
				return domain.ErrKeyReused
			}
			existing = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		id = c.ID()
		skus, excluded := c.Conditions().RequiredSKUs, c.Excluded()
		if _, err := insertMany(ctx, tx, `INSERT INTO campaign_required_skus (campaign_id, sku) VALUES `, "(?,?)", len(skus),
			func(i int) []any { return []any{id, skus[i]} }); err != nil {
			return fmt.Errorf("insert required skus: %w", err)
		}
		if _, err := insertMany(ctx, tx, `INSERT INTO campaign_exclusions (campaign_id, customer_id) VALUES `, "(?,?)", len(excluded),
			func(i int) []any { return []any{id, excluded[i]} }); err != nil {
			return fmt.Errorf("insert exclusions: %w", err)
		}
		return nil
	})
	return id, existing, err
}

const campaignCols = `c.id, c.name, c.starts_at, c.ends_at, c.min_goods_fen, c.gift_sku, c.gift_qty, c.gift_stock_total,
	c.gift_stock_left, c.created_at, (SELECT COUNT(*) FROM campaign_candidates cc WHERE cc.campaign_id=c.id)`

type scanner interface{ Scan(dest ...any) error }

// scanCampaign reads campaignCols, then the columns selected after them
// into extra.
func scanCampaign(r scanner, extra ...any) (domain.CampaignSnapshot, error) {
	var c domain.CampaignSnapshot
	p := &c.Spec
	err := r.Scan(append([]any{&c.ID, &p.Name, &p.StartsAt, &p.EndsAt, &p.Conditions.MinGoodsFen, &p.Gift.SKU, &p.Gift.QtyPerOrder,
		&p.Gift.Stock, &c.StockLeft, &c.CreatedAt, &c.Candidates}, extra...)...)
	p.StartsAt, p.EndsAt, c.CreatedAt = p.StartsAt.UTC(), p.EndsAt.UTC(), c.CreatedAt.UTC()
	return c, err
}

func restoreAll(ss []domain.CampaignSnapshot) []domain.Campaign {
	var cs []domain.Campaign
	for _, s := range ss {
		cs = append(cs, domain.RestoreCampaign(s))
	}
	return cs
}

// Campaign returns one campaign with its conditions and exclusions.
func (s *Store) Campaign(ctx context.Context, id string) (domain.Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns c WHERE c.id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Campaign{}, fmt.Errorf("%w: campaign %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return domain.Campaign{}, fmt.Errorf("read campaign %s: %w", id, err)
	}
	cs := []domain.CampaignSnapshot{c}
	if err := s.fill(ctx, s.db, cs, true); err != nil {
		return domain.Campaign{}, err
	}
	return domain.RestoreCampaign(cs[0]), nil
}

// Campaigns returns campaigns newest first, keyset-paginated by id (pass
// the last id seen as before; "" for the first page). Exclusions are not
// loaded: a list is for overview, Campaign has the whole of one.
func (s *Store) Campaigns(ctx context.Context, before string, limit int) ([]domain.Campaign, error) {
	q := `SELECT ` + campaignCols + ` FROM campaigns c`
	args := []any{}
	if before != "" {
		q += ` WHERE c.id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY c.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var cs []domain.CampaignSnapshot
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	if err := s.fill(ctx, s.db, cs, false); err != nil {
		return nil, err
	}
	return restoreAll(cs), nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// fill loads the required SKUs (and, when asked, the exclusions) of cs.
func (s *Store) fill(ctx context.Context, q querier, cs []domain.CampaignSnapshot, exclusions bool) error {
	if len(cs) == 0 {
		return nil
	}
	at := make(map[string]int, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		at[c.ID], args[i] = i, c.ID
	}
	in := sqltx.Tuples("?", len(cs))
	load := func(query string, add func(c *domain.CampaignSnapshot, v string)) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			add(&cs[at[id]], v)
		}
		return rows.Err()
	}
	if err := load(`SELECT campaign_id, sku FROM campaign_required_skus WHERE campaign_id IN (`+in+`) ORDER BY campaign_id, sku`,
		func(c *domain.CampaignSnapshot, v string) {
			c.Spec.Conditions.RequiredSKUs = append(c.Spec.Conditions.RequiredSKUs, v)
		}); err != nil {
		return fmt.Errorf("read required skus: %w", err)
	}
	if exclusions {
		if err := load(`SELECT campaign_id, customer_id FROM campaign_exclusions WHERE campaign_id IN (`+in+`) ORDER BY campaign_id, customer_id`,
			func(c *domain.CampaignSnapshot, v string) { c.Spec.Excluded = append(c.Spec.Excluded, v) }); err != nil {
			return fmt.Errorf("read exclusions: %w", err)
		}
	}
	return nil
}

// --------------------------------------------------------------- candidates

// ImportCandidates adds customer ids to a campaign's candidate list in one
// transaction, ids already listed left alone, and records the import.
// dupRows and invalid are the file's own counts, kept with the record.
func (s *Store) ImportCandidates(ctx context.Context, campaignID, importID string, customerIDs []string,
	dataRows, dupRows, invalid int, now time.Time) (app.ImportResult, error) {
	r := app.ImportResult{ImportID: importID}
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var one int
		// The shared lock keeps the campaign from vanishing under the import.
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM campaigns WHERE id=? LOCK IN SHARE MODE`, campaignID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: campaign %s", domain.ErrNotFound, campaignID)
		}
		if err != nil {
			return fmt.Errorf("lock campaign %s: %w", campaignID, err)
		}
		n, err := insertMany(ctx, tx, `INSERT IGNORE INTO campaign_candidates (campaign_id, customer_id, import_id) VALUES `, "(?,?,?)",
			len(customerIDs), func(i int) []any { return []any{campaignID, customerIDs[i], importID} })
		if err != nil {
			return fmt.Errorf("insert candidates: %w", err)
		}
		r.Imported = n
		r.AlreadyListed = int64(len(customerIDs)) - n
		if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_imports (id, campaign_id, data_rows, imported, duplicates, invalid, created_at)
			VALUES (?,?,?,?,?,?,?)`, importID, campaignID, dataRows, n, int64(dupRows)+r.AlreadyListed, invalid, now); err != nil {
			return fmt.Errorf("record import: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_candidates WHERE campaign_id=?`, campaignID).Scan(&r.CandidatesAfter); err != nil {
			return fmt.Errorf("count candidates of %s: %w", campaignID, err)
		}
		return nil
	})
	return r, err
}

// ------------------------------------------------------------------- grants

var errRepeat = errors.New("order already evaluated")

// Grant evaluates an order once: it records the evaluation, asks decide
// about every campaign listing the customer as a candidate, and for each
// yes takes gift stock with a conditional update and records the grant. A
// campaign out of stock grants nothing. A repeat for the same order (same
// hash) returns the first grants and changes nothing; another hash fails
// with domain.ErrKeyReused.
//
// Evaluations arriving together are written together (grant_group.go).
func (s *Store) Grant(ctx context.Context, o domain.Order, hash string, now time.Time, decide app.Decide) ([]domain.Grant, error) {
	r := &grantReq{o: o, hash: hash, now: now, decide: decide}
	err := s.grants.Write(ctx, r)
	if errors.Is(err, errRepeat) {
		var h string
		if err := s.db.QueryRowContext(ctx, `SELECT request_hash FROM gift_evaluations WHERE order_id=?`, o.ID).Scan(&h); err != nil {
			return nil, fmt.Errorf("read evaluation of %s: %w", o.ID, err)
		}
		if h != hash {
			return nil, fmt.Errorf("%w: order %s was evaluated with other lines or customer", domain.ErrKeyReused, o.ID)
		}
		return s.Grants(ctx, o.ID)
	}
	if err != nil {
		return nil, err
	}
	return r.grants, nil
}

// takeGiftStock takes one order's gift units of a campaign, if it has them.
func takeGiftStock(ctx context.Context, tx *sql.Tx, campaignID string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE campaigns SET gift_stock_left = gift_stock_left - gift_qty
		WHERE id=? AND gift_stock_left >= gift_qty`, campaignID)
	if err != nil {
		return false, fmt.Errorf("take gift stock of %s: %w", campaignID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take gift stock of %s: %w", campaignID, err)
	}
	return n == 1, nil
}

// Grants returns the gifts granted to an order, by campaign id.
func (s *Store) Grants(ctx context.Context, orderID string) ([]domain.Grant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign_id, order_id, customer_id, sku, qty, created_at FROM gift_grants
		WHERE order_id=? ORDER BY campaign_id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("read grants of %s: %w", orderID, err)
	}
	defer rows.Close()
	var gs []domain.Grant
	for rows.Next() {
		var g domain.Grant
		if err := rows.Scan(&g.CampaignID, &g.OrderID, &g.CustomerID, &g.SKU, &g.Qty, &g.CreatedAt); err != nil {
			return nil, fmt.Errorf("read grants of %s: %w", orderID, err)
		}
		g.CreatedAt = g.CreatedAt.UTC()
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grants of %s: %w", orderID, err)
	}
	return gs, nil
}

// TopUpGiftStock adds units to a campaign's gift stock (total and left)
// once per key; a key used before with the same units changes nothing,
// with others domain.ErrKeyReused. check judges the campaign, locked.
func (s *Store) TopUpGiftStock(ctx context.Context, id, key string, units int64, now time.Time, check func(domain.Campaign) error) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		c, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns c WHERE c.id=? FOR UPDATE`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: campaign %s", domain.ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("lock campaign %s: %w", id, err)
		}
		var prior int64
		err = tx.QueryRowContext(ctx, `SELECT units FROM gift_stock_topups WHERE campaign_id=? AND idempotency_key=?`, id, key).Scan(&prior)
		switch {
		case err == nil && prior == units:
			return nil // done before
		case err == nil:
			return fmt.Errorf("idempotency key %q topped up %d units, not %d: %w", key, prior, units, domain.ErrKeyReused)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read top-up %s: %w", key, err)
		}
		if err := check(domain.RestoreCampaign(c)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO gift_stock_topups (campaign_id, idempotency_key, units, created_at) VALUES (?,?,?,?)`,
			id, key, units, now); err != nil {
			return fmt.Errorf("record top-up of %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET gift_stock_total=gift_stock_total+?, gift_stock_left=gift_stock_left+? WHERE id=?`,
			units, units, id); err != nil {
			return fmt.Errorf("top up campaign %s: %w", id, err)
		}
		return nil
	})
}
