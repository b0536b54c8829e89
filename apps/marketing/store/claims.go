package store

// Pop-up claims (DOMAIN 3.3): claim campaigns, the claims customers make
// (recorded in groups: the claims arriving at the same moment share one
// transaction), their bindings (coupons whose id is the claim's, written
// with the claim's move to BOUND under its row lock) and refusals, and the
// give-backs owed to Redis. Every write is conditional on the claim still
// being PENDING, so a claim handled twice (re-queued, handed to another
// instance, bound on the spot) ends once.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

var _ app.ClaimRepository = (*Store)(nil)

var claimGroupSize = group.NewSizeHistogram("harvest_marketing_claim_group_claims", "Claims recorded per group commit (1 = alone).")

// CreateClaimCampaign stores a claim campaign whose template exists and binds.
func (s *Store) CreateClaimCampaign(ctx context.Context, c domain.ClaimCampaign, key, hash string) (string, error) {
	var nullKey sql.NullString
	if key != "" {
		nullKey = sql.NullString{String: key, Valid: true}
	}
	id := c.ID
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		id = c.ID
		if err := templateBinds(ctx, tx, c.Spec.TemplateID, c.CreatedAt, "template_id"); err != nil {
			return err
		}
		sp := c.Spec
		_, err := tx.ExecContext(ctx, `INSERT INTO claim_campaigns (id, idempotency_key, request_hash, name, template_id, stock_total,
			per_user_limit, starts_at, ends_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			c.ID, nullKey, hash, sp.Name, sp.TemplateID, sp.Stock, sp.PerUserLimit, sp.StartsAt, sp.EndsAt, c.CreatedAt)
		if sqltx.IsDuplicate(err) && key != "" {
			var h string
			if err := tx.QueryRowContext(ctx, `SELECT id, request_hash FROM claim_campaigns WHERE idempotency_key=?`, key).Scan(&id, &h); err != nil {
				return fmt.Errorf("read claim campaign of key %s: %w", key, err)
			}
			if h != hash {
				return domain.ErrKeyReused
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert claim campaign: %w", err)
		}
		return nil
	})
	return id, err
}

// templateBinds reads the template under a shared lock (its rules cannot
// change until tx ends) and says whether it binds at now.
func templateBinds(ctx context.Context, tx *sql.Tx, templateID string, now time.Time, field string) error {
	binds, err := readTemplateBinds(ctx, tx, templateID, now, " LOCK IN SHARE MODE")
	if errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("%w: %s: coupon template %s does not exist", domain.ErrValidation, field, templateID)
	}
	if err != nil {
		return err
	}
	return binds
}

// TemplateBinds answers whether a template binds at now (binds: its
// CanBind), or err when it cannot be read (domain.ErrNotFound). It reads
// only the template's status and end: the claims path asked Template,
// which counts the coupons issued of it, at every campaign refresh (a
// range of the template's coupons, thousands of rows each at a peak).
func (s *Store) TemplateBinds(ctx context.Context, templateID string, now time.Time) (binds, err error) {
	return readTemplateBinds(ctx, s.db, templateID, now, "")
}

func readTemplateBinds(ctx context.Context, q rowQuerier, templateID string, now time.Time, lock string) (binds, err error) {
	var st domain.TemplateStatus
	var validTo time.Time
	err = q.QueryRowContext(ctx, `SELECT status, valid_to FROM coupon_templates WHERE id=?`+lock, templateID).Scan(&st, &validTo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: coupon template %s", domain.ErrNotFound, templateID)
	}
	if err != nil {
		return nil, fmt.Errorf("read coupon template %s: %w", templateID, err)
	}
	return canBind(templateID, st, validTo, now), nil
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// canBind says whether a template of status st valid until validTo binds at now.
func canBind(templateID string, st domain.TemplateStatus, validTo, now time.Time) error {
	t := domain.RestoreTemplate(domain.TemplateSnapshot{ID: templateID, Status: st, Spec: domain.TemplateSpec{ValidTo: validTo.UTC()}})
	return t.CanBind(now)
}

// ClaimCampaign returns one claim campaign.
func (s *Store) ClaimCampaign(ctx context.Context, id string) (domain.ClaimCampaign, error) {
	var c domain.ClaimCampaign
	sp := &c.Spec
	err := s.db.QueryRowContext(ctx, `SELECT id, name, template_id, stock_total, per_user_limit, starts_at, ends_at, redis_epoch, created_at
		FROM claim_campaigns WHERE id=?`, id).Scan(&c.ID, &sp.Name, &sp.TemplateID, &sp.Stock, &sp.PerUserLimit, &sp.StartsAt, &sp.EndsAt,
		&c.Epoch, &c.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: claim campaign %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return c, fmt.Errorf("read claim campaign %s: %w", id, err)
	}
	sp.StartsAt, sp.EndsAt, c.CreatedAt = sp.StartsAt.UTC(), sp.EndsAt.UTC(), c.CreatedAt.UTC()
	return c, nil
}

// recordReq is one claim to record in a group.
type recordReq struct {
	c     domain.Claim
	limit int
	due   time.Time // first due for the re-queue job
	// unless refuses the claim when its key was not used before (the
	// stock is gone): decided before, applied here, where the key is read
	// anyway, so a refusal costs no query of its own.
	unless error
	// out
	existing domain.Claim // set when the key was used before (repeat)
	err      error        // the claim's own refusal (limit, key reused)
}

// RecordClaim records a claim (PENDING, due for the re-queue job at
// due) in the slot after the customer's last, or refuses it when the
// customer's claims on the campaign reached limit; a key used before
// answers that claim (domain.ErrKeyReused when it was on another
// campaign); a claim with a new key is refused with unless when set.
// Two claims racing for one slot: the loser counts again.
func (s *Store) RecordClaim(ctx context.Context, c domain.Claim, limit int, due time.Time, unless error) (domain.Claim, bool, error) {
	for range limit + 3 {
		r := &recordReq{c: c, limit: limit, due: due, unless: unless}
		err := s.claims.Write(ctx, r)
		switch {
		case err == nil && r.err != nil:
			return domain.Claim{}, false, r.err
		case err == nil && r.existing.ID != "":
			return r.existing, false, nil
		case err == nil:
			return r.c, true, nil
		case !sqltx.IsDuplicate(err):
			return domain.Claim{}, false, err
		}
		// a concurrent claim took the slot (or the key): count again
	}
	return domain.Claim{}, false, fmt.Errorf("record claim of %s on %s: slots kept changing", c.CustomerID, c.CampaignID)
}

// recordGroup records a group of claims in a transaction of its own. A
// duplicate means a concurrent group took one of these customers' next
// slot, or a key, and committed first (InnoDB's duplicate check waits for
// it): counted again in a fresh transaction the group sees it and is
// right. Only when that keeps failing does the writer fall back to
// recording the group claim by claim, a transaction each (512 of them
// for a full group, where one double tap spoiled it).
func (s *Store) recordGroup(ctx context.Context, g []*recordReq) error {
	var err error
	for range 3 {
		err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error { return s.recordAll(ctx, tx, g) })
		if !sqltx.IsDuplicate(err) {
			return err
		}
	}
	return err
}

// recordAll records a group of claims in tx: their keys looked up, the
// customers' claims counted, each new claim written in the next slot, or
// refused beyond the limit. A duplicate key (a concurrent group took a
// slot or a key) fails the group, which is written again claim by claim.
func (s *Store) recordAll(ctx context.Context, tx *sql.Tx, g []*recordReq) error {
	keyArgs := make([]any, 0, 2*len(g))
	pairArgs := make([]any, 0, 2*len(g))
	for _, r := range g {
		r.existing, r.err = domain.Claim{}, nil
		keyArgs = append(keyArgs, r.c.CustomerID, r.c.Key)
		pairArgs = append(pairArgs, r.c.CampaignID, r.c.CustomerID)
	}
	// One read serves both questions: the claims of these keys (repeats)
	// and every claim these customers hold on these campaigns (at most
	// the limit each), counted here.
	prior, err := claimsWhere(ctx, tx, `(customer_id, idempotency_key) IN (`+sqltx.Tuples("(?,?)", len(g))+
		`) OR (campaign_id, customer_id) IN (`+sqltx.Tuples("(?,?)", len(g))+`)`, append(keyArgs, pairArgs...)...)
	if err != nil {
		return err
	}
	byKey := map[[2]string]domain.Claim{}
	held := map[[2]string]int{}
	for _, c := range prior {
		byKey[[2]string{c.CustomerID, c.Key}] = c
		held[[2]string{c.CampaignID, c.CustomerID}]++
	}
	var fresh []*recordReq
	keys := map[[2]string]*recordReq{}
	for _, r := range g {
		k := [2]string{r.c.CustomerID, r.c.Key}
		if p, ok := byKey[k]; ok {
			if p.CampaignID != r.c.CampaignID {
				r.err = fmt.Errorf("idempotency key %q was used for a claim on campaign %s: %w", r.c.Key, p.CampaignID, domain.ErrKeyReused)
			} else {
				r.existing = p
			}
			continue
		}
		if first, ok := keys[k]; ok { // the same key twice in the group: the second is a repeat of the first
			if first.c.CampaignID != r.c.CampaignID {
				return fmt.Errorf("key %q twice in a group: %w", r.c.Key, errRepeat)
			}
			r.existing = first.c
			continue
		}
		if r.unless != nil {
			r.err = r.unless
			continue
		}
		pair := [2]string{r.c.CampaignID, r.c.CustomerID}
		if held[pair] >= r.limit {
			r.err = fmt.Errorf("customer %s holds %d claims on campaign %s, its limit: %w", r.c.CustomerID, held[pair], r.c.CampaignID,
				domain.ErrClaimLimitReached)
			continue
		}
		held[pair]++
		r.c.Slot = held[pair]
		keys[k] = r
		fresh = append(fresh, r)
	}
	if len(fresh) == 0 {
		return nil
	}
	_, err = insertMany(ctx, tx, `INSERT INTO coupon_claims (id, campaign_id, customer_id, slot, idempotency_key, status, next_try_at,
		created_at, updated_at) VALUES `, "(?,?,?,?,?,?,?,?,?)", len(fresh), func(i int) []any {
		c := fresh[i].c
		return []any{c.ID, c.CampaignID, c.CustomerID, c.Slot, c.Key, domain.ClaimPending, fresh[i].due, c.CreatedAt, c.CreatedAt}
	})
	if err != nil {
		return fmt.Errorf("record %d claims: %w", len(fresh), err)
	}
	return nil
}

const claimCols = `id, campaign_id, customer_id, slot, idempotency_key, status, reason, coupon_id, created_at, updated_at`

func scanClaim(r interface{ Scan(...any) error }) (domain.Claim, error) {
	var c domain.Claim
	var coupon sql.NullString
	err := r.Scan(&c.ID, &c.CampaignID, &c.CustomerID, &c.Slot, &c.Key, &c.Status, &c.Reason, &coupon, &c.CreatedAt, &c.UpdatedAt)
	c.CouponID, c.CreatedAt, c.UpdatedAt = coupon.String, c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

func claimsWhere(ctx context.Context, q querier, where string, args ...any) ([]domain.Claim, error) {
	return claimsFrom(ctx, q, `coupon_claims`, where, args...)
}

// claimsByID is coupon_claims read or written by a list of ids: on the
// primary key alone. With a list longer than eq_range_index_dive_limit
// (200) and the table's statistics lagging a peak's inserts, MariaDB
// scanned the whole table for a binding's 256 ids (1,500 rows examined
// early in a load run, growing with the table; for UPDATE and FOR UPDATE
// every row examined is locked, so concurrent bindings queued on them).
const claimsByID = `coupon_claims FORCE INDEX (PRIMARY)`

func claimsFrom(ctx context.Context, q querier, table, where string, args ...any) ([]domain.Claim, error) {
	cs, err := sqltx.Collect[domain.Claim](q.QueryContext(ctx, `SELECT `+claimCols+` FROM `+table+` WHERE `+where, args...))(scanClaim)
	if err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	return cs, nil
}

// Claim returns one claim.
func (s *Store) Claim(ctx context.Context, id string) (domain.Claim, error) {
	cs, err := claimsWhere(ctx, s.db, `id=?`, id)
	if err != nil {
		return domain.Claim{}, err
	}
	if len(cs) == 0 {
		return domain.Claim{}, fmt.Errorf("%w: claim %s", domain.ErrNotFound, id)
	}
	return cs[0], nil
}

// PendingClaims lists a customer's PENDING claims, oldest first.
func (s *Store) PendingClaims(ctx context.Context, customerID string, limit int) ([]domain.Claim, error) {
	return claimsWhere(ctx, s.db, `customer_id=? AND status=? ORDER BY id LIMIT ?`, customerID, domain.ClaimPending, limit)
}

// LeaseDue takes up to limit PENDING claims due for the re-queue job and
// moves their next try to until, so the next pass (of any instance) takes
// them only if they are still pending then.
func (s *Store) LeaseDue(ctx context.Context, now, until time.Time, limit int) ([]domain.Claim, error) {
	cs, err := claimsWhere(ctx, s.db, `status=? AND next_try_at<=? ORDER BY next_try_at LIMIT ?`, domain.ClaimPending, now, limit)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	args := []any{until}
	for _, c := range cs {
		args = append(args, c.ID)
	}
	args = append(args, domain.ClaimPending)
	if _, err := s.db.ExecContext(ctx, `UPDATE `+claimsByID+` SET next_try_at=?, attempts=attempts+1 WHERE id IN (`+
		sqltx.Tuples("?", len(cs))+`) AND status=?`, args...); err != nil {
		return nil, fmt.Errorf("lease due claims: %w", err)
	}
	return cs, nil
}

// lockPending locks those of the claims ids that are still PENDING and
// answers them. Whole rows, by the primary key in id order: a covering
// read of ids alone went by a secondary index and deadlocked with
// concurrent bindings and refusals of the same claims.
func lockPending(ctx context.Context, tx *sql.Tx, ids []string) ([]domain.Claim, error) {
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, domain.ClaimPending)
	return claimsFrom(ctx, tx, claimsByID, `id IN (`+sqltx.Tuples("?", len(ids))+`) AND status=? ORDER BY id FOR UPDATE`, args...)
}

// BindClaims binds the coupons of claims whose units were taken from the
// counter of epoch: the campaign's epoch must still be that one (read
// under a shared lock: a rebuild waits), the template must bind at now,
// and each claim still PENDING (locked in id order) gets its coupon (id:
// the claim's) and moves to BOUND. It answers the claims it bound; the
// others were not pending any more. A template that no longer binds is
// its domain error (the caller refuses the claims and gives back).
func (s *Store) BindClaims(ctx context.Context, campaignID string, epoch int64, claims []domain.Claim, now time.Time) ([]string, error) {
	var bound []string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		bound = nil
		// The campaign's epoch and its template's rules in one read, both
		// rows share-locked (a rebuild or a retirement waits for the commit).
		var cur int64
		var templateID string
		var st domain.TemplateStatus
		var validTo time.Time
		err := tx.QueryRowContext(ctx, `SELECT c.redis_epoch, c.template_id, t.status, t.valid_to FROM claim_campaigns c
			JOIN coupon_templates t ON t.id=c.template_id WHERE c.id=? LOCK IN SHARE MODE`, campaignID).Scan(&cur, &templateID, &st, &validTo)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: claim campaign %s", domain.ErrNotFound, campaignID)
		}
		if err != nil {
			return fmt.Errorf("read claim campaign %s: %w", campaignID, err)
		}
		if cur != epoch {
			return fmt.Errorf("campaign %s: took from epoch %d, the counter is %d: %w", campaignID, epoch, cur, domain.ErrStaleStock)
		}
		if err := canBind(templateID, st, validTo, now); err != nil {
			return err
		}
		locked, err := lockPending(ctx, tx, domain.ClaimIDs(claims))
		if err != nil {
			return err
		}
		if len(locked) == 0 {
			return nil
		}
		if _, err := insertMany(ctx, tx, `INSERT INTO coupons (id, template_id, customer_id, status, source, source_ref, bound_at, updated_at) VALUES `,
			"(?,?,?,?,?,?,?,?)", len(locked), func(i int) []any {
				c := locked[i]
				return []any{c.ID, templateID, c.CustomerID, domain.CouponAvailable, app.SourceClaim, c.ID, now, now}
			}); err != nil {
			return fmt.Errorf("bind coupons of %d claims: %w", len(locked), err)
		}
		ids := make([]any, 0, len(locked)+3)
		ids = append(ids, domain.ClaimBound, now)
		for _, c := range locked {
			ids = append(ids, c.ID)
			bound = append(bound, c.ID)
		}
		ids = append(ids, domain.ClaimPending)
		if _, err := tx.ExecContext(ctx, `UPDATE `+claimsByID+` SET status=?, coupon_id=id, updated_at=? WHERE id IN (`+
			sqltx.Tuples("?", len(locked))+`) AND status=?`, ids...); err != nil {
			return fmt.Errorf("mark %d claims bound: %w", len(locked), err)
		}
		return nil
	})
	return bound, err
}

// RefuseClaims refuses the claims still PENDING with reason; with owed
// (their units were taken) a give-back row per refused claim is written in
// the same transaction. It answers the claims it refused.
func (s *Store) RefuseClaims(ctx context.Context, campaignID string, ids []string, reason string, owed bool, now time.Time) ([]string, error) {
	var refused []string
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		refused = nil
		locked, err := lockPending(ctx, tx, ids)
		if err != nil || len(locked) == 0 {
			return err
		}
		up := []any{domain.ClaimRefused, reason, now}
		for _, c := range locked {
			up = append(up, c.ID)
			refused = append(refused, c.ID)
		}
		up = append(up, domain.ClaimPending)
		if _, err := tx.ExecContext(ctx, `UPDATE `+claimsByID+` SET status=?, reason=?, updated_at=? WHERE id IN (`+
			sqltx.Tuples("?", len(locked))+`) AND status=?`, up...); err != nil {
			return fmt.Errorf("refuse %d claims: %w", len(locked), err)
		}
		if !owed {
			return nil
		}
		if _, err := insertMany(ctx, tx, `INSERT IGNORE INTO claim_givebacks (claim_id, campaign_id, created_at) VALUES `, "(?,?,?)", len(refused),
			func(i int) []any { return []any{refused[i], campaignID, now} }); err != nil {
			return fmt.Errorf("record give-backs owed: %w", err)
		}
		return nil
	})
	return refused, err
}

// Owe writes the give-back rows of units held by claims not pending.
func (s *Store) Owe(ctx context.Context, campaignID string, ids []string, now time.Time) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		_, err := insertMany(ctx, tx, `INSERT IGNORE INTO claim_givebacks (claim_id, campaign_id, created_at) VALUES `, "(?,?,?)", len(ids),
			func(i int) []any { return []any{ids[i], campaignID, now} })
		return err
	})
}

// GivebacksDone deletes the give-back rows of claims whose units went back.
func (s *Store) GivebacksDone(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM claim_givebacks WHERE claim_id IN (`+sqltx.Tuples("?", len(ids))+`)`, args...); err != nil {
		return fmt.Errorf("clear give-backs: %w", err)
	}
	return nil
}

// OwedGivebacks lists give-backs owed since before, by campaign.
func (s *Store) OwedGivebacks(ctx context.Context, before time.Time, limit int) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign_id, claim_id FROM claim_givebacks WHERE created_at<? ORDER BY claim_id LIMIT ?`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list give-backs owed: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var camp, claim string
		if err := rows.Scan(&camp, &claim); err != nil {
			return nil, fmt.Errorf("list give-backs owed: %w", err)
		}
		out[camp] = append(out[camp], claim)
	}
	return out, rows.Err()
}

// StockRetention is how long a claim campaign's Redis keys outlive it:
// claims pending at its end are issued within it (the re-queue job runs
// every few seconds); past it a late one rebuilds the counter from here.
const StockRetention = 7 * 24 * time.Hour

// RebuildClaimStock recreates a campaign's Redis counter from its claims
// under the campaign row's lock (bindings, which read it shared, wait):
// the stock less the bound claims, the oldest pending claims given a unit
// each while units last, a new epoch. create writes Redis and answers
// false when a counter exists (nothing changes then). Give-backs owed are
// settled by it: their claims are refused, so not counted.
func (s *Store) RebuildClaimStock(ctx context.Context, campaignID string, now time.Time,
	create func(left, epoch int64, holders []string, expires time.Time) (bool, error)) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var total, epoch int64
		var ends time.Time
		err := tx.QueryRowContext(ctx, `SELECT stock_total, redis_epoch, ends_at FROM claim_campaigns WHERE id=? FOR UPDATE`, campaignID).
			Scan(&total, &epoch, &ends)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: claim campaign %s", domain.ErrNotFound, campaignID)
		}
		if err != nil {
			return fmt.Errorf("lock claim campaign %s: %w", campaignID, err)
		}
		var bound int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status=?`, campaignID, domain.ClaimBound).
			Scan(&bound); err != nil {
			return fmt.Errorf("count bound claims of %s: %w", campaignID, err)
		}
		avail := max(total-bound, 0)
		holders, err := sqltx.Strings(ctx, tx, `SELECT id FROM coupon_claims WHERE campaign_id=? AND status=? ORDER BY id LIMIT ?`,
			campaignID, domain.ClaimPending, avail)
		if err != nil {
			return fmt.Errorf("list pending claims of %s: %w", campaignID, err)
		}
		next := max(epoch+1, now.UnixMilli())
		made, err := create(avail-int64(len(holders)), next, holders, ends.UTC().Add(StockRetention))
		if err != nil || !made {
			return err
		}
		// If this commit fails, Redis holds a counter newer than MariaDB's
		// epoch: bindings refuse its takes (stale) until the counter is
		// dropped and rebuilt; it was exact, so nothing is oversold.
		if _, err := tx.ExecContext(ctx, `UPDATE claim_campaigns SET redis_epoch=? WHERE id=?`, next, campaignID); err != nil {
			return fmt.Errorf("set epoch of %s: %w", campaignID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM claim_givebacks WHERE campaign_id=?`, campaignID); err != nil {
			return fmt.Errorf("settle give-backs of %s: %w", campaignID, err)
		}
		return nil
	})
}

// ClaimCounts counts a campaign's claims by status and its give-backs owed.
func (s *Store) ClaimCounts(ctx context.Context, campaignID string) (domain.ClaimCounts, error) {
	var c domain.ClaimCounts
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM coupon_claims WHERE campaign_id=? GROUP BY status`, campaignID)
	if err != nil {
		return c, fmt.Errorf("count claims of %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st domain.ClaimStatus
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return c, fmt.Errorf("count claims of %s: %w", campaignID, err)
		}
		c.Claims += n
		switch st {
		case domain.ClaimPending:
			c.Pending = n
		case domain.ClaimBound:
			c.Bound = n
		case domain.ClaimRefused:
			c.Refused = n
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM claim_givebacks WHERE campaign_id=?`, campaignID).Scan(&c.GivebacksOwed); err != nil {
		return c, fmt.Errorf("count give-backs of %s: %w", campaignID, err)
	}
	return c, nil
}

// HandOff writes one marketing.claim.queued message per claim, for the
// broker to give another instance (a stopping one's queues).
func (s *Store) HandOff(ctx context.Context, claims []domain.Claim) error {
	for start := 0; start < len(claims); start += batch {
		part := claims[start:min(start+batch, len(claims))]
		evs := make([]outbox.Event, len(part))
		for i, c := range part {
			evs[i] = outbox.Event{Topic: events.TopicClaimQueued, AggregateID: c.ID, Type: events.TopicClaimQueued + ".v1",
				Payload: events.ClaimQueued{ClaimID: c.ID, CampaignID: c.CampaignID, CustomerID: c.CustomerID}}
		}
		if err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error { _, err := outbox.Add(ctx, tx, evs...); return err }); err != nil {
			return fmt.Errorf("hand off %d claims: %w", len(part), err)
		}
	}
	return nil
}

// ClaimByKey returns the claim a customer made with key (ErrNotFound).
func (s *Store) ClaimByKey(ctx context.Context, customerID, key string) (domain.Claim, error) {
	cs, err := claimsWhere(ctx, s.db, `customer_id=? AND idempotency_key=?`, customerID, key)
	if err != nil {
		return domain.Claim{}, err
	}
	if len(cs) == 0 {
		return domain.Claim{}, fmt.Errorf("%w: claim of key %q", domain.ErrNotFound, key)
	}
	return cs[0], nil
}
