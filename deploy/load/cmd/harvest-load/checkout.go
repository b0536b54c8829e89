package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	"github.com/harvest/harvest/deploy/local/stack"
)

// The checkout's operations, as a shop's front-end sends them (README, "A
// first order, by hand").
const (
	mCoDeduct = `mutation($in:DeductNonCashInput!,$key:String!){ deductNonCash(input:$in, idempotencyKey:$key){
		deduction{ id } errors{ code } } }`
	mCoPlace = `mutation($in:PlaceOrderInput!,$key:String!){ placeOrder(input:$in, idempotencyKey:$key){
		order{ id status cashDueFen } errors{ code } } }`
	mCoStartPay = `mutation($id:ID!,$key:String!){ startCashPayment(orderId:$id, channel:WECHAT, idempotencyKey:$key){
		payment{ cashierUrl } errors{ code } } }`
	qCoOrder     = `query($id:ID!){ order(id:$id){ status paidFen cashDueFen } }`
	sCoOrderFeed = `subscription{ orderUpdated{ orderId type status } }`
)

// seededCustomers are C0001..C0100, seeded by PAY with 10,000 points each.
const seededCustomers = 100

// checkoutOpts are the checkout run's settings.
type checkoutOpts struct {
	rates         []int
	d             time.Duration
	baselineD     time.Duration
	poll          time.Duration // 0: wait on the subscription (polling only as a fallback)
	fallbackAfter time.Duration // subscription mode: poll an order not reported PAID after this long
	paidTimeout   time.Duration
	points        int64 // the non-cash part of each checkout
	mysqlServer   string
	// Of the channel stand-in (own stack only), reported with the figures.
	callbackDelay time.Duration
	channelTick   time.Duration
	duplicates    int
}

// checkoutRun drives the whole customer checkout through the gateway at
// each of o.rates in turn, then measures the MariaDB baseline of the same
// rows. Without url it starts a stack of its own with the channel
// stand-in's callback delay, tick and duplicate rate set from o.
func checkoutRun(ctx context.Context, url, secret string, o checkoutOpts) error {
	var st *stack.Stack
	if url == "" {
		var err error
		st, err = freshStackWith(ctx, map[string]map[string]string{"partners": {
			"PARTNERS_CALLBACK_DELAY":    o.callbackDelay.String(),
			"PARTNERS_TICK":              o.channelTick.String(),
			"PARTNERS_DUPLICATE_PERCENT": fmt.Sprint(o.duplicates),
		}})
		if err != nil {
			return err
		}
		defer st.Stop(context.Background())
		url, secret = st.GraphQLURL(), st.JWTSecret()
		time.Sleep(2 * time.Second) // let seeders and subscriptions settle
		fmt.Printf("channel stand-in: callback delay %s, tick %s, duplicate callbacks %d%% (the channel's latency, not Harvest's)\n",
			o.callbackDelay, o.channelTick, o.duplicates)
	} else {
		fmt.Println("channel stand-in: as the running stack set it (PARTNERS_CALLBACK_DELAY default 1s, PARTNERS_TICK 200ms)")
	}
	token := signer(secret)
	fmt.Printf("harvest-load checkout against %s at %s\n", url, time.Now().UTC().Format(time.RFC3339))
	ps, err := catalog(ctx, url, token("CUSTOMER", "C0001"))
	if err != nil {
		return err
	}
	var plain []product
	var stock int64
	for _, p := range ps {
		if !p.Bundle && !p.Presale && !p.DropShip && p.SKU != "FLASH-001" && p.Available >= 100 && p.PriceFen > o.points {
			plain = append(plain, p)
			stock += p.Available
		}
	}
	if len(plain) == 0 {
		return fmt.Errorf("no plain products in stock")
	}
	maxRate := 0
	var total int64
	for _, r := range o.rates {
		maxRate = max(maxRate, r)
		total += int64(float64(r) * o.d.Seconds())
	}
	if total > stock/2 {
		return fmt.Errorf("%d checkouts would take more than half of the %d units in stock over %d SKUs; run shorter", total, stock, len(plain))
	}
	// Three mutations per checkout; the gateway allows each customer 20/s
	// (burst 40): no customer sends more than 10/s.
	n := max(seededCustomers, (3*maxRate+9)/10)
	perCustomer := (total + int64(n) - 1) / int64(n)
	if err := creditCustomers(ctx, st, n, perCustomer*o.points*2); err != nil {
		return err
	}
	cs := make([]*customer, n)
	hc := gqlc.New(url, "")
	wsURL := "ws" + strings.TrimPrefix(url, "http")
	for i := range cs {
		sub := fmt.Sprintf("C%04d", i+1)
		cs[i] = &customer{id: sub, c: hc.WithToken(token("CUSTOMER", sub)), waiting: map[string]chan struct{}{}, early: map[string]bool{}}
	}
	if o.poll == 0 {
		for _, c := range cs {
			if err := c.subscribe(ctx, wsURL); err != nil {
				return fmt.Errorf("subscribe as %s: %w", c.id, err)
			}
		}
		defer func() {
			for _, c := range cs {
				c.close()
			}
		}()
		time.Sleep(time.Second) // the gateway registers the subscriptions
	}
	fmt.Printf("%d customers, each checkout: deduct %d point(s), place 1 unit of one of %d SKUs, startCashPayment WECHAT, pay at the cashier, wait for PAID, read the order\n",
		n, o.points, len(plain))
	if o.poll > 0 {
		fmt.Printf("waiting for PAID by polling the order every %s\n", o.poll)
	} else {
		fmt.Printf("waiting for PAID on each customer's orderUpdated subscription (polling every 2s only an order not reported within %s)\n", o.fallbackAfter)
	}
	cashier := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	type result struct {
		rate                    int
		r                       load.Rate
		steps                   *load.Steps
		p95                     time.Duration
		paid, failed            int64
		bySub, byPoll, queries  int64
		peakInFlight, behindMax int64
		cpuBefore, cpuAfter     map[string]int64
	}
	var results []result
	for _, rate := range o.rates {
		if ctx.Err() != nil {
			break
		}
		steps := load.NewSteps("deductNonCash", "placeOrder", "startCashPayment", "cashier pay", "callback→PAID", "read back PAID", "whole checkout")
		var (
			seq                       atomic.Int64
			paid, failed              atomic.Int64
			bySub, byPoll, queries    atomic.Int64
			inFlight, peak, behindMax atomic.Int64
			mu                        sync.Mutex
			lastDone                  time.Time
			wg                        sync.WaitGroup
		)
		fmt.Printf("\n%d checkouts/s for %s...\n", rate, o.d)
		var cpuBefore map[string]int64
		if st != nil {
			cpuBefore = cpuTimes(withSelf(st.PIDs()))
		}
		// The channel stand-in's queue of callbacks due and not yet sent,
		// sampled: it sends up to 32 trades' callbacks at once, and a queue that grows says
		// the channel, not Harvest, sets the pace.
		var queuePeak, queueEnd atomic.Int64
		stopQ := make(chan struct{})
		qDone := make(chan struct{})
		go func() {
			defer close(qDone)
			if st == nil {
				return
			}
			db, err := sqltx.Open(ctx, st.DSN("partners"))
			if err != nil {
				return
			}
			defer db.Close()
			for {
				var q int64
				if db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE status='PENDING' AND next_at <= ?`, time.Now().UTC()).Scan(&q) == nil {
					queueEnd.Store(q)
					queuePeak.Store(max(queuePeak.Load(), q))
				}
				select {
				case <-stopQ:
					return
				case <-time.After(2 * time.Second):
				}
			}
		}()
		start := time.Now()
		for i := int64(0); ; i++ {
			at := load.Arrival(i, float64(rate))
			if at >= o.d || ctx.Err() != nil {
				break
			}
			if wait := time.Until(start.Add(at)); wait > 0 {
				time.Sleep(wait)
			} else if behind := int64(-wait); behind > behindMax.Load() {
				behindMax.Store(behind)
			}
			c := cs[seq.Add(1)%int64(n)]
			p := plain[rand.IntN(len(plain))]
			wg.Add(1)
			if f := inFlight.Add(1); f > peak.Load() {
				peak.Store(f)
			}
			go func() {
				defer wg.Done()
				defer inFlight.Add(-1)
				co := checkoutOne{c: c, p: p, o: o, cashier: cashier, steps: steps, bySub: &bySub, byPoll: &byPoll, queries: &queries}
				if co.run(ctx) {
					paid.Add(1)
				} else {
					failed.Add(1)
				}
				mu.Lock()
				lastDone = time.Now()
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(stopQ)
		<-qDone
		elapsed := lastDone.Sub(start)
		var cpuAfter map[string]int64
		if st != nil {
			cpuAfter = cpuTimes(withSelf(st.PIDs()))
		}
		var whole load.StepStats
		for _, s := range steps.Stats() {
			if s.Name == "whole checkout" {
				whole = s
			}
		}
		results = append(results, result{rate: rate, steps: steps, p95: whole.P95,
			r: load.Rate{Name: fmt.Sprintf("checkout via gateway at %d/s", rate), Ops: paid.Load(), Errors: failed.Load(),
				Elapsed: elapsed, P50: whole.P50, P99: whole.P99},
			paid: paid.Load(), failed: failed.Load(), bySub: bySub.Load(), byPoll: byPoll.Load(), queries: queries.Load(),
			peakInFlight: peak.Load(), behindMax: behindMax.Load(), cpuBefore: cpuBefore, cpuAfter: cpuAfter})
		r := results[len(results)-1]
		fmt.Println(r.r)
		fmt.Printf("  offered %d/s for %s; PAID %d, failed %d; PAID/s %.1f (first arrival to last checkout done); p50 %s p95 %s p99 %s (first request to the order read back PAID)\n",
			r.rate, o.d, r.paid, r.failed, r.r.PerSecond(), round(r.r.P50), round(r.p95), round(r.r.P99))
		fmt.Printf("  peak in flight %d; arrivals at most %s behind schedule\n", r.peakInFlight, time.Duration(r.behindMax).Round(time.Millisecond))
		if o.poll > 0 {
			fmt.Printf("  polling cost: %d order queries, %.1f per checkout\n", r.queries, float64(r.queries)/float64(max(1, r.paid+r.failed)))
		} else {
			fmt.Printf("  PAID seen on the subscription %d, by the fallback poll %d (%d fallback queries); plus one read back per checkout\n",
				r.bySub, r.byPoll, r.queries)
		}
		r.steps.Print(os.Stdout)
		if st != nil {
			fmt.Printf("  channel stand-in: callbacks due and not yet sent, peak %d (sampled every 2s; it sends up to 32 trades' at once)\n", queuePeak.Load())
		}
		if r.cpuAfter != nil {
			printCPUPerItem(r.cpuBefore, r.cpuAfter, r.paid, "checkout (harvest-load: the customers and the cashier clients)")
		}
		if rate != o.rates[len(o.rates)-1] {
			time.Sleep(5 * time.Second) // let the stack drain its queues between rates
		}
	}
	fmt.Println("measuring the baseline...")
	b, err := load.MySQLCheckoutBaseline(ctx, o.mysqlServer, 64, o.baselineD)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(b)
	for _, r := range results {
		fmt.Printf("  at %d/s offered: PAID/s %.1f = %.1f%% of the raw MariaDB commit rate of the same rows; p50 %s p99 %s\n",
			r.rate, r.r.PerSecond(), 100*r.r.PerSecond()/b.PerSecond(), round(r.r.P50), round(r.r.P99))
	}
	return nil
}

// customer is one buyer: its client and, in subscription mode, its open
// orderUpdated subscription, whose PAID events release the checkouts
// waiting for them.
type customer struct {
	id  string
	c   *gqlc.Client
	mu  sync.Mutex
	sub *gqlc.Subscription
	// waiting maps an order to the channel closed when it is seen PAID;
	// early holds PAID orders seen before anyone waited for them.
	waiting map[string]chan struct{}
	early   map[string]bool
	closed  bool
}

func (c *customer) subscribe(ctx context.Context, wsURL string) error {
	sub, err := gqlc.Subscribe(ctx, wsURL, c.c.Token, sCoOrderFeed, nil)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.sub = sub
	c.mu.Unlock()
	go func() {
		for data := range sub.Next {
			var ev struct {
				OrderUpdated struct{ OrderID, Type string }
			}
			if json.Unmarshal(data, &ev) != nil || ev.OrderUpdated.Type != "PAID" {
				continue
			}
			c.mu.Lock()
			if ch, ok := c.waiting[ev.OrderUpdated.OrderID]; ok {
				close(ch)
				delete(c.waiting, ev.OrderUpdated.OrderID)
			} else {
				c.early[ev.OrderUpdated.OrderID] = true
			}
			c.mu.Unlock()
		}
		// Dropped (a lagging subscriber) or ended: open another; the
		// orders waiting meanwhile are found by the fallback poll.
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed || ctx.Err() != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "subscription of %s ended (%v); reopening\n", c.id, sub.Err())
		for ctx.Err() == nil {
			if c.subscribe(ctx, wsURL) == nil {
				return
			}
			time.Sleep(time.Second)
		}
	}()
	return nil
}

func (c *customer) close() {
	c.mu.Lock()
	c.closed = true
	sub := c.sub
	c.mu.Unlock()
	if sub != nil {
		sub.Close()
	}
}

// wait returns a channel closed when order is seen PAID on the
// subscription, and a function to stop waiting.
func (c *customer) wait(order string) (<-chan struct{}, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.early[order] {
		delete(c.early, order)
		close(ch)
		return ch, func() {}
	}
	c.waiting[order] = ch
	return ch, func() {
		c.mu.Lock()
		delete(c.waiting, order)
		c.mu.Unlock()
	}
}

// checkoutOne is one arrival: one customer's whole checkout.
type checkoutOne struct {
	c                      *customer
	p                      product
	o                      checkoutOpts
	cashier                *http.Client
	steps                  *load.Steps
	bySub, byPoll, queries *atomic.Int64
}

// step runs one GraphQL operation as the customer, timing it, and records
// a failure by code: a GraphQL error's code, a user error's code, or the
// transport's error.
func (co *checkoutOne) step(ctx context.Context, name, query string, vars map[string]any, out any, userErrs func() []string) bool {
	t := time.Now()
	err := co.c.c.Do(ctx, query, vars, out)
	if err != nil {
		co.steps.Failed(name, errCode(err))
		return false
	}
	if es := userErrs(); len(es) > 0 {
		co.steps.Failed(name, es[0])
		return false
	}
	co.steps.Took(name, time.Since(t))
	return true
}

func errCode(err error) string {
	var es gqlc.Errors
	if errors.As(err, &es) && len(es) > 0 {
		if c := es[0].Code(); c != "" {
			return c
		}
		return es[0].Message
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

type codes []struct{ Code string }

func (cs codes) list() []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

func (co *checkoutOne) run(ctx context.Context) bool {
	start := time.Now()
	var ded struct {
		DeductNonCash struct {
			Deduction *struct{ ID string }
			Errors    codes
		}
	}
	in := map[string]any{"items": []map[string]any{{"kind": "POINTS", "amountFen": co.o.points}}}
	if !co.step(ctx, "deductNonCash", mCoDeduct, map[string]any{"in": in, "key": ids.New()}, &ded, func() []string {
		if ded.DeductNonCash.Deduction == nil {
			return append(ded.DeductNonCash.Errors.list(), "no deduction")
		}
		return nil
	}) {
		return false
	}
	var pl struct {
		PlaceOrder struct {
			Order *struct {
				ID         string
				CashDueFen int64
			}
			Errors codes
		}
	}
	oi := orderInput(co.p, 1)
	oi["deductionIds"] = []string{ded.DeductNonCash.Deduction.ID}
	if !co.step(ctx, "placeOrder", mCoPlace, map[string]any{"in": oi, "key": ids.New()}, &pl, func() []string {
		if pl.PlaceOrder.Order == nil {
			return append(pl.PlaceOrder.Errors.list(), "no order")
		}
		return nil
	}) {
		return false
	}
	order := pl.PlaceOrder.Order.ID
	var sp struct {
		StartCashPayment struct {
			Payment *struct{ CashierURL string }
			Errors  codes
		}
	}
	if !co.step(ctx, "startCashPayment", mCoStartPay, map[string]any{"id": order, "key": ids.New()}, &sp, func() []string {
		if sp.StartCashPayment.Payment == nil {
			return append(sp.StartCashPayment.Errors.list(), "no payment")
		}
		return nil
	}) {
		return false
	}
	var paidCh <-chan struct{}
	stop := func() {}
	if co.o.poll == 0 {
		paidCh, stop = co.c.wait(order)
	}
	defer stop()
	t := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sp.StartCashPayment.Payment.CashierURL+"/pay", bytes.NewReader([]byte("{}")))
	req.Header.Set("Content-Type", "application/json")
	resp, err := co.cashier.Do(req)
	if err != nil {
		co.steps.Failed("cashier pay", errCode(err))
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		co.steps.Failed("cashier pay", fmt.Sprintf("http %d", resp.StatusCode))
		return false
	}
	paidAt := time.Now()
	co.steps.Took("cashier pay", paidAt.Sub(t))

	// Until PAID: on the subscription (polling only an order it does not
	// report in time), or by polling.
	read := func() (string, bool, error) {
		co.queries.Add(1)
		var out struct {
			Order *struct {
				Status              string
				PaidFen, CashDueFen int64
			}
		}
		if err := co.c.c.Do(ctx, qCoOrder, map[string]any{"id": order}, &out); err != nil {
			return "", false, err
		}
		if out.Order == nil {
			return "", false, fmt.Errorf("order not found")
		}
		s := out.Order.Status
		return s, s != "PENDING_PAYMENT" && s != "CANCELLED" && out.Order.PaidFen == out.Order.CashDueFen, nil
	}
	deadline := time.NewTimer(co.o.paidTimeout)
	defer deadline.Stop()
	interval := co.o.poll
	var tick <-chan time.Time
	if interval > 0 {
		tick = time.After(interval)
	} else {
		tick = time.After(co.o.fallbackAfter)
		interval = 2 * time.Second // gentle: a lost event is rare, and a loaded stack needs no more queries
	}
	seen := false
	for !seen {
		select {
		case <-ctx.Done():
			co.steps.Failed("callback→PAID", "cancelled")
			return false
		case <-deadline.C:
			co.steps.Failed("callback→PAID", "not PAID within "+co.o.paidTimeout.String())
			return false
		case <-paidCh:
			seen = true
			co.bySub.Add(1)
		case <-tick:
			s, ok, err := read()
			switch {
			case err != nil:
				co.steps.Failed("callback→PAID", "poll: "+errCode(err))
				return false
			case s == "CANCELLED":
				co.steps.Failed("callback→PAID", "CANCELLED")
				return false
			case ok:
				seen = true
				co.byPoll.Add(1)
			default:
				tick = time.After(interval)
			}
		}
	}
	co.steps.Took("callback→PAID", time.Since(paidAt))
	// Read back, as the customer's page does when told the order is paid.
	t = time.Now()
	var back struct {
		Order *struct {
			Status              string
			PaidFen, CashDueFen int64
		}
	}
	if err := co.c.c.Do(ctx, qCoOrder, map[string]any{"id": order}, &back); err != nil {
		co.steps.Failed("read back PAID", errCode(err))
		return false
	}
	if back.Order == nil || back.Order.Status == "PENDING_PAYMENT" || back.Order.Status == "CANCELLED" || back.Order.PaidFen != back.Order.CashDueFen {
		co.steps.Failed("read back PAID", "not paid on read back")
		return false
	}
	co.steps.Took("read back PAID", time.Since(t))
	co.steps.Took("whole checkout", time.Since(start))
	return true
}

// creditCustomers makes sure customers C0001..C<n> each hold at least
// points: beyond the seeded ones (or when the seeded 10,000 points are not
// enough) PAY credits them, asked on its own port with its app token,
// which only a stack of the run's own gives.
func creditCustomers(ctx context.Context, st *stack.Stack, n int, points int64) error {
	from := seededCustomers + 1
	if points > 9_000 {
		from = 1
	}
	if from > n {
		return nil
	}
	if st == nil {
		return fmt.Errorf("customers C%04d..C%04d need %d points each and only a stack of the run's own can credit them; lower -rate or -duration", from, n, points)
	}
	run := ids.New()
	hc := &http.Client{Timeout: 10 * time.Second}
	for i := from; i <= n; i++ {
		c := fmt.Sprintf("C%04d", i)
		body, _ := json.Marshal(map[string]any{"idempotency_key": "load-" + run + "-" + c, "points": points})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+st.AppAddr("pay")+"/v1/accounts/"+c+"/credit", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(daprx.APITokenHeader, st.AppToken("pay"))
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("credit %s: %w", c, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("credit %s: %d %s", c, resp.StatusCode, b)
		}
	}
	fmt.Printf("credited C%04d..C%04d with %d points each through PAY\n", from, n, points)
	return nil
}

func round(d time.Duration) time.Duration {
	if d >= 100*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// withSelf adds this process to pids: the clients share the two cores.
func withSelf(pids map[string]int) map[string]int {
	out := map[string]int{"harvest-load": os.Getpid()}
	for k, v := range pids {
		out[k] = v
	}
	return out
}
