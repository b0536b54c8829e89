package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/fresh"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// StartConsumer is the inbox name of the oms.order.paid subscriber.
const StartConsumer = "oms.fulfillment-start"

// leaseMargin is kept free at the end of a lease: a run is cut off that
// long before the lease runs out, so it never overlaps a catch-up by
// another instance even with some clock skew.
const leaseMargin = 2 * time.Second

// Deps are the engine's collaborators.
type Deps struct {
	DB        *sql.DB
	Orders    Orders
	Partners  Partners
	Gifts     Gifts
	Warehouse Warehouse
	Catalog   Catalog
	Clock     clock.Clock
	Logger    *slog.Logger
	Notify    func() // wakes the outbox relay after a commit with events
}

// StageStats are one stage's own costs in this process, for load reports.
type StageStats struct {
	Runs        int64
	RunTime     time.Duration // inside the stage (partner calls, CPU)
	CommitTime  time.Duration // its share of the transactions that saved its outcomes
	CommitWait  time.Duration // from handing an outcome to the committer to its commit
	MaxQueue    int
	Workers     int
	QueueSize   int
	OutcomeNext int64
}

type stageStats struct {
	runs, runNanos, commitNanos, waitNanos, next atomic.Int64
	maxQueue                                     atomic.Int64
}

// Engine runs the fulfillment stages.
type Engine struct {
	db       *sql.DB
	orders   Orders
	partners Partners
	gifts    Gifts
	wh       Warehouse
	catalog  Catalog
	clock    clock.Clock
	log      *slog.Logger
	notify   func()
	cfg      Config

	queues   [NumStages + 1]chan *Unit
	breakers [NumStages + 1]*breaker
	stats    [NumStages + 1]stageStats
	held     atomic.Int64
	wake     chan struct{}
	// abandon makes the engine stop like a crashed process: no commit, no
	// release (tests of catch-up).
	abandon atomic.Bool
	// commits feeds the committers, one queue each: a unit's outcomes go
	// to the committer of its order (commitShard).
	commits [committers]chan *commitReq
	// group commit statistics
	batches, batchItems, batchNanos atomic.Int64
	finishing                       sync.WaitGroup
	// the warehouse throttle's capacity takes waiting for a transaction
	grants [grantShards]batcher[*capReq]
	// the starts of paid orders waiting for a transaction
	starts batcher[*startReq]
	// suspension is this instance's view of the operators' switch.
	suspension fresh.Copy[Suspension]
	// wrap, when set, wraps every stage function (tests run stages twice).
	wrap func(Stage, stageFn) stageFn
}

// New returns an engine; Run starts it.
func New(d Deps, cfg Config) *Engine {
	cfg = cfg.withDefaults()
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Notify == nil {
		d.Notify = func() {}
	}
	e := &Engine{db: d.DB, orders: d.Orders, partners: d.Partners, gifts: d.Gifts, wh: d.Warehouse, catalog: d.Catalog,
		clock: d.Clock, log: d.Logger, notify: d.Notify, cfg: cfg, wake: make(chan struct{}, 1),
	}
	e.starts.par = startBatches
	e.suspension.TTL = suspensionFresh
	for i := range e.grants {
		e.grants[i].linger = commitLinger // a busy warehouse's takes gather, like outcomes
	}
	for i := range e.commits {
		e.commits[i] = make(chan *commitReq, cfg.MaxInFlight)
	}
	for s := Stage(1); s <= NumStages; s++ {
		e.queues[s] = make(chan *Unit, cfg.stage(s).QueueSize)
		if callsPartner[s] {
			name := s.String()
			e.breakers[s] = newBreaker(e.clock, cfg.BreakerThreshold, cfg.BreakerCooldown, func(open bool) {
				v := 0.0
				if open {
					v = 1
				}
				breakerOpen.WithLabelValues(name).Set(v)
			})
		}
	}
	return e
}

// Config is the effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Stats returns each stage's own costs so far.
func (e *Engine) Stats() map[Stage]StageStats {
	out := map[Stage]StageStats{}
	for s := Stage(1); s <= NumStages; s++ {
		st := &e.stats[s]
		sc := e.cfg.stage(s)
		out[s] = StageStats{Runs: st.runs.Load(), RunTime: time.Duration(st.runNanos.Load()),
			CommitTime: time.Duration(st.commitNanos.Load()), CommitWait: time.Duration(st.waitNanos.Load()), MaxQueue: int(st.maxQueue.Load()),
			Workers: sc.Workers, QueueSize: sc.QueueSize, OutcomeNext: st.next.Load()}
	}
	return out
}

// CommitStats are the group commit's transactions, outcomes and time.
func (e *Engine) CommitStats() (batches, outcomes int64, busy time.Duration) {
	return e.batches.Load(), e.batchItems.Load(), time.Duration(e.batchNanos.Load())
}

// Held is how many units this instance holds in memory.
func (e *Engine) Held() int64 { return e.held.Load() }

// QueueDepths returns the current length of every stage's queue.
func (e *Engine) QueueDepths() map[Stage]int {
	out := map[Stage]int{}
	for s := Stage(1); s <= NumStages; s++ {
		out[s] = len(e.queues[s])
	}
	return out
}

// Wake makes the feeder look for due units now (a unit was made ready).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run runs the workers and the feeder until ctx ends, then lets running
// stages finish (bounded by their timeout) and hands the units it still
// holds back to the database for any instance to take.
func (e *Engine) Run(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for s := Stage(1); s <= NumStages; s++ {
		for range e.cfg.stage(s).Workers {
			wg.Add(1)
			go func() { defer wg.Done(); e.worker(wctx, s) }()
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); e.feed(wctx) }()
	var cwg sync.WaitGroup
	for _, c := range e.commits {
		cwg.Add(1)
		go func() { defer cwg.Done(); e.committer(c) }()
	}
	<-ctx.Done()
	cancel()
	wg.Wait()
	e.finishing.Wait()
	for _, c := range e.commits {
		close(c)
	}
	cwg.Wait()
	if e.abandon.Load() {
		return nil
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	n, err := releaseOwned(rctx, e.db, e.cfg.Owner, e.clock.Now())
	if n > 0 {
		e.log.Info("fulfillment units handed back at stop", "count", n)
	}
	return err
}

// Start begins fulfillment of a paid order (the oms.order.paid consumer):
// in one transaction with the inbox claim of msgID, the order moves PAID →
// FULFILLING and its unit is written, ready for stage 1. A repeated
// message, or an order no longer PAID (cancelled by customer service
// meanwhile, or started already), changes nothing; started reports whether
// a unit was made. Starts that arrive together share a transaction (a
// batch that fails is retried start by start).
func (e *Engine) Start(ctx context.Context, msgID, orderID string) (started bool, err error) {
	r := &startReq{msgID: msgID, orderID: orderID}
	e.starts.do(r, maxStartBatch, func(batch []*startReq) {
		// The batch is not the leader's alone: it runs to its end even if
		// the leader's caller gives up.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := runTx(bctx, e.db, func(tx *sql.Tx) error { return e.startTx(bctx, tx, batch) })
		if err != nil && len(batch) > 1 {
			for _, x := range batch {
				x.err = runTx(bctx, e.db, func(tx *sql.Tx) error { return e.startTx(bctx, tx, []*startReq{x}) })
			}
			return
		}
		for _, x := range batch {
			x.err = err
		}
	})
	if r.err != nil {
		return false, fmt.Errorf("start fulfillment of %s: %w", orderID, r.err)
	}
	if r.started {
		e.Wake()
	}
	return r.started, nil
}

// maxStartBatch bounds the starts of one transaction, and startBatches is
// how many such transactions may run at once: the starts of different
// orders lock different rows.
const (
	maxStartBatch = 64
	startBatches  = 4
)

// startReq is one oms.order.paid message to start.
type startReq struct {
	msgID, orderID string
	started        bool
	err            error
}

// startTx claims the messages of batch in the inbox and starts the orders
// of the fresh ones that are PAID.
func (e *Engine) startTx(ctx context.Context, tx *sql.Tx, batch []*startReq) error {
	now := e.clock.Now()
	first := map[string]*startReq{} // order -> the first fresh message for it
	var orderIDs []string
	msgIDs := make([]string, len(batch))
	for i, r := range batch {
		r.started = false
		msgIDs[i] = r.msgID
	}
	fresh, err := inbox.ClaimAll(ctx, tx, StartConsumer, msgIDs)
	if err != nil {
		return err // a claim racing ours fails the batch: it is retried start by start
	}
	for i, r := range batch {
		if fresh[i] && first[r.orderID] == nil {
			first[r.orderID] = r
			orderIDs = append(orderIDs, r.orderID)
		}
	}
	if len(orderIDs) == 0 {
		return nil
	}
	docs := map[string]Doc{}
	start := func(o *domain.Order) ([]outbox.Event, error) {
		if o.Status() != domain.StatusPaid {
			return nil, app.ErrNoChange // the inbox claim commits: nothing to fulfil
		}
		if err := o.StartFulfillment(now); err != nil {
			return nil, err
		}
		docs[o.ID()] = docOf(o, now)
		return nil, nil
	}
	if m, ok := e.orders.(manyOrders); ok {
		if _, err := m.UpdateManyTx(ctx, tx, orderIDs, start); err != nil {
			return err
		}
	} else {
		slices.Sort(orderIDs)
		for _, id := range orderIDs {
			_, err := e.orders.UpdateTx(ctx, tx, id, start)
			if err != nil && !errors.Is(err, app.ErrNoChange) && !errors.Is(err, domain.ErrNotFound) {
				return err
			}
		}
	}
	var units []*Unit
	var steps []stepRow
	for _, id := range orderIDs {
		doc, ok := docs[id]
		if !ok {
			continue
		}
		u := &Unit{ID: id, OrderID: id, Stage: StageInitial, Doc: doc, LeaseUntil: time.Unix(0, 0).UTC()}
		units = append(units, u)
		steps = append(steps, stepRow{u: u, step: step{stage: StageInitial, outcome: "STARTED", note: "paid order entered fulfillment", started: now}})
	}
	if err := insertUnits(ctx, tx, units, StateReady, now, "", now); err != nil {
		return err
	}
	if err := insertStepRows(ctx, tx, e.cfg.Owner, steps); err != nil {
		return err
	}
	for _, u := range units {
		first[u.ID].started = true
	}
	return nil
}

func docOf(o *domain.Order, paidAt time.Time) Doc {
	d := Doc{OrderID: o.ID(), CustomerID: o.CustomerID(), Source: o.Source(), Address: o.Address(), Slot: o.Slot(),
		InvoiceTitle: o.InvoiceTitle(), OriginalOrder: o.OriginalOrder(), PlacedAt: o.CreatedAt(), PaidAt: paidAt,
		Header: domain.Header{Source: o.Source(), Goods: o.Goods(), Freight: o.Freight(), Total: o.Total(),
			NonCash: o.NonCash(), CashDue: o.CashDue(), Paid: o.Paid()},
		Receipts: map[string]string{}}
	for _, l := range o.Lines() {
		d.Lines = append(d.Lines, domain.FLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, UnitPrice: l.UnitPrice, Amount: l.Amount,
			Kind: domain.KindOrdered, DeliveryDate: o.Slot().Date})
	}
	return d
}

// feed claims due units (and, as catch-up, units whose lease ran out)
// while there is room in memory, and otherwise sleeps until the earliest
// due time the index knows, a wake-up, or the horizon.
func (e *Engine) feed(ctx context.Context) {
	const minGap = 20 * time.Millisecond
	for ctx.Err() == nil {
		if e.suspended(ctx) {
			// No claim: look again after suspensionFresh, or at once when
			// this instance resumes the pipeline (Resume wakes it).
			if _, alive := e.nap(ctx, suspensionFresh); !alive {
				return
			}
			continue
		}
		got, full := 0, false
		for _, expired := range []bool{false, true} {
			room := e.cfg.MaxInFlight - int(e.held.Load())
			if room <= 0 {
				full = true
				break
			}
			n, err := e.claimInto(ctx, expired, min(room, e.cfg.ClaimBatch))
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("fulfillment claim failed", "err", err)
				}
				break
			}
			got += n
			if n == min(room, e.cfg.ClaimBatch) {
				full = true // more may be due
			}
		}
		wait := e.cfg.Horizon
		if full || got > 0 {
			wait = minGap
		} else if next, ok, err := nextWake(ctx, e.db); err == nil && ok {
			if d := next.Sub(e.clock.Now()); d < wait {
				wait = max(d, minGap)
			}
		}
		woken, alive := e.nap(ctx, wait)
		if !alive {
			return
		}
		if woken {
			// let a burst of wake-ups gather into one claim
			select {
			case <-ctx.Done():
				return
			case <-time.After(minGap):
			}
		}
	}
}

// nap waits d or, sooner, for a wake-up (woken); alive is false when ctx
// ended.
func (e *Engine) nap(ctx context.Context, d time.Duration) (woken, alive bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false
	case <-e.wake:
		return true, true
	case <-t.C:
		return false, true
	}
}

func (e *Engine) claimInto(ctx context.Context, expired bool, limit int) (int, error) {
	now := e.clock.Now()
	units, err := claim(ctx, e.db, expired, e.cfg.Owner, ids.New(), now, now.Add(e.cfg.LeaseTTL), limit)
	if err != nil {
		return 0, err
	}
	how := "due"
	if expired {
		how = "catchup"
	}
	claimedUnits.WithLabelValues(how).Add(float64(len(units)))
	e.hold(len(units))
	for _, u := range units {
		if expired {
			e.log.Info("fulfillment catch-up: took over a unit whose lease ran out", "unit", u.ID, "stage", u.Stage.String())
		}
		if !e.push(ctx, u.Stage, u) {
			e.hold(-1)
		}
	}
	return len(units), nil
}

func (e *Engine) hold(n int) {
	v := e.held.Add(int64(n))
	heldUnits.Set(float64(v))
	if n < 0 {
		e.Wake()
	}
}

// push hands u to stage s's queue, waiting while it is full: that wait is
// the back-pressure that stops the feeder and slows upstream stages.
func (e *Engine) push(ctx context.Context, s Stage, u *Unit) bool {
	u.Stage = s
	select {
	case e.queues[s] <- u:
		d := int64(len(e.queues[s]))
		queueDepth.WithLabelValues(s.String()).Set(float64(d))
		if d > e.stats[s].maxQueue.Load() {
			e.stats[s].maxQueue.Store(d)
		}
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Engine) worker(ctx context.Context, s Stage) {
	q := e.queues[s]
	br := e.breakers[s]
	name := s.String()
	for {
		var u *Unit
		select {
		case <-ctx.Done():
			return
		case u = <-q:
		}
		// The breaker is asked after a unit is in hand, not before: a worker
		// that passed a closed breaker and then waited on an empty queue
		// would otherwise call a partner whose breaker opened meanwhile.
		probe := false
		if br != nil {
			var err error
			if probe, err = br.acquire(ctx); err != nil {
				return // the unit's lease runs out and catch-up takes it up
			}
		}
		queueDepth.WithLabelValues(name).Set(float64(len(q)))
		passing := e.process(ctx, s, u)
		if br != nil {
			br.done(probe, passing)
		}
	}
}

// process runs stage s on u and hands the outcome to the group
// committer; a goroutine of its own waits for the commit and queues the
// unit for its next stage, so the stage's worker is free for the next unit
// at once. It reports whether the run failed for a passing partner fault.
func (e *Engine) process(ctx context.Context, s Stage, u *Unit) (passing bool) {
	sc := e.cfg.stage(s)
	now := e.clock.Now()
	if u.LeaseUntil.Before(now.Add(sc.Timeout + leaseMargin)) {
		until := now.Add(e.cfg.LeaseTTL)
		ok, err := renew(ctx, e.db, u, until, now)
		if err != nil || !ok {
			outcomes.WithLabelValues(s.String(), "LOST").Inc()
			e.hold(-1)
			return false
		}
		u.LeaseUntil = until
	}
	name := s.String()
	inFlight.WithLabelValues(name).Inc()
	start := time.Now()
	startedAt := e.clock.Now()
	// The run is bounded by the stage's timeout and, through the lease,
	// never outlives the unit's ownership; it is detached from ctx so a
	// stopping engine finishes the run it started.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.Timeout)
	out := e.run(rctx, s, u)
	cancel()
	ran := time.Since(start)
	inFlight.WithLabelValues(name).Dec()
	if e.abandon.Load() {
		e.hold(-1)
		return false
	}
	if out.Kind == OutcomeNext && out.tx == nil && effectFree[s] {
		if st, ns := e.passed(u, s, out, startedAt, ran); ns != 0 {
			e.carry(ctx, s, u, st, ns, start)
			return false
		}
	}
	req := &commitReq{s: s, u: u, out: out, startedAt: startedAt, ran: ran, done: make(chan struct{})}
	e.finishing.Add(1)
	go e.finish(ctx, req, start)
	return out.passing
}

// finish waits for req's commit and moves the unit on.
func (e *Engine) finish(ctx context.Context, req *commitReq, start time.Time) {
	defer e.finishing.Done()
	cstart := time.Now()
	e.commits[commitShard(req.u.OrderID)] <- req
	<-req.done
	s, name := req.s, req.s.String()
	st := &e.stats[s]
	st.runs.Add(1)
	st.runNanos.Add(int64(req.ran))
	st.commitNanos.Add(int64(req.cost))
	st.waitNanos.Add(int64(time.Since(cstart)))
	stageSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if err := req.err; err != nil {
		label := "ERROR"
		if errors.Is(err, errLeaseLost) {
			label = "LOST"
		} else {
			e.log.Warn("fulfillment commit failed; the unit is taken up again after its lease", "unit", req.u.ID, "stage", name, "err", err)
		}
		outcomes.WithLabelValues(name, label).Inc()
		e.hold(-1)
		return
	}
	outcomes.WithLabelValues(name, string(req.out.Kind)).Inc()
	if req.out.Kind == OutcomeNext {
		st.next.Add(1)
	}
	if len(req.next) == 0 {
		e.hold(-1)
		if req.out.Kind == OutcomePause || req.out.Kind == OutcomeRetry {
			e.Wake() // the feeder recomputes its next due time
		}
		return
	}
	e.hold(len(req.next) - 1)
	for _, n := range req.next {
		if !e.push(ctx, n.Stage, n) {
			e.hold(-1) // stopping: the row stays RUNNING under our lease, handed back by Run
		}
	}
}

// passed is the timeline row of u passing stage s (noting the stages
// skipped) and the stage u goes to next, 0 if none is left.
func (e *Engine) passed(u *Unit, s Stage, out Outcome, startedAt time.Time, ran time.Duration) (step, Stage) {
	st := step{stage: s, outcome: string(out.Kind), note: joinNote(out.Code, out.Note), started: startedAt, dur: ran}
	ns := e.nextStage(u, s)
	end := ns
	if ns == 0 {
		end = lastStage(u) + 1
	}
	var skipped []string
	for t := s + 1; t < end; t++ {
		skipped = append(skipped, t.String())
	}
	if len(skipped) > 0 {
		st.note = strings.TrimSpace(st.note + " (skipped, nothing to do: " + strings.Join(skipped, ", ") + ")")
	}
	return st, ns
}

// carry moves u on from effect-free stage s to ns without a commit: the
// row of the pass waits in u.carried for the unit's next commit.
func (e *Engine) carry(ctx context.Context, s Stage, u *Unit, row step, ns Stage, start time.Time) {
	u.carried = append(u.carried, row)
	u.Attempts = 0
	st := &e.stats[s]
	st.runs.Add(1)
	st.runNanos.Add(int64(row.dur))
	st.next.Add(1)
	stageSeconds.WithLabelValues(s.String()).Observe(time.Since(start).Seconds())
	outcomes.WithLabelValues(s.String(), string(OutcomeNext)).Inc()
	if !e.push(ctx, ns, u) {
		e.hold(-1) // stopping: the row stays RUNNING under our lease, handed back by Run
	}
}

func (e *Engine) run(ctx context.Context, s Stage, u *Unit) (out Outcome) {
	defer func() {
		if r := recover(); r != nil {
			out = Retry(e.backoff(u.Attempts), "PANIC", fmt.Sprint(r))
		}
	}()
	if u.Doc.Receipts == nil {
		u.Doc.Receipts = map[string]string{}
	}
	f := e.stageFunc(s)
	if e.wrap != nil {
		f = e.wrap(s, f)
	}
	return f(ctx, u)
}

func (e *Engine) backoff(attempts int) time.Duration {
	d := e.cfg.RetryBase << min(attempts, 16)
	if d > e.cfg.RetryMax || d <= 0 {
		d = e.cfg.RetryMax
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// nextStage is the state machine: the first stage after s that applies to
// u, or 0 when u has none left (the order's unit then splits into its
// delivery orders; a delivery order is done).
func (e *Engine) nextStage(u *Unit, s Stage) Stage {
	for t := s + 1; t <= lastStage(u); t++ {
		if applies(t, u) {
			return t
		}
	}
	return 0
}

func lastStage(u *Unit) Stage {
	if u.IsChild() {
		return NumStages
	}
	return lastOrderStage
}

func joinNote(code, note string) string {
	switch {
	case code == "":
		return note
	case note == "":
		return code
	}
	return code + ": " + note
}

// fanOut makes the delivery orders of the split, leased to this instance
// under the parent's token, each at its first stage, with the first
// timeline row of each; the caller inserts them.
func (e *Engine) fanOut(parent *Unit, now time.Time) ([]*Unit, map[string]step, error) {
	if len(parent.Doc.Deliveries) == 0 {
		return nil, nil, fmt.Errorf("unit %s reached the end of its stages without a split", parent.ID)
	}
	out := make([]*Unit, 0, len(parent.Doc.Deliveries))
	created := make(map[string]step, len(parent.Doc.Deliveries))
	for i, d := range parent.Doc.Deliveries {
		doc := parent.Doc
		doc.Lines = d.Lines
		doc.Deliveries = nil
		doc.Gifts = nil
		doc.Receipts = map[string]string{}
		doc.Child = &Child{Delivery: d, Primary: i == 0}
		if i == 0 {
			doc.OrderLines = parent.Doc.Lines
		}
		c := &Unit{ID: fmt.Sprintf("%s-%d", parent.OrderID, d.Seq), OrderID: parent.OrderID, ParentID: parent.ID, Seq: d.Seq,
			Token: parent.Token, LeaseUntil: now.Add(e.cfg.LeaseTTL), Doc: doc}
		c.Stage = e.nextStage(c, lastOrderStage)
		if c.Stage == 0 {
			return nil, nil, fmt.Errorf("delivery order %s has no stage", c.ID)
		}
		created[c.ID] = step{stage: c.Stage, outcome: "CREATED",
			note: fmt.Sprintf("delivery order %d of %d: %s", d.Seq, len(parent.Doc.Deliveries), deliveryLabel(d)), started: now}
		out = append(out, c)
	}
	return out, created, nil
}

func deliveryLabel(d domain.Delivery) string {
	if d.DropShip {
		return "drop-ship by " + d.Supplier + " on " + d.DeliveryDate
	}
	return "warehouse " + d.Warehouse + " on " + d.DeliveryDate
}
