package stages

import (
	"context"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// warehouseThrottleStage is the warehouse_throttle stage. CPU-bound in the
// DOMAIN table (an in-memory counter there); here each run waits for a
// short transaction on the capacity rows, shared by the takes waiting at
// that moment (fulfillment/throttle.go), so it is sized like an I/O stage:
// the more workers wait, the more takes share a transaction. With NumCPU
// workers, each taking its own transaction, it capped the whole pipeline.
func warehouseThrottleStage(p *Ports) Stage {
	return Stage{Name: "warehouse_throttle", Kind: runner.CPU, Concurrency: runner.IO, EffectFree: true, Units: runner.Children, When: notDropShip, Run: p.throttle}
}

// Stage 13: the warehouse's daily capacity; full pauses to the next day.
// The capacity is taken outside the group commit, together with a grant
// row keyed by the delivery order, so a re-run takes nothing more; the
// takes waiting at a moment share one short transaction (throttle.go).
// (Taking it inside the group commit was tried: the capacity row is hot,
// and a batch holding it until its fsync serialized every batch behind
// it — throughput fell fourfold.)
func (p *Ports) throttle(ctx context.Context, u *Unit) Outcome {
	c := u.Doc.Child
	now := p.Clock.Now()
	day := domain.ShanghaiDay(now)
	ok, err := p.Capacity.Take(ctx, u.ID, c.Warehouse, day, now)
	if err != nil {
		return Retry(p.Backoff(u.Attempts), "DB", err.Error())
	}
	if !ok {
		return Pause(domain.NextShanghaiMidnight(now), "WAREHOUSE_FULL", c.Warehouse+" is full on "+day)
	}
	c.Day = day
	return Next(c.Warehouse + " capacity of " + day)
}
