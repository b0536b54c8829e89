package load

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Reconciliation of stock between inventory, WMS and ERP (DOMAIN 7.3):
// each app keeps its own count of the same goods, moved by messages and
// uploads that may be lost, doubled or late. Reconcile reads their
// databases and compares, per warehouse and SKU, what each side must agree
// on:
//
//   - RECEIVED: the units WMS put into bins by receipt, put-away of a
//     receipt from the dock, or put-back (each publishes
//     wms.stock.received; what waits at the dock is in no bin yet) against the units inventory applied
//     from those events (received_stock, once per receipt id). A lost or
//     not yet delivered event shows as WMS above inventory; a doubled one
//     cannot (the receipt id is inventory's key).
//   - BINS: the on-hand stock in WMS's bins against the sum of WMS's
//     movement log (inv_tran): a bin changed without a movement. LOSS
//     movements are left out: they write off picked units at the QC
//     bench, which the PICK movement already took out of the bin.
//   - OCCUPIED: what WMS's bins hold occupied against what the work
//     orders' allocations still hold (work_order_picks, qty − picked).
//   - ERP_BOOKED (with ERP's database): the movements ERP booked against
//     the movements WMS marked uploaded; a movement marked but not booked,
//     differs (ERP books each once by id).
//
// Inventory's sellable count itself is not compared with WMS's free stock:
// inventory reserves at placement and never hears of the pick, so the two
// differ by every order between placement and picking; the receipts are
// where the two counts must meet. Run it when the floor is quiet (events
// in flight read as differences until delivered).

// Difference is one disagreement.
type Difference struct {
	Check, Warehouse, SKU string
	Left, Right           int64 // the two counts, named by Check
}

func (d Difference) String() string {
	l, r := checkSides[d.Check][0], checkSides[d.Check][1]
	return fmt.Sprintf("%-10s %-8s %-14s %s %d, %s %d (%+d)", d.Check, d.Warehouse, d.SKU, l, d.Left, r, d.Right, d.Left-d.Right)
}

var checkSides = map[string][2]string{
	"RECEIVED":   {"WMS received", "inventory applied"},
	"BINS":       {"bins on hand", "movements"},
	"OCCUPIED":   {"bins occupied", "allocations open"},
	"ERP_BOOKED": {"WMS uploaded", "ERP booked"},
}

// Reconciliation is what Reconcile found.
type Reconciliation struct {
	Compared    int // warehouse/SKU pairs compared (over all checks)
	Differences []Difference
	// NotSellable counts units inventory recorded but did not make
	// sellable (a SKU it carries no stock for, or ships from elsewhere).
	NotSellable int64
}

type whSKU struct{ wh, sku string }

// Reconcile compares inventory's, WMS's and (when erp is not nil) ERP's
// counts; see the checks above.
func Reconcile(ctx context.Context, inventory, wms, erp *sql.DB) (Reconciliation, error) {
	var out Reconciliation
	read := func(db *sql.DB, q string) (map[whSKU]int64, error) {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := map[whSKU]int64{}
		for rows.Next() {
			var k whSKU
			var n int64
			if err := rows.Scan(&k.wh, &k.sku, &n); err != nil {
				return nil, err
			}
			m[k] += n
		}
		return m, rows.Err()
	}
	type side struct {
		db *sql.DB
		q  string
	}
	checks := []struct {
		name        string
		left, right side
	}{
		{"RECEIVED",
			side{wms, `SELECT warehouse, sku, SUM(put_away) FROM stock_receipts GROUP BY warehouse, sku
				UNION ALL SELECT warehouse, sku, SUM(qty) FROM putaway_tasks WHERE status='DONE' GROUP BY warehouse, sku`},
			side{inventory, `SELECT warehouse, sku, SUM(qty) FROM received_stock GROUP BY warehouse, sku`}},
		{"BINS",
			side{wms, `SELECT warehouse, sku, SUM(on_hand) FROM wms_inv GROUP BY warehouse, sku`},
			side{wms, `SELECT warehouse, sku, SUM(qty) FROM inv_tran WHERE kind <> 'LOSS' GROUP BY warehouse, sku`}},
		{"OCCUPIED",
			side{wms, `SELECT warehouse, sku, SUM(occupied) FROM wms_inv GROUP BY warehouse, sku`},
			side{wms, `SELECT o.warehouse, p.sku, SUM(p.qty - p.picked_qty) FROM work_order_picks p
				JOIN sales_order o ON o.work_order_id=p.work_order_id GROUP BY o.warehouse, p.sku`}},
	}
	if erp != nil {
		checks = append(checks, struct {
			name        string
			left, right side
		}{"ERP_BOOKED",
			side{wms, `SELECT warehouse, sku, SUM(qty) FROM inv_tran WHERE uploaded_at IS NOT NULL GROUP BY warehouse, sku`},
			side{erp, `SELECT warehouse, sku, SUM(qty) FROM erp_movements GROUP BY warehouse, sku`}})
	}
	for _, c := range checks {
		l, err := read(c.left.db, c.left.q)
		if err != nil {
			return out, fmt.Errorf("%s: %w", c.name, err)
		}
		r, err := read(c.right.db, c.right.q)
		if err != nil {
			return out, fmt.Errorf("%s: %w", c.name, err)
		}
		keys := map[whSKU]bool{}
		for k := range l {
			keys[k] = true
		}
		for k := range r {
			keys[k] = true
		}
		for k := range keys {
			out.Compared++
			if l[k] != r[k] {
				out.Differences = append(out.Differences, Difference{Check: c.name, Warehouse: k.wh, SKU: k.sku, Left: l[k], Right: r[k]})
			}
		}
	}
	sort.Slice(out.Differences, func(i, j int) bool {
		a, b := out.Differences[i], out.Differences[j]
		return a.Check+"/"+a.Warehouse+"/"+a.SKU < b.Check+"/"+b.Warehouse+"/"+b.SKU
	})
	var ns sql.NullInt64
	if err := inventory.QueryRowContext(ctx, `SELECT SUM(qty) FROM received_stock WHERE raised=0`).Scan(&ns); err != nil {
		return out, fmt.Errorf("not sellable: %w", err)
	}
	out.NotSellable = ns.Int64
	return out, nil
}

func (r Reconciliation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compared %d warehouse/SKU counts: %d differences", r.Compared, len(r.Differences))
	if r.NotSellable > 0 {
		fmt.Fprintf(&b, "; %d units received that inventory does not sell (unknown SKU or another warehouse's)", r.NotSellable)
	}
	for _, d := range r.Differences {
		b.WriteString("\n  " + d.String())
	}
	return b.String()
}
