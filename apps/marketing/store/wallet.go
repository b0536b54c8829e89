package store

// The coupon wallet's rows: templates, their SKUs, and bound coupons.
// Coupons change only by conditional UPDATEs on their status (and hold),
// checked by rows affected; a template's rules are locked FOR UPDATE when
// they change and LOCK IN SHARE MODE while a coupon is bound from it, so a
// rule never changes under a binding that counted on it.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

var _ app.WalletRepository = (*Store)(nil)

// CreateTemplate stores a template and its SKUs in one transaction.
func (s *Store) CreateTemplate(ctx context.Context, t domain.Template, key, hash string) (string, error) {
	var nullKey sql.NullString
	if key != "" {
		nullKey = sql.NullString{String: key, Valid: true}
	}
	id := t.ID()
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		id = t.ID()
		sp := t.Spec()
		_, err := tx.ExecContext(ctx, `INSERT INTO coupon_templates (id, idempotency_key, request_hash, title, value_fen, threshold_fen,
			categories, valid_from, valid_to, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			t.ID(), nullKey, hash, sp.Title, sp.ValueFen, sp.ThresholdFen, joinCategories(sp.Categories), sp.ValidFrom, sp.ValidTo, t.Status(), t.CreatedAt(), t.UpdatedAt())
		if sqltx.IsDuplicate(err) && key != "" {
			var h string
			if err := tx.QueryRowContext(ctx, `SELECT id, request_hash FROM coupon_templates WHERE idempotency_key=?`, key).Scan(&id, &h); err != nil {
				return fmt.Errorf("read template of key %s: %w", key, err)
			}
			if h != hash {
				return domain.ErrKeyReused
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert coupon template: %w", err)
		}
		return writeSKUs(ctx, tx, t.ID(), sp.SKUs)
	})
	return id, err
}

func writeSKUs(ctx context.Context, tx *sql.Tx, id string, skus []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM coupon_template_skus WHERE template_id=?`, id); err != nil {
		return fmt.Errorf("clear skus of template %s: %w", id, err)
	}
	if _, err := insertMany(ctx, tx, `INSERT INTO coupon_template_skus (template_id, sku) VALUES `, "(?,?)", len(skus),
		func(i int) []any { return []any{id, skus[i]} }); err != nil {
		return fmt.Errorf("insert skus of template %s: %w", id, err)
	}
	return nil
}

const templateCols = `t.id, t.title, t.value_fen, t.threshold_fen, t.categories, t.valid_from, t.valid_to, t.status, t.created_at, t.updated_at,
	(SELECT COUNT(*) FROM coupons c WHERE c.template_id=t.id)`

func scanTemplate(r scanner) (domain.TemplateSnapshot, error) {
	var t domain.TemplateSnapshot
	p := &t.Spec
	var categories string
	err := r.Scan(&t.ID, &p.Title, &p.ValueFen, &p.ThresholdFen, &categories, &p.ValidFrom, &p.ValidTo, &t.Status, &t.CreatedAt, &t.UpdatedAt, &t.Bound)
	p.Categories = splitCategories(categories)
	p.ValidFrom, p.ValidTo, t.CreatedAt, t.UpdatedAt = p.ValidFrom.UTC(), p.ValidTo.UTC(), t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

// A template's categories are kept as one sorted comma-separated column
// (migration 00006): the codes are few and fixed and read with the row.
func joinCategories(cs []string) string { return strings.Join(cs, ",") }

func splitCategories(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// templateSKUs reads the SKUs of the templates ids, by template.
func templateSKUs(ctx context.Context, q querier, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT template_id, sku FROM coupon_template_skus WHERE template_id IN (`+
		sqltx.Tuples("?", len(ids))+`) ORDER BY template_id, sku`, args...)
	if err != nil {
		return nil, fmt.Errorf("read template skus: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, sku string
		if err := rows.Scan(&id, &sku); err != nil {
			return nil, fmt.Errorf("read template skus: %w", err)
		}
		out[id] = append(out[id], sku)
	}
	return out, rows.Err()
}

func (s *Store) templateQ(ctx context.Context, q interface {
	querier
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, id, lock string) (domain.Template, error) {
	t, err := scanTemplate(q.QueryRowContext(ctx, `SELECT `+templateCols+` FROM coupon_templates t WHERE t.id=?`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Template{}, fmt.Errorf("%w: coupon template %s", domain.ErrNotFound, id)
	}
	if err != nil {
		return domain.Template{}, fmt.Errorf("read coupon template %s: %w", id, err)
	}
	skus, err := templateSKUs(ctx, q, []string{id})
	if err != nil {
		return domain.Template{}, err
	}
	t.Spec.SKUs = skus[id]
	return domain.RestoreTemplate(t), nil
}

// Template returns one template.
func (s *Store) Template(ctx context.Context, id string) (domain.Template, error) {
	return s.templateQ(ctx, s.db, id, "")
}

// Templates lists templates newest first, keyset-paginated by id.
func (s *Store) Templates(ctx context.Context, before string, limit int) ([]domain.Template, error) {
	q, args := `SELECT `+templateCols+` FROM coupon_templates t`, []any{}
	if before != "" {
		q += ` WHERE t.id < ?`
		args = append(args, before)
	}
	args = append(args, limit)
	ts, err := sqltx.Collect[domain.TemplateSnapshot](s.db.QueryContext(ctx, q+` ORDER BY t.id DESC LIMIT ?`, args...))(
		func(r interface{ Scan(...any) error }) (domain.TemplateSnapshot, error) { return scanTemplate(r) })
	if err != nil {
		return nil, fmt.Errorf("list coupon templates: %w", err)
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	skus, err := templateSKUs(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Template, len(ts))
	for i, t := range ts {
		t.Spec.SKUs = skus[t.ID]
		out[i] = domain.RestoreTemplate(t)
	}
	return out, nil
}

// UpdateTemplate locks the template (bindings of it wait), lets fn change
// it and saves it.
func (s *Store) UpdateTemplate(ctx context.Context, id string, fn func(t *domain.Template) error) (domain.Template, error) {
	var out domain.Template
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		t, err := s.templateQ(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		sp := t.Spec()
		if _, err := tx.ExecContext(ctx, `UPDATE coupon_templates SET title=?, value_fen=?, threshold_fen=?, categories=?, valid_from=?, valid_to=?,
			status=?, updated_at=? WHERE id=?`, sp.Title, sp.ValueFen, sp.ThresholdFen, joinCategories(sp.Categories), sp.ValidFrom, sp.ValidTo, t.Status(), t.UpdatedAt(), id); err != nil {
			return fmt.Errorf("update coupon template %s: %w", id, err)
		}
		if err := writeSKUs(ctx, tx, id, sp.SKUs); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// DeleteTemplate deletes a template from which no coupon was bound.
func (s *Store) DeleteTemplate(ctx context.Context, id string) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		t, err := s.templateQ(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if t.Bound() > 0 {
			return fmt.Errorf("template %s has %d bound coupons (retire it instead): %w", id, t.Bound(), domain.ErrTemplateInUse)
		}
		var inCampaign int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM coupon_campaigns WHERE template_id=?`, id).Scan(&inCampaign); err != nil {
			return fmt.Errorf("count campaigns of template %s: %w", id, err)
		}
		if inCampaign == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM claim_campaigns WHERE template_id=?`, id).Scan(&inCampaign); err != nil {
				return fmt.Errorf("count claim campaigns of template %s: %w", id, err)
			}
		}
		if inCampaign > 0 {
			return fmt.Errorf("template %s is the gift of %d campaigns (retire it instead): %w", id, inCampaign, domain.ErrTemplateInUse)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM coupon_template_skus WHERE template_id=?`, id); err != nil {
			return fmt.Errorf("delete skus of template %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM coupon_templates WHERE id=?`, id); err != nil {
			return fmt.Errorf("delete template %s: %w", id, err)
		}
		return nil
	})
}

// Bind binds one coupon in its own transaction.
func (s *Store) Bind(ctx context.Context, b app.Binding) (domain.Coupon, bool, error) {
	var created bool
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		created, err = bindTx(ctx, tx, b)
		return err
	})
	if err != nil {
		return domain.Coupon{}, false, err
	}
	c, err := s.couponBySource(ctx, s.db, b.CustomerID, b.Source, b.SourceRef)
	if err != nil {
		return domain.Coupon{}, false, err
	}
	if c.TemplateID != b.TemplateID {
		return domain.Coupon{}, false, fmt.Errorf("%s %s already bound coupon %s of another template to %s: %w",
			b.Source, b.SourceRef, c.ID, b.CustomerID, domain.ErrKeyReused)
	}
	return c, created, nil
}

// bindTx binds a coupon inside tx: the template is read under a shared
// lock (its rules cannot change meanwhile) and must bind at b.Now; a
// coupon already bound for (customer, source, ref) is left alone
// (created=false).
func bindTx(ctx context.Context, tx *sql.Tx, b app.Binding) (created bool, err error) {
	var st domain.TemplateStatus
	var validTo time.Time
	err = tx.QueryRowContext(ctx, `SELECT status, valid_to FROM coupon_templates WHERE id=? LOCK IN SHARE MODE`, b.TemplateID).Scan(&st, &validTo)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("%w: coupon template %s", domain.ErrNotFound, b.TemplateID)
	}
	if err != nil {
		return false, fmt.Errorf("read coupon template %s: %w", b.TemplateID, err)
	}
	t := domain.RestoreTemplate(domain.TemplateSnapshot{ID: b.TemplateID, Status: st, Spec: domain.TemplateSpec{ValidTo: validTo.UTC()}})
	res, err := tx.ExecContext(ctx, `INSERT IGNORE INTO coupons (id, template_id, customer_id, status, source, source_ref, bound_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?)`, b.CouponID, b.TemplateID, b.CustomerID, domain.CouponAvailable, b.Source, b.SourceRef, b.Now, b.Now)
	if err != nil {
		return false, fmt.Errorf("bind coupon of %s to %s: %w", b.TemplateID, b.CustomerID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("bind coupon of %s to %s: %w", b.TemplateID, b.CustomerID, err)
	}
	if n == 0 {
		return false, nil // bound before: the first answer stands, even after the template ended
	}
	if err := t.CanBind(b.Now); err != nil {
		return false, err // rolls the insert back
	}
	return true, nil
}

const couponCols = `c.id, c.template_id, c.customer_id, c.status, c.hold_id, c.source, c.source_ref, c.bound_at,
	t.title, t.value_fen, t.threshold_fen, t.categories, t.valid_from, t.valid_to`

func scanCoupon(r interface{ Scan(...any) error }) (domain.Coupon, error) {
	var c domain.Coupon
	var hold sql.NullString
	var categories string
	p := &c.Rules
	err := r.Scan(&c.ID, &c.TemplateID, &c.CustomerID, &c.Status, &hold, &c.Source, &c.SourceRef, &c.BoundAt,
		&p.Title, &p.ValueFen, &p.ThresholdFen, &categories, &p.ValidFrom, &p.ValidTo)
	p.Categories = splitCategories(categories)
	c.HoldID, c.BoundAt, p.ValidFrom, p.ValidTo = hold.String, c.BoundAt.UTC(), p.ValidFrom.UTC(), p.ValidTo.UTC()
	return c, err
}

// coupons reads coupons with their templates' rules.
func coupons(ctx context.Context, q querier, where string, args ...any) ([]domain.Coupon, error) {
	cs, err := sqltx.Collect[domain.Coupon](q.QueryContext(ctx, `SELECT `+couponCols+` FROM coupons c
		JOIN coupon_templates t ON t.id=c.template_id WHERE `+where, args...))(scanCoupon)
	if err != nil {
		return nil, fmt.Errorf("read coupons: %w", err)
	}
	tids := []string{}
	seen := map[string]bool{}
	for _, c := range cs {
		if !seen[c.TemplateID] {
			seen[c.TemplateID] = true
			tids = append(tids, c.TemplateID)
		}
	}
	skus, err := templateSKUs(ctx, q, tids)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i].Rules.SKUs = skus[cs[i].TemplateID]
	}
	return cs, nil
}

func (s *Store) couponBySource(ctx context.Context, q querier, customerID, source, ref string) (domain.Coupon, error) {
	cs, err := coupons(ctx, q, `c.customer_id=? AND c.source=? AND c.source_ref=?`, customerID, source, ref)
	if err != nil {
		return domain.Coupon{}, err
	}
	if len(cs) == 0 {
		return domain.Coupon{}, fmt.Errorf("coupon of %s %s for %s: %w", source, ref, customerID, domain.ErrCouponNotFound)
	}
	return cs[0], nil
}

// Coupon returns one coupon with its rules.
func (s *Store) Coupon(ctx context.Context, id string) (domain.Coupon, error) {
	cs, err := coupons(ctx, s.db, `c.id=?`, id)
	if err != nil {
		return domain.Coupon{}, err
	}
	if len(cs) == 0 {
		return domain.Coupon{}, fmt.Errorf("coupon %s: %w", id, domain.ErrCouponNotFound)
	}
	return cs[0], nil
}

// Coupons lists a customer's coupons, newest first.
func (s *Store) Coupons(ctx context.Context, customerID string, limit int) ([]domain.Coupon, error) {
	return coupons(ctx, s.db, `c.customer_id=? ORDER BY c.bound_at DESC, c.id DESC LIMIT ?`, customerID, limit)
}

// Unbind moves an AVAILABLE coupon of the customer to UNBOUND and records
// who asked; a coupon in a deduction cannot be unbound.
func (s *Store) Unbind(ctx context.Context, couponID, customerID, agent, reason string, now time.Time) (domain.Coupon, error) {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		cs, err := coupons(ctx, tx, `c.id=? FOR UPDATE`, couponID)
		if err != nil {
			return err
		}
		if len(cs) == 0 || (customerID != "" && cs[0].CustomerID != customerID) {
			return fmt.Errorf("coupon %s: %w", couponID, domain.ErrCouponNotFound)
		}
		switch cs[0].Status {
		case domain.CouponUnbound:
			return nil // unbound before: the same answer
		case domain.CouponAvailable:
		default:
			return fmt.Errorf("coupon %s is %s: %w", couponID, cs[0].Status, domain.ErrCouponNotUsable)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE coupons SET status=?, updated_at=? WHERE id=? AND status=?`,
			domain.CouponUnbound, now, couponID, domain.CouponAvailable); err != nil {
			return fmt.Errorf("unbind coupon %s: %w", couponID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO coupon_unbindings (coupon_id, agent, reason, created_at) VALUES (?,?,?,?)`,
			couponID, agent, reason, now); err != nil {
			return fmt.Errorf("record unbinding of %s: %w", couponID, err)
		}
		return nil
	})
	if err != nil {
		return domain.Coupon{}, err
	}
	return s.Coupon(ctx, couponID)
}

// Hold holds the coupons for holdID, all or none: they are locked in id
// order (two holds on the same coupons cannot deadlock), judged by check,
// then moved AVAILABLE → HELD by conditional updates.
func (s *Store) Hold(ctx context.Context, holdID, customerID string, couponIDs []string, now, nextCheck time.Time,
	check func(domain.Coupon) error) ([]domain.Coupon, error) {
	var out []domain.Coupon
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		args := make([]any, len(couponIDs))
		for i, id := range couponIDs {
			args[i] = id
		}
		cs, err := coupons(ctx, tx, `c.id IN (`+sqltx.Tuples("?", len(couponIDs))+`) ORDER BY c.id FOR UPDATE`, args...)
		if err != nil {
			return err
		}
		byID := make(map[string]domain.Coupon, len(cs))
		for _, c := range cs {
			byID[c.ID] = c
		}
		out = make([]domain.Coupon, 0, len(couponIDs))
		for _, id := range couponIDs {
			c, ok := byID[id]
			if !ok {
				return fmt.Errorf("coupon %s: %w", id, domain.ErrCouponNotFound)
			}
			if err := check(c); err != nil {
				return err
			}
			if c.Status == domain.CouponAvailable {
				ok, err := execOne(ctx, tx, `UPDATE coupons SET status=?, hold_id=?, next_check_at=?, updated_at=? WHERE id=? AND status=?`,
					domain.CouponHeld, holdID, nextCheck, now, id, domain.CouponAvailable)
				if err != nil {
					return fmt.Errorf("hold coupon %s: %w", id, err)
				}
				if !ok {
					return fmt.Errorf("coupon %s: %w", id, domain.ErrCouponNotUsable)
				}
				c.Status, c.HoldID = domain.CouponHeld, holdID
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func execOne(ctx context.Context, tx *sql.Tx, q string, args ...any) (bool, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Settle applies PAY's word on a hold to its coupons.
func (s *Store) Settle(ctx context.Context, holdID string, st domain.HoldState, now, nextCheck time.Time) (int64, error) {
	var res sql.Result
	var err error
	switch {
	case st.Gives():
		res, err = s.db.ExecContext(ctx, `UPDATE coupons SET status=?, hold_id=NULL, next_check_at=NULL, updated_at=?
			WHERE hold_id=? AND status IN (?,?)`, domain.CouponAvailable, now, holdID, domain.CouponHeld, domain.CouponUsed)
	case st == domain.HoldUsed:
		res, err = s.db.ExecContext(ctx, `UPDATE coupons SET status=?, next_check_at=NULL, updated_at=? WHERE hold_id=? AND status=?`,
			domain.CouponUsed, now, holdID, domain.CouponHeld)
	case st == domain.HoldHeld:
		res, err = s.db.ExecContext(ctx, `UPDATE coupons SET next_check_at=? WHERE hold_id=? AND status=?`, nextCheck, holdID, domain.CouponHeld)
	default:
		return 0, fmt.Errorf("%w: hold state %q", domain.ErrValidation, st)
	}
	if err != nil {
		return 0, fmt.Errorf("settle hold %s as %s: %w", holdID, st, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("settle hold %s as %s: %w", holdID, st, err)
	}
	return n, nil
}

// DueHolds lists holds with HELD coupons whose check-back is due.
func (s *Store) DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ids, err := sqltx.Strings(ctx, s.db, `SELECT DISTINCT hold_id FROM coupons WHERE status=? AND next_check_at <= ? ORDER BY hold_id LIMIT ?`,
		domain.CouponHeld, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list holds due for a check-back: %w", err)
	}
	return ids, nil
}
