package stages

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// fraudAuditStage is the fraud_audit stage.
func fraudAuditStage(p *Ports) Stage {
	return Stage{Name: "fraud_audit", Kind: runner.IO, Partner: true, EffectFree: true, Units: runner.Roots, Run: p.audit}
}

// Stage 8: fraud audit. REJECT cancels the order (PAY refunds on the
// cancel event); REVIEW waits for an operator in the exception queue.
func (p *Ports) audit(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.Fraud == nil {
		v, err := p.Partners.ScoreFraud(ctx, partnersclient.FraudRequest{OrderID: d.OrderID, CustomerID: d.CustomerID,
			AmountFen: d.Header.Total, Phone: d.Address.Phone, Address: addressLine(d.Address)})
		if err != nil {
			return p.failure(u, "fraud score", err)
		}
		d.Fraud = &FraudVerdict{Score: v.Score, Decision: v.Decision}
	}
	note := fmt.Sprintf("score %d, %s", d.Fraud.Score, d.Fraud.Decision)
	switch d.Fraud.Decision {
	case FraudAccept:
		return Next(note)
	case FraudReview:
		if d.FraudCleared {
			return Next(note + ", cleared by an operator")
		}
		return Fail("FRAUD_REVIEW", note)
	case FraudReject:
		return runner.Cancel("FRAUD", note, CancelOrder{Reason: domain.ReasonFraud, Note: "fraud audit: " + note})
	}
	return Fail("FRAUD_UNKNOWN", "unknown decision "+d.Fraud.Decision)
}
