package api

import (
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
)

// PlaceCommand turns the wire request into the use case's command.
func PlaceCommand(r omsclient.PlaceOrderRequest) app.PlaceOrder {
	lines := make([]domain.LineInput, len(r.Lines))
	for i, l := range r.Lines {
		lines[i] = domain.LineInput{SKU: l.SKU, Qty: l.Qty, UnitPrice: l.UnitPriceFen}
	}
	return app.PlaceOrder{IdempotencyKey: r.IdempotencyKey, Placement: domain.Placement{
		CustomerID: r.CustomerID, Source: r.Source, Channel: r.Channel, Lines: lines,
		Address:      domain.Address(r.Address),
		Slot:         domain.Slot{Type: r.Slot.Type, Date: r.Slot.Date},
		DeductionIDs: r.DeductionIDs, CouponIDs: r.CouponIDs, Freight: r.FreightFen,
		InvoiceTitle: r.InvoiceTitle, OriginalOrder: r.OriginalOrder,
	}}
}

// OrderView shows an order as omsclient.Order, with its timeline or not.
func OrderView(o *domain.Order, timeline bool) omsclient.Order {
	v := omsclient.Order{
		ID: o.ID(), CustomerID: o.CustomerID(), Source: string(o.Source()), ToB: o.Source().ToB(),
		Status: string(o.Status()), GoodsFen: o.Goods(), FreightFen: o.Freight(), TotalFen: o.Total(),
		NonCashFen: o.NonCash(), CashDueFen: o.CashDue(), PaidFen: o.Paid(), TradeID: o.TradeID(),
		Address:      omsclient.Address(o.Address()),
		Slot:         omsclient.Slot{Type: o.Slot().Type, Date: o.Slot().Date},
		DeductionIDs: o.DeductionIDs(), CouponIDs: o.CouponIDs(), CreatedAt: o.CreatedAt(),
		InvoiceTitle: o.InvoiceTitle(), SMSRecipients: o.CustomSMSRecipients(),
	}
	for _, l := range o.Lines() {
		v.Lines = append(v.Lines, omsclient.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, UnitPriceFen: l.UnitPrice, AmountFen: l.Amount})
	}
	if pb := o.PayBy(); !pb.IsZero() {
		t := pb.UTC()
		v.PayBy = &t
	}
	if timeline {
		for _, e := range o.Timeline() {
			v.Timeline = append(v.Timeline, omsclient.Event{At: e.At.UTC().Truncate(time.Microsecond), Type: string(e.Type), Note: e.Note})
		}
	}
	return v
}
