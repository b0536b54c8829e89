package stages

import (
	"context"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// reissueSmsStage is the reissue_sms stage.
func reissueSmsStage(p *Ports) Stage {
	return Stage{Name: "reissue_sms", Kind: runner.IO, Partner: true, Units: runner.Children, When: primaryReissue, Run: p.reissueSMS}
}

// Stage 14: tell the customer about the reissue or exchange.
func (p *Ports) reissueSMS(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	tpl := "REISSUE_CREATED"
	if d.Source == domain.SourceExchange {
		tpl = "EXCHANGE_CREATED"
	}
	id := d.OrderID + ":reissue:sms"
	if err := once(u, id, func() (string, error) {
		r, err := p.Partners.SendSMS(ctx, partnersclient.SMS{MessageID: id, Phone: d.Address.Phone, Template: tpl,
			Params: map[string]string{"order_id": d.OrderID, "original_order": d.OriginalOrder}})
		return r.ID, err
	}); err != nil {
		return p.failure(u, "reissue SMS", err)
	}
	return Next(tpl)
}
