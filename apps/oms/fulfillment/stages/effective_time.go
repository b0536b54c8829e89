package stages

import (
	"context"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// effectiveTimeStage is the effective_time stage.
func effectiveTimeStage(p *Ports) Stage {
	return Stage{Name: "effective_time", Kind: runner.CPU, Units: runner.Roots, Run: p.effective}
}

// Stage 10: not before the order may go to the warehouse.
func (p *Ports) effective(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	now := p.Clock.Now()
	at, err := domain.EffectiveAt(d.Slot, now)
	if err != nil {
		return Fail("BAD_SLOT", err.Error())
	}
	if d.EffectiveAt.IsZero() || at.After(d.EffectiveAt) {
		d.EffectiveAt = at
	}
	if now.Before(d.EffectiveAt) {
		return Pause(d.EffectiveAt, "EFFECTIVE_TIME", "to the warehouse at "+d.EffectiveAt.In(domain.Shanghai).Format("2006-01-02 15:04 MST"))
	}
	return Next("effective")
}
