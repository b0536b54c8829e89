package stages

import (
	"context"
	"strings"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// exceptionCheckStage is the exception_check stage.
func exceptionCheckStage(p *Ports) Stage {
	return Stage{Name: "exception_check", Kind: runner.CPU, EffectFree: true, Units: runner.Roots, Run: p.check}
}

// Stage 2: the amounts add up and the address is deliverable.
func (p *Ports) check(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	vs := domain.CheckAmounts(d.Header, d.Lines)
	vs = append(vs, domain.CheckDelivery(d.Address, p.ServedProvinces)...)
	if len(vs) > 0 {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.Field + " " + v.Code + " (" + v.Message + ")"
		}
		return Fail("EXCEPTION_CHECK", strings.Join(parts, "; "))
	}
	return Next("amounts and address checked")
}
