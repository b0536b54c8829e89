package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/harvest/harvest/deploy/load"
)

// qBrowse is the customer's catalog page: what the shop's home screen
// asks for, stock state included.
const qBrowse = `query { products(first: 20, filter: {inStock: true}) { edges { node { sku name priceFen stockState } } } }`

// browse reads the catalog page through the gateway at rate for d, beside
// the same page read straight from inventory's MariaDB table (invDSN, the
// stack's own database; empty: no baseline, a stack not our own).
func browse(ctx context.Context, url string, token func(string, string) string, invDSN string, rate int, d, baselineD time.Duration) error {
	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = token("CUSTOMER", fmt.Sprintf("C%04d", i+1))
	}
	body := load.GraphQLBody(qBrowse, nil)
	fmt.Printf("products(first: 20) by %d customers: %d/s for %s\n", len(tokens), rate, d)
	r, outcomes, reasons := load.Attack(ctx, "products query via gateway (whole stack)", url, rate, d, 0,
		func(i int64) (string, []byte) { return tokens[i%int64(len(tokens))], body }, classifyBrowse)
	fmt.Println()
	fmt.Println(r)
	fmt.Printf("  pages %d, failed %d\n", outcomes[load.OK], outcomes[load.Failed])
	for why, n := range reasons {
		fmt.Printf("  %6d × %s\n", n, why)
	}
	if invDSN == "" {
		fmt.Println("baseline: none (-url names a stack whose database this run does not own)")
		return nil
	}
	db, err := sql.Open("mysql", invDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(64)
	b := load.Closed(ctx, "baseline: mariadb read of the same page", 64, baselineD, func(ctx context.Context, _ int, _ int64) error {
		rows, err := db.QueryContext(ctx, `SELECT sku, name, price_fen FROM products ORDER BY sku LIMIT 20`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sku, name string
			var price int64
			if err := rows.Scan(&sku, &name, &price); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	fmt.Println(b)
	return nil
}

func classifyBrowse(data json.RawMessage) (load.Outcome, string) {
	var r struct {
		Products struct {
			Edges []struct{ Node struct{ SKU string } }
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return load.Failed, "bad data"
	}
	if len(r.Products.Edges) == 0 {
		return load.Failed, "empty page"
	}
	return load.OK, ""
}
