package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Catalog administration. Every change runs in one transaction that locks
// the product row, checks the version the operator saw, writes the new
// version and its audit row (who, when, the product before and after).
// Prices live in the prices table (the history and the schedule); the
// product row carries the current price and the next scheduled one, which
// reprice recomputes from the table whenever it changes or a change comes
// due.

// doc is a product as the audit records it.
type doc struct {
	SKU        string              `json:"sku"`
	Name       string              `json:"name"`
	PriceFen   money.Fen           `json:"price_fen"`
	PriceFrom  time.Time           `json:"price_from"`
	Next       *domain.PriceChange `json:"next_price,omitempty"`
	Zone       domain.Zone         `json:"zone"`
	Category   domain.Category     `json:"category,omitempty"`
	TaxRateBP  int64               `json:"tax_rate_bp"`
	Warehouse  string              `json:"warehouse"`
	Supplier   string              `json:"supplier,omitempty"`
	DropShip   bool                `json:"drop_ship"`
	Presale    bool                `json:"presale"`
	OwnBox     bool                `json:"own_box"`
	Oversize   bool                `json:"oversize"`
	ShelfLife  int64               `json:"shelf_life_days"`
	Hot        bool                `json:"hot"`
	Components []domain.Component  `json:"components,omitempty"`
}

func docOf(p domain.Product) []byte {
	b, _ := json.Marshal(doc{SKU: p.SKU, Name: p.Name, PriceFen: p.PriceFen, PriceFrom: p.PriceFrom, Next: p.Next, Zone: p.Zone, Category: p.Category,
		TaxRateBP: p.TaxRateBP, Warehouse: p.Warehouse, Supplier: p.Supplier, DropShip: p.DropShip, Presale: p.Presale,
		OwnBox: p.OwnBox, Oversize: p.Oversize, ShelfLife: p.ShelfLife, Hot: p.Hot, Components: p.Components}) // plain values cannot fail
	return b
}

func audit(ctx context.Context, tx *sql.Tx, action, by string, now time.Time, before *domain.Product, after domain.Product) error {
	var b any
	if before != nil {
		b = docOf(*before)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_changes (sku, version, action, changed_by, changed_at, before_doc, after_doc)
		VALUES (?,?,?,?,?,?,?)`, after.SKU, after.Version, action, by, now, b, docOf(after)); err != nil {
		return fmt.Errorf("audit %s of %s: %w", action, after.SKU, err)
	}
	return nil
}

// lockProduct reads a product with its components under the row's lock.
func lockProduct(ctx context.Context, tx *sql.Tx, sku string) (domain.Product, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+productCols+` FROM products p WHERE p.sku = ? FOR UPDATE`, sku)
	if err != nil {
		return domain.Product{}, fmt.Errorf("lock product %s: %w", sku, err)
	}
	ps, err := scanProducts(rows)
	if err != nil {
		return domain.Product{}, err
	}
	if len(ps) == 0 {
		return domain.Product{}, domain.ErrNotFound
	}
	p := ps[0]
	if p.Components != nil {
		crows, err := tx.QueryContext(ctx, `SELECT component_sku, qty FROM bundle_components WHERE bundle_sku = ? ORDER BY component_sku`, sku)
		if err != nil {
			return p, fmt.Errorf("components of %s: %w", sku, err)
		}
		defer crows.Close()
		for crows.Next() {
			var c domain.Component
			if err := crows.Scan(&c.SKU, &c.Qty); err != nil {
				return p, fmt.Errorf("components of %s: %w", sku, err)
			}
			p.Components = append(p.Components, c)
		}
		if err := crows.Err(); err != nil {
			return p, fmt.Errorf("components of %s: %w", sku, err)
		}
	}
	return p, nil
}

func writeComponents(ctx context.Context, tx *sql.Tx, p domain.Product) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM bundle_components WHERE bundle_sku = ?`, p.SKU); err != nil {
		return fmt.Errorf("clear components of %s: %w", p.SKU, err)
	}
	if len(p.Components) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(p.Components))
	for _, c := range p.Components {
		args = append(args, p.SKU, c.SKU, c.Qty)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bundle_components (bundle_sku, component_sku, qty) VALUES `+
		rowsOf(3, len(p.Components)), args...); err != nil {
		return fmt.Errorf("write components of %s: %w", p.SKU, err)
	}
	return nil
}

// CreateProduct adds a product at version 1 with its first price (in
// effect from now), its components, and, unless it is a bundle, a stock
// row with nothing on hand. app.ErrProductExists when the SKU is taken.
func (s *Store) CreateProduct(ctx context.Context, p domain.Product, by string) (domain.Product, error) {
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now()
		p.Version, p.PriceFrom, p.Next = 1, now.Truncate(time.Microsecond), nil
		_, err := tx.ExecContext(ctx, `INSERT INTO products (sku, name, price_fen, zone, category, tax_rate_bp, warehouse, supplier, drop_ship, presale,
			is_bundle, hot, own_box, oversize, shelf_life_days, version, price_from, updated_by, updated_at, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,1,?,?,?,?)`,
			p.SKU, p.Name, p.PriceFen, string(p.Zone), string(p.Category), p.TaxRateBP, p.Warehouse, p.Supplier, p.DropShip, p.Presale, p.IsBundle(),
			p.OwnBox, p.Oversize, p.ShelfLife, p.PriceFrom, by, now, now)
		if sqltx.IsDuplicate(err) {
			return app.ErrProductExists
		}
		if err != nil {
			return fmt.Errorf("insert product %s: %w", p.SKU, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO prices (sku, valid_from, price_fen, created_by, created_at) VALUES (?,?,?,?,?)`,
			p.SKU, p.PriceFrom, p.PriceFen, by, now); err != nil {
			return fmt.Errorf("first price of %s: %w", p.SKU, err)
		}
		if err := writeComponents(ctx, tx, p); err != nil {
			return err
		}
		if !p.IsBundle() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stock (sku, on_hand, available, updated_at) VALUES (?,0,0,?)`, p.SKU, now); err != nil {
				return fmt.Errorf("stock row of %s: %w", p.SKU, err)
			}
		}
		return audit(ctx, tx, "CREATE", by, now, nil, p)
	})
	return p, err
}

// UpdateProduct changes a product's description (not its price: see
// SchedulePrice) under its lock: fn gets the product as it stands and
// returns it changed. expected is the version the operator edited; another
// is app.VersionConflictError. An unchanged product writes nothing.
func (s *Store) UpdateProduct(ctx context.Context, sku string, expected int64, by string, fn func(before domain.Product) (domain.Product, error)) (domain.Product, error) {
	var out domain.Product
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		before, err := lockProduct(ctx, tx, sku)
		if err != nil {
			return err
		}
		if before.Version != expected {
			return &app.VersionConflictError{SKU: sku, Expected: expected, Current: before.Version}
		}
		after, err := fn(before)
		if err != nil {
			return err
		}
		if string(docOf(after)) == string(docOf(before)) {
			out = before
			return nil
		}
		now := s.now()
		after.Version = before.Version + 1
		if _, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, zone = ?, category = ?, tax_rate_bp = ?, warehouse = ?, supplier = ?, drop_ship = ?,
			presale = ?, own_box = ?, oversize = ?, shelf_life_days = ?, version = ?, updated_by = ?, updated_at = ? WHERE sku = ?`,
			after.Name, string(after.Zone), string(after.Category), after.TaxRateBP, after.Warehouse, after.Supplier, after.DropShip, after.Presale,
			after.OwnBox, after.Oversize, after.ShelfLife, after.Version, by, now, sku); err != nil {
			return fmt.Errorf("update product %s: %w", sku, err)
		}
		if after.IsBundle() {
			if err := writeComponents(ctx, tx, after); err != nil {
				return err
			}
		}
		out = after
		return audit(ctx, tx, "UPDATE", by, now, &before, after)
	})
	return out, err
}

// SchedulePrice records a price in effect from from (now or later; the
// same time again replaces the scheduled price) and reprices the product
// row. expected is the version the operator saw, 0 for any.
func (s *Store) SchedulePrice(ctx context.Context, sku string, price money.Fen, from time.Time, expected int64, by string) (domain.Product, error) {
	var out domain.Product
	err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		before, err := lockProduct(ctx, tx, sku)
		if err != nil {
			return err
		}
		if expected != 0 && before.Version != expected {
			return &app.VersionConflictError{SKU: sku, Expected: expected, Current: before.Version}
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO prices (sku, valid_from, price_fen, created_by, created_at) VALUES (?,?,?,?,?)
			ON DUPLICATE KEY UPDATE price_fen = VALUES(price_fen), created_by = VALUES(created_by), created_at = VALUES(created_at)`,
			sku, from.UTC().Truncate(time.Microsecond), price, by, now); err != nil {
			return fmt.Errorf("schedule price of %s: %w", sku, err)
		}
		after, err := reprice(ctx, tx, before, now)
		if err != nil {
			return err
		}
		after.Version = before.Version + 1
		if _, err := tx.ExecContext(ctx, `UPDATE products SET version = ?, updated_by = ?, updated_at = ? WHERE sku = ?`,
			after.Version, by, now, sku); err != nil {
			return fmt.Errorf("version of %s: %w", sku, err)
		}
		out = after
		return audit(ctx, tx, "PRICE", by, now, &before, after)
	})
	return out, err
}

// reprice sets the row's current price (the latest from the prices table
// in effect at now) and its next scheduled one.
func reprice(ctx context.Context, tx *sql.Tx, p domain.Product, now time.Time) (domain.Product, error) {
	err := tx.QueryRowContext(ctx, `SELECT price_fen, valid_from FROM prices WHERE sku = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1`,
		p.SKU, now).Scan(&p.PriceFen, &p.PriceFrom)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("current price of %s: %w", p.SKU, err)
	}
	var next domain.PriceChange
	err = tx.QueryRowContext(ctx, `SELECT price_fen, valid_from FROM prices WHERE sku = ? AND valid_from > ? ORDER BY valid_from LIMIT 1`,
		p.SKU, now).Scan(&next.Price, &next.From)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		p.Next = nil
	case err != nil:
		return p, fmt.Errorf("next price of %s: %w", p.SKU, err)
	default:
		p.Next = &next
	}
	var nextFen, nextAt any
	if p.Next != nil {
		nextFen, nextAt = p.Next.Price, p.Next.From
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET price_fen = ?, price_from = ?, next_price_fen = ?, next_price_at = ? WHERE sku = ?`,
		p.PriceFen, p.PriceFrom, nextFen, nextAt, p.SKU); err != nil {
		return p, fmt.Errorf("reprice %s: %w", p.SKU, err)
	}
	return p, nil
}

// RollPrices reprices up to limit products whose scheduled price has come
// due by now: reads already apply it (domain.Product.PriceAt), this moves
// the row on to the change after it. It answers how many it rolled.
func (s *Store) RollPrices(ctx context.Context, now time.Time, limit int) (int, error) {
	skus, err := s.ids(ctx, "due prices", `SELECT sku FROM products WHERE next_price_at <= ? ORDER BY next_price_at LIMIT ?`, now.UTC(), limit)
	if err != nil {
		return 0, err
	}
	for _, sku := range skus {
		err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
			p, err := lockProduct(ctx, tx, sku)
			if err != nil {
				return err
			}
			if p.Next == nil || p.Next.From.After(now) {
				return nil // rolled by another instance
			}
			_, err = reprice(ctx, tx, p, now)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return len(skus), nil
}

// PricesAt answers the price of each SKU in effect at t, from the history
// (for the SKUs whose row moved past t since).
func (s *Store) PricesAt(ctx context.Context, skus []string, t time.Time) (map[string]money.Fen, error) {
	out := make(map[string]money.Fen, len(skus))
	if len(skus) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT p.sku, p.price_fen FROM prices p JOIN (
		SELECT sku, MAX(valid_from) AS vf FROM prices WHERE sku IN (`+placeholders(len(skus))+`) AND valid_from <= ? GROUP BY sku
		) m ON m.sku = p.sku AND m.vf = p.valid_from`, append(anys(skus), t.UTC())...)
	if err != nil {
		return nil, fmt.Errorf("prices at %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sku string
		var f money.Fen
		if err := rows.Scan(&sku, &f); err != nil {
			return nil, fmt.Errorf("prices at %s: %w", t, err)
		}
		out[sku] = f
	}
	return out, rows.Err()
}

// PriceHistory lists a SKU's prices, oldest first.
func (s *Store) PriceHistory(ctx context.Context, sku string) ([]app.PriceEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT valid_from, price_fen, created_by, created_at FROM prices WHERE sku = ? ORDER BY valid_from`, sku)
	if err != nil {
		return nil, fmt.Errorf("prices of %s: %w", sku, err)
	}
	defer rows.Close()
	var out []app.PriceEntry
	for rows.Next() {
		var e app.PriceEntry
		if err := rows.Scan(&e.From, &e.Price, &e.By, &e.At); err != nil {
			return nil, fmt.Errorf("prices of %s: %w", sku, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Changes lists a SKU's audited versions, newest first.
func (s *Store) Changes(ctx context.Context, sku string, limit int) ([]app.Change, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, action, changed_by, changed_at, before_doc, after_doc FROM catalog_changes
		WHERE sku = ? ORDER BY version DESC LIMIT ?`, sku, limit)
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", sku, err)
	}
	defer rows.Close()
	var out []app.Change
	for rows.Next() {
		var c app.Change
		var before, after []byte
		if err := rows.Scan(&c.Version, &c.Action, &c.By, &c.At, &before, &after); err != nil {
			return nil, fmt.Errorf("changes of %s: %w", sku, err)
		}
		c.Before, c.After = string(before), string(after)
		out = append(out, c)
	}
	return out, rows.Err()
}
