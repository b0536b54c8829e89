package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/fresh"
	"github.com/harvest/harvest/apps/platform/ids"
)

// leaseMargin is kept free at the end of a lease: a run is cut off that
// long before the lease runs out, so it never overlaps a catch-up by
// another instance even with some clock skew.
const leaseMargin = 2 * time.Second

// Hooks are what the runner asks of the business around its stages.
type Hooks[D any] struct {
	// Encode and Decode store a unit's document.
	Encode func(d *D) ([]byte, error)
	Decode func(b []byte, d *D) error
	// Split makes the children of a root that passed its last stage; an
	// error fails the commit (the unit is taken up again after its lease).
	// Without Split, or with no children, the root is done.
	Split func(root *Unit[D]) ([]Child[D], error)
	// Apply commits an outcome's effects inside its transaction.
	Apply func(ctx context.Context, tx *sql.Tx, key string, effects []any) error
	// Done runs, inside the transaction, for the keys whose units are all
	// done (the last child of a root, or a root without children).
	Done func(ctx context.Context, tx *sql.Tx, keys []string) error
	// Notify is called after a commit that applied effects.
	Notify func()
	// Retried lets the business change a failed unit's document when an
	// operator retries it (code is the unit's fail code).
	Retried func(code string, d *D)
}

// StageStats are one stage's own costs in this process, for load reports.
type StageStats struct {
	Kind        Kind
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

// Runner runs a pipeline.
type Runner[D any] struct {
	db     *sql.DB
	stages []Stage[D]
	index  map[string]int
	hooks  Hooks[D]
	clock  clock.Clock
	log    *slog.Logger
	cfg    Config

	sizes    []StageConfig
	queues   []chan *Unit[D]
	breakers []*breaker
	stats    []stageStats
	held     atomic.Int64
	wake     chan struct{}
	abandon  atomic.Bool
	// commits feeds the committers, one queue each: a unit's outcomes go
	// to the committer of its key (commitShard).
	commits [committers]chan *commitReq[D]
	// fences feeds the lease checks of units that moved on without a commit
	fences                          chan *fenceReq
	batches, batchItems, batchNanos atomic.Int64
	finishing                       sync.WaitGroup
	suspension                      fresh.Copy[Suspension]
	wrap                            func(string, Func[D]) Func[D]
}

// New returns a runner of stages, in pipeline order; Run starts it.
func New[D any](db *sql.DB, stages []Stage[D], hooks Hooks[D], cfg Config, clk clock.Clock, log *slog.Logger) (*Runner[D], error) {
	if err := validate(stages); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if clk == nil {
		clk = clock.System{}
	}
	if log == nil {
		log = slog.Default()
	}
	if hooks.Notify == nil {
		hooks.Notify = func() {}
	}
	r := &Runner[D]{db: db, stages: stages, index: map[string]int{}, hooks: hooks, clock: clk, log: log, cfg: cfg,
		wake: make(chan struct{}, 1), fences: make(chan *fenceReq, cfg.MaxInFlight)}
	r.suspension.TTL = SuspensionFresh
	n := len(stages)
	r.sizes, r.queues, r.breakers, r.stats = make([]StageConfig, n), make([]chan *Unit[D], n), make([]*breaker, n), make([]stageStats, n)
	for i := range r.commits {
		r.commits[i] = make(chan *commitReq[D], cfg.MaxInFlight)
	}
	for i, s := range stages {
		r.index[s.Name] = i
		r.sizes[i] = cfg.stage(s.Name, s.sizedAs())
		r.queues[i] = make(chan *Unit[D], r.sizes[i].QueueSize)
		if s.Partner {
			name := s.Name
			r.breakers[i] = newBreaker(clk, cfg.BreakerThreshold, cfg.BreakerCooldown, func(open bool) {
				v := 0.0
				if open {
					v = 1
				}
				breakerOpen.WithLabelValues(name).Set(v)
			})
		}
	}
	return r, nil
}

// Config is the effective configuration.
func (r *Runner[D]) Config() Config { return r.cfg }

// StageConfig is a stage's effective sizing.
func (r *Runner[D]) StageConfig(name string) StageConfig {
	if i, ok := r.index[name]; ok {
		return r.sizes[i]
	}
	return StageConfig{}
}

// Stages are the pipeline's stages, in order.
func (r *Runner[D]) Stages() []Stage[D] { return r.stages }

// StageOf is the name of the stage u is at.
func (r *Runner[D]) StageOf(u *Unit[D]) string { return r.name(u.stage) }

func (r *Runner[D]) name(i int) string {
	if i < 0 || i >= len(r.stages) {
		return ""
	}
	return r.stages[i].Name
}

// stageIndex resolves a stored stage: its name, or the number rows had
// before stages were stored by name.
func (r *Runner[D]) stageIndex(stored string) (int, bool) {
	if i, ok := r.index[stored]; ok {
		return i, true
	}
	if n, err := strconv.Atoi(stored); err == nil && n >= 1 && n <= len(r.cfg.Numbered) {
		i, ok := r.index[r.cfg.Numbered[n-1]]
		return i, ok
	}
	return -1, false
}

// StageName is the name of a stored stage (as StageOf), or the stored
// value itself when no stage of the pipeline has it.
func (r *Runner[D]) StageName(stored string) string {
	if i, ok := r.stageIndex(stored); ok {
		return r.stages[i].Name
	}
	return stored
}

// Stats returns each stage's own costs so far, by stage name.
func (r *Runner[D]) Stats() map[string]StageStats {
	out := map[string]StageStats{}
	for i, s := range r.stages {
		st := &r.stats[i]
		sc := r.sizes[i]
		out[s.Name] = StageStats{Kind: s.Kind, Runs: st.runs.Load(), RunTime: time.Duration(st.runNanos.Load()),
			CommitTime: time.Duration(st.commitNanos.Load()), CommitWait: time.Duration(st.waitNanos.Load()), MaxQueue: int(st.maxQueue.Load()),
			Workers: sc.Workers, QueueSize: sc.QueueSize, OutcomeNext: st.next.Load()}
	}
	return out
}

// CommitStats are the group commit's transactions, outcomes and time.
func (r *Runner[D]) CommitStats() (batches, outcomes int64, busy time.Duration) {
	return r.batches.Load(), r.batchItems.Load(), time.Duration(r.batchNanos.Load())
}

// Committers is how many transactions may be committing at once.
func (r *Runner[D]) Committers() int { return committers }

// Held is how many units this instance holds in memory.
func (r *Runner[D]) Held() int64 { return r.held.Load() }

// BreakerOpen reports whether a stage's circuit breaker is open.
func (r *Runner[D]) BreakerOpen(name string) bool {
	i, ok := r.index[name]
	return ok && r.breakers[i] != nil && r.breakers[i].isOpen()
}

// Wrap wraps every stage function (tests run stages twice, or stop them).
// Call it before Run.
func (r *Runner[D]) Wrap(w func(stage string, f Func[D]) Func[D]) { r.wrap = w }

// Abandon makes the runner stop like a crashed process: no commit, no
// release (tests of catch-up).
func (r *Runner[D]) Abandon() { r.abandon.Store(true) }

// Wake makes the feeder look for due units now (a unit was made ready).
func (r *Runner[D]) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Backoff is the delay before retry number attempts+1, with jitter.
func (r *Runner[D]) Backoff(attempts int) time.Duration {
	d := r.cfg.RetryBase << min(attempts, 16)
	if d > r.cfg.RetryMax || d <= 0 {
		d = r.cfg.RetryMax
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Run runs the workers and the feeder until ctx ends, then lets running
// stages finish (bounded by their timeout) and hands the units it still
// holds back to the database for any instance to take.
func (r *Runner[D]) Run(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range r.stages {
		for range r.sizes[i].Workers {
			wg.Add(1)
			go func() { defer wg.Done(); r.worker(wctx, i) }()
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.feed(wctx) }()
	var cwg sync.WaitGroup
	for _, c := range r.commits {
		cwg.Add(1)
		go func() { defer cwg.Done(); r.committer(c) }()
	}
	for range fenceCheckers {
		cwg.Add(1)
		go func() { defer cwg.Done(); r.fenceChecker() }()
	}
	<-ctx.Done()
	cancel()
	wg.Wait()
	r.finishing.Wait()
	for _, c := range r.commits {
		close(c)
	}
	close(r.fences)
	cwg.Wait()
	if r.abandon.Load() {
		return nil
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	n, err := releaseOwned(rctx, r.db, r.cfg.Owner, r.clock.Now())
	if n > 0 {
		r.log.Info("pipeline units handed back at stop", "count", n)
	}
	return err
}

// Start writes new roots in tx, READY at their first stage, each with a
// first timeline row (outcome STARTED) saying note. A root with no stage
// to run is an error.
func (r *Runner[D]) Start(ctx context.Context, tx *sql.Tx, roots []*Unit[D], note string) error {
	now := r.clock.Now()
	steps := make([]stepRow[D], 0, len(roots))
	for _, u := range roots {
		u.Key, u.ParentID, u.LeaseUntil = u.ID, "", time.Unix(0, 0).UTC()
		u.stage = r.nextStage(u, -1)
		if u.stage < 0 {
			return fmt.Errorf("unit %s has no stage to run", u.ID)
		}
		steps = append(steps, stepRow[D]{u: u, step: step{stage: u.stage, outcome: "STARTED", note: note, started: now}})
	}
	if err := r.insertUnits(ctx, tx, roots, StateReady, now, "", now); err != nil {
		return err
	}
	return r.insertStepRows(ctx, tx, r.cfg.Owner, steps)
}

// feed claims due units (and, as catch-up, units whose lease ran out)
// while there is room in memory, and otherwise sleeps until the earliest
// due time the index knows, a wake-up, or the horizon.
func (r *Runner[D]) feed(ctx context.Context) {
	const minGap = 20 * time.Millisecond
	for ctx.Err() == nil {
		if r.suspended(ctx) {
			// No claim: look again after SuspensionFresh, or at once when
			// this instance resumes the pipeline (Resume wakes it).
			if _, alive := r.nap(ctx, SuspensionFresh); !alive {
				return
			}
			continue
		}
		got, full := 0, false
		for _, expired := range []bool{false, true} {
			room := r.cfg.MaxInFlight - int(r.held.Load())
			if room <= 0 {
				full = true
				break
			}
			n, err := r.claimInto(ctx, expired, min(room, r.cfg.ClaimBatch))
			if err != nil {
				if ctx.Err() == nil {
					r.log.Warn("pipeline claim failed", "err", err)
				}
				break
			}
			got += n
			if n == min(room, r.cfg.ClaimBatch) {
				full = true // more may be due
			}
		}
		wait := r.cfg.Horizon
		if full || got > 0 {
			wait = minGap
		} else if next, ok, err := nextWake(ctx, r.db); err == nil && ok {
			if d := next.Sub(r.clock.Now()); d < wait {
				wait = max(d, minGap)
			}
		}
		woken, alive := r.nap(ctx, wait)
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
func (r *Runner[D]) nap(ctx context.Context, d time.Duration) (woken, alive bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false
	case <-r.wake:
		return true, true
	case <-t.C:
		return false, true
	}
}

func (r *Runner[D]) claimInto(ctx context.Context, expired bool, limit int) (int, error) {
	now := r.clock.Now()
	units, err := r.claim(ctx, expired, ids.New(), now, now.Add(r.cfg.LeaseTTL), limit)
	if err != nil {
		return 0, err
	}
	how := "due"
	if expired {
		how = "catchup"
	}
	claimedUnits.WithLabelValues(how).Add(float64(len(units)))
	r.hold(len(units))
	for _, u := range units {
		if expired {
			r.log.Info("pipeline catch-up: took over a unit whose lease ran out", "unit", u.ID, "stage", r.name(u.stage))
		}
		if !r.push(ctx, u.stage, u) {
			r.hold(-1)
		}
	}
	return len(units), nil
}

func (r *Runner[D]) hold(n int) {
	v := r.held.Add(int64(n))
	heldUnits.Set(float64(v))
	if n < 0 {
		r.Wake()
	}
}

// push hands u to stage s's queue, waiting while it is full: that wait is
// the back-pressure that stops the feeder and slows upstream stages.
func (r *Runner[D]) push(ctx context.Context, s int, u *Unit[D]) bool {
	u.stage = s
	select {
	case r.queues[s] <- u:
		d := int64(len(r.queues[s]))
		queueDepth.WithLabelValues(r.stages[s].Name).Set(float64(d))
		if d > r.stats[s].maxQueue.Load() {
			r.stats[s].maxQueue.Store(d)
		}
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Runner[D]) worker(ctx context.Context, s int) {
	q := r.queues[s]
	br := r.breakers[s]
	name := r.stages[s].Name
	for {
		var u *Unit[D]
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
		passing := r.process(ctx, s, u)
		if br != nil {
			br.done(probe, passing)
		}
	}
}

// process runs stage s on u and hands the outcome to the group
// committer; a goroutine of its own waits for the commit and queues the
// unit for its next stage, so the stage's worker is free for the next unit
// at once. It reports whether the run failed for a passing partner fault.
func (r *Runner[D]) process(ctx context.Context, s int, u *Unit[D]) (passing bool) {
	sc := r.sizes[s]
	name := r.stages[s].Name
	if !r.fenced(s, u) {
		return false
	}
	now := r.clock.Now()
	if u.LeaseUntil.Before(now.Add(sc.Timeout + leaseMargin)) {
		until := now.Add(r.cfg.LeaseTTL)
		ok, err := renew(ctx, r.db, u.ID, u.Token, until, now)
		if err != nil || !ok {
			outcomes.WithLabelValues(name, "LOST").Inc()
			r.hold(-1)
			return false
		}
		u.LeaseUntil = until
	}
	inFlight.WithLabelValues(name).Inc()
	start := time.Now()
	startedAt := r.clock.Now()
	// The run is bounded by the stage's timeout and, through the lease,
	// never outlives the unit's ownership; it is detached from ctx so a
	// stopping runner finishes the run it started.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.Timeout)
	out := r.run(rctx, s, u)
	cancel()
	ran := time.Since(start)
	inFlight.WithLabelValues(name).Dec()
	if r.abandon.Load() {
		r.hold(-1)
		return false
	}
	if out.Kind == OutcomeNext && len(out.Effects) == 0 && r.stages[s].EffectFree {
		if st, ns := r.passed(u, s, out, startedAt, ran); ns >= 0 {
			r.carry(ctx, s, u, st, ns, start)
			return false
		}
	}
	req := &commitReq[D]{s: s, u: u, out: out, startedAt: startedAt, ran: ran, done: make(chan struct{})}
	r.finishing.Add(1)
	go r.finish(ctx, req, start)
	return out.Passing
}

// finish waits for req's commit and moves the unit on.
func (r *Runner[D]) finish(ctx context.Context, req *commitReq[D], start time.Time) {
	defer r.finishing.Done()
	cstart := time.Now()
	r.commits[commitShard(req.u.Key)] <- req
	<-req.done
	s, name := req.s, r.stages[req.s].Name
	st := &r.stats[s]
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
			r.log.Warn("pipeline commit failed; the unit is taken up again after its lease", "unit", req.u.ID, "stage", name, "err", err)
		}
		outcomes.WithLabelValues(name, label).Inc()
		r.hold(-1)
		return
	}
	outcomes.WithLabelValues(name, string(req.out.Kind)).Inc()
	if req.out.Kind == OutcomeNext {
		st.next.Add(1)
	}
	if len(req.next) == 0 {
		r.hold(-1)
		if req.out.Kind == OutcomePause || req.out.Kind == OutcomeRetry {
			r.Wake() // the feeder recomputes its next due time
		}
		return
	}
	r.hold(len(req.next) - 1)
	for _, n := range req.next {
		if !r.push(ctx, n.stage, n) {
			r.hold(-1) // stopping: the row stays RUNNING under our lease, handed back by Run
		}
	}
}

// passed is the timeline row of u passing stage s (noting the stages
// skipped) and the stage u goes to next, -1 if none is left.
func (r *Runner[D]) passed(u *Unit[D], s int, out Outcome, startedAt time.Time, ran time.Duration) (step, int) {
	st := step{stage: s, outcome: string(out.Kind), note: joinNote(out.Code, out.Note), started: startedAt, dur: ran}
	ns := r.nextStage(u, s)
	end := ns
	if ns < 0 {
		end = len(r.stages)
	}
	var skipped []string
	for t := s + 1; t < end; t++ {
		if x := &r.stages[t]; (x.Units == Children) == u.IsChild() {
			skipped = append(skipped, x.Name)
		}
	}
	if len(skipped) > 0 {
		st.note = strings.TrimSpace(st.note + " (skipped, nothing to do: " + strings.Join(skipped, ", ") + ")")
	}
	return st, ns
}

// carry moves u on from effect-free stage s to ns without a commit: the
// row of the pass waits in u.carried for the unit's next commit.
//
// A hold (or a catch-up) that took the unit meanwhile must stop it before
// it does anything the hold promised would not happen (reach a warehouse,
// a supplier, the customer). Effects committed with an outcome are fenced
// by the commit; only a stage that reaches a partner and is not
// effect-free has effects outside it, so only such a stage needs the
// unit's lease checked before it runs. Into any other stage the unit goes
// on unchecked: a run of an effect-free stage repeats nothing, and every
// commit, wherever it comes, is fenced. The check is a read (the checks
// waiting at a moment share one), so checking every carry made each order
// read its lease about eight times and the pipeline 15 % slower; before
// outside effects only, it is about twice per order (the finance voucher
// of the order, the hand-over of each delivery order).
func (r *Runner[D]) carry(ctx context.Context, s int, u *Unit[D], row step, ns int, start time.Time) {
	u.carried = append(u.carried, row)
	u.Attempts = 0
	st := &r.stats[s]
	st.runs.Add(1)
	st.runNanos.Add(int64(row.dur))
	st.next.Add(1)
	name := r.stages[s].Name
	stageSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
	outcomes.WithLabelValues(name, string(OutcomeNext)).Inc()
	if next := &r.stages[ns]; next.Partner && !next.EffectFree {
		// The read is asked for now and awaited when the stage is about to
		// run: it is done by then unless the queue was empty, so it costs
		// the unit no time in the common case.
		u.fence = &fenceReq{id: u.ID, token: u.Token, done: make(chan struct{})}
		r.fences <- u.fence
	}
	if !r.push(ctx, ns, u) {
		r.hold(-1) // stopping: the row stays RUNNING under our lease, handed back by Run
	}
}

// fenced reports whether u, carried into stage s, may run it: false when
// the lease check asked for at the carry found the unit taken.
func (r *Runner[D]) fenced(s int, u *Unit[D]) bool {
	f := u.fence
	if f == nil {
		return true
	}
	u.fence = nil
	<-f.done
	if !f.ok {
		outcomes.WithLabelValues(r.stages[s].Name, "LOST").Inc()
		r.hold(-1)
	}
	return f.ok
}

func (r *Runner[D]) run(ctx context.Context, s int, u *Unit[D]) (out Outcome) {
	defer func() {
		if p := recover(); p != nil {
			out = Retry(r.Backoff(u.Attempts), "PANIC", fmt.Sprint(p))
		}
	}()
	f := r.stages[s].Run
	if r.wrap != nil {
		f = r.wrap(r.stages[s].Name, f)
	}
	return f(ctx, u)
}

// RunStage runs one stage on u as a worker would, without committing:
// for benchmarks of the stages alone.
func (r *Runner[D]) RunStage(ctx context.Context, u *Unit[D]) Outcome { return r.run(ctx, u.stage, u) }

// nextStage is the state machine: the first stage after s that applies to
// u, or -1 when u has none left (a root then splits into its children; a
// child is done).
func (r *Runner[D]) nextStage(u *Unit[D], s int) int {
	for t := s + 1; t < len(r.stages); t++ {
		if r.stages[t].applies(u) {
			return t
		}
	}
	return -1
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

// fanOut makes the children of the split, leased to this instance under
// the parent's token, each at its first stage, with the first timeline
// row of each; the caller inserts them.
func (r *Runner[D]) fanOut(parent *Unit[D], now time.Time) ([]*Unit[D], map[string]step, error) {
	if r.hooks.Split == nil {
		return nil, nil, nil
	}
	cs, err := r.hooks.Split(parent)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*Unit[D], 0, len(cs))
	created := make(map[string]step, len(cs))
	for _, c := range cs {
		u := &Unit[D]{ID: fmt.Sprintf("%s-%d", parent.Key, c.Seq), Key: parent.Key, ParentID: parent.ID, Seq: c.Seq,
			Token: parent.Token, LeaseUntil: now.Add(r.cfg.LeaseTTL), Doc: c.Doc}
		u.stage = r.nextStage(u, -1)
		if u.stage < 0 {
			return nil, nil, fmt.Errorf("child %s has no stage", u.ID)
		}
		created[u.ID] = step{stage: u.stage, outcome: "CREATED", note: c.Note, started: now}
		out = append(out, u)
	}
	return out, created, nil
}

// Claim leases up to limit due units to this instance, as the feeder
// does, and hands them to the caller instead of the queues (benchmarks of
// the stages alone, with CommitDirect).
func (r *Runner[D]) Claim(ctx context.Context, limit int) ([]*Unit[D], error) {
	now := r.clock.Now()
	return r.claim(ctx, false, ids.New(), now, now.Add(r.cfg.LeaseTTL), limit)
}
