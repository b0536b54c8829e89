package runner

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// toy is the document of the toy pipelines: which stages ran on it.
type toy struct {
	Ran      []string `json:"ran,omitempty"`
	Children int      `json:"children,omitempty"`
	Paused   bool     `json:"paused,omitempty"`
}

type toyWorld struct {
	mu    sync.Mutex
	runs  map[string]int // unit/stage -> runs
	done  map[string]int // key -> Done calls
	fails atomic.Bool
}

func (w *toyWorld) ran(u *Unit[toy], stage string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs[u.ID+"/"+stage]++
}

func (w *toyWorld) count(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runs[key]
}

func toyStage(w *toyWorld, name string, units Units, effectFree bool) Stage[toy] {
	return Stage[toy]{Name: name, Kind: IO, Units: units, EffectFree: effectFree, Run: func(_ context.Context, u *Unit[toy]) Outcome {
		w.ran(u, name)
		u.Doc.Ran = append(u.Doc.Ran, name)
		return Next(name + " done")
	}}
}

// partnerStage is a toy stage with effects outside the runner's commits.
func partnerStage(w *toyWorld, name string, units Units) Stage[toy] {
	s := toyStage(w, name, units, false)
	s.Partner = true
	return s
}

type toyEnv struct {
	t     *testing.T
	db    *sql.DB
	world *toyWorld
}

func newToyEnv(t *testing.T) *toyEnv {
	db, _ := testdb.New(t, "oms")
	db.SetMaxOpenConns(12)
	return &toyEnv{t: t, db: db, world: &toyWorld{runs: map[string]int{}, done: map[string]int{}}}
}

func (e *toyEnv) runner(owner string, stages []Stage[toy], mod func(*Config)) *Runner[toy] {
	cfg := Config{Owner: owner, Horizon: 200 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		LeaseTTL: 10 * time.Second, IOWorkers: 4, CPUWorkers: 2, QueueSize: 32, MaxInFlight: 256}
	if mod != nil {
		mod(&cfg)
	}
	w := e.world
	hooks := Hooks[toy]{
		Encode: func(d *toy) ([]byte, error) { return json.Marshal(d) },
		Decode: func(b []byte, d *toy) error { return json.Unmarshal(b, d) },
		Split: func(root *Unit[toy]) ([]Child[toy], error) {
			var cs []Child[toy]
			for i := range root.Doc.Children {
				cs = append(cs, Child[toy]{Seq: i + 1, Doc: toy{}, Note: fmt.Sprintf("child %d", i+1)})
			}
			return cs, nil
		},
		Done: func(_ context.Context, _ *sql.Tx, keys []string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, k := range keys {
				w.done[k]++
			}
			return nil
		},
		Apply: func(context.Context, *sql.Tx, string, []any) error { return nil },
	}
	r, err := New(e.db, stages, hooks, cfg, clock.System{}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *toyEnv) run(r *Runner[toy]) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	return func() { cancel(); <-done }
}

func (e *toyEnv) start(r *Runner[toy], key string, d toy) {
	e.t.Helper()
	err := RunTx(context.Background(), e.db, func(tx *sql.Tx) error {
		return r.Start(context.Background(), tx, []*Unit[toy]{{ID: key, Doc: d}}, "started")
	})
	if err != nil {
		e.t.Fatal(err)
	}
	r.Wake()
}

func (e *toyEnv) state(id string) (State, string) {
	var st, stage string
	if err := e.db.QueryRow(`SELECT state, stage FROM fulfillments WHERE unit_id = ?`, id).Scan(&st, &stage); err != nil {
		return "", ""
	}
	return State(st), stage
}

func (e *toyEnv) waitFor(what string, d time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func (e *toyEnv) doneKey(key string) func() bool {
	return func() bool {
		e.world.mu.Lock()
		defer e.world.mu.Unlock()
		return e.world.done[key] == 1
	}
}

// A root runs its stages (skipping the children's), splits, its children
// run theirs, and Done runs once for the key when the last child is done.
func TestRunnerRunsSplitsAndFinishes(t *testing.T) {
	e := newToyEnv(t)
	w := e.world
	r := e.runner("a", []Stage[toy]{toyStage(w, "one", Roots, true), toyStage(w, "two", Roots, false), toyStage(w, "three", Children, false)}, nil)
	stop := e.run(r)
	defer stop()
	e.start(r, "k1", toy{Children: 2})
	e.waitFor("done", 10*time.Second, e.doneKey("k1"))
	for _, k := range []string{"k1/one", "k1/two", "k1-1/three", "k1-2/three"} {
		if n := w.count(k); n != 1 {
			t.Errorf("%s ran %d times", k, n)
		}
	}
	if n := w.count("k1/three") + w.count("k1-1/one"); n != 0 {
		t.Errorf("a stage ran on units it does not apply to")
	}
	if st, _ := e.state("k1"); st != StateDone {
		t.Errorf("root is %s", st)
	}
	steps, err := r.Steps(context.Background(), "k1")
	if err != nil || len(steps) != 6 { // STARTED, one, two, 2 CREATED, 2 three -> 7 minus... counted below
		var names []string
		for _, s := range steps {
			names = append(names, s.UnitID+"/"+s.Stage+"/"+s.Outcome)
		}
		if len(steps) != 7 {
			t.Errorf("steps %v %v", names, err)
		}
	}
}

// A unit whose holder dies mid-stage is taken over after its lease by
// another instance; the dead instance's commit never lands.
func TestRunnerCrashIsTakenOverAfterLease(t *testing.T) {
	e := newToyEnv(t)
	w := e.world
	stages := []Stage[toy]{toyStage(w, "one", Roots, false), toyStage(w, "two", Roots, false)}
	short := func(c *Config) { c.LeaseTTL = 3 * time.Second }
	a := e.runner("a", stages, short)
	entered, hold := make(chan struct{}, 1), make(chan struct{})
	a.Wrap(func(name string, f Func[toy]) Func[toy] {
		return func(ctx context.Context, u *Unit[toy]) Outcome {
			out := f(ctx, u)
			if name == "one" {
				entered <- struct{}{}
				<-hold
			}
			return out
		}
	})
	stopA := e.run(a)
	e.start(a, "k1", toy{})
	<-entered
	a.Abandon()
	close(hold)
	stopA()
	if st, stage := e.state("k1"); st != StateRunning || stage != "one" {
		t.Fatalf("after the crash: %s at %s", st, stage)
	}
	b := e.runner("b", stages, short)
	stopB := e.run(b)
	defer stopB()
	e.waitFor("taken over", 15*time.Second, e.doneKey("k1"))
	if n := w.count("k1/one"); n != 2 {
		t.Errorf("one ran %d times, want 2 (the crashed run and b's)", n)
	}
	var owners int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillment_steps WHERE order_id = 'k1' AND outcome = 'NEXT' AND owner <> 'b'`).Scan(&owners)
	if owners != 0 {
		t.Errorf("%d passes committed by the dead instance", owners)
	}
}

// A paused unit resumes by itself at its time.
func TestRunnerPauseResumesAtItsTime(t *testing.T) {
	e := newToyEnv(t)
	var at time.Time
	wait := Stage[toy]{Name: "wait", Kind: CPU, Units: Roots, Run: func(_ context.Context, u *Unit[toy]) Outcome {
		if !u.Doc.Paused {
			u.Doc.Paused = true
			at = time.Now().UTC().Add(700 * time.Millisecond)
			return Pause(at, "LATER", "")
		}
		if time.Now().Before(at) {
			return Fail("EARLY", "resumed before its time")
		}
		return Next("on time")
	}}
	r := e.runner("a", []Stage[toy]{wait}, func(c *Config) { c.Horizon = 5 * time.Second })
	stop := e.run(r)
	defer stop()
	e.start(r, "k1", toy{})
	e.waitFor("paused", 5*time.Second, func() bool { st, _ := e.state("k1"); return st == StatePaused })
	e.waitFor("resumed", 5*time.Second, e.doneKey("k1"))
	if late := time.Since(at); late > 1500*time.Millisecond {
		t.Errorf("resumed %v late", late)
	}
}

// While suspended no unit is claimed; resumed, it runs.
func TestRunnerSuspension(t *testing.T) {
	e := newToyEnv(t)
	r := e.runner("a", []Stage[toy]{toyStage(e.world, "one", Roots, false)}, nil)
	ctx := context.Background()
	if _, err := r.Suspend(ctx, "night", "ops"); err != nil {
		t.Fatal(err)
	}
	stop := e.run(r)
	defer stop()
	e.start(r, "k1", toy{})
	time.Sleep(3 * SuspensionFresh / 2)
	if st, _ := e.state("k1"); st != StateReady {
		t.Fatalf("suspended, the unit is %s", st)
	}
	if _, err := r.Resume(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("done after resume", 5*time.Second, e.doneKey("k1"))
}

// Many outcomes at once share transactions.
func TestRunnerGroupCommitsManyOutcomes(t *testing.T) {
	e := newToyEnv(t)
	w := e.world
	r := e.runner("a", []Stage[toy]{toyStage(w, "one", Roots, false), toyStage(w, "two", Roots, false)}, func(c *Config) { c.IOWorkers = 32 })
	const n = 200
	for i := range n {
		e.start(r, fmt.Sprintf("k%03d", i), toy{})
	}
	stop := e.run(r)
	defer stop()
	e.waitFor("all done", 30*time.Second, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.done) == n
	})
	var batches, outcomes int64
	e.waitFor("every outcome counted", 5*time.Second, func() bool { batches, outcomes, _ = r.CommitStats(); return outcomes >= 2*n })
	if outcomes != 2*n || batches >= outcomes {
		t.Errorf("%d outcomes in %d transactions; want %d in fewer", outcomes, batches, 2*n)
	}
}

// A partner stage failing with passing faults opens its breaker, and the
// stage stops calling while it is open.
func TestRunnerBreakerOpens(t *testing.T) {
	e := newToyEnv(t)
	var calls atomic.Int64
	e.world.fails.Store(true)
	flaky := Stage[toy]{Name: "flaky", Kind: IO, Partner: true, Units: Roots, Run: func(_ context.Context, u *Unit[toy]) Outcome {
		calls.Add(1)
		if e.world.fails.Load() {
			o := Retry(10*time.Millisecond, "DOWN", "")
			o.Passing = true
			return o
		}
		return Next("up")
	}}
	r := e.runner("a", []Stage[toy]{flaky}, func(c *Config) {
		c.BreakerThreshold, c.BreakerCooldown, c.MaxAttempts = 3, 500*time.Millisecond, 1000
	})
	stop := e.run(r)
	defer stop()
	for i := range 10 {
		e.start(r, fmt.Sprintf("k%d", i), toy{})
	}
	e.waitFor("breaker open", 5*time.Second, func() bool { return r.BreakerOpen("flaky") })
	before := calls.Load()
	time.Sleep(time.Second)
	if n := calls.Load() - before; n > 4 {
		t.Errorf("%d calls in a second while open", n)
	}
	e.world.fails.Store(false)
	e.waitFor("all done", 15*time.Second, func() bool {
		e.world.mu.Lock()
		defer e.world.mu.Unlock()
		return len(e.world.done) == 10
	})
	if r.BreakerOpen("flaky") {
		t.Error("breaker still open")
	}
}

// A hold that commits while a worker runs the key's unit stops it: the
// run's outcome is not committed and the unit goes to no further stage,
// even an effect-free one's pass; released, it runs on from that stage.
func TestRunnerHoldStopsARunningStage(t *testing.T) {
	e := newToyEnv(t)
	w := e.world
	for _, effectFree := range []bool{false, true} {
		t.Run(fmt.Sprintf("effect-free=%v", effectFree), func(t *testing.T) {
			key := fmt.Sprintf("h%v", effectFree)
			r := e.runner("a", []Stage[toy]{toyStage(w, "one", Roots, effectFree), partnerStage(w, "two", Roots)}, nil)
			entered, hold := make(chan struct{}, 1), make(chan struct{})
			var blocked atomic.Bool
			blocked.Store(true)
			r.Wrap(func(name string, f Func[toy]) Func[toy] {
				return func(ctx context.Context, u *Unit[toy]) Outcome {
					if name == "one" && blocked.CompareAndSwap(true, false) {
						entered <- struct{}{}
						<-hold
					}
					return f(ctx, u)
				}
			})
			stop := e.run(r)
			defer stop()
			e.start(r, key, toy{})
			<-entered
			units, newly, err := r.Hold(context.Background(), key, "customer asked to cancel", "aftersales")
			if err != nil || !newly || len(units) != 1 || units[0].State != StateHeld || units[0].Stage != "one" {
				t.Fatalf("hold = %+v %v %v", units, newly, err)
			}
			close(hold)
			time.Sleep(500 * time.Millisecond)
			if n := w.count(key + "/two"); n != 0 {
				t.Fatalf("the held unit ran on to stage two")
			}
			if st, stage := e.state(key); st != StateHeld || stage != "one" {
				t.Fatalf("after the run: %s at %s, want HELD at one", st, stage)
			}
			if _, again, err := r.Hold(context.Background(), key, "again", "aftersales"); err != nil || again {
				t.Fatalf("second hold: %v %v", again, err)
			}
			if n, err := r.Release(context.Background(), key, "aftersales"); err != nil || n != 1 {
				t.Fatalf("release: %d %v", n, err)
			}
			e.waitFor("done after release", 10*time.Second, e.doneKey(key))
			if n := w.count(key + "/one"); n != 2 {
				t.Errorf("one ran %d times, want 2", n)
			}
		})
	}
}

// A pipeline is one list: a stage added to it runs where it stands.
func TestRunnerRejectsBadPipelines(t *testing.T) {
	w := &toyWorld{}
	for _, stages := range [][]Stage[toy]{
		{toyStage(w, "one", Roots, false), toyStage(w, "one", Roots, false)},
		{{Name: "x", Kind: IO, Units: Roots}},
		{{Name: "", Kind: IO, Units: Roots, Run: toyStage(w, "a", Roots, false).Run}},
	} {
		if _, err := New[toy](nil, stages, Hooks[toy]{}, Config{}, nil, nil); err == nil {
			t.Errorf("accepted %d stages", len(stages))
		}
	}
}

// A held unit carried on through effect-free stages (each run there
// repeats nothing, and the lease is not read for them) still never runs a
// stage with outside effects: its lease is checked before it enters one.
func TestRunnerHoldStopsCarriedUnitBeforeEffects(t *testing.T) {
	e := newToyEnv(t)
	w := e.world
	key := "carried"
	r := e.runner("a", []Stage[toy]{toyStage(w, "one", Roots, true), toyStage(w, "two", Roots, true), partnerStage(w, "three", Roots)}, nil)
	entered, hold := make(chan struct{}, 1), make(chan struct{})
	var blocked atomic.Bool
	blocked.Store(true)
	r.Wrap(func(name string, f Func[toy]) Func[toy] {
		return func(ctx context.Context, u *Unit[toy]) Outcome {
			if name == "one" && blocked.CompareAndSwap(true, false) {
				entered <- struct{}{}
				<-hold
			}
			return f(ctx, u)
		}
	})
	stop := e.run(r)
	defer stop()
	e.start(r, key, toy{})
	<-entered
	if _, newly, err := r.Hold(context.Background(), key, "customer asked to cancel", "aftersales"); err != nil || !newly {
		t.Fatalf("hold: %v %v", newly, err)
	}
	close(hold)
	time.Sleep(500 * time.Millisecond)
	if n := w.count(key + "/three"); n != 0 {
		t.Fatalf("the held unit ran stage three, which has effects")
	}
	if st, stage := e.state(key); st != StateHeld || stage != "one" {
		t.Fatalf("after the run: %s at %s, want HELD at one", st, stage)
	}
	if _, err := r.Release(context.Background(), key, "aftersales"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("done after release", 10*time.Second, e.doneKey(key))
	if n := w.count(key + "/three"); n != 1 {
		t.Errorf("three ran %d times, want 1", n)
	}
}
