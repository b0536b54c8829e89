// Package fulfillment is OMS's fulfillment (DOMAIN 1.6): it wires the
// stages of package stages (one file per stage; stages.Pipeline is their
// order) to the business-free runner of package runner, starts paid
// orders, commits the stages' effects on the order (a fraud cancel, the
// order dispatched), takes the warehouses' daily capacity for the
// throttle stage, and serves the operators' views and switches and the
// pause of one order by another app.
package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// StartConsumer is the inbox name of the oms.order.paid subscriber.
const StartConsumer = "oms.fulfillment-start"

// The partners the stages reach (stages.Ports).
type (
	Partners  = stages.Partners
	Gifts     = stages.Gifts
	Warehouse = stages.Warehouse
	Catalog   = stages.Catalog
)

// Orders changes an order inside the engine's transaction; *store.Store
// satisfies it.
type Orders interface {
	UpdateTx(ctx context.Context, tx *sql.Tx, id string, fn func(o *domain.Order) ([]outbox.Event, error)) (*domain.Order, error)
}

// manyOrders changes several orders inside the engine's transaction in a
// few statements; *store.Store satisfies it. Without it, the engine
// changes them one by one through Orders.
type manyOrders interface {
	UpdateManyTx(ctx context.Context, tx *sql.Tx, ids []string, fn func(o *domain.Order) ([]outbox.Event, error)) ([]*domain.Order, error)
}

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
	// Pipeline, when set, replaces stages.Pipeline (tests of a pipeline
	// with a stage more).
	Pipeline func(p *stages.Ports) []stages.Stage
}

// Engine is OMS's fulfillment: the stages of package stages run by a
// runner, the start of paid orders, the operators' views and switches,
// the warehouses' capacity, and pausing one order for another app.
type Engine struct {
	r      *runner.Runner[stages.Doc]
	db     *sql.DB
	orders Orders
	clock  clock.Clock
	cfg    Config
	// the warehouse throttle's capacity takes waiting for a transaction
	grants [grantShards]*group.Writer[*capReq]
	// the starts of paid orders waiting for a transaction
	starts *group.Writer[*startReq]
}

// New returns an engine; Run starts it.
func New(d Deps, cfg Config) *Engine {
	cfg = cfg.withDefaults()
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Pipeline == nil {
		d.Pipeline = stages.Pipeline
	}
	e := &Engine{db: d.DB, orders: d.Orders, clock: d.Clock, cfg: cfg}
	e.starts = group.NewWriter(group.Options{MaxSize: maxStartBatch, InFlight: startBatches}, e.startGroup)
	for i := range e.grants {
		// a busy warehouse's takes gather, like outcomes
		e.grants[i] = group.NewWriter(group.Options{MaxSize: maxGrantBatch, InFlight: 1, Linger: commitLinger}, e.takeGroup)
	}
	ports := &stages.Ports{Partners: d.Partners, Gifts: d.Gifts, Warehouse: d.Warehouse, Catalog: d.Catalog,
		Capacity: capacity{e}, Clock: d.Clock, ServedProvinces: cfg.ServedProvinces}
	hooks := runner.Hooks[stages.Doc]{Encode: stages.Encode, Decode: stages.Decode, Split: stages.Split,
		Apply: e.apply, Done: e.dispatched, Notify: d.Notify, Retried: stages.Retried}
	r, err := runner.New(d.DB, d.Pipeline(ports), hooks, cfg.runner(), d.Clock, d.Logger)
	if err != nil {
		panic("fulfillment pipeline: " + err.Error())
	}
	ports.Backoff = r.Backoff
	e.r = r
	return e
}

// commitLinger is how long a busy warehouse's capacity takes wait for more
// to join their transaction.
const commitLinger = 10 * time.Millisecond

// Config is the effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Runner is the engine's runner, for reports and tests.
func (e *Engine) Runner() *runner.Runner[stages.Doc] { return e.r }

// Stats returns each stage's own costs so far, by stage name.
func (e *Engine) Stats() map[string]runner.StageStats { return e.r.Stats() }

// CommitStats are the group commit's transactions, outcomes and time.
func (e *Engine) CommitStats() (batches, outcomes int64, busy time.Duration) {
	return e.r.CommitStats()
}

// Held is how many units this instance holds in memory.
func (e *Engine) Held() int64 { return e.r.Held() }

// Wake makes the feeder look for due units now.
func (e *Engine) Wake() { e.r.Wake() }

// Run runs the pipeline until ctx ends (runner.Runner.Run).
func (e *Engine) Run(ctx context.Context) error { return e.r.Run(ctx) }

// apply commits a stage's effects on the order in the outcome's
// transaction.
func (e *Engine) apply(ctx context.Context, tx *sql.Tx, orderID string, effects []any) error {
	for _, x := range effects {
		switch ef := x.(type) {
		case stages.CancelOrder:
			now := e.clock.Now()
			_, err := e.orders.UpdateTx(ctx, tx, orderID, func(o *domain.Order) ([]outbox.Event, error) {
				if err := o.CancelInFulfillment(ef.Reason, now, ef.Note); err != nil {
					return nil, err
				}
				return []outbox.Event{app.CancelledEvent(o, now)}, nil
			})
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("order %s: unknown effect %T", orderID, x)
		}
	}
	return nil
}

// dispatched marks the orders whose every delivery order was dispatched.
func (e *Engine) dispatched(ctx context.Context, tx *sql.Tx, ids []string) error {
	now := e.clock.Now()
	fn := func(o *domain.Order) ([]outbox.Event, error) {
		return nil, o.MarkDispatched(now, "every delivery order dispatched")
	}
	if m, ok := e.orders.(manyOrders); ok {
		done, err := m.UpdateManyTx(ctx, tx, ids, fn)
		if err != nil {
			return err
		}
		if len(done) != len(ids) {
			return fmt.Errorf("mark orders dispatched: %d of %d found", len(done), len(ids))
		}
		return nil
	}
	for _, id := range ids {
		if _, err := e.orders.UpdateTx(ctx, tx, id, fn); err != nil {
			return err
		}
	}
	return nil
}

// Start begins fulfillment of a paid order (the oms.order.paid consumer):
// in one transaction with the inbox claim of msgID, the order moves PAID →
// FULFILLING and its unit is written, ready for its first stage. A
// repeated message, or an order no longer PAID (cancelled by customer
// service meanwhile, or started already), changes nothing; started reports
// whether a unit was made. Starts that arrive together share a transaction
// (a batch that fails is retried start by start).
func (e *Engine) Start(ctx context.Context, msgID, orderID string) (started bool, err error) {
	r := &startReq{msgID: msgID, orderID: orderID}
	r.err = e.starts.Write(ctx, r)
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

// startGroup starts a group of orders in a transaction of its own; the
// group is not its first caller's alone: it runs to its end even if that
// caller gives up (group.Writer).
func (e *Engine) startGroup(ctx context.Context, batch []*startReq) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return runner.RunTx(ctx, e.db, func(tx *sql.Tx) error { return e.startTx(ctx, tx, batch) })
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
	docs := map[string]stages.Doc{}
	start := func(o *domain.Order) ([]outbox.Event, error) {
		if o.Status() != domain.StatusPaid {
			return nil, app.ErrNoChange // the inbox claim commits: nothing to fulfil
		}
		if err := o.StartFulfillment(now); err != nil {
			return nil, err
		}
		docs[o.ID()] = stages.NewDoc(o, now)
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
	var units []*stages.Unit
	for _, id := range orderIDs {
		if doc, ok := docs[id]; ok {
			units = append(units, &stages.Unit{ID: id, Doc: doc})
		}
	}
	if len(units) == 0 {
		return nil
	}
	if err := e.r.Start(ctx, tx, units, "paid order entered fulfillment"); err != nil {
		return err
	}
	for _, u := range units {
		first[u.ID].started = true
	}
	return nil
}
