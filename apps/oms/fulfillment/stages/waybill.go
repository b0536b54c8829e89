package stages

import (
	"context"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// waybillStage is the waybill stage.
func waybillStage(p *Ports) Stage {
	return Stage{Name: "waybill", Kind: runner.IO, Partner: true, Units: runner.Children, When: notDropShip, Run: p.waybill}
}

// Stage 11: a courier and waybill from TMS per delivery order.
func (p *Ports) waybill(ctx context.Context, u *Unit) Outcome {
	d, c := &u.Doc, u.Doc.Child
	if c.WaybillNo == "" {
		w, err := p.Partners.RequestWaybill(ctx, partnersclient.WaybillRequest{DeliveryOrderID: u.ID, Warehouse: c.Warehouse,
			Address: addressLine(d.Address), Phone: d.Address.Phone, DeliveryDate: c.DeliveryDate, Express: d.Slot.Type == domain.SlotExpress})
		if err != nil {
			return p.failure(u, "waybill", err)
		}
		c.Carrier, c.WaybillNo = w.Carrier, w.WaybillNo
	}
	return Next(c.Carrier + " " + c.WaybillNo)
}
