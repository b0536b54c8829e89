package load

import (
	"context"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/migrate"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// MySQLOrderBaseline measures the raw MariaDB commit rate of the rows one
// accepted order writes — order, line, timeline entry, idempotency row and
// outbox event, in one transaction, through OMS's own store — with no
// services, sidecars or network hops in front. It runs in a scratch
// database on server (a DSN without database name), dropped afterwards.
func MySQLOrderBaseline(ctx context.Context, server string, workers int, d time.Duration) (Rate, error) {
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		return Rate{}, err
	}
	cfg.DBName = fmt.Sprintf("load_baseline_%d", time.Now().UnixNano()%1_000_000)
	cfg.ParseTime = true
	cfg.Params = map[string]string{"loc": "UTC"}
	dsn := cfg.FormatDSN()
	if err := migrate.EnsureDatabase(ctx, dsn); err != nil {
		return Rate{}, err
	}
	db, err := sqltx.Open(ctx, dsn)
	if err != nil {
		return Rate{}, err
	}
	defer func() {
		db.Exec("DROP DATABASE `" + cfg.DBName + "`")
		db.Close()
	}()
	if err := migrate.Up(ctx, db, "oms"); err != nil {
		return Rate{}, err
	}
	db.SetMaxOpenConns(workers)
	st := store.New(db)
	catalog := map[string]domain.Product{"SKU-BASE": {SKU: "SKU-BASE", Name: "baseline goods", Price: 1000}}
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format("2006-01-02")
	return Closed(ctx, "baseline: mariadb order commit", workers, d, func(ctx context.Context, w int, i int64) error {
		now := time.Now().UTC()
		p := domain.Placement{
			CustomerID: fmt.Sprintf("B%05d", w), Source: "APP",
			Lines:   []domain.LineInput{{SKU: "SKU-BASE", Qty: 1, UnitPrice: 1000}},
			Address: domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Avenue"},
			Slot:    domain.Slot{Type: "NEXT_DAY", Date: tomorrow},
		}
		id := ids.New()
		o, err := domain.NewOrder(id, p, catalog, money.Fen(0), now, 10*time.Minute)
		if err != nil {
			return err
		}
		idem := app.Idempotency{CustomerID: p.CustomerID, Key: id, RequestHash: id, OrderID: id, CreatedAt: now}
		ev := outbox.Event{Topic: "oms.order.placed", AggregateID: id, Type: "oms.order.placed.v1",
			Payload: map[string]any{"order_id": id, "customer_id": p.CustomerID, "lines": p.Lines}}
		return st.Create(ctx, o, idem, []outbox.Event{ev})
	}), nil
}
