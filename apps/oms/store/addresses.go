package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

const addressCols = `id, name, phone, province, city, district, detail, label, is_default, created_at, updated_at`

func readBook(ctx context.Context, q queryer, customerID string, lock bool) (*domain.AddressBook, []domain.SavedAddressSnapshot, error) {
	query := `SELECT ` + addressCols + ` FROM customer_addresses WHERE customer_id = ? ORDER BY created_at, id`
	if lock {
		query += ` FOR UPDATE`
	}
	rows, err := q.QueryContext(ctx, query, customerID)
	if err != nil {
		return nil, nil, fmt.Errorf("address book of %s: %w", customerID, err)
	}
	defer rows.Close()
	var es []domain.SavedAddressSnapshot
	for rows.Next() {
		var e domain.SavedAddressSnapshot
		a := &e.Address
		if err := rows.Scan(&e.ID, &a.Name, &a.Phone, &a.Province, &a.City, &a.District, &a.Detail, &e.Label, &e.IsDefault,
			&e.CreatedAt, &e.UpdatedAt); err != nil {
			return nil, nil, fmt.Errorf("address book of %s: %w", customerID, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("address book of %s: %w", customerID, err)
	}
	return domain.RestoreAddressBook(customerID, es), es, nil
}

// LoadBook reads a customer's address book.
func (s *Store) LoadBook(ctx context.Context, customerID string) (*domain.AddressBook, error) {
	b, _, err := readBook(ctx, s.db, customerID, false)
	return b, err
}

// UpdateBook runs fn on the customer's book with its rows locked (FOR
// UPDATE also locks the gap of a customer with none, so two first adds
// serialise) and writes back the entries fn added, changed or removed.
func (s *Store) UpdateBook(ctx context.Context, customerID string, fn func(b *domain.AddressBook) error) (*domain.AddressBook, error) {
	var out *domain.AddressBook
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		b, before, err := readBook(ctx, tx, customerID, true)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		if ids := b.Removed(); len(ids) > 0 {
			args := append([]any{customerID}, anyStrings(ids)...)
			if _, err := tx.ExecContext(ctx, `DELETE FROM customer_addresses WHERE customer_id = ? AND id IN (`+sqltx.Tuples("?", len(ids))+`)`, args...); err != nil {
				return fmt.Errorf("remove addresses of %s: %w", customerID, err)
			}
		}
		for _, e := range b.Entries() {
			i := slices.IndexFunc(before, func(x domain.SavedAddressSnapshot) bool { return x.ID == e.ID() })
			if i >= 0 && before[i].Address == e.Address() && before[i].Label == e.Label() && before[i].IsDefault == e.IsDefault() {
				continue
			}
			a := e.Address()
			if _, err := tx.ExecContext(ctx, `INSERT INTO customer_addresses (id, customer_id, `+addressCols[len("id, "):]+`)
				VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE name = VALUES(name), phone = VALUES(phone), province = VALUES(province),
				city = VALUES(city), district = VALUES(district), detail = VALUES(detail), label = VALUES(label),
				is_default = VALUES(is_default), updated_at = VALUES(updated_at)`,
				e.ID(), customerID, a.Name, a.Phone, a.Province, a.City, a.District, a.Detail, e.Label(), e.IsDefault(),
				e.CreatedAt().UTC(), e.UpdatedAt().UTC()); err != nil {
				return fmt.Errorf("save address %s of %s: %w", e.ID(), customerID, err)
			}
		}
		out = b
		return nil
	})
	return out, err
}

func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
