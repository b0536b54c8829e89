package stages

import (
	"context"
	"strings"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// exceptionCheckStage is the exception_check stage.
func exceptionCheckStage(p *Ports) Stage {
	return Stage{Name: "exception_check", Kind: runner.IO, Partner: true, EffectFree: true, Units: runner.Roots, Run: p.check}
}

// Stage 2: the amounts add up and the address is complete and in an area
// a warehouse delivers to (inventory's served areas, which operators
// maintain).
func (p *Ports) check(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	vs := domain.CheckAmounts(d.Header, d.Lines)
	vs = append(vs, domain.CheckDelivery(d.Address)...)
	dv, err := p.Catalog.Deliverable(ctx, inventoryclient.Area{Province: d.Address.Province, City: d.Address.City, District: d.Address.District})
	if err != nil {
		return p.failure(u, "served areas", err)
	}
	vs = append(vs, domain.CheckServed(d.Address, dv.Deliverable)...)
	if len(vs) > 0 {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.Field + " " + v.Code + " (" + v.Message + ")"
		}
		return Fail("EXCEPTION_CHECK", strings.Join(parts, "; "))
	}
	return Next("amounts and address checked")
}
