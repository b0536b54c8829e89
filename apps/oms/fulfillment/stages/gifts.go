package stages

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// giftsStage is the gifts stage.
func giftsStage(p *Ports) Stage {
	return Stage{Name: "gifts", Kind: runner.IO, Partner: true, EffectFree: true, Units: runner.Roots, Run: p.gifts}
}

// Stage 3: goods gifts the order qualifies for, added at zero price.
func (p *Ports) gifts(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.GiftsAsked {
		return Next("gifts already added")
	}
	q := marketingclient.GiftQuery{OrderID: d.OrderID, CustomerID: d.CustomerID, GoodsFen: d.Header.Goods, PlacedAt: d.PlacedAt}
	for _, l := range d.Lines {
		q.Lines = append(q.Lines, marketingclient.OrderLine{SKU: l.SKU, Qty: l.Qty, AmountFen: l.Amount})
	}
	grants, err := p.Gifts.GiftsFor(ctx, q)
	if err != nil {
		return p.failure(u, "gifts", err)
	}
	gifts := make([]Gift, 0, len(grants))
	for _, g := range grants {
		gifts = append(gifts, Gift{CampaignID: g.CampaignID, SKU: g.SKU, Qty: g.Qty})
		if g.Qty <= 0 || g.SKU == "" {
			continue
		}
		d.Lines = append(d.Lines, domain.FLine{SKU: g.SKU, Qty: g.Qty, Kind: domain.KindGift, Campaign: g.CampaignID,
			DeliveryDate: d.Slot.Date})
	}
	d.Gifts, d.GiftsAsked = gifts, true
	return Next(fmt.Sprintf("%d gifts", len(grants)))
}
