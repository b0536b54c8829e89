package stages

import (
	"context"
	"strconv"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// dispatchStage is the dispatch stage.
func dispatchStage(p *Ports) Stage {
	return Stage{Name: "dispatch", Kind: runner.IO, Partner: true, Units: runner.Children, Run: p.dispatch}
}

// Stage 16: hand the delivery order to WMS, or a drop-ship one to its supplier.
func (p *Ports) dispatch(ctx context.Context, u *Unit) Outcome {
	d, c := &u.Doc, u.Doc.Child
	if c.WMSID == "" {
		if c.DropShip {
			so := partnersclient.SupplierOrder{DeliveryOrderID: u.ID, Supplier: c.Supplier, Name: d.Address.Name,
				Phone: d.Address.Phone, Address: addressLine(d.Address), DeliveryDate: c.DeliveryDate}
			for _, l := range c.Lines {
				so.Lines = append(so.Lines, partnersclient.GoodsLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty})
			}
			r, err := p.Partners.SendToSupplier(ctx, so)
			if err != nil {
				return p.failure(u, "supplier", err)
			}
			c.WMSID = "supplier:" + r.ID
		} else {
			r, err := p.Warehouse.Dispatch(ctx, wmsclient.DispatchRequest{DeliveryOrderID: u.ID, OrderID: d.OrderID, CustomerID: d.CustomerID,
				Warehouse: c.Warehouse, DeliveryDate: c.DeliveryDate, Express: d.Slot.Type == domain.SlotExpress,
				Carrier: c.Carrier, WaybillNo: c.WaybillNo, Name: d.Address.Name, Phone: d.Address.Phone, Address: addressLine(d.Address),
				Lines: wmsLines(c.Lines), Profiles: map[string]string{"source": string(d.Source), "invoice_title": d.InvoiceTitle,
					"child_seq": strconv.Itoa(u.Seq)}})
			if err != nil {
				return p.failure(u, "dispatch", err)
			}
			c.WMSID = r.WMSOrderID
		}
	}
	return Next("dispatched: " + c.WMSID)
}
