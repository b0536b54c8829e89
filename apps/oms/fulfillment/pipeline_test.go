package fulfillment

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
)

// Adding a stage is its definition (a file of package stages) and one line
// in the pipeline's order; here the line is the slices.Insert. The new
// stage runs on every delivery order between the invoice and the dispatch,
// and nothing else changes.
func TestPipelineWithAnExtraStage(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	ran := map[string]int{}
	labels := stages.Stage{Name: "print_labels", Kind: runner.CPU, Units: runner.Children,
		Run: func(_ context.Context, u *stages.Unit) stages.Outcome {
			mu.Lock()
			defer mu.Unlock()
			ran[u.ID]++
			return stages.Next("labels printed for " + u.Doc.Child.Warehouse)
		}}
	cfg := Config{Config: runner.Config{Owner: "a", Horizon: 300 * time.Millisecond, LeaseTTL: 10 * time.Second, IOWorkers: 8, CPUWorkers: 2, QueueSize: 32}}
	en := New(Deps{DB: e.db, Orders: e.st, Partners: e.world, Gifts: e.world, Warehouse: e.world, Catalog: e.world, Clock: e.clk,
		Pipeline: func(p *stages.Ports) []stages.Stage {
			ps := stages.Pipeline(p)
			return slices.Insert(ps, slices.IndexFunc(ps, func(s stages.Stage) bool { return s.Name == "dispatch" }), labels)
		}}, cfg)
	stop := e.run(en)
	defer stop()
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1, "beef": 1}})
	e.start(en, id)
	e.waitFor("dispatch", 10*time.Second, e.dispatched(id))
	mu.Lock()
	defer mu.Unlock()
	if ran[id+"-1"] != 1 || ran[id+"-2"] != 1 || len(ran) != 2 {
		t.Fatalf("print_labels ran %v, want once on each delivery order", ran)
	}
	tl, err := en.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range tl.Steps {
		if s.UnitID == id+"-1" && s.Outcome == "NEXT" {
			order = append(order, s.Stage)
		}
	}
	if i := slices.Index(order, "print_labels"); i < 0 || i+1 >= len(order) || order[i+1] != "dispatch" {
		t.Errorf("delivery order's passes %v: print_labels not right before dispatch", order)
	}
	counts, err := en.StageCounts(context.Background())
	if err != nil || len(counts) != 17 || counts[15].Stage != "print_labels" {
		t.Errorf("stage counts %+v %v", counts, err)
	}
}

// The schema's FulfillmentStage enum names the pipeline's stages, in order.
func TestGraphQLStageEnumIsThePipeline(t *testing.T) {
	b, err := os.ReadFile("../../../schema/graphql/fulfillment.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)enum FulfillmentStage \{(.*?)\}`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no enum FulfillmentStage in the schema")
	}
	got := strings.Fields(string(m[1]))
	var want []string
	for _, s := range stages.Pipeline(&stages.Ports{}) {
		want = append(want, strings.ToUpper(s.Name))
	}
	if !slices.Equal(got, want) {
		t.Errorf("enum FulfillmentStage is %v, the pipeline %v", got, want)
	}
	if !slices.Equal(stages.Numbered, stageNames()) {
		t.Errorf("the stages stored by number (%v) are no longer the first ones of the pipeline in order", stages.Numbered)
	}
}

func stageNames() []string {
	var out []string
	for _, s := range stages.Pipeline(&stages.Ports{}) {
		out = append(out, s.Name)
	}
	return out
}

// blockAt makes en's stage block on the units of ids, after (afterRun) or
// before running them; entered receives the unit id once it is there.
func blockAt(en *Engine, stage string, afterRun bool, ids ...string) (entered chan string, release func()) {
	entered = make(chan string, len(ids))
	hold := make(chan struct{})
	var once sync.Map
	en.r.Wrap(func(name string, f runner.Func[stages.Doc]) runner.Func[stages.Doc] {
		return func(ctx context.Context, u *stages.Unit) stages.Outcome {
			_, first := once.LoadOrStore(u.ID+"/"+name, true)
			block := name == stage && slices.Contains(ids, u.ID) && !first
			if block && !afterRun {
				entered <- u.ID
				<-hold
			}
			out := f(ctx, u)
			if block && afterRun {
				entered <- u.ID
				<-hold
			}
			return out
		}
	})
	var closed sync.Once
	return entered, func() { closed.Do(func() { close(hold) }) }
}

// Another app pauses an order while a worker runs an effect-free stage
// on it: the run's pass is not kept and the order reaches no stage with
// effects (the voucher of payment_voucher) until it is resumed; the
// effect-free stages between may run on (fill reads the catalog), their
// passes uncommitted, since a run there repeats nothing. The order stands
// at its last committed stage (exception_check: its pass and the gifts'
// ride on the next commit), and resumes from there.
func TestPauseOrderStopsARunningStage(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", nil)
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
	entered, release := blockAt(en, "gifts", false, id)
	stop := e.run(en)
	defer stop()
	defer release()
	e.start(en, id)
	<-entered
	ctx := context.Background()
	p, err := en.PauseOrder(ctx, id, "customer asked to cancel [k1]", "aftersales")
	if err != nil || !p.Paused || p.Stage != "exception_check" || len(p.Units) != 1 || p.Units[0].State != StateHeld || len(p.Dispatched) != 0 {
		t.Fatalf("pause = %+v, %v", p, err)
	}
	release()
	time.Sleep(time.Second)
	if st, stage := e.unitState(id); st != StateHeld || stage != "exception_check" {
		t.Fatalf("after the run the unit is %s at %s, want HELD at exception_check", st, stage)
	}
	var after int
	_ = e.db.QueryRow(`SELECT COUNT(*) FROM fulfillment_steps WHERE order_id = ? AND stage IN ('exception_check', 'gifts', 'fill') AND outcome <> 'HELD'`, id).Scan(&after)
	if after != 0 {
		t.Errorf("%d timeline rows of exception_check, gifts or fill committed after the pause", after)
	}
	if _, calls := e.world.count("voucher"); calls != 0 {
		t.Errorf("payment_voucher pushed %d vouchers after the pause", calls)
	}
	if again, err := en.PauseOrder(ctx, id, "customer asked to cancel [k1]", "aftersales"); err != nil || again.Paused || again.Stage != "exception_check" {
		t.Fatalf("repeated pause = %+v, %v", again, err)
	}
	if e.status(id) != domain.StatusFulfilling {
		t.Fatalf("status %s", e.status(id))
	}
	if n, err := en.ResumeOrder(ctx, id, "aftersales"); err != nil || n != 1 {
		t.Fatalf("resume = %d, %v", n, err)
	}
	e.waitFor("dispatched after resume", 10*time.Second, e.dispatched(id))
	if eff, _ := e.world.count("gifts"); eff != 1 {
		t.Errorf("gifts granted %d times", eff)
	}
	if _, err := en.ResumeOrder(ctx, id, "aftersales"); err == nil {
		t.Error("resumed an order that is not paused")
	}
}

// A pause while a delivery order is being handed to its warehouse says
// so; resumed, the hand-over is repeated once more, idempotently, and the
// pause of the finished order lists it as dispatched.
func TestPauseOrderDuringDispatch(t *testing.T) {
	e := newEnv(t)
	en := e.engine("a", nil)
	id := e.place(orderSpec{lines: map[string]int64{"milk": 1, "crab": 1}})
	entered, release := blockAt(en, "dispatch", true, id+"-1")
	stop := e.run(en)
	defer stop()
	defer release()
	e.start(en, id)
	<-entered
	e.waitFor("drop-ship child done", 10*time.Second, func() bool { st, _ := e.unitState(id + "-2"); return st == StateDone })
	ctx := context.Background()
	p, err := en.PauseOrder(ctx, id, "return [k2]", "aftersales")
	if err != nil || !p.Paused || p.Stage != "" || !slices.Equal(p.InDispatch, []string{id + "-1"}) || !slices.Equal(p.Dispatched, []string{id + "-2"}) {
		t.Fatalf("pause = %+v, %v", p, err)
	}
	release()
	time.Sleep(time.Second)
	if st, stage := e.unitState(id + "-1"); st != StateHeld || stage != "erp_stock" { // erp_stock and the throttle ride on dispatch's commit
		t.Fatalf("after the run: %s at %s", st, stage)
	}
	if e.status(id) != domain.StatusFulfilling {
		t.Fatalf("status %s", e.status(id))
	}
	if _, err := en.ResumeOrder(ctx, id, "aftersales"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("dispatched after resume", 10*time.Second, e.dispatched(id))
	if eff, calls := e.world.count("dispatch"); eff != 1 || calls != 2 {
		t.Errorf("dispatch: %d effects in %d calls, want 1 in 2", eff, calls)
	}
	p, err = en.PauseOrder(ctx, id, "return [k3]", "aftersales")
	if err != nil || p.Paused || len(p.Dispatched) != 2 || len(p.InDispatch) != 0 {
		t.Fatalf("pause of a dispatched order = %+v, %v", p, err)
	}
	if _, err := en.PauseOrder(ctx, "no-such-order", "x", "aftersales"); err == nil {
		t.Error("paused an order that has no fulfillment")
	}
}
