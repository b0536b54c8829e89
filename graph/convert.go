package graph

import (
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/graph/model"
)

// LowStockThreshold is the sellable quantity at or below which a product
// shows as LOW: enough to warn the shopper, not a business rule.
const LowStockThreshold = 10

// Page-size bounds for connections: a default for clients that do not say,
// and a ceiling that, together with the complexity limit, bounds the work
// one request can ask of the services.
const (
	defaultPage = 20
	maxPage     = 100
)

func pageSize(first *int64) int {
	if first == nil || *first <= 0 {
		return defaultPage
	}
	if *first > maxPage {
		return maxPage
	}
	return int(*first)
}

func fmtFen(f money.Fen) string { return "¥" + f.String() }

func stockState(available int64) model.StockState {
	switch {
	case available <= 0:
		return model.StockStateOutOfStock
	case available <= LowStockThreshold:
		return model.StockStateLow
	}
	return model.StockStateInStock
}

func toProduct(p inventoryclient.Product) *model.Product {
	return &model.Product{
		Sku:            p.SKU,
		Name:           p.Name,
		PriceFen:       int64(p.PriceFen),
		PriceFormatted: fmtFen(p.PriceFen),
		Zone:           model.Zone(p.Zone),
		Category:       productCategory(p.Category),
		Warehouse:      p.Warehouse,
		TaxRateBp:      p.TaxRateBP,
		DropShip:       p.DropShip,
		Presale:        p.Presale,
		Bundle:         len(p.Components) > 0,
		Available:      max(p.Available, 0),
		StockState:     stockState(p.Available),
		Version:        p.Version,
		OwnBox:         p.OwnBox,
		Oversize:       p.Oversize,
		ShelfLifeDays:  p.ShelfLife,
		Components:     components(p.Components),
		NextPrice:      nextPrice(p.NextPrice),
		Supplier:       optional(p.Supplier),
	}
}

// productCategory is nil for a product entered before categories.
func productCategory(c string) *model.ProductCategory {
	if c == "" {
		return nil
	}
	pc := model.ProductCategory(c)
	return &pc
}

func components(cs []inventoryclient.Component) []*model.BundleComponent {
	out := make([]*model.BundleComponent, len(cs))
	for i, c := range cs {
		out[i] = &model.BundleComponent{Sku: c.SKU, Qty: c.Qty}
	}
	return out
}

func nextPrice(p *inventoryclient.ScheduledPrice) *model.PriceEntry {
	if p == nil {
		return nil
	}
	return toPriceEntry(*p)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toProductConnection builds a Relay page. Inventory pages by SKU keyset and
// returns only the page's end cursor, so each edge's cursor is its SKU and
// pageInfo.endCursor is inventory's own cursor, passed through opaque.
func toProductConnection(pg inventoryclient.ProductPage) *model.ProductConnection {
	c := &model.ProductConnection{Edges: make([]*model.ProductEdge, 0, len(pg.Items)), TotalCount: pg.TotalCount}
	for _, p := range pg.Items {
		c.Edges = append(c.Edges, &model.ProductEdge{Cursor: p.SKU, Node: toProduct(p)})
	}
	c.PageInfo = pageInfo(len(c.Edges), func(i int) string { return c.Edges[i].Cursor }, pg.EndCursor, pg.HasNext)
	return c
}

func pageInfo(n int, cursor func(int) string, end string, hasNext bool) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: hasNext}
	if n > 0 {
		s := cursor(0)
		pi.StartCursor = &s
		if end == "" {
			end = cursor(n - 1)
		}
	}
	if end != "" {
		pi.EndCursor = &end
	}
	return pi
}

func toOrder(o omsclient.Order) *model.Order {
	out := &model.Order{
		ID:               o.ID,
		CustomerID:       o.CustomerID,
		Source:           model.OrderSource(o.Source),
		Status:           model.OrderStatus(o.Status),
		Lines:            make([]*model.OrderLine, 0, len(o.Lines)),
		GoodsFen:         int64(o.GoodsFen),
		GoodsFormatted:   fmtFen(o.GoodsFen),
		FreightFen:       int64(o.FreightFen),
		FreightFormatted: fmtFen(o.FreightFen),
		TotalFen:         int64(o.TotalFen),
		TotalFormatted:   fmtFen(o.TotalFen),
		NonCashFen:       int64(o.NonCashFen),
		NonCashFormatted: fmtFen(o.NonCashFen),
		CashDueFen:       int64(o.CashDueFen),
		CashDueFormatted: fmtFen(o.CashDueFen),
		PaidFen:          int64(o.PaidFen),
		PaidFormatted:    fmtFen(o.PaidFen),
		Address: &model.Address{Name: o.Address.Name, Phone: o.Address.Phone, Province: o.Address.Province,
			City: o.Address.City, District: o.Address.District, Detail: o.Address.Detail},
		Slot:         &model.DeliverySlot{Type: model.SlotType(o.Slot.Type), Date: o.Slot.Date},
		DeductionIds: nonNil(o.DeductionIDs),
		CouponIds:    nonNil(o.CouponIDs),
		PayBy:        o.PayBy,
		CreatedAt:    o.CreatedAt,
		Timeline:     make([]*model.OrderTimelineEntry, 0, len(o.Timeline)),
	}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, &model.OrderLine{
			Sku: l.SKU, Name: l.Name, Qty: l.Qty,
			UnitPriceFen: int64(l.UnitPriceFen), UnitPriceFormatted: fmtFen(l.UnitPriceFen),
			AmountFen: int64(l.AmountFen), AmountFormatted: fmtFen(l.AmountFen),
		})
	}
	for _, e := range o.Timeline {
		te := &model.OrderTimelineEntry{At: e.At, Type: e.Type}
		if e.Note != "" {
			n := e.Note
			te.Note = &n
		}
		out.Timeline = append(out.Timeline, te)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// toOrderConnection builds a Relay page of orders; as with products, OMS
// returns only the end cursor, so edges carry the order id (ULIDs sort by
// time) and endCursor is OMS's own.
func toOrderConnection(pg omsclient.OrderPage) *model.OrderConnection {
	c := &model.OrderConnection{Edges: make([]*model.OrderEdge, 0, len(pg.Items)), TotalCount: pg.TotalCount}
	for _, o := range pg.Items {
		c.Edges = append(c.Edges, &model.OrderEdge{Cursor: o.ID, Node: toOrder(o)})
	}
	c.PageInfo = pageInfo(len(c.Edges), func(i int) string { return c.Edges[i].Cursor }, pg.EndCursor, pg.HasNext)
	return c
}

func toAccounts(a payclient.Accounts, coupons []marketingclient.Coupon) *model.Accounts {
	out := &model.Accounts{
		BalanceFen: int64(a.BalanceFen), BalanceFormatted: fmtFen(a.BalanceFen),
		GiftCardFen: int64(a.GiftCardFen), GiftCardFormatted: fmtFen(a.GiftCardFen),
		Points:       a.Points,
		GoodsCardFen: int64(a.GoodsCardFen), GoodsCardFormatted: fmtFen(a.GoodsCardFen),
		Coupons: make([]*model.Coupon, 0, len(coupons)),
	}
	for _, c := range coupons {
		out.Coupons = append(out.Coupons, toCoupon(c))
	}
	return out
}

func toDeduction(d payclient.Deduction) *model.Deduction {
	out := &model.Deduction{ID: d.ID, TotalFen: int64(d.TotalFen), TotalFormatted: fmtFen(d.TotalFen),
		Status: d.Status, CreatedAt: d.CreatedAt, Items: make([]*model.DeductionItem, 0, len(d.Items))}
	if d.OrderID != "" {
		id := d.OrderID
		out.OrderID = &id
	}
	for _, it := range d.Items {
		di := &model.DeductionItem{Kind: model.NonCashKind(it.Kind), AmountFen: int64(it.AmountFen), AmountFormatted: fmtFen(it.AmountFen)}
		if it.CouponID != "" {
			id := it.CouponID
			di.CouponID = &id
		}
		out.Items = append(out.Items, di)
	}
	return out
}

func toCashPayment(r payclient.CashierRedirect) *model.CashPayment {
	return &model.CashPayment{TradeID: r.TradeID, Channel: model.PaymentChannel(r.Channel), CashierURL: r.CashierURL,
		AmountFen: int64(r.AmountFen), AmountFormatted: fmtFen(r.AmountFen), ExpiresAt: r.ExpiresAt}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
