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

// Stage 14: tell the customer about the reissue or exchange: the address's
// phone, or each of the SMS recipients customer service set for the
// order (one message id per phone, so a retry sends only the missing).
func (p *Ports) reissueSMS(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	tpl := "REISSUE_CREATED"
	if d.Source == domain.SourceExchange {
		tpl = "EXCHANGE_CREATED"
	}
	for _, to := range smsTargets(d) {
		if err := once(u, to.id, func() (string, error) {
			r, err := p.Partners.SendSMS(ctx, partnersclient.SMS{MessageID: to.id, Phone: to.phone, Template: tpl,
				Params: map[string]string{"order_id": d.OrderID, "original_order": d.OriginalOrder}})
			return r.ID, err
		}); err != nil {
			return p.failure(u, "reissue SMS", err)
		}
	}
	return Next(tpl)
}

type smsTarget struct{ id, phone string }

// smsTargets are the reissue SMS to send: to the address's phone under
// the stage's historical id, or to each recipient customer service set.
func smsTargets(d *Doc) []smsTarget {
	if len(d.SMSRecipients) == 0 {
		return []smsTarget{{d.OrderID + ":reissue:sms", d.Address.Phone}}
	}
	out := make([]smsTarget, 0, len(d.SMSRecipients))
	for _, ph := range d.SMSRecipients {
		out = append(out, smsTarget{d.OrderID + ":reissue:sms:" + ph, ph})
	}
	return out
}
