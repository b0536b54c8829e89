package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
)

// List pages through a customer's orders (or a phone's: the address_phone
// index) newest first, by keyset on (created_at, id) so a page costs the
// same however deep it is; the total count comes from the same index.
func (s *Store) List(ctx context.Context, q app.ListQuery) (app.Page, error) {
	where := `customer_id = ?`
	args := []any{q.CustomerID}
	if q.Phone != "" {
		where, args = `address_phone = ?`, []any{q.Phone}
	}
	if q.Status != "" {
		where += ` AND status = ?`
		args = append(args, string(q.Status))
	}
	var page app.Page
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE `+where, args...).Scan(&page.TotalCount); err != nil {
		return app.Page{}, fmt.Errorf("count orders: %w", err)
	}
	if q.After != "" {
		at, id, err := decodeCursor(q.After)
		if err != nil {
			return app.Page{}, err
		}
		where += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, at, at, id)
	}
	args = append(args, q.First+1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+selectCols+` FROM orders WHERE `+where+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return app.Page{}, fmt.Errorf("list orders: %w", err)
	}
	var snaps []domain.Snapshot
	for rows.Next() {
		snap, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return app.Page{}, fmt.Errorf("list orders: %w", err)
		}
		snaps = append(snaps, snap)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return app.Page{}, fmt.Errorf("list orders: %w", err)
	}
	if len(snaps) > q.First {
		snaps, page.HasNext = snaps[:q.First], true
	}
	ids := make([]string, len(snaps))
	for i, sn := range snaps {
		ids[i] = sn.ID
	}
	lines, err := loadLines(ctx, s.db, ids)
	if err != nil {
		return app.Page{}, err
	}
	for _, sn := range snaps {
		sn.Lines = lines[sn.ID]
		o, err := domain.Restore(sn)
		if err != nil {
			return app.Page{}, err
		}
		page.Orders = append(page.Orders, o)
	}
	if n := len(snaps); n > 0 {
		page.EndCursor = encodeCursor(snaps[n-1].CreatedAt, snaps[n-1].ID)
	}
	return page, nil
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + ":" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: %v", app.ErrBadCursor, err)
	}
	us, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", app.ErrBadCursor
	}
	return time.UnixMicro(n).UTC(), id, nil
}
