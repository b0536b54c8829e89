package stages

import (
	"context"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// splitStage is the split stage.
func splitStage(p *Ports) Stage {
	return Stage{Name: "split", Kind: runner.CPU, EffectFree: true, Units: runner.Roots, Run: p.split}
}

// Stage 7: the plan of delivery orders; they are made after stage 10.
func (p *Ports) split(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	d.Deliveries = domain.Split(d.Lines)
	labels := make([]string, len(d.Deliveries))
	for i, x := range d.Deliveries {
		labels[i] = deliveryLabel(x)
	}
	return Next(fmt.Sprintf("%d delivery orders: %s", len(d.Deliveries), strings.Join(labels, "; ")))
}
