package stages

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// presalePushStage is the presale_push stage.
func presalePushStage(p *Ports) Stage {
	return Stage{Name: "presale_push", Kind: runner.IO, Partner: true, Units: runner.Roots, When: hasPresale, Run: p.presale}
}

// Stage 9: presale lines to purchasing.
func (p *Ports) presale(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	po := partnersclient.PresaleOrder{OrderID: d.OrderID}
	for _, l := range d.Lines {
		if l.Presale {
			po.Lines = append(po.Lines, partnersclient.GoodsLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty})
		}
	}
	id := d.OrderID + ":presale"
	if err := once(u, id, func() (string, error) {
		r, err := p.Partners.PushPresale(ctx, po)
		return r.ID, err
	}); err != nil {
		return p.failure(u, "presale", err)
	}
	return Next(fmt.Sprintf("%d presale lines pushed", len(po.Lines)))
}
