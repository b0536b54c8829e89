package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// ServedAreas returns the served-area entries of a city (all cities of
// the province when city is empty, every entry when both are), each with
// its warehouses.
func (s *Store) ServedAreas(ctx context.Context, province, city string) ([]domain.ServedArea, error) {
	q := `SELECT province, city, district, warehouse FROM served_areas`
	var args []any
	switch {
	case province != "" && city != "":
		q += ` WHERE province = ? AND city = ?`
		args = append(args, province, city)
	case province != "":
		q += ` WHERE province = ?`
		args = append(args, province)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY province, city, district, warehouse`, args...)
	if err != nil {
		return nil, fmt.Errorf("served areas: %w", err)
	}
	defer rows.Close()
	var out []domain.ServedArea
	for rows.Next() {
		var a domain.ServedArea
		var w string
		if err := rows.Scan(&a.Province, &a.City, &a.District, &w); err != nil {
			return nil, fmt.Errorf("served areas: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].Province == a.Province && out[n-1].City == a.City && out[n-1].District == a.District {
			out[n-1].Warehouses = append(out[n-1].Warehouses, w)
			continue
		}
		a.Warehouses = []string{w}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("served areas: %w", err)
	}
	return out, nil
}

// ServingWarehouses returns the warehouses delivering to a (the
// district's own entry, else the city's). While the list is empty (no
// operator has drawn any area yet) every warehouse serves everywhere, as
// before served areas existed; restricted reports which it was.
func (s *Store) ServingWarehouses(ctx context.Context, a domain.AreaRef) (ws []string, restricted bool, err error) {
	entries, err := s.ServedAreas(ctx, a.Province, a.City)
	if err != nil {
		return nil, false, err
	}
	if len(entries) > 0 {
		return domain.Serving(a, entries), true, nil
	}
	var any int
	switch err := s.db.QueryRowContext(ctx, `SELECT 1 FROM served_areas LIMIT 1`).Scan(&any); {
	case errors.Is(err, sql.ErrNoRows):
		ws, err := s.Warehouses(ctx)
		return ws, false, err
	case err != nil:
		return nil, false, fmt.Errorf("served areas: %w", err)
	}
	return nil, true, nil
}

// SetServedArea replaces the warehouses of one served-area entry (none:
// the entry is removed) and records the change with who made it; the
// same list again writes nothing.
func (s *Store) SetServedArea(ctx context.Context, a domain.ServedArea, by string) (domain.ServedArea, error) {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		before, err := sqltx.Strings(ctx, tx, `SELECT warehouse FROM served_areas WHERE province = ? AND city = ? AND district = ?
			ORDER BY warehouse FOR UPDATE`, a.Province, a.City, a.District)
		if err != nil {
			return fmt.Errorf("lock served area: %w", err)
		}
		if slices.Equal(before, a.Warehouses) {
			return nil
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `DELETE FROM served_areas WHERE province = ? AND city = ? AND district = ?`,
			a.Province, a.City, a.District); err != nil {
			return fmt.Errorf("clear served area: %w", err)
		}
		if len(a.Warehouses) > 0 {
			args := make([]any, 0, 6*len(a.Warehouses))
			for _, w := range a.Warehouses {
				args = append(args, a.Province, a.City, a.District, w, by, now)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO served_areas (province, city, district, warehouse, updated_by, updated_at) VALUES `+
				sqltx.Tuples("(?,?,?,?,?,?)", len(a.Warehouses)), args...); err != nil {
				return fmt.Errorf("write served area: %w", err)
			}
		}
		b, _ := json.Marshal(append([]string{}, before...)) // []string cannot fail
		after, _ := json.Marshal(append([]string{}, a.Warehouses...))
		if _, err := tx.ExecContext(ctx, `INSERT INTO served_area_changes (province, city, district, before_wh, after_wh, changed_by, changed_at)
			VALUES (?,?,?,?,?,?,?)`, a.Province, a.City, a.District, b, after, by, now); err != nil {
			return fmt.Errorf("audit served area: %w", err)
		}
		return nil
	})
	return a, err
}
