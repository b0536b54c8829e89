package store

// Coupon campaigns: the campaign row carries its status, BI cursor, stock
// and counters; every step of issuing locks it FOR UPDATE, checks the
// step still applies (status, cursor), and writes its effect, its counts
// and its messages in one transaction with the inbox claim of the message
// that caused it.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

var _ app.CampaignRepository = (*Store)(nil)

type audienceJSON struct {
	MinOrders int      `json:"min_orders"`
	Cities    []string `json:"cities,omitempty"`
}

// CreateCouponCampaign stores a campaign, its exclusions and its gift.
func (s *Store) CreateCouponCampaign(ctx context.Context, c domain.CouponCampaign, key, hash string) (string, error) {
	var nullKey sql.NullString
	if key != "" {
		nullKey = sql.NullString{String: key, Valid: true}
	}
	sp := c.Spec()
	cond, err := json.Marshal(audienceJSON{MinOrders: sp.Audience.MinOrders, Cities: sp.Audience.Cities})
	if err != nil {
		return "", fmt.Errorf("encode conditions: %w", err)
	}
	id := c.ID()
	err = sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		id = c.ID()
		var st domain.TemplateStatus
		var validTo time.Time
		err := tx.QueryRowContext(ctx, `SELECT status, valid_to FROM coupon_templates WHERE id=? LOCK IN SHARE MODE`, sp.TemplateID).Scan(&st, &validTo)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: gift.template_id: coupon template %s does not exist", domain.ErrValidation, sp.TemplateID)
		}
		if err != nil {
			return fmt.Errorf("read coupon template %s: %w", sp.TemplateID, err)
		}
		t := domain.RestoreTemplate(domain.TemplateSnapshot{ID: sp.TemplateID, Status: st, Spec: domain.TemplateSpec{ValidTo: validTo.UTC()}})
		if err := t.CanBind(c.CreatedAt()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO coupon_campaigns (id, idempotency_key, request_hash, name, template_id, conditions, stock_total,
			stock_left, notify_sms, sms_template, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			c.ID(), nullKey, hash, sp.Name, sp.TemplateID, cond, sp.Stock, c.StockLeft(), sp.NotifySMS, sp.SMSText, c.Status(),
			c.CreatedAt(), c.UpdatedAt())
		if sqltx.IsDuplicate(err) && key != "" {
			var h string
			if err := tx.QueryRowContext(ctx, `SELECT id, request_hash FROM coupon_campaigns WHERE idempotency_key=?`, key).Scan(&id, &h); err != nil {
				return fmt.Errorf("read campaign of key %s: %w", key, err)
			}
			if h != hash {
				return domain.ErrKeyReused
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert coupon campaign: %w", err)
		}
		if _, err := insertMany(ctx, tx, `INSERT INTO coupon_campaign_exclusions (campaign_id, customer_id) VALUES `, "(?,?)", len(sp.Excluded),
			func(i int) []any { return []any{c.ID(), sp.Excluded[i]} }); err != nil {
			return fmt.Errorf("insert exclusions: %w", err)
		}
		return nil
	})
	return id, err
}

const couponCampaignCols = `id, name, template_id, conditions, stock_total, stock_left, notify_sms, sms_template, status, bi_cursor, bi_done,
	matched, granted, skipped_excluded, skipped_already, skipped_no_stock, failed, sms_sent, created_at, launched_at, updated_at`

func scanCouponCampaign(r scanner) (domain.CouponCampaignSnapshot, error) {
	var c domain.CouponCampaignSnapshot
	var cond []byte
	var launched sql.NullTime
	p := &c.Progress
	err := r.Scan(&c.ID, &c.Spec.Name, &c.Spec.TemplateID, &cond, &c.Spec.Stock, &c.StockLeft, &c.Spec.NotifySMS, &c.Spec.SMSText, &c.Status,
		&c.Cursor, &c.BIDone, &p.Matched, &p.Granted, &p.SkippedExcluded, &p.SkippedAlready, &p.SkippedNoStock, &p.Failed, &p.SMSSent,
		&c.CreatedAt, &launched, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	var a audienceJSON
	if err := json.Unmarshal(cond, &a); err != nil {
		return c, fmt.Errorf("campaign %s conditions: %w", c.ID, err)
	}
	c.Spec.Audience = domain.Audience{MinOrders: a.MinOrders, Cities: a.Cities}
	c.CreatedAt, c.UpdatedAt, c.LaunchedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), launched.Time.UTC()
	if !launched.Valid {
		c.LaunchedAt = time.Time{}
	}
	return c, nil
}

func couponCampaignQ(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, id, lock string) (domain.CouponCampaignSnapshot, error) {
	c, err := scanCouponCampaign(q.QueryRowContext(ctx, `SELECT `+couponCampaignCols+` FROM coupon_campaigns WHERE id=?`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: coupon campaign %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return c, fmt.Errorf("read coupon campaign %s: %w", id, err)
	}
	return c, nil
}

// CouponCampaign returns one campaign with its exclusions.
func (s *Store) CouponCampaign(ctx context.Context, id string) (domain.CouponCampaign, error) {
	c, err := couponCampaignQ(ctx, s.db, id, "")
	if err != nil {
		return domain.CouponCampaign{}, err
	}
	if c.Spec.Excluded, err = sqltx.Strings(ctx, s.db, `SELECT customer_id FROM coupon_campaign_exclusions WHERE campaign_id=? ORDER BY customer_id`, id); err != nil {
		return domain.CouponCampaign{}, fmt.Errorf("read exclusions of %s: %w", id, err)
	}
	return domain.RestoreCouponCampaign(c), nil
}

// CouponCampaigns lists campaigns newest first (without exclusions).
func (s *Store) CouponCampaigns(ctx context.Context, before string, limit int) ([]domain.CouponCampaign, error) {
	q, args := `SELECT `+couponCampaignCols+` FROM coupon_campaigns`, []any{}
	if before != "" {
		q += ` WHERE id < ?`
		args = append(args, before)
	}
	args = append(args, limit)
	cs, err := sqltx.Collect[domain.CouponCampaignSnapshot](s.db.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, args...))(
		func(r interface{ Scan(...any) error }) (domain.CouponCampaignSnapshot, error) {
			return scanCouponCampaign(r)
		})
	if err != nil {
		return nil, fmt.Errorf("list coupon campaigns: %w", err)
	}
	out := make([]domain.CouponCampaign, len(cs))
	for i, c := range cs {
		out[i] = domain.RestoreCouponCampaign(c)
	}
	return out, nil
}

// UpdateCouponCampaign locks the campaign, lets fn move it, saves its
// status and writes fn's events.
func (s *Store) UpdateCouponCampaign(ctx context.Context, id string, fn func(c *domain.CouponCampaign) ([]outbox.Event, error)) (domain.CouponCampaign, error) {
	var out domain.CouponCampaign
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		snap, err := couponCampaignQ(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		c := domain.RestoreCouponCampaign(snap)
		evs, err := fn(&c)
		if err != nil {
			return err
		}
		var launched any
		if !c.LaunchedAt().IsZero() {
			launched = c.LaunchedAt()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE coupon_campaigns SET status=?, launched_at=?, updated_at=? WHERE id=?`,
			c.Status(), launched, c.UpdatedAt(), id); err != nil {
			return fmt.Errorf("update coupon campaign %s: %w", id, err)
		}
		if _, err := outbox.Add(ctx, tx, evs...); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// Parked lists users parked while the campaign was paused.
func (s *Store) Parked(ctx context.Context, campaignID string, limit int) ([]events.UserMatched, error) {
	us, err := sqltx.Collect[events.UserMatched](s.db.QueryContext(ctx,
		`SELECT customer_id, phone FROM coupon_campaign_parked WHERE campaign_id=? ORDER BY customer_id LIMIT ?`, campaignID, limit))(
		func(r interface{ Scan(...any) error }) (events.UserMatched, error) {
			u := events.UserMatched{CampaignID: campaignID}
			return u, r.Scan(&u.CustomerID, &u.Phone)
		})
	if err != nil {
		return nil, fmt.Errorf("read parked users of %s: %w", campaignID, err)
	}
	return us, nil
}

// ApplyPage records one reading step, once, while the campaign is RUNNING
// at cursor from.
func (s *Store) ApplyPage(ctx context.Context, claim app.InboxClaim, campaignID, from string, st app.PageStep,
	step func(c domain.CouponCampaign) []outbox.Event) (bool, error) {
	applied := false
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		applied = false
		fresh, err := inbox.Claim(ctx, tx, claim.Consumer, claim.MsgID)
		if err != nil || !fresh {
			return err
		}
		snap, err := couponCampaignQ(ctx, tx, campaignID, " FOR UPDATE")
		if err != nil {
			return err
		}
		c := domain.RestoreCouponCampaign(snap)
		if !c.Issuing() || c.Cursor() != from || c.BIDone() {
			return nil // claimed, nothing else: a stale step
		}
		if len(st.Parked) > 0 {
			// Re-emit only the users this step takes off the parked list.
			kept := st.Parked[:0:0]
			for _, u := range st.Parked {
				ok, err := execOne(ctx, tx, `DELETE FROM coupon_campaign_parked WHERE campaign_id=? AND customer_id=?`, campaignID, u.CustomerID)
				if err != nil {
					return fmt.Errorf("unpark %s of %s: %w", u.CustomerID, campaignID, err)
				}
				if ok {
					kept = append(kept, u)
				}
			}
			st.Parked = kept
		} else {
			p := c.Progress()
			status := c.Status()
			if st.Done && p.Answered() >= p.Matched+int64(len(st.Users)) {
				status = domain.CampaignCompleted
			}
			if _, err := tx.ExecContext(ctx, `UPDATE coupon_campaigns SET bi_cursor=?, bi_done=?, matched=matched+?, status=?, updated_at=? WHERE id=?`,
				st.NextCursor, st.Done, len(st.Users), status, time.Now().UTC(), campaignID); err != nil {
				return fmt.Errorf("advance campaign %s: %w", campaignID, err)
			}
		}
		if _, err := outbox.Add(ctx, tx, step(c)...); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

// GrantUsers binds the coupons of a bulk of user messages. Messages are
// claimed in the inbox first (a redelivered one is REPEAT); then, per
// campaign, under its row lock: excluded users are skipped, users bound
// before are ALREADY, and the rest take stock in order until none is left
// (NO_STOCK after). Every outcome is counted in the same transaction.
//
// What a bulk reads about its users (excluded, bound, answered before) is
// read before the campaign's lock, which then covers only the stock, the
// writes and the commit: the bulks of one campaign queue on that lock, so
// whatever is done under it is done one bulk at a time. A user bound or
// answered by a concurrent bulk between that read and this bulk's insert
// (the same user listed twice, a message redelivered while its first
// delivery was still running) makes the insert fail on the unique key;
// the transaction then runs again and sees the other's commit.
func (s *Store) GrantUsers(ctx context.Context, msgIDs []string, users []events.UserMatched, now time.Time,
	granted func(c domain.CouponCampaign, u events.UserMatched, couponID string) []outbox.Event) ([]app.Outcome, error) {
	var out []app.Outcome
	var err error
	for attempt := 1; attempt <= grantAttempts; attempt++ {
		out, err = s.grantUsersOnce(ctx, msgIDs, users, now, granted)
		if !sqltx.IsDuplicate(err) {
			break
		}
	}
	return out, err
}

// grantAttempts bounds the runs of a bulk that met a concurrent bulk's
// commit on a unique key: each run after the first sees every commit made
// before it began, so a second run fails again only when yet another bulk
// bound one of the same users in between.
const grantAttempts = 3

func (s *Store) grantUsersOnce(ctx context.Context, msgIDs []string, users []events.UserMatched, now time.Time,
	granted func(c domain.CouponCampaign, u events.UserMatched, couponID string) []outbox.Event) ([]app.Outcome, error) {
	var out []app.Outcome
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		out = make([]app.Outcome, len(users))
		fresh, err := inbox.ClaimAll(ctx, tx, app.ConsumerUserMatched, msgIDs)
		if err != nil {
			return err
		}
		byCampaign := map[string][]int{}
		var order []string
		for i, u := range users {
			if !fresh[i] {
				out[i] = app.OutcomeRepeat
				continue
			}
			if _, ok := byCampaign[u.CampaignID]; !ok {
				order = append(order, u.CampaignID)
			}
			byCampaign[u.CampaignID] = append(byCampaign[u.CampaignID], i)
		}
		for _, cid := range order {
			if err := s.grantCampaign(ctx, tx, cid, byCampaign[cid], users, out, now, granted); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) grantCampaign(ctx context.Context, tx *sql.Tx, cid string, at []int, users []events.UserMatched, out []app.Outcome,
	now time.Time, granted func(c domain.CouponCampaign, u events.UserMatched, couponID string) []outbox.Event) error {
	isExcluded, isBound, hasOutcome, err := readUserFacts(ctx, tx, cid, at, users)
	if err != nil {
		return err
	}
	snap, err := couponCampaignQ(ctx, tx, cid, " FOR UPDATE")
	if errors.Is(err, domain.ErrNotFound) {
		for _, i := range at {
			out[i] = app.OutcomeDropped
		}
		return nil
	}
	if err != nil {
		return err
	}
	c := domain.RestoreCouponCampaign(snap)
	switch c.Status() {
	case domain.CampaignPaused:
		if _, err := insertMany(ctx, tx, `INSERT IGNORE INTO coupon_campaign_parked (campaign_id, customer_id, phone) VALUES `, "(?,?,?)", len(at),
			func(k int) []any { u := users[at[k]]; return []any{cid, u.CustomerID, u.Phone} }); err != nil {
			return fmt.Errorf("park users of %s: %w", cid, err)
		}
		for _, i := range at {
			out[i] = app.OutcomeParked
		}
		return nil
	case domain.CampaignRunning, domain.CampaignCompleted:
	default: // cancelled
		for _, i := range at {
			out[i] = app.OutcomeDropped
		}
		return nil
	}
	var tmplStatus domain.TemplateStatus
	var validTo time.Time
	if err := tx.QueryRowContext(ctx, `SELECT status, valid_to FROM coupon_templates WHERE id=? LOCK IN SHARE MODE`, c.Spec().TemplateID).
		Scan(&tmplStatus, &validTo); err != nil {
		return fmt.Errorf("read template of campaign %s: %w", cid, err)
	}
	tmpl := domain.RestoreTemplate(domain.TemplateSnapshot{ID: c.Spec().TemplateID, Status: tmplStatus, Spec: domain.TemplateSpec{ValidTo: validTo.UTC()}})
	bindErr := tmpl.CanBind(now)
	left := c.StockLeft()
	var p domain.Progress
	var newCoupons []app.Binding
	var evs []outbox.Event
	var outcomeRows [][]any
	seen := map[string]bool{}
	for _, i := range at {
		u := users[i]
		switch {
		case isBound[u.CustomerID] || seen[u.CustomerID]:
			out[i] = app.OutcomeAlready
			p.SkippedAlready++
		case hasOutcome[u.CustomerID]:
			out[i] = app.OutcomeAlready // answered before (excluded, no stock, failed): counted then
		case isExcluded[u.CustomerID]:
			out[i] = app.OutcomeExcluded
			p.SkippedExcluded++
		case bindErr != nil:
			out[i] = app.OutcomeFailed
			p.Failed++
		case left == 0:
			out[i] = app.OutcomeNoStock
			p.SkippedNoStock++
		default:
			out[i] = app.OutcomeGranted
			p.Granted++
			left--
			b := app.Binding{CouponID: ids.New(), TemplateID: c.Spec().TemplateID, CustomerID: u.CustomerID,
				Source: app.SourceCampaign, SourceRef: cid, Now: now}
			newCoupons = append(newCoupons, b)
			evs = append(evs, granted(c, u, b.CouponID)...)
		}
		seen[u.CustomerID] = true
		if o := out[i]; o == app.OutcomeExcluded || o == app.OutcomeFailed || o == app.OutcomeNoStock {
			outcomeRows = append(outcomeRows, []any{cid, u.CustomerID, string(o), now})
		}
	}
	if _, err := insertMany(ctx, tx, `INSERT INTO coupons (id, template_id, customer_id, status, source, source_ref, bound_at, updated_at) VALUES `,
		"(?,?,?,?,?,?,?,?)", len(newCoupons), func(k int) []any {
			b := newCoupons[k]
			return []any{b.CouponID, b.TemplateID, b.CustomerID, domain.CouponAvailable, b.Source, b.SourceRef, b.Now, b.Now}
		}); err != nil {
		return fmt.Errorf("bind coupons of campaign %s: %w", cid, err)
	}
	if _, err := insertMany(ctx, tx, `INSERT INTO coupon_campaign_outcomes (campaign_id, customer_id, outcome, created_at) VALUES `, "(?,?,?,?)",
		len(outcomeRows), func(k int) []any { return outcomeRows[k] }); err != nil {
		return fmt.Errorf("record outcomes of campaign %s: %w", cid, err)
	}
	all := c.Progress()
	status := c.Status()
	answered := all.Answered() + p.Answered()
	if c.BIDone() && answered >= all.Matched {
		status = domain.CampaignCompleted
	}
	// stock_left only goes down here, under the row lock, by what was bound;
	// the CHECK constraint would refuse it below zero.
	if _, err := tx.ExecContext(ctx, `UPDATE coupon_campaigns SET stock_left=stock_left-?, granted=granted+?, skipped_excluded=skipped_excluded+?,
		skipped_already=skipped_already+?, skipped_no_stock=skipped_no_stock+?, failed=failed+?, status=?, updated_at=? WHERE id=?`,
		c.StockLeft()-left, p.Granted, p.SkippedExcluded, p.SkippedAlready, p.SkippedNoStock, p.Failed, status, now, cid); err != nil {
		return fmt.Errorf("count grants of campaign %s: %w", cid, err)
	}
	if _, err := outbox.Add(ctx, tx, evs...); err != nil {
		return err
	}
	return nil
}

// readUserFacts reads, in one statement, which of the users at are
// excluded from campaign cid, bound its coupon already, or were answered
// before (excluded, no stock, failed: coupon_campaign_outcomes).
func readUserFacts(ctx context.Context, tx *sql.Tx, cid string, at []int, users []events.UserMatched) (excluded, bound, answered map[string]bool, err error) {
	in := sqltx.Tuples("?", len(at))
	args := make([]any, 0, 3*(len(at)+1))
	for range 3 {
		args = append(args, cid)
		for _, i := range at {
			args = append(args, users[i].CustomerID)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT 'X', customer_id FROM coupon_campaign_exclusions WHERE campaign_id=? AND customer_id IN (`+in+`)
		UNION ALL SELECT 'B', customer_id FROM coupons WHERE source='`+app.SourceCampaign+`' AND source_ref=? AND customer_id IN (`+in+`)
		UNION ALL SELECT 'O', customer_id FROM coupon_campaign_outcomes WHERE campaign_id=? AND customer_id IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read exclusions, coupons and outcomes of %s: %w", cid, err)
	}
	defer rows.Close()
	excluded, bound, answered = map[string]bool{}, map[string]bool{}, map[string]bool{}
	into := map[string]map[string]bool{"X": excluded, "B": bound, "O": answered}
	for rows.Next() {
		var kind, customer string
		if err := rows.Scan(&kind, &customer); err != nil {
			return nil, nil, nil, fmt.Errorf("read exclusions, coupons and outcomes of %s: %w", cid, err)
		}
		into[kind][customer] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("read exclusions, coupons and outcomes of %s: %w", cid, err)
	}
	return excluded, bound, answered, nil
}

// CountSMS counts one SMS sent, once per message.
func (s *Store) CountSMS(ctx context.Context, claim app.InboxClaim, campaignID string) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		fresh, err := inbox.Claim(ctx, tx, claim.Consumer, claim.MsgID)
		if err != nil || !fresh {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE coupon_campaigns SET sms_sent=sms_sent+1 WHERE id=?`, campaignID); err != nil {
			return fmt.Errorf("count an SMS of %s: %w", campaignID, err)
		}
		return nil
	})
}
