package graph

import (
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/graph/model"
)

func productInput(in *model.ProductInput) inventoryclient.ProductInput {
	out := inventoryclient.ProductInput{Name: in.Name, Zone: string(in.Zone), Category: string(in.Category), TaxRateBP: in.TaxRateBp, Warehouse: in.Warehouse,
		Supplier: str(in.Supplier), DropShip: flag(in.DropShip), Presale: flag(in.Presale), OwnBox: flag(in.OwnBox), Oversize: flag(in.Oversize)}
	if in.ShelfLifeDays != nil {
		out.ShelfLife = *in.ShelfLifeDays
	}
	for _, c := range in.Components {
		out.Components = append(out.Components, inventoryclient.Component{SKU: c.Sku, Qty: c.Qty})
	}
	return out
}

func flag(b *bool) bool { return b != nil && *b }

// productPayload answers a catalog mutation: the product, or the user
// errors of an expected refusal (fields under input).
func productPayload(p inventoryclient.Product, err error, input []string) (*model.ProductPayload, error) {
	if err != nil {
		ues, err := userErrors(err, hints{input: input, target: []string{"sku"}})
		if err != nil {
			return nil, err
		}
		return &model.ProductPayload{Errors: ues}, nil
	}
	return &model.ProductPayload{Product: toProduct(p), Errors: []*model.UserError{}}, nil
}

func toPriceEntry(e inventoryclient.ScheduledPrice) *model.PriceEntry {
	out := &model.PriceEntry{PriceFen: int64(e.PriceFen), PriceFormatted: fmtFen(e.PriceFen), ValidFrom: e.ValidFrom}
	if e.By != "" {
		by := e.By
		out.SetBy = &by
	}
	return out
}
