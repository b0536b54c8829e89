package stages

import (
	"context"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// erpStockStage is the erp_stock stage.
func erpStockStage(p *Ports) Stage {
	return Stage{Name: "erp_stock", Kind: runner.IO, Partner: true, EffectFree: true, Units: runner.Children, When: notDropShip, Run: p.erpStock}
}

// Stage 12: occupy ERP stock per delivery order; short stock is an exception.
func (p *Ports) erpStock(ctx context.Context, u *Unit) Outcome {
	c := u.Doc.Child
	if !c.Occupied {
		_, err := p.Warehouse.OccupyStock(ctx, wmsclient.OccupyRequest{DeliveryOrderID: u.ID, OrderID: u.Key, Warehouse: c.Warehouse, Lines: wmsLines(c.Lines)})
		if httpapi.HasCode(err, wmsclient.CodeStockShort) || httpapi.HasCode(err, wmsclient.CodeUnknownWH) {
			return Fail("ERP_STOCK_SHORT", err.Error())
		}
		if err != nil {
			return p.failure(u, "ERP stock", err)
		}
		c.Occupied = true
	}
	return Next("ERP stock occupied in " + c.Warehouse)
}

func wmsLines(lines []domain.FLine) []wmsclient.Line {
	out := make([]wmsclient.Line, len(lines))
	for i, l := range lines {
		out[i] = wmsclient.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Zone: l.Zone}
	}
	return out
}
