package stages

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/platform/money"
)

// allocationStage is the allocation stage.
func allocationStage(p *Ports) Stage {
	return Stage{Name: "allocation", Kind: runner.CPU, EffectFree: true, Units: runner.Roots, Run: p.allocate}
}

// Stage 5: spread freight and non-cash over the lines.
func (p *Ports) allocate(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	lines, err := domain.Allocate(d.Lines, d.Header.Freight, d.Header.NonCash)
	if err != nil {
		return Fail("ALLOCATION", err.Error())
	}
	var goods money.Fen
	for _, l := range lines {
		goods += l.Amount
	}
	if goods != d.Header.Goods {
		return Fail("ALLOCATION", fmt.Sprintf("lines sum to %s, goods %s", goods, d.Header.Goods))
	}
	d.Lines, d.Allocated = lines, true
	return Next("freight " + fen(d.Header.Freight) + ", non-cash " + fen(d.Header.NonCash) + " allocated")
}
