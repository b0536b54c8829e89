package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	"github.com/harvest/harvest/deploy/local/stack"
)

const mCancel = `mutation($id:ID!,$key:String!,$reason:String!){ requestCancel(orderId:$id, idempotencyKey:$key, reason:$reason){
	request{ id status } errors{ code } } }`

// cancelsOpts are the cancels run's settings.
type cancelsOpts struct {
	orders, rate, workers int
	mysqlServer           string
	// The channel stand-in's delays (its latency, not Harvest's), reported.
	callbackDelay, refundDelay, channelTick time.Duration
}

// paidOrder is one order of the set-up: whose it is and the cash it paid.
type paidOrder struct {
	id, customer string
	cashFen      int64
}

// cancels measures the reverse flow under a burst: o.orders orders paid
// by cash (WECHAT, through the channel stand-in's cashier) with
// fulfillment suspended, so that every one is cancellable and none has
// reached a warehouse; then one requestCancel per order through the
// gateway at o.rate, each with its own idempotency key, and the reverse
// flow (pause, cancel in OMS, PAY's refund, the pushes) until every
// request is REFUNDED and every push is DONE. Reported: accept p50/p99
// and errors by code, the pushes per type and their rate, from the first
// cancel to the last refund, CPU per cancel per process, beside the raw
// MariaDB rate of the same push rows marked DONE; then the exactly-once
// check of every order, refund and push (an error, exit 1, on any
// violation).
func cancels(ctx context.Context, o cancelsOpts) error {
	if o.orders <= 0 || o.rate <= 0 || o.workers <= 0 {
		return fmt.Errorf("-orders, -rate and -workers must be positive")
	}
	st, err := freshStackWith(ctx, map[string]map[string]string{
		"partners": {"PARTNERS_CALLBACK_DELAY": o.callbackDelay.String(), "PARTNERS_REFUND_DELAY": o.refundDelay.String(),
			"PARTNERS_TICK": o.channelTick.String()},
	})
	if err != nil {
		return err
	}
	defer st.Stop(context.Background())
	time.Sleep(2 * time.Second) // let seeders and subscriptions settle
	fmt.Printf("harvest-load cancels on a fresh stack at %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("channel stand-in: callback delay %s, refund delay %s, tick %s (the channel's latency, not Harvest's)\n",
		o.callbackDelay, o.refundDelay, o.channelTick)
	token := signer(st.JWTSecret())
	url := st.GraphQLURL()
	pool, err := stockedPlainPool(ctx, st, url, token, o.orders)
	if err != nil {
		return err
	}
	admin := gqlc.New(url, token("ADMIN", "load"))
	// Suspended, the paid orders enter fulfillment and wait: no warehouse
	// has any of them, so each cancel goes the whole reverse flow (pause,
	// cancel, refund) and none is refused or intercepted.
	if err := switchPipeline(ctx, admin, true); err != nil {
		return err
	}
	fmt.Println("fulfillment suspended (suspendFulfillment as ADMIN): every order stays cancellable before a warehouse has it")
	// The gateway limits each customer's mutations (20/s, burst 40): the
	// burst is spread so no customer cancels more than 10/s.
	customers := max(100, (o.rate+9)/10)
	paid, err := payOrders(ctx, st, token, pool, o.orders, customers, o.workers)
	if err != nil {
		return err
	}
	n := len(paid)
	fmt.Printf("%d orders paid by %d customers; %d cancels at %d/s through the gateway\n", n, customers, n, o.rate)

	asDB, err := sqltx.Open(ctx, st.DSN("aftersales"))
	if err != nil {
		return err
	}
	defer asDB.Close()
	tokens := map[string]string{}
	for _, p := range paid {
		if tokens[p.customer] == "" {
			tokens[p.customer] = token("CUSTOMER", p.customer)
		}
	}
	cpuBefore := cpuTimes(withSelf(st.PIDs()))
	first := time.Now()
	r, outcomes, reasons := load.Attack(ctx, "requestCancel via gateway (whole stack)", url, o.rate, 0, uint64(n),
		func(i int64) (string, []byte) {
			p := paid[i%int64(n)]
			return tokens[p.customer], load.GraphQLBody(mCancel, map[string]any{"id": p.id, "key": ids.New(), "reason": "harvest-load: changed my mind"})
		}, classifyCancel)
	fmt.Println()
	fmt.Println(r)
	fmt.Printf("  accepted %d, refused %d, failed %d; accept p50 %s p99 %s\n", outcomes[load.OK], outcomes[load.Refused], outcomes[load.Failed],
		round(r.P50), round(r.P99))
	for why, k := range reasons {
		fmt.Printf("  %6d × %s\n", k, why)
	}
	fmt.Println("waiting for every request to finish and every push to be done...")
	if err := awaitReverseFlow(ctx, asDB, first, 20*time.Minute); err != nil {
		return err
	}
	// A request is REFUNDED once PAY has every trade's refund under way
	// (the trade's refunded amount is reserved when the refund is made);
	// the money is back when the channel confirms it: wait for that too.
	if err := awaitRefunds(ctx, st, first, 10*time.Minute); err != nil {
		return err
	}
	cpuAfter := cpuTimes(withSelf(st.PIDs()))

	pushes, err := pushesByType(ctx, asDB)
	if err != nil {
		return err
	}
	lastRefund, err := lastRefundAt(ctx, st)
	if err != nil {
		return err
	}
	fmt.Printf("\nfrom the first cancel to the last refund SUCCEEDED in PAY: %s (%.1f cancels/s refunded)\n",
		lastRefund.Sub(first).Round(time.Millisecond), float64(n)/lastRefund.Sub(first).Seconds())
	fmt.Printf("  %-22s %8s %10s %s\n", "push type", "done", "pushes/s", "(first to last DONE)")
	var allDone int64
	for _, p := range pushes {
		allDone += p.done
		fmt.Printf("  %-22s %8d %10.1f   %s\n", p.kind, p.done, p.perSecond(), p.last.Sub(p.first).Round(time.Millisecond))
	}
	printCPUPerItem(cpuBefore, cpuAfter, int64(n), "cancel, accepted to refunded and pushed (harvest-load included)")

	fmt.Println("measuring the baseline...")
	b, err := load.AfterSalesPushBaseline(ctx, o.mysqlServer, asDB, 16)
	if err != nil {
		return err
	}
	fmt.Println(b)
	fmt.Printf("  the same %d push rows (PENDING, as the reverse flow wrote them) marked DONE with one UPDATE each, 16 at once, in a scratch database: the push table's own floor\n", b.Ops)
	if span := lastPushDone(pushes).Sub(first); span > 0 {
		fmt.Printf("ratio: whole stack %.1f pushes/s (first cancel to last push DONE) = %.1f%% of the raw MariaDB rate of marking the same rows DONE\n",
			float64(allDone)/span.Seconds(), 100*float64(allDone)/span.Seconds()/b.PerSecond())
	}

	facts, err := readCancelFacts(ctx, st, asDB)
	if err != nil {
		return err
	}
	violations := checkCancels(paid, facts)
	fmt.Printf("\nexactly once: %d orders, %d refunds, %d requests, %d pushes checked\n", n, facts.refundRows, len(facts.requests), facts.pushRows)
	if len(violations) > 0 {
		for _, v := range violations[:min(len(violations), 20)] {
			fmt.Println("  VIOLATION:", v)
		}
		return fmt.Errorf("%d exactly-once violations", len(violations))
	}
	fmt.Println("  every order CANCELLED, refunded once (SUCCEEDED) exactly what it paid, one request REFUNDED with that amount, no push twice, none dead or pending")
	return nil
}

func classifyCancel(data json.RawMessage) (load.Outcome, string) {
	var r struct {
		RequestCancel struct {
			Request *struct{ ID string }
			Errors  []struct{ Code string }
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return load.Failed, "bad data"
	}
	if r.RequestCancel.Request != nil {
		return load.OK, ""
	}
	if len(r.RequestCancel.Errors) > 0 {
		return load.Refused, r.RequestCancel.Errors[0].Code
	}
	return load.Failed, "empty payload"
}

const (
	mPayStart = `mutation($id:ID!,$key:String!){ startCashPayment(orderId:$id, channel:WECHAT, idempotencyKey:$key){ payment{ cashierUrl } errors{ code } } }`
	mPayPlace = `mutation($in:PlaceOrderInput!,$key:String!){ placeOrder(input:$in, idempotencyKey:$key){ order{ id cashDueFen } errors{ code } } }`
)

// payOrders places n orders of one unit through the gateway, each by one
// of customers C0001.., starts its WECHAT payment and pays at the
// cashier, with workers at once; then waits until OMS has every one paid.
// Orders that fail a step are left out (and counted).
func payOrders(ctx context.Context, st *stack.Stack, token func(role, sub string) string, pool []product, n, customers, workers int) ([]paidOrder, error) {
	hc := gqlc.New(st.GraphQLURL(), "")
	clients := make([]*gqlc.Client, customers)
	for i := range clients {
		clients[i] = hc.WithToken(token("CUSTOMER", fmt.Sprintf("C%04d", i+1)))
	}
	cashier := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	var (
		next     atomic.Int64
		mu       sync.Mutex
		out      []paidOrder
		failures = map[string]int{}
		wg       sync.WaitGroup
	)
	fail := func(step string, err error) {
		mu.Lock()
		failures[step+": "+shortErr(err)]++
		mu.Unlock()
	}
	start := time.Now()
	fmt.Printf("set-up: placing and paying %d orders (1 unit of one of %d SKUs, WECHAT at the cashier) with %d workers\n", n, len(pool), workers)
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				ci := int(i) % customers
				c := clients[ci]
				var pl struct {
					PlaceOrder struct {
						Order *struct {
							ID         string
							CashDueFen int64
						}
						Errors codes
					}
				}
				if err := c.Do(ctx, mPayPlace, map[string]any{"in": orderInput(pool[int(i)%len(pool)], 1), "key": ids.New()}, &pl); err != nil {
					fail("placeOrder", err)
					continue
				}
				if pl.PlaceOrder.Order == nil {
					fail("placeOrder", fmt.Errorf("%v", pl.PlaceOrder.Errors.list()))
					continue
				}
				var sp struct {
					StartCashPayment struct {
						Payment *struct{ CashierURL string }
						Errors  codes
					}
				}
				if err := c.Do(ctx, mPayStart, map[string]any{"id": pl.PlaceOrder.Order.ID, "key": ids.New()}, &sp); err != nil {
					fail("startCashPayment", err)
					continue
				}
				if sp.StartCashPayment.Payment == nil {
					fail("startCashPayment", fmt.Errorf("%v", sp.StartCashPayment.Errors.list()))
					continue
				}
				if err := payAtCashier(ctx, cashier, sp.StartCashPayment.Payment.CashierURL); err != nil {
					fail("cashier pay", err)
					continue
				}
				mu.Lock()
				out = append(out, paidOrder{id: pl.PlaceOrder.Order.ID, customer: fmt.Sprintf("C%04d", ci+1), cashFen: pl.PlaceOrder.Order.CashDueFen})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	fmt.Printf("  %d paid at the cashier in %s (%.0f/s)\n", len(out), time.Since(start).Round(time.Millisecond), float64(len(out))/time.Since(start).Seconds())
	for why, k := range failures {
		fmt.Printf("  set-up failed %d × %s\n", k, why)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no order was paid")
	}
	db, err := sqltx.Open(ctx, st.DSN("oms"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// The channel's callbacks make them PAID; with fulfillment suspended
	// they enter it (FULFILLING) and wait.
	for deadline := time.Now().Add(5 * time.Minute); ; {
		var k int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status IN ('PAID','FULFILLING')`).Scan(&k); err != nil {
			return nil, err
		}
		fmt.Printf("  %s: %d of %d paid in OMS\n", time.Since(start).Round(time.Second), k, len(out))
		if k >= len(out) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d orders paid in OMS 5 min after the cashier", k, len(out))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	// Sorted by order id: the burst cancels them in the order placed
	// (ids are time-ordered), customers interleaved.
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

func payAtCashier(ctx context.Context, c *http.Client, cashierURL string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cashierURL+"/pay", bytes.NewReader([]byte("{}")))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("http %d", resp.StatusCode)
	}
	return nil
}

// awaitReverseFlow polls after-sales' tables until every request is
// finished (REFUNDED or REFUSED) and no push is PENDING, or nothing has
// moved for 3 minutes, or limit has passed since start.
func awaitReverseFlow(ctx context.Context, db *sql.DB, start time.Time, limit time.Duration) error {
	last, lastChange := "", time.Now()
	for {
		var open, pending, done int64
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status NOT IN ('REFUNDED','REFUSED')),0), COALESCE(SUM(status IN ('REFUNDED','REFUSED')),0) FROM requests`).Scan(&open, &done); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pushes WHERE status = 'PENDING'`).Scan(&pending); err != nil {
			return err
		}
		now := fmt.Sprintf("%d finished, %d open, %d pushes pending", done, open, pending)
		fmt.Printf("  %s: %s\n", time.Since(start).Round(time.Second), now)
		if open == 0 && pending == 0 {
			return nil
		}
		if now != last {
			last, lastChange = now, time.Now()
		}
		if time.Since(lastChange) > 3*time.Minute || time.Since(start) > limit {
			return fmt.Errorf("the reverse flow stopped at %s", now)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// awaitRefunds polls PAY until no refund is still under way (every one
// SUCCEEDED, FAILED or REJECTED), or nothing moved for 3 minutes, or limit
// has passed since start.
func awaitRefunds(ctx context.Context, st *stack.Stack, start time.Time, limit time.Duration) error {
	db, err := sqltx.Open(ctx, st.DSN("pay"))
	if err != nil {
		return err
	}
	defer db.Close()
	last, lastChange := int64(-1), time.Now()
	for {
		var open, done int64
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status NOT IN ('SUCCEEDED','FAILED','REJECTED')),0),
			COALESCE(SUM(status = 'SUCCEEDED'),0) FROM refunds`).Scan(&open, &done); err != nil {
			return err
		}
		fmt.Printf("  %s: PAY: %d refunds SUCCEEDED, %d under way\n", time.Since(start).Round(time.Second), done, open)
		if open == 0 {
			return nil
		}
		if open != last {
			last, lastChange = open, time.Now()
		}
		if time.Since(lastChange) > 3*time.Minute || time.Since(start) > limit {
			return fmt.Errorf("PAY's refunds stopped with %d under way", open)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// pushType is one push type's DONE rows and their first and last done_at.
type pushType struct {
	kind        string
	done        int64
	first, last time.Time
}

// perSecond is the type's DONE rows over its first to last done_at (0
// when one row or none).
func (p pushType) perSecond() float64 {
	if d := p.last.Sub(p.first); d > 0 {
		return float64(p.done) / d.Seconds()
	}
	return 0
}

func lastPushDone(ps []pushType) time.Time {
	var t time.Time
	for _, p := range ps {
		if p.last.After(t) {
			t = p.last
		}
	}
	return t
}

func pushesByType(ctx context.Context, db *sql.DB) ([]pushType, error) {
	rows, err := db.QueryContext(ctx, `SELECT type, COUNT(*), MIN(done_at), MAX(done_at) FROM pushes WHERE status = 'DONE' GROUP BY type ORDER BY type`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pushType
	for rows.Next() {
		var p pushType
		if err := rows.Scan(&p.kind, &p.done, &p.first, &p.last); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func lastRefundAt(ctx context.Context, st *stack.Stack) (time.Time, error) {
	db, err := sqltx.Open(ctx, st.DSN("pay"))
	if err != nil {
		return time.Time{}, err
	}
	defer db.Close()
	var t sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT MAX(updated_at) FROM refunds WHERE status = 'SUCCEEDED'`).Scan(&t); err != nil {
		return time.Time{}, err
	}
	if !t.Valid {
		return time.Time{}, fmt.Errorf("no refund succeeded")
	}
	return t.Time, nil
}

// cancelFacts is what the stack's databases hold after the run, by order.
type cancelFacts struct {
	orderStatus map[string]string
	paidFen     map[string]int64   // PAY: the trades' paid_fen
	tradeRefund map[string]int64   // PAY: the trades' refunded_fen
	refunds     map[string][]int64 // SUCCEEDED refunds' amounts
	refundRows  int
	// Refunds not SUCCEEDED (failed, rejected, under way), by order.
	unsettledRefunds []string
	requests         map[string][]cancelRow
	pushRows         int
	// Pushes written twice: the same push id, or the same type for one request.
	dupPushes []string
	// Pushes not DONE (DEAD or still PENDING), by id.
	unfinishedPushes []string
}

type cancelRow struct {
	status      string
	refundedFen int64
}

func readCancelFacts(ctx context.Context, st *stack.Stack, asDB *sql.DB) (cancelFacts, error) {
	f := cancelFacts{orderStatus: map[string]string{}, paidFen: map[string]int64{}, tradeRefund: map[string]int64{},
		refunds: map[string][]int64{}, requests: map[string][]cancelRow{}}
	omsDB, err := sqltx.Open(ctx, st.DSN("oms"))
	if err != nil {
		return f, err
	}
	defer omsDB.Close()
	payDB, err := sqltx.Open(ctx, st.DSN("pay"))
	if err != nil {
		return f, err
	}
	defer payDB.Close()
	each := func(db *sql.DB, q string, scan func(*sql.Rows) error) error {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	var id, s string
	var a, b int64
	steps := []error{
		each(omsDB, `SELECT id, status FROM orders`, func(r *sql.Rows) error {
			err := r.Scan(&id, &s)
			f.orderStatus[id] = s
			return err
		}),
		each(payDB, `SELECT order_id, SUM(paid_fen), SUM(refunded_fen) FROM trades GROUP BY order_id`, func(r *sql.Rows) error {
			err := r.Scan(&id, &a, &b)
			f.paidFen[id], f.tradeRefund[id] = a, b
			return err
		}),
		each(payDB, `SELECT order_id, status, amount_fen FROM refunds`, func(r *sql.Rows) error {
			err := r.Scan(&id, &s, &a)
			f.refundRows++
			if s == "SUCCEEDED" {
				f.refunds[id] = append(f.refunds[id], a)
			} else {
				f.unsettledRefunds = append(f.unsettledRefunds, fmt.Sprintf("order %s: refund of %d is %s", id, a, s))
			}
			return err
		}),
		each(asDB, `SELECT order_id, status, refunded_fen FROM requests WHERE kind = 'CANCEL'`, func(r *sql.Rows) error {
			var c cancelRow
			err := r.Scan(&id, &c.status, &c.refundedFen)
			f.requests[id] = append(f.requests[id], c)
			return err
		}),
		each(asDB, `SELECT COUNT(*) FROM pushes`, func(r *sql.Rows) error { return r.Scan(&f.pushRows) }),
		each(asDB, `SELECT CONCAT('push id ', push_id, ' × ', COUNT(*)) FROM pushes GROUP BY push_id HAVING COUNT(*) > 1
			UNION ALL SELECT CONCAT('request ', request_id, ' ', type, ' × ', COUNT(*)) FROM pushes GROUP BY request_id, type HAVING COUNT(*) > 1`,
			func(r *sql.Rows) error {
				err := r.Scan(&s)
				f.dupPushes = append(f.dupPushes, s)
				return err
			}),
		each(asDB, `SELECT CONCAT(push_id, ' ', type, ' ', status, ': ', last_error) FROM pushes WHERE status <> 'DONE'`, func(r *sql.Rows) error {
			err := r.Scan(&s)
			f.unfinishedPushes = append(f.unfinishedPushes, s)
			return err
		}),
	}
	for _, err := range steps {
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// checkCancels lists every way the run broke exactly-once: an order not
// CANCELLED, paid nothing in PAY or other than it was told, refunded
// other than once and in full, with other than one cancel request
// REFUNDED with the amount paid; a push written twice, dead or pending.
func checkCancels(paid []paidOrder, f cancelFacts) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, p := range paid {
		if s := f.orderStatus[p.id]; s != "CANCELLED" {
			bad("order %s is %q, want CANCELLED", p.id, s)
		}
		if f.paidFen[p.id] != p.cashFen || p.cashFen <= 0 {
			bad("order %s: PAY holds %d fen paid, the order's cash due was %d", p.id, f.paidFen[p.id], p.cashFen)
		}
		if rs := f.refunds[p.id]; len(rs) != 1 || rs[0] != f.paidFen[p.id] {
			bad("order %s: refunds %v, want one of %d", p.id, rs, f.paidFen[p.id])
		}
		if f.tradeRefund[p.id] != f.paidFen[p.id] {
			bad("order %s: trades refunded %d of %d", p.id, f.tradeRefund[p.id], f.paidFen[p.id])
		}
		if rs := f.requests[p.id]; len(rs) != 1 || rs[0].status != "REFUNDED" || rs[0].refundedFen != f.paidFen[p.id] {
			bad("order %s: cancel requests %+v, want one REFUNDED of %d", p.id, rs, f.paidFen[p.id])
		}
	}
	for id := range f.requests {
		if !slices.ContainsFunc(paid, func(p paidOrder) bool { return p.id == id }) {
			bad("a cancel request for order %s, which the run did not cancel", id)
		}
	}
	for _, u := range f.unsettledRefunds {
		bad("refund not SUCCEEDED: %s", u)
	}
	for _, d := range f.dupPushes {
		bad("pushed twice: %s", d)
	}
	for _, u := range f.unfinishedPushes {
		bad("push not done: %s", u)
	}
	return out
}
