package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	daprc "github.com/dapr/go-sdk/client"

	"github.com/harvest/harvest/apps/oms/actors"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/store"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/load"
	"github.com/harvest/harvest/deploy/local/stack"
)

// expiry measures the payment-expiry target: N unpaid orders armed at once,
// their deadlines spread over spread starting lead after the run begins,
// each to be cancelled within 2 s of its deadline. The orders are written
// through OMS's own store into the running stack's OMS database (placing
// 100 k through the gateway first would take longer than the deadlines
// they wait for), and their deadline windows are armed through OMS's daprd
// exactly as OMS arms them on placement. Everything after that is the
// stack's own work: daprd fires each window's reminder, OMS's ExpiryWindow
// actor cancels the window's orders and publishes oms.order.cancelled, and
// inventory and PAY consume it. Lateness is read from OMS's database
// (updated_at − pay_by of each expired order); the reminder/sweep split
// from OMS's metrics.
func expiry(ctx context.Context, st *stack.Stack, n int, spread, lead time.Duration, workers int) error {
	db, err := sqltx.Open(ctx, st.DSN("oms"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(workers)
	repo := store.New(db)

	start := time.Now().UTC()
	first := start.Add(lead)
	step := spread / time.Duration(n)
	catalog := map[string]domain.Product{"SKU-EXP": {SKU: "SKU-EXP", Name: "expiry goods", Price: 1000}}
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format("2006-01-02")
	fmt.Printf("writing %d unpaid orders due from %s over %s\n", n, first.Format(time.RFC3339), spread)

	var (
		next    atomic.Int64
		mu      sync.Mutex
		windows = map[string]bool{}
		errs    []error
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				now := time.Now().UTC()
				payBy := first.Add(time.Duration(i) * step)
				p := domain.Placement{
					CustomerID: fmt.Sprintf("X%04d", i%1000), Source: "APP", Channel: "WECHAT",
					Lines:   []domain.LineInput{{SKU: "SKU-EXP", Qty: 1, UnitPrice: 1000}},
					Address: domain.Address{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Avenue"},
					Slot:    domain.Slot{Type: "NEXT_DAY", Date: tomorrow},
				}
				id := ids.New()
				o, err := domain.NewOrder(id, p, catalog, 0, now, payBy.Sub(now))
				if err == nil {
					err = repo.Create(ctx, o, app.Idempotency{CustomerID: p.CustomerID, Key: id, RequestHash: id, OrderID: id, CreatedAt: now}, nil)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("worker %d: %w", w, err))
				} else {
					windows[actors.WindowOf(o.PayBy())] = true
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	written := time.Since(start)
	fmt.Printf("  written in %s (%.0f orders/s)\n", written.Round(time.Millisecond), float64(n)/written.Seconds())

	armStart := time.Now()
	list := make([]string, 0, len(windows))
	for w := range windows {
		list = append(list, w)
	}
	slices.Sort(list)
	if err := armWindows(ctx, st, list); err != nil {
		return err
	}
	fmt.Printf("  %d deadline windows armed through oms's daprd in %s\n", len(list), time.Since(armStart).Round(time.Millisecond))
	if time.Now().After(first) {
		return fmt.Errorf("writing and arming took %s, past the first deadline: raise -lead", time.Since(start).Round(time.Second))
	}
	var armed int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status = ?`, string(domain.StatusPendingPayment)).Scan(&armed); err != nil {
		return err
	}
	fmt.Printf("  unpaid orders armed at once: %d; first deadline in %s\n", armed, time.Until(first).Round(time.Second))

	last := first.Add(time.Duration(n-1) * step)
	for {
		var left int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status = ?`, string(domain.StatusPendingPayment)).Scan(&left); err != nil {
			return err
		}
		now := time.Now()
		if left == 0 || now.After(last.Add(30*time.Second)) {
			break
		}
		fmt.Printf("  %s: %d unpaid left\n", now.UTC().Format("15:04:05"), left)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
		}
	}

	late, err := sqltx.Collect[time.Duration](db.QueryContext(ctx, `SELECT TIMESTAMPDIFF(MICROSECOND, pay_by, updated_at) FROM orders
		WHERE status = 'CANCELLED' AND cancel_reason = ?`, string(domain.ReasonExpired)))(func(r interface{ Scan(...any) error }) (time.Duration, error) {
		var us int64
		err := r.Scan(&us)
		return time.Duration(us) * time.Microsecond, err
	})
	if err != nil {
		return err
	}
	over := 0
	for _, d := range late {
		if d > 2*time.Second {
			over++
		}
	}
	p50, p99 := load.Percentiles(late)
	fmt.Printf("expiry: %d of %d cancelled at their deadline; lateness p50 %s p99 %s max %s; %d later than 2 s; %d never cancelled\n",
		len(late), n, p50.Round(time.Millisecond), p99.Round(time.Millisecond), slices.Max(append(late, 0)).Round(time.Millisecond), over, n-len(late))
	byReminder, bySweep := omsMetric(st, `harvest_oms_orders_expired_total{by="reminder"}`), omsMetric(st, `harvest_oms_orders_expired_total{by="sweep"}`)
	fmt.Printf("  cancelled by the window reminders: %.0f, by the sweep: %.0f\n", byReminder, bySweep)
	fires := omsMetric(st, `harvest_oms_deadline_window_fire_delay_seconds_count`)
	fmt.Printf("  window fires %.0f: fired within 1 s of the window's end %.0f, within 2 s %.0f; passes done within 1 s %.0f, within 2 s %.0f\n", fires,
		omsMetric(st, `harvest_oms_deadline_window_fire_delay_seconds_bucket{le="1"}`), omsMetric(st, `harvest_oms_deadline_window_fire_delay_seconds_bucket{le="2"}`),
		omsMetric(st, `harvest_oms_deadline_window_pass_seconds_bucket{le="1"}`), omsMetric(st, `harvest_oms_deadline_window_pass_seconds_bucket{le="2"}`))
	return nil
}

// armWindows registers each window's reminder through OMS's daprd, as
// apps/oms/actors does on placement.
func armWindows(ctx context.Context, st *stack.Stack, windows []string) error {
	p, _ := st.Ports("oms")
	c, err := daprc.NewClientWithAddressContext(ctx, fmt.Sprintf("127.0.0.1:%d", p.DaprGRPC))
	if err != nil {
		return err
	}
	defer c.Close()
	c.WithAuthToken(st.DaprToken("oms"))
	for _, w := range windows {
		if err := actors.Register(ctx, c, w); err != nil {
			return fmt.Errorf("arm window %s: %w", w, err)
		}
	}
	return nil
}

func omsMetric(st *stack.Stack, sample string) float64 {
	return scrape("http://" + st.OpsAddr("oms") + "/metrics")[sample]
}
