package stages

import (
	"context"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// paymentVoucherStage is the payment_voucher stage.
func paymentVoucherStage(p *Ports) Stage {
	return Stage{Name: "payment_voucher", Kind: runner.IO, Partner: true, Units: runner.Roots, Run: p.voucher}
}

// Stage 6: the payment voucher to finance.
func (p *Ports) voucher(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	id := d.OrderID + ":voucher"
	v := partnersclient.Voucher{VoucherID: id, OrderID: d.OrderID, CustomerID: d.CustomerID, CashFen: d.Header.Paid,
		NonCashFen: d.Header.NonCash, TotalFen: d.Header.Total}
	for _, l := range d.Lines {
		v.Lines = append(v.Lines, partnersclient.VoucherLine{SKU: l.SKU, AmountFen: l.Payable(), TaxRateBP: l.TaxRateBP})
	}
	if err := once(u, id, func() (string, error) {
		r, err := p.Partners.PushVoucher(ctx, v)
		return r.ID, err
	}); err != nil {
		return p.failure(u, "voucher", err)
	}
	return Next("voucher " + id)
}
