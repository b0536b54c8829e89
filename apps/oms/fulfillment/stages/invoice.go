package stages

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// invoiceStage is the invoice stage.
func invoiceStage(p *Ports) Stage {
	return Stage{Name: "invoice", Kind: runner.IO, Partner: true, Units: runner.Children, When: primaryWithInvoice, Run: p.invoice}
}

// Stage 15: invoice data for the whole order.
func (p *Ports) invoice(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	id := d.OrderID + ":invoice"
	req := partnersclient.InvoiceRequest{InvoiceID: id, OrderID: d.OrderID, Title: d.InvoiceTitle}
	for _, l := range d.OrderLines {
		if l.Payable() == 0 {
			continue // gifts are not invoiced
		}
		req.Lines = append(req.Lines, partnersclient.InvoiceLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, AmountFen: l.Payable(), TaxRateBP: l.TaxRateBP})
	}
	if err := once(u, id, func() (string, error) {
		r, err := p.Partners.IssueInvoice(ctx, req)
		return r.ID, err
	}); err != nil {
		return p.failure(u, "invoice", err)
	}
	return Next(fmt.Sprintf("invoice %s, %d lines", id, len(req.Lines)))
}
