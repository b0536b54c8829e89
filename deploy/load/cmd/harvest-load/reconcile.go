package main

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/go-sql-driver/mysql"

	"github.com/harvest/harvest/deploy/load"
)

// reconcile compares the stock counts of a stack's inventory, WMS and
// ERP (the partners stand-in) databases and prints every difference; it
// reports whether there was any.
func reconcile(ctx context.Context, server, prefix string) (bool, error) {
	open := func(app string) (*sql.DB, error) {
		db, err := sql.Open("mysql", server+prefix+app+"?parseTime=true&loc=UTC")
		if err != nil {
			return nil, err
		}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s%s: %w", prefix, app, err)
		}
		return db, nil
	}
	var dbs [3]*sql.DB
	for i, app := range []string{"inventory", "wms", "partners"} {
		db, err := open(app)
		if err != nil {
			return false, err
		}
		defer db.Close()
		dbs[i] = db
	}
	rec, err := load.Reconcile(ctx, dbs[0], dbs[1], dbs[2])
	if err != nil {
		return false, err
	}
	fmt.Println(rec)
	return len(rec.Differences) > 0, nil
}
