// Command harvest-load runs Harvest's load runs against the whole stack
// (every app with its own daprd), each reported beside a baseline measured
// in the same run:
//
//	harvest-load place [-rate 1000] [-duration 60s] [-slots on|off|both]
//	                                                   placeOrder through the gateway
//	                                                   vs the raw MariaDB commit rate of the same rows;
//	                                                   -slots off runs OMS without the delivery-slot
//	                                                   check (HARVEST_OMS_SLOT_CHECK=false), both runs
//	                                                   off then on, each on a fresh stack, to show
//	                                                   what the slot check costs
//	harvest-load flash [-buyers 50000] [-rate 2500]   1 SKU, 10 k units, N buyers
//	                                                   vs the bare Redis Lua decrement rate
//	harvest-load fulfill [-orders 20000] [-backlog]    paid orders through the 16 stages, whole stack
//	                                                   vs the sum of the stages' own costs; with
//	                                                   -backlog the orders wait, placed, while
//	                                                   fulfillment is suspended, and the clock runs
//	                                                   from resuming it (the pipeline alone)
//	harvest-load checkout [-rate 100] [-rates 100,200,300] [-duration 60s]
//	                                                   the whole customer checkout per order through
//	                                                   the gateway (deduct, place, start the cash
//	                                                   payment, pay at the cashier, the channel's
//	                                                   callback, until PAID) vs the raw MariaDB
//	                                                   commit rate of the same rows
//	harvest-load campaign [-users 1000000] [-page 5000] [-bulk 128] a coupon campaign to N BI users end to end
//	                                                   vs the raw MariaDB + Redis writes of the same grants
//	harvest-load marketplace [-orders 50000] [-rate 5000] [-repeats 2]
//	                                                   a group buy closing: the Yuedian stand-in
//	                                                   pushes N signed orders at a rate, each
//	                                                   staged, planned and ordered through OMS
//	                                                   vs the raw MariaDB insert rate of the same
//	                                                   staging rows
//	harvest-load expiry [-orders 100000] [-spread 10m] [-lead 4m] [-reminders order|window]
//	                                                   N unpaid orders armed at once, each to be
//	                                                   cancelled within 2 s of its deadline, with
//	                                                   one reminder per order or per second
//	harvest-load warehouse [-orders 5000] [-floor 400] [-pickers 8] [-packers 4]
//	                                                   a day's received orders through split and
//	                                                   allocation (WMS's own messages), then a floor
//	                                                   of pickers and packers through pick, QC, pack
//	                                                   and handover by GraphQL; rates per step, p50
//	                                                   and p99 per RF call, CPU per order, beside
//	                                                   WMS's use cases in process on a scratch DB;
//	                                                   prints the projection for 150 k
//	harvest-load cancels [-orders 10000] [-rate 200]    a burst of N customers' cancels of paid orders
//	                                                   (requestCancel through the gateway; fulfillment
//	                                                   suspended, so none reached a warehouse) through
//	                                                   the reverse flow to PAY's refunds: accept p50/p99,
//	                                                   pushes per type, first cancel to last refund,
//	                                                   exactly once checked (exit 1 on a violation), CPU
//	                                                   per cancel, vs the raw MariaDB rate of the same
//	                                                   push rows marked DONE
//	harvest-load detail [-rate 1000] [-duration 60s] [-with-requests 1] [-orders 2000]
//	                                                   order detail (cancelRequest selected) through the
//	                                                   gateway, 1 % of the orders with a request: with the
//	                                                   cancel filter, then the same reads asking
//	                                                   after-sales every time (the filter's ready mark
//	                                                   removed), one stack; every answer checked
//	harvest-load reconcile [-prefix harvest_]        inventory's, WMS's and ERP's stock counts per
//	                                                   warehouse and SKU, every difference listed
//	                                                   (exit 1 when any); reads the databases
//	                                                   <prefix>inventory, <prefix>wms, <prefix>partners
//
// Without -url it starts a fresh stack of its own (deploy/local/stack) and
// stops it afterwards; with -url it drives a running one (make up) and signs
// tokens with -secret.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/oms/actors"
	"github.com/harvest/harvest/apps/platform/devauth"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/load"
	local "github.com/harvest/harvest/deploy/local"
	"github.com/harvest/harvest/deploy/local/stack"
)

const mPlace = `mutation($in:PlaceOrderInput!,$key:String!){ placeOrder(input:$in, idempotencyKey:$key){ order{ id } errors{ code } } }`

func main() {
	if len(os.Args) < 2 || !slices.Contains([]string{"place", "flash", "browse", "fulfill", "expiry", "checkout", "campaign", "claims", "reconcile", "warehouse", "marketplace", "cancels", "detail"}, os.Args[1]) {
		fmt.Fprintln(os.Stderr, "usage: harvest-load place|flash|browse|fulfill|expiry|checkout|campaign|claims|reconcile|warehouse|marketplace|cancels|detail [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	url := fs.String("url", "", "GraphQL endpoint of a running stack (default: start a fresh stack)")
	secret := fs.String("secret", devauth.DevSecret, "JWT secret of the running stack (with -url)")
	mysqlServer := fs.String("mysql", "root@tcp(127.0.0.1:3306)/", "MariaDB server for the baseline")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis for the baseline")
	rate := fs.Int("rate", 0, "attempts per second (place, browse and detail: 1000, flash: 2500, claims: 6000, cancels: 200)")
	duration := fs.Duration("duration", 60*time.Second, "place, browse and detail (each phase): how long to send")
	buyers := fs.Int("buyers", 50000, "flash: number of buyers, one attempt each")
	baseline := fs.Duration("baseline", 10*time.Second, "how long each baseline runs")
	orders := fs.Int("orders", 0, "expiry: unpaid orders armed at once (100000); fulfill: paid orders (20000); cancels: paid orders cancelled (10000); detail: paid orders read (2000)")
	spread := fs.Duration("spread", 10*time.Minute, "expiry: their deadlines spread over this long")
	lead := fs.Duration("lead", 4*time.Minute, "expiry: from the start to the first deadline (writing and arming must fit)")
	workers := fs.Int("workers", 0, "expiry: writers of the unpaid orders (48); fulfill, cancels and detail: placers (32)")
	backlog := fs.Bool("backlog", false, "fulfill: place every order with fulfillment suspended, then time the pipeline alone from resuming it")
	rates := fs.String("rates", "", "checkout: comma-separated rates run one after another on one stack (instead of -rate)")
	poll := fs.Duration("poll", 0, "checkout: poll each order for PAID at this interval instead of waiting on the subscription")
	callbackDelay := fs.Duration("callback-delay", 20*time.Millisecond, "checkout: the channel stand-in's callback delay (PARTNERS_CALLBACK_DELAY; own stack)")
	channelTick := fs.Duration("channel-tick", 20*time.Millisecond, "checkout: how often the channel stand-in sends due callbacks (PARTNERS_TICK; own stack)")
	duplicates := fs.Int("duplicates", 10, "checkout: percent of callbacks the channel stand-in sends twice (PARTNERS_DUPLICATE_PERCENT; own stack)")
	points := fs.Int64("points", 1, "checkout: points deducted as the non-cash part of each checkout")
	reminders := fs.String("reminders", "", "expiry: the design of OMS's payment-deadline reminders, order or window (HARVEST_EXPIRY_REMINDERS; default OMS's)")
	paidTimeout := fs.Duration("paid-timeout", 60*time.Second, "checkout: how long a paid order may take to read back PAID")
	slots := fs.String("slots", "on", "place: on (slot capacity checked, set for the run's slot), off (HARVEST_OMS_SLOT_CHECK=false; own stack) or both, one after the other")
	users := fs.Int("users", 1_000_000, "campaign: users BI lists (all matching)")
	page := fs.Int("page", 5_000, "campaign: users per page of BI's export")
	userBulk := fs.Int("bulk", 0, "campaign: user messages per bulk delivery to marketing (HARVEST_CAMPAIGN_BULK; 0: marketing's default)")
	prefix := fs.String("prefix", "harvest_", "reconcile: the stack's database name prefix (make up: harvest_)")
	floorOrders := fs.Int("floor", 400, "warehouse: allocated work orders the floor takes through pick, QC, pack and handover")
	pickers := fs.Int("pickers", 8, "warehouse: pickers on the floor")
	packers := fs.Int("packers", 4, "warehouse: packers at the benches")
	customers := fs.Int("customers", 30_000, "claims: customers tapping \"claim\"")
	taps := fs.Int("taps", 2, "claims: taps per customer, each with a key of its own (the limit is 1)")
	claimStock := fs.Int64("stock", 20_000, "claims: the campaign's coupons")
	dups := fs.Int("repeats", 2, "marketplace: percent of orders the platform pushes twice (at once and again later)")
	withRequests := fs.Int("with-requests", 1, "detail: percent of the orders with a cancel request")
	refundDelay := fs.Duration("refund-delay", 20*time.Millisecond, "cancels: the channel stand-in's refund delay (PARTNERS_REFUND_DELAY)")
	_ = fs.Parse(os.Args[2:])

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if os.Args[1] == "checkout" {
		rs, err := parseRates(*rates, *rate)
		if err == nil {
			err = checkoutRun(ctx, *url, *secret, checkoutOpts{rates: rs, d: *duration, baselineD: *baseline, poll: *poll,
				fallbackAfter: 10 * time.Second, paidTimeout: *paidTimeout, points: *points, mysqlServer: *mysqlServer,
				callbackDelay: *callbackDelay, channelTick: *channelTick, duplicates: *duplicates})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "marketplace" {
		n, r := *orders, *rate
		if n == 0 {
			n = 50_000
		}
		if r == 0 {
			r = 5_000
		}
		if err := marketplace(ctx, n, r, *dups, *mysqlServer, *baseline); err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "cancels" || os.Args[1] == "detail" {
		n, r, w := *orders, *rate, *workers
		if w == 0 {
			w = 32
		}
		var err error
		if os.Args[1] == "cancels" {
			if n == 0 {
				n = 10_000
			}
			if r == 0 {
				r = 200
			}
			err = cancels(ctx, cancelsOpts{orders: n, rate: r, workers: w, mysqlServer: *mysqlServer,
				callbackDelay: *callbackDelay, refundDelay: *refundDelay, channelTick: *channelTick})
		} else {
			if n == 0 {
				n = 2_000
			}
			if r == 0 {
				r = 1_000
			}
			err = detail(ctx, detailOpts{orders: n, withRequests: *withRequests, rate: r, workers: w, d: *duration, redisAddr: *redisAddr})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "reconcile" {
		differ, err := reconcile(ctx, *mysqlServer, *prefix)
		if err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(2)
		}
		if differ {
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "warehouse" {
		o := warehouseOpts{orders: *orders, floorOrders: *floorOrders, workers: *workers, pickers: *pickers, packers: *packers,
			baselineD: *baseline, mysqlServer: *mysqlServer}
		if o.orders == 0 {
			o.orders = 5000
		}
		if o.workers == 0 {
			o.workers = 32
		}
		err := func() error {
			if o.orders <= 0 || o.floorOrders <= 0 || o.pickers <= 0 || o.packers <= 0 {
				return fmt.Errorf("-orders, -floor, -pickers and -packers must be positive")
			}
			st, err := freshStackWith(ctx, nil)
			if err != nil {
				return err
			}
			defer st.Stop(context.Background())
			fmt.Printf("harvest-load warehouse on a fresh stack at %s\n", time.Now().UTC().Format(time.RFC3339))
			return warehouse(ctx, st, o)
		}()
		if err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "campaign" {
		if err := campaign(ctx, *users, *page, *userBulk, *mysqlServer, *redisAddr, *baseline); err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "claims" {
		r := *rate
		if r == 0 {
			r = 6_000
		}
		if err := claimsRun(ctx, *customers, *taps, *claimStock, r, *mysqlServer, *redisAddr, *baseline); err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "expiry" || os.Args[1] == "fulfill" {
		if err := runOwnStack(ctx, os.Args[1], *orders, *spread, *lead, *workers, *backlog, *reminders); err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
		return
	}
	modes := []string{*slots}
	switch {
	case os.Args[1] != "place":
		modes = []string{"on"}
	case *slots == "both":
		modes = []string{"off", "on"}
	case *slots != "on" && *slots != "off":
		fmt.Fprintln(os.Stderr, "harvest-load: -slots: want on, off or both")
		os.Exit(2)
	}
	if *url != "" && slices.Contains(modes, "off") {
		fmt.Fprintln(os.Stderr, "harvest-load: -slots off needs a stack of its own (OMS started with HARVEST_OMS_SLOT_CHECK=false): drop -url")
		os.Exit(2)
	}
	for _, m := range modes {
		if err := run(ctx, os.Args[1], *url, *secret, *mysqlServer, *redisAddr, *rate, *duration, *buyers, *baseline, m == "on"); err != nil {
			fmt.Fprintln(os.Stderr, "harvest-load:", err)
			os.Exit(1)
		}
	}
}

// signer mints development tokens signed with secret, for the load's buyers.
func signer(secret string) func(role, sub string) string {
	return func(role, sub string) string {
		t, err := devauth.Mint(secret, role, sub, 2*time.Hour)
		if err != nil {
			panic(err) // only a malformed secret fails, and then nothing can run
		}
		return t
	}
}

// freshStackWith installs or starts MariaDB and Redis if needed and
// starts a stack of the run's own, with extra environment for some apps;
// the caller stops it.
func freshStackWith(ctx context.Context, appEnv map[string]map[string]string) (*stack.Stack, error) {
	if err := local.EnsureServices(ctx, os.Stderr); err != nil {
		return nil, err
	}
	return stack.Start(ctx, stack.Options{Name: "load-" + ids.New()[20:], Progress: os.Stderr, AppEnv: appEnv})
}

// parseRates reads -rates (comma-separated), or -rate alone (default 100).
func parseRates(list string, rate int) ([]int, error) {
	if list == "" {
		if rate == 0 {
			rate = 100
		}
		list = strconv.Itoa(rate)
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("-rates: %q is not a positive rate", f)
		}
		out = append(out, r)
	}
	return out, nil
}

func run(ctx context.Context, mode, url, secret, mysqlServer, redisAddr string, rate int, d time.Duration, buyers int, baselineD time.Duration, slotCheck bool) error {
	// unitsOrdered counts, in OMS's own database, the units of a SKU on
	// orders that are not cancelled: the ground truth a flash sale's sold
	// units must equal, whatever the clients saw (a client that timed out
	// may still have got its order).
	var unitsOrdered func(ctx context.Context, sku string) (int64, error)
	invDSN := ""
	if url == "" {
		var appEnv map[string]map[string]string
		if !slotCheck {
			appEnv = map[string]map[string]string{"oms": {"HARVEST_OMS_SLOT_CHECK": "false"}}
		}
		st, err := freshStackWith(ctx, appEnv)
		if err != nil {
			return err
		}
		defer st.Stop(context.Background())
		url, secret = st.GraphQLURL(), st.JWTSecret()
		omsDSN := st.DSN("oms")
		invDSN = st.DSN("inventory")
		unitsOrdered = func(ctx context.Context, sku string) (int64, error) {
			db, err := sql.Open("mysql", omsDSN)
			if err != nil {
				return 0, err
			}
			defer db.Close()
			var n sql.NullInt64
			err = db.QueryRowContext(ctx, `SELECT SUM(l.qty) FROM order_lines l JOIN orders o ON o.id = l.order_id
				WHERE l.sku = ? AND o.status <> 'CANCELLED'`, sku).Scan(&n)
			return n.Int64, err
		}
		time.Sleep(2 * time.Second) // let seeders and subscriptions settle
	}
	token := signer(secret)
	fmt.Printf("harvest-load %s against %s at %s\n", mode, url, time.Now().UTC().Format(time.RFC3339))
	switch mode {
	case "place":
		if rate == 0 {
			rate = 1000
		}
		return place(ctx, url, token, mysqlServer, rate, d, baselineD, slotCheck)
	case "browse":
		if rate == 0 {
			rate = 1000
		}
		return browse(ctx, url, token, invDSN, rate, d, baselineD)
	default:
		if rate == 0 {
			rate = 2500
		}
		return flash(ctx, url, token, redisAddr, rate, buyers, baselineD, unitsOrdered)
	}
}

// runOwnStack starts a fresh stack for the runs that read or write its
// databases (so they never drive a running one) and runs mode on it.
func runOwnStack(ctx context.Context, mode string, n int, spread, lead time.Duration, workers int, backlog bool, reminders string) error {
	if n == 0 {
		n = map[string]int{"expiry": 100_000, "fulfill": 20_000}[mode]
	}
	if workers == 0 {
		workers = map[string]int{"expiry": 48, "fulfill": 32}[mode]
	}
	if n <= 0 || spread <= 0 || lead <= 0 || workers <= 0 {
		return fmt.Errorf("-orders, -spread, -lead and -workers must be positive")
	}
	var appEnv map[string]map[string]string
	if mode == "expiry" {
		if reminders == "" {
			reminders = actors.DefaultDesign
		}
		if reminders != actors.DesignOrder && reminders != actors.DesignWindow {
			return fmt.Errorf("-reminders %q: want %s or %s", reminders, actors.DesignOrder, actors.DesignWindow)
		}
		appEnv = map[string]map[string]string{"oms": {"HARVEST_EXPIRY_REMINDERS": reminders}}
	}
	st, err := freshStackWith(ctx, appEnv)
	if err != nil {
		return err
	}
	defer st.Stop(context.Background())
	fmt.Printf("harvest-load %s on a fresh stack at %s\n", mode, time.Now().UTC().Format(time.RFC3339))
	// Where to point go tool pprof (each app's ops port) while it runs.
	fmt.Printf("  pprof: http://%s/debug/pprof/profile (OMS; other apps: their ops ports)\n", st.OpsAddr("oms"))
	if mode == "fulfill" {
		return fulfill(ctx, st, n, workers, backlog, signer(st.JWTSecret()))
	}
	return expiry(ctx, st, n, spread, lead, workers, reminders)
}

type product struct {
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	PriceFen  int64  `json:"priceFen"`
	Available int64  `json:"available"`
	Bundle    bool   `json:"bundle"`
	Presale   bool   `json:"presale"`
	DropShip  bool   `json:"dropShip"`
}

// plainProducts are the catalog's plain goods in stock: no bundle, presale
// or drop-ship line and not the flash sale's SKU, so an order of them
// takes the ordinary path through reservation and fulfillment.
func plainProducts(ps []product) []product {
	var plain []product
	for _, p := range ps {
		if !p.Bundle && !p.Presale && !p.DropShip && p.SKU != "FLASH-001" && p.Available > 0 {
			plain = append(plain, p)
		}
	}
	return plain
}

// stockedPlainPool is the fresh stack's plain goods (at least 10 SKUs),
// with stock received for n orders of them.
func stockedPlainPool(ctx context.Context, st *stack.Stack, url string, token func(string, string) string, n int) ([]product, error) {
	ps, err := catalog(ctx, url, token("CUSTOMER", "C0001"))
	if err != nil {
		return nil, err
	}
	pool := plainProducts(ps)
	if len(pool) < 10 {
		return nil, fmt.Errorf("catalog has only %d plain SKUs in stock", len(pool))
	}
	if err := receiveStock(ctx, st, pool, n); err != nil {
		return nil, err
	}
	return pool, nil
}

func catalog(ctx context.Context, url, tok string) ([]product, error) {
	c := gqlc.New(url, tok)
	var all []product
	after := ""
	for {
		var out struct {
			Products struct {
				Edges    []struct{ Node product }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		err := c.Do(ctx, `query($after:String){ products(first:40, after:$after, filter:{inStock:true}){
			edges{ node{ sku warehouse priceFen available bundle presale dropShip } } pageInfo{ hasNextPage endCursor } } }`,
			map[string]any{"after": after}, &out)
		if err != nil {
			return nil, err
		}
		for _, e := range out.Products.Edges {
			all = append(all, e.Node)
		}
		if !out.Products.PageInfo.HasNextPage {
			return all, nil
		}
		after = out.Products.PageInfo.EndCursor
	}
}

// slotDay is the delivery day every order of the load runs promises.
func slotDay() string {
	return time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format("2006-01-02")
}

func orderInput(p product, qty int64) map[string]any {
	return map[string]any{
		"source": "APP",
		"lines":  []map[string]any{{"sku": p.SKU, "qty": qty, "unitPriceFen": p.PriceFen}},
		"address": map[string]any{"name": "Li Lei", "phone": "13800138000", "province": "Shanghai",
			"city": "Shanghai", "district": "Pudong", "detail": "1 Century Avenue"},
		"slot": map[string]any{"type": "NEXT_DAY", "date": slotDay()},
	}
}

const (
	mSetSlot = `mutation($in:SetSlotCapacityInput!){ setSlotCapacity(input:$in){ slot{ taken } errors{ code message } } }`
	qSlots   = `query($wh:String,$from:String){ slotCapacities(warehouse:$wh, from:$from, days:1){ type taken } }`
)

// limitSlots gives the run's slot (tomorrow's next-day) a capacity at
// every warehouse the orders ship from, ample for the run, so each order
// takes its unit on the limited path; it answers the units taken before.
func limitSlots(ctx context.Context, c *gqlc.Client, warehouses []string, capacity int64) (int64, error) {
	var before int64
	for _, wh := range warehouses {
		var out struct {
			SetSlotCapacity struct {
				Slot   *struct{ Taken int64 }
				Errors []struct{ Code, Message string }
			}
		}
		in := map[string]any{"warehouse": wh, "type": "NEXT_DAY", "date": slotDay(), "capacity": capacity}
		if err := c.Do(ctx, mSetSlot, map[string]any{"in": in}, &out); err != nil {
			return 0, err
		}
		if len(out.SetSlotCapacity.Errors) > 0 {
			return 0, fmt.Errorf("set the slot capacity of %s: %s", wh, out.SetSlotCapacity.Errors[0].Message)
		}
		before += out.SetSlotCapacity.Slot.Taken
	}
	return before, nil
}

// slotsTaken sums the units taken of the run's slot at warehouses.
func slotsTaken(ctx context.Context, c *gqlc.Client, warehouses []string) (int64, error) {
	var n int64
	for _, wh := range warehouses {
		var out struct {
			SlotCapacities []struct {
				Type  string
				Taken int64
			}
		}
		if err := c.Do(ctx, qSlots, map[string]any{"wh": wh, "from": slotDay()}, &out); err != nil {
			return 0, err
		}
		for _, s := range out.SlotCapacities {
			if s.Type == "NEXT_DAY" {
				n += s.Taken
			}
		}
	}
	return n, nil
}

func classifyPlace(data json.RawMessage) (load.Outcome, string) {
	var r struct {
		PlaceOrder struct {
			Order  *struct{ ID string }
			Errors []struct{ Code string }
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return load.Failed, "bad data"
	}
	if r.PlaceOrder.Order != nil {
		return load.OK, ""
	}
	if len(r.PlaceOrder.Errors) > 0 {
		return load.Refused, r.PlaceOrder.Errors[0].Code
	}
	return load.Failed, "empty payload"
}

func place(ctx context.Context, url string, token func(string, string) string, mysqlServer string, rate int, d, baselineD time.Duration, slotCheck bool) error {
	ps, err := catalog(ctx, url, token("CUSTOMER", "C0001"))
	if err != nil {
		return err
	}
	plain := plainProducts(ps)
	if len(plain) == 0 {
		return fmt.Errorf("no plain products in stock")
	}
	var warehouses []string
	for _, p := range plain {
		if !slices.Contains(warehouses, p.Warehouse) {
			warehouses = append(warehouses, p.Warehouse)
		}
	}
	admin := gqlc.New(url, token("ADMIN", "load"))
	var takenBefore int64
	if slotCheck {
		if takenBefore, err = limitSlots(ctx, admin, warehouses, int64(rate)*int64(d/time.Second+1)*2); err != nil {
			return err
		}
		fmt.Printf("delivery-slot check on: NEXT_DAY %s limited at %v\n", slotDay(), warehouses)
	} else {
		fmt.Println("delivery-slot check off (HARVEST_OMS_SLOT_CHECK=false)")
	}
	// The gateway limits each customer's mutations (20/s, burst 40, by
	// default): the orders are spread so no customer places more than 10/s.
	tokens := make([]string, max(100, rate/10))
	for i := range tokens {
		tokens[i] = token("CUSTOMER", fmt.Sprintf("C%04d", i+1))
	}
	// SKUs are drawn in proportion to their stock, as demand follows what
	// a shop stocks: a SKU with little stock is not emptied in the first
	// seconds while others keep thousands.
	cum := make([]int64, len(plain))
	var stock int64
	for i, p := range plain {
		stock += p.Available
		cum[i] = stock
	}
	pick := func() product {
		n := rand.Int64N(stock)
		i, _ := slices.BinarySearch(cum, n+1)
		return plain[i]
	}
	fmt.Printf("placing orders of 1 unit over %d SKUs (%d units in stock) by %d customers: %d/s for %s\n",
		len(plain), stock, len(tokens), rate, d)
	r, outcomes, reasons := load.Attack(ctx, "placeOrder via gateway (whole stack)", url, rate, d, 0,
		func(i int64) (string, []byte) {
			p := pick()
			return tokens[i%int64(len(tokens))], load.GraphQLBody(mPlace, map[string]any{"in": orderInput(p, 1), "key": ids.New()})
		}, classifyPlace)
	fmt.Println("measuring the baseline...")
	b, err := load.MySQLOrderBaseline(ctx, mysqlServer, 64, baselineD)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(r)
	fmt.Printf("  orders placed %d, refused %d, failed %d; placed/s %.0f\n", outcomes[load.OK], outcomes[load.Refused], outcomes[load.Failed],
		float64(outcomes[load.OK])/r.Elapsed.Seconds())
	for why, n := range reasons {
		fmt.Printf("  %6d × %s\n", n, why)
	}
	if slotCheck {
		taken, err := slotsTaken(ctx, admin, warehouses)
		if err != nil {
			return err
		}
		fmt.Printf("  slot units taken during the run %d (orders placed %d; they must agree)\n", taken-takenBefore, outcomes[load.OK])
	}
	fmt.Println(b)
	fmt.Printf("ratio: whole stack placed/s = %.1f%% of the raw MariaDB commit rate of the same rows\n",
		100*float64(outcomes[load.OK])/r.Elapsed.Seconds()/b.PerSecond())
	return nil
}

func flash(ctx context.Context, url string, token func(string, string) string, redisAddr string, rate, buyers int, baselineD time.Duration,
	unitsOrdered func(ctx context.Context, sku string) (int64, error)) error {
	c := gqlc.New(url, token("CUSTOMER", "C0001"))
	read := func() (product, error) {
		var out struct{ Product *product }
		err := c.Do(ctx, `{ product(sku:"FLASH-001"){ sku priceFen available } }`, nil, &out)
		if err == nil && out.Product == nil {
			err = fmt.Errorf("FLASH-001 not in the catalog")
		}
		if err != nil {
			return product{}, err
		}
		return *out.Product, nil
	}
	p, err := read()
	if err != nil {
		return err
	}
	units := p.Available
	fmt.Printf("flash sale: %s with %d units, %d buyers, %d attempts/s\n", p.SKU, units, buyers, rate)
	tokens := make([]string, buyers)
	for i := range tokens {
		tokens[i] = token("CUSTOMER", fmt.Sprintf("F%06d", i))
	}
	d := time.Duration(float64(buyers) / float64(rate) * float64(time.Second))
	r, outcomes, reasons := load.Attack(ctx, "flash-sale placeOrder (whole stack)", url, rate, d, uint64(buyers),
		func(i int64) (string, []byte) {
			return tokens[i%int64(buyers)], load.GraphQLBody(mPlace, map[string]any{"in": orderInput(p, 1), "key": ids.New()})
		}, classifyPlace)
	after, err := read()
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, PoolSize: 64})
	defer rdb.Close()
	b, err := load.RedisLuaBaseline(ctx, rdb, 64, baselineD)
	if err != nil {
		return err
	}
	won := outcomes[load.OK]
	fmt.Println()
	fmt.Println(r)
	fmt.Printf("  attempts/s %.0f; orders won %d, refused %d, failed %d\n", r.PerSecond(), won, outcomes[load.Refused], outcomes[load.Failed])
	for why, n := range reasons {
		fmt.Printf("  %6d × %s\n", n, why)
	}
	sold := units - after.Available
	fmt.Printf("  units before %d, after %d, sold %d\n", units, after.Available, sold)
	if unitsOrdered != nil {
		time.Sleep(3 * time.Second) // let in-flight placements settle
		ordered, err := unitsOrdered(ctx, p.SKU)
		if err != nil {
			return err
		}
		fmt.Printf("  units on live orders in OMS %d (the gateway confirmed %d; the rest timed out at the client but were placed)\n", ordered, won)
		fmt.Printf("  oversold %d (units on orders beyond stock), lost %d (units taken without an order)\n", max(0, ordered-units), sold-ordered)
		if ordered > units || ordered != sold {
			defer fmt.Println("INVARIANT BROKEN: stock and orders disagree")
		}
	} else {
		fmt.Printf("  oversold %d\n", max(0, won-units))
	}
	fmt.Println(b)
	fmt.Printf("ratio: flash attempts/s = %.1f%% of the bare Redis Lua decrement rate\n", 100*r.PerSecond()/b.PerSecond())
	if won > units || after.Available < 0 {
		return fmt.Errorf("oversold: won %d of %d units", won, units)
	}
	return nil
}
