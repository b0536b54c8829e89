package main

import (
	"context"
	"database/sql"
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
// they wait for), and their reminders — one per deadline window, or one
// per order, as design says (OMS runs with the same HARVEST_EXPIRY_REMINDERS)
// — are armed through OMS's daprd exactly as OMS arms them on placement,
// with as many registrations in flight as OMS has (actors.ArmWorkers).
// Everything after that is the stack's own work: the Scheduler fires each
// reminder, OMS's ExpiryWindow or UnpaidOrder actor cancels the orders and
// publishes oms.order.cancelled, and inventory and PAY consume it.
// Lateness is read from OMS's database (updated_at − pay_by of each
// expired order); the reminder/sweep split and the fires from OMS's
// metrics.
func expiry(ctx context.Context, st *stack.Stack, n int, spread, lead time.Duration, workers int, design string) error {
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
		placed  = make([]armReq, 0, n)
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
					placed = append(placed, armReq{id: o.ID(), payBy: o.PayBy()})
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

	// The reminders, earliest deadline first.
	var reqs []armReq
	if design == actors.DesignWindow {
		for w := range windows {
			end, _ := actors.WindowEnd(w)
			reqs = append(reqs, armReq{id: w, payBy: end})
		}
	} else {
		reqs = placed
	}
	slices.SortFunc(reqs, func(a, b armReq) int { return a.payBy.Compare(b.payBy) })
	armStart := time.Now()
	if err := armReminders(ctx, st, design, reqs, actors.ArmWorkers); err != nil {
		return err
	}
	armed := time.Since(armStart)
	fmt.Printf("  registration (%s design): %d reminders armed for %d orders through oms's daprd in %s, %d in flight: %.0f reminders/s, %.0f orders covered/s\n",
		design, len(reqs), n, armed.Round(time.Millisecond), actors.ArmWorkers, float64(len(reqs))/armed.Seconds(), float64(n)/armed.Seconds())
	if time.Now().After(first) {
		// Not fatal: the reminders armed late fire at once, and the
		// lateness below shows what that costs.
		fmt.Printf("  WARNING: writing and arming took %s, past the first deadline by %s\n", time.Since(start).Round(time.Second), time.Since(first).Round(time.Second))
	}
	var pending int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status = ?`, string(domain.StatusPendingPayment)).Scan(&pending); err != nil {
		return err
	}
	fmt.Printf("  unpaid orders armed at once: %d; first deadline in %s\n", pending, time.Until(first).Round(time.Second))

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
	fmt.Printf("  cancelled by the %s reminders: %.0f, by the sweep: %.0f\n", design, byReminder, bySweep)
	kind := map[string]string{actors.DesignWindow: "window", actors.DesignOrder: "order"}[design]
	m := func(s string) float64 { return omsMetric(st, "harvest_oms_deadline_"+kind+"_"+s) }
	fires := m(`fire_delay_seconds_count`)
	// The fire rate: the reminders' fires over the span of their deadlines,
	// and the cancellations over the span from the first to the last.
	var firstCancel, lastCancel sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT MIN(updated_at), MAX(updated_at) FROM orders WHERE status = 'CANCELLED' AND cancel_reason = ?`,
		string(domain.ReasonExpired)).Scan(&firstCancel, &lastCancel); err != nil {
		return err
	}
	// The fires came between the first deadline and the last cancellation
	// (or the end of the deadlines, whichever is later).
	span := last.Sub(first)
	fireSpan := max(span, lastCancel.Time.Sub(first))
	cancelSpan := lastCancel.Time.Sub(firstCancel.Time)
	fmt.Printf("  fire rate: %.0f %s fires from the first deadline to the last cancellation (%s): %.1f fires/s; %.0f orders due/s over the %s of deadlines; cancellations %.0f/s from the first to the last (%s)\n",
		fires, kind, fireSpan.Round(time.Millisecond), fires/fireSpan.Seconds(), float64(n)/span.Seconds(), span.Round(time.Second),
		float64(len(late))/cancelSpan.Seconds(), cancelSpan.Round(time.Millisecond))
	fmt.Printf("  %s fires: within 1 s of the deadline %.0f, within 2 s %.0f; passes done within 1 s %.0f, within 2 s %.0f\n", kind,
		m(`fire_delay_seconds_bucket{le="1"}`), m(`fire_delay_seconds_bucket{le="2"}`),
		m(`pass_seconds_bucket{le="1"}`), m(`pass_seconds_bucket{le="2"}`))
	fmt.Printf("summary (%s): armed %d reminders in %s (%.0f/s); %.1f fires/s; lateness p50 %s p99 %s max %s; %d of %d later than 2 s\n",
		design, len(reqs), armed.Round(time.Millisecond), float64(len(reqs))/armed.Seconds(), fires/fireSpan.Seconds(),
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), slices.Max(append(late, 0)).Round(time.Millisecond), over+(n-len(late)), n)
	return nil
}

// armReq is one reminder to arm: a window (id = its end in Unix seconds)
// or an order.
type armReq struct {
	id    string
	payBy time.Time
}

// armReminders registers each reminder through OMS's daprd, as
// apps/oms/actors does on placement: workers at a time, earliest first.
func armReminders(ctx context.Context, st *stack.Stack, design string, reqs []armReq, workers int) error {
	p, _ := st.Ports("oms")
	c, err := daprc.NewClientWithAddressContext(ctx, fmt.Sprintf("127.0.0.1:%d", p.DaprGRPC))
	if err != nil {
		return err
	}
	defer c.Close()
	c.WithAuthToken(st.DaprToken("oms"))
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) || ctx.Err() != nil {
					return
				}
				r := reqs[i]
				var err error
				if design == actors.DesignWindow {
					err = actors.Register(ctx, c, r.id)
				} else {
					err = actors.RegisterOrder(ctx, c, r.id, r.payBy)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("arm %s reminder %s: %w", design, r.id, err))
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return ctx.Err()
}

func omsMetric(st *stack.Stack, sample string) float64 {
	return scrape("http://" + st.OpsAddr("oms") + "/metrics")[sample]
}
