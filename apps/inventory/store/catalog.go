package store

import (
	"github.com/harvest/harvest/apps/inventory/app"

	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// CountProducts counts the catalog (the seeder runs only when it is empty).
func (s *Store) CountProducts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM products`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// InsertCatalog adds products, their bundle components and initial stock
// (onHand per stock-carrying SKU) in one transaction; existing SKUs are
// left as they are, so two instances seeding at once do no harm.
func (s *Store) InsertCatalog(ctx context.Context, products []domain.Product, onHand map[string]int64) error {
	for _, p := range products {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("product %s: %w", p.SKU, err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin catalog insert: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	const chunk = 200
	for i := 0; i < len(products); i += chunk {
		part := products[i:min(i+chunk, len(products))]
		var vals, comps, stock, prices []any
		for _, p := range part {
			vals = append(vals, p.SKU, p.Name, p.PriceFen, string(p.Zone), string(p.Category), p.TaxRateBP, p.Warehouse, p.Supplier,
				p.DropShip, p.Presale, p.IsBundle(), p.Hot, p.OwnBox, p.Oversize, p.ShelfLife, now)
			prices = append(prices, p.SKU, time.Unix(0, 0).UTC(), p.PriceFen, "seed", now)
			for _, c := range p.Components {
				comps = append(comps, p.SKU, c.SKU, c.Qty)
			}
			if !p.IsBundle() {
				stock = append(stock, p.SKU, onHand[p.SKU], onHand[p.SKU], now)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO products (sku, name, price_fen, zone, category, tax_rate_bp, warehouse, supplier,
			drop_ship, presale, is_bundle, hot, own_box, oversize, shelf_life_days, created_at) VALUES `+rowsOf(16, len(vals)/16), vals...); err != nil {
			return fmt.Errorf("insert products: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO prices (sku, valid_from, price_fen, created_by, created_at) VALUES `+
			rowsOf(5, len(prices)/5), prices...); err != nil {
			return fmt.Errorf("insert prices: %w", err)
		}
		if len(comps) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO bundle_components (bundle_sku, component_sku, qty) VALUES `+
				rowsOf(3, len(comps)/3), comps...); err != nil {
				return fmt.Errorf("insert components: %w", err)
			}
		}
		if len(stock) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO stock (sku, on_hand, available, updated_at) VALUES `+
				rowsOf(4, len(stock)/4), stock...); err != nil {
				return fmt.Errorf("insert stock: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit catalog insert: %w", err)
	}
	return nil
}

func rowsOf(cols, n int) string {
	return sqltx.Tuples("("+placeholders(cols)+")", n)
}

const productCols = `p.sku, p.name, p.price_fen, p.zone, COALESCE(p.category, ''), p.tax_rate_bp, p.warehouse, p.supplier, p.drop_ship, p.presale, p.hot, p.is_bundle,
	p.own_box, p.oversize, p.shelf_life_days, p.version, p.price_from, p.next_price_fen, p.next_price_at`

func scanProducts(rows *sql.Rows) ([]domain.Product, error) {
	defer rows.Close()
	var out []domain.Product
	for rows.Next() {
		var p domain.Product
		var zone, category string
		var bundle bool
		var nextPrice sql.NullInt64
		var nextAt sql.NullTime
		if err := rows.Scan(&p.SKU, &p.Name, &p.PriceFen, &zone, &category, &p.TaxRateBP, &p.Warehouse, &p.Supplier,
			&p.DropShip, &p.Presale, &p.Hot, &bundle, &p.OwnBox, &p.Oversize, &p.ShelfLife, &p.Version, &p.PriceFrom,
			&nextPrice, &nextAt); err != nil {
			return nil, fmt.Errorf("read product: %w", err)
		}
		p.Zone, p.Category = domain.Zone(zone), domain.Category(category)
		if nextPrice.Valid && nextAt.Valid {
			p.Next = &domain.PriceChange{Price: money.Fen(nextPrice.Int64), From: nextAt.Time}
		}
		if bundle {
			p.Components = []domain.Component{} // filled by loadComponents
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read products: %w", err)
	}
	return out, nil
}

// loadComponents fills the components of the bundles in ps.
func (s *Store) loadComponents(ctx context.Context, ps []domain.Product) error {
	idx := map[string]int{}
	var skus []string
	for i, p := range ps {
		if p.Components != nil {
			idx[p.SKU] = i
			skus = append(skus, p.SKU)
		}
	}
	if len(skus) == 0 {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT bundle_sku, component_sku, qty FROM bundle_components
		WHERE bundle_sku IN (`+placeholders(len(skus))+`) ORDER BY bundle_sku, component_sku`, anys(skus)...)
	if err != nil {
		return fmt.Errorf("components: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b string
		var c domain.Component
		if err := rows.Scan(&b, &c.SKU, &c.Qty); err != nil {
			return fmt.Errorf("components: %w", err)
		}
		ps[idx[b]].Components = append(ps[idx[b]].Components, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("components: %w", err)
	}
	return nil
}

// Products returns the catalog entries of skus and of every component of
// the bundles among them, keyed by SKU; unknown SKUs are simply absent.
// The SKUs of calls arriving together are read with one query
// (group.Loader): every placement reads its lines' entries.
func (s *Store) Products(ctx context.Context, skus []string) (map[string]domain.Product, error) {
	out := map[string]domain.Product{}
	want := skus
	for round := 0; round < 2 && len(want) > 0; round++ {
		found, err := s.catalog.Load(ctx, want...)
		if err != nil {
			return nil, fmt.Errorf("load products: %w", err)
		}
		want = nil
		for sku, p := range found {
			out[sku] = p
		}
		for _, p := range found {
			for _, c := range p.Components {
				if _, ok := out[c.SKU]; !ok {
					want = append(want, c.SKU)
				}
			}
		}
	}
	return out, nil
}

// productsOnce reads the entries of skus, bundles with their components.
func (s *Store) productsOnce(ctx context.Context, skus []string) (map[string]domain.Product, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+productCols+` FROM products p WHERE p.sku IN (`+placeholders(len(skus))+`)`, anys(skus)...)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	ps, err := scanProducts(rows)
	if err != nil {
		return nil, err
	}
	if err := s.loadComponents(ctx, ps); err != nil {
		return nil, err
	}
	out := make(map[string]domain.Product, len(ps))
	for _, p := range ps {
		out[p.SKU] = p
	}
	return out, nil
}

// Levels returns the stock rows of skus (stock-carrying SKUs).
func (s *Store) Levels(ctx context.Context, skus []string) (map[string]app.Level, error) {
	out := map[string]app.Level{}
	if len(skus) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.sku, s.available, s.on_hand, p.hot FROM stock s JOIN products p ON p.sku = s.sku
		WHERE s.sku IN (`+placeholders(len(skus))+`)`, anys(skus)...)
	if err != nil {
		return nil, fmt.Errorf("stock levels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sku string
		var l app.Level
		if err := rows.Scan(&sku, &l.Available, &l.OnHand, &l.Hot); err != nil {
			return nil, fmt.Errorf("stock levels: %w", err)
		}
		out[sku] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stock levels: %w", err)
	}
	return out, nil
}

// Search returns one page of products ordered by SKU (keyset pagination),
// whether more follow, and how many match in total. "In stock" uses
// MariaDB's levels: for a hot SKU that is the written-back mirror, seconds
// behind Redis at most.
func (s *Store) Search(ctx context.Context, f app.Filter) ([]domain.Product, bool, int64, error) {
	var where []string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
		where = append(where, `(p.name LIKE ? OR p.sku LIKE ?)`)
		args = append(args, like, like)
	}
	if f.Zone != "" {
		where = append(where, `p.zone = ?`)
		args = append(args, string(f.Zone))
	}
	if f.Category != "" {
		where = append(where, `p.category = ?`)
		args = append(args, string(f.Category))
	}
	if f.Warehouse != "" {
		where = append(where, `p.warehouse = ?`)
		args = append(args, f.Warehouse)
	}
	if f.InStock {
		where = append(where, `((p.is_bundle = 0 AND s.available > 0) OR (p.is_bundle = 1 AND NOT EXISTS (
			SELECT 1 FROM bundle_components c LEFT JOIN stock cs ON cs.sku = c.component_sku
			WHERE c.bundle_sku = p.sku AND COALESCE(cs.available, 0) < c.qty)))`)
	}
	from := ` FROM products p LEFT JOIN stock s ON s.sku = p.sku`
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from+cond, args...).Scan(&total); err != nil {
		return nil, false, 0, fmt.Errorf("count products: %w", err)
	}
	pageCond := cond
	pageArgs := append([]any(nil), args...)
	if f.After != "" {
		if pageCond == "" {
			pageCond = " WHERE p.sku > ?"
		} else {
			pageCond += " AND p.sku > ?"
		}
		pageArgs = append(pageArgs, f.After)
	}
	pageArgs = append(pageArgs, f.First+1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+productCols+from+pageCond+` ORDER BY p.sku LIMIT ?`, pageArgs...)
	if err != nil {
		return nil, false, 0, fmt.Errorf("search products: %w", err)
	}
	ps, err := scanProducts(rows)
	if err != nil {
		return nil, false, 0, err
	}
	hasNext := len(ps) > f.First
	if hasNext {
		ps = ps[:f.First]
	}
	if err := s.loadComponents(ctx, ps); err != nil {
		return nil, false, 0, err
	}
	return ps, hasNext, total, nil
}
