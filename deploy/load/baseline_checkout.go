package load

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	omsevents "github.com/harvest/harvest/apps/oms/events"
	omsstore "github.com/harvest/harvest/apps/oms/store"
	payapp "github.com/harvest/harvest/apps/pay/app"
	paydomain "github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	paystore "github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/migrate"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// scratchDB creates a database for app's schema on server, migrated, and
// returns it with a function that drops it.
func scratchDB(ctx context.Context, server, app string, conns int) (*sql.DB, func(), error) {
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		return nil, nil, err
	}
	cfg.DBName = fmt.Sprintf("load_baseline_%s_%d", app, time.Now().UnixNano()%1_000_000)
	cfg.ParseTime = true
	cfg.Params = map[string]string{"loc": "UTC"}
	dsn := cfg.FormatDSN()
	if err := migrate.EnsureDatabase(ctx, dsn); err != nil {
		return nil, nil, err
	}
	db, err := sqltx.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	drop := func() {
		db.Exec("DROP DATABASE `" + cfg.DBName + "`")
		db.Close()
	}
	if err := migrate.Up(ctx, db, app); err != nil {
		drop()
		return nil, nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db, drop, nil
}

// MySQLCheckoutBaseline measures the raw MariaDB commit rate of the rows
// one whole checkout writes in Harvest's own databases, through OMS's and
// PAY's own stores, with no services, sidecars or network hops in front:
// one checkout is seven transactions in a row —
//
//  1. PAY: the non-cash deduction (deduction, item, account, finance push);
//  2. OMS: the order (order, line, timeline, idempotency, outbox event);
//  3. PAY: the deduction bound to the order (inbox claim, deduction USED);
//  4. PAY: the trade and its channel record;
//  5. PAY: the channel's answer to create (cashier URL);
//  6. PAY: the trade SUCCEEDED (trade, channel record, outbox event,
//     finance push, the cancelled-orders check);
//  7. OMS: the order PAID (inbox claim, order, timeline, outbox event).
//
// The channel's own rows (the stand-in's trade and notification) are the
// channel's, not Harvest's, and left out. It runs in scratch databases on
// server (a DSN without database name), dropped afterwards.
func MySQLCheckoutBaseline(ctx context.Context, server string, workers int, d time.Duration) (Rate, error) {
	odb, dropO, err := scratchDB(ctx, server, "oms", workers)
	if err != nil {
		return Rate{}, err
	}
	defer dropO()
	pdb, dropP, err := scratchDB(ctx, server, "pay", workers)
	if err != nil {
		return Rate{}, err
	}
	defer dropP()
	oms, pay := omsstore.New(odb), paystore.New(pdb)
	for w := range workers {
		c := fmt.Sprintf("B%05d", w)
		if err := pay.Credit(ctx, "baseline:"+c, "h", paydomain.RestoreAccount(c, 0, 0, 1<<40, 0), time.Now().UTC()); err != nil {
			return Rate{}, fmt.Errorf("credit %s: %w", c, err)
		}
	}
	catalog := map[string]domain.Product{"SKU-BASE": {SKU: "SKU-BASE", Name: "baseline goods", Price: 1000}}
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format("2006-01-02")
	return Closed(ctx, "baseline: mariadb checkout commits", workers, d, func(ctx context.Context, w int, i int64) error {
		now := time.Now().UTC()
		cust := fmt.Sprintf("B%05d", w)
		// 1.
		ded, err := paydomain.NewDeduction(ids.New(), ids.New(), "h", cust, []paydomain.Item{paydomain.NewItem(paydomain.KindPoints, 1, "")})
		if err != nil {
			return err
		}
		if _, err := pay.Deduct(ctx, ded, nil, now); err != nil {
			return fmt.Errorf("deduct: %w", err)
		}
		// 2.
		p := domain.Placement{
			CustomerID: cust, Source: "APP",
			Lines:        []domain.LineInput{{SKU: "SKU-BASE", Qty: 1, UnitPrice: 1000}},
			Address:      domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Avenue"},
			Slot:         domain.Slot{Type: "NEXT_DAY", Date: tomorrow},
			DeductionIDs: []string{ded.ID()},
		}
		id := ids.New()
		o, err := domain.NewOrder(id, p, catalog, money.Fen(1), now, 10*time.Minute)
		if err != nil {
			return err
		}
		idem := app.Idempotency{CustomerID: cust, Key: id, RequestHash: id, OrderID: id, CreatedAt: now}
		placed := outbox.Event{Topic: omsevents.TopicOrderPlaced, AggregateID: id, Type: omsevents.TopicOrderPlaced + ".v1",
			Payload: map[string]any{"order_id": id, "customer_id": cust, "lines": p.Lines, "deduction_ids": p.DeductionIDs}}
		if err := oms.Create(ctx, o, idem, []outbox.Event{placed}); err != nil {
			return fmt.Errorf("create order: %w", err)
		}
		// 3.
		if _, err := pay.BindDeductions(ctx, payapp.InboxClaim{Consumer: "pay.order-placed", MsgID: ids.New()}, id, []string{ded.ID()}, now); err != nil {
			return fmt.Errorf("mark used: %w", err)
		}
		// 4, 5.
		cash := int64(o.CashDue())
		t, err := paydomain.NewTrade(ids.New(), ids.New(), "h", id, cust, "WECHAT", money.Fen(cash), now.Add(10*time.Minute), now)
		if err != nil {
			return err
		}
		if err := pay.CreateTrade(ctx, t, now.Add(time.Minute)); err != nil {
			return fmt.Errorf("create trade: %w", err)
		}
		t.Opened("wx"+t.ID(), "http://127.0.0.1/cashier/WECHAT/"+t.ID())
		if err := pay.SetCashier(ctx, t, now); err != nil {
			return fmt.Errorf("set cashier: %w", err)
		}
		// 6.
		paidAt := time.Now().UTC()
		succeeded := outbox.Event{Topic: payevents.TopicTradeSucceeded, AggregateID: t.ID(), Type: payevents.TopicTradeSucceeded + ".v1",
			Payload: payevents.TradeSucceeded{TradeID: t.ID(), OrderID: id, CustomerID: cust, Channel: "WECHAT", AmountFen: money.Fen(cash), PaidAt: paidAt}}
		if ok, err := pay.MarkSucceeded(ctx, t, money.Fen(cash), "wx"+t.ID(), paidAt, paidAt, succeeded); err != nil || !ok {
			return fmt.Errorf("mark succeeded: %v %w", ok, err)
		}
		// 7.
		_, err = oms.Update(ctx, id, &app.InboxClaim{Consumer: app.TradeConsumer, MsgID: ids.New()}, func(o *domain.Order) ([]outbox.Event, error) {
			at := time.Now().UTC()
			if err := o.MarkPaid(t.ID(), money.Fen(cash), at); err != nil {
				return nil, err
			}
			return []outbox.Event{{Topic: omsevents.TopicOrderPaid, AggregateID: id, Type: omsevents.TopicOrderPaid + ".v1",
				Payload: omsevents.OrderPaid{OrderID: id, CustomerID: cust, PaidFen: o.Paid(), TradeID: t.ID(), PaidAt: at}}}, nil
		})
		if err != nil {
			return fmt.Errorf("mark paid: %w", err)
		}
		return nil
	}), nil
}
