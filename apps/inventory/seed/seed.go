// Package seed fills an empty catalog for the local stack with a
// deterministic product range (the same SKUs, prices and stock on every
// machine, so demos and load tests can name them): a few hundred SKUs over
// two warehouses, all five zones and every category, bundles, drop-ship lines with their
// suppliers, presale lines, and one hot flash-sale SKU, FLASH-001.
package seed

import (
	"github.com/harvest/harvest/apps/platform/money"

	"context"
	"fmt"
	"math/rand/v2"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// FlashSKU is the hot flash-sale SKU and FlashUnits its stock.
const (
	FlashSKU   = "FLASH-001"
	FlashUnits = 10000
)

// Catalog is where the seed goes.
type Catalog interface {
	CountProducts(ctx context.Context) (int64, error)
	InsertCatalog(ctx context.Context, ps []domain.Product, onHand map[string]int64) error
}

// IfEmpty seeds when the catalog holds no product; it reports whether it did.
func IfEmpty(ctx context.Context, c Catalog) (bool, error) {
	n, err := c.CountProducts(ctx)
	if err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	ps, onHand := Generate()
	if err := c.InsertCatalog(ctx, ps, onHand); err != nil {
		return false, fmt.Errorf("seed catalog: %w", err)
	}
	return true, nil
}

// goods are the seed's names per zone, each with its category.
type good struct {
	name     string
	category domain.Category
}

var goods = map[domain.Zone][]good{
	domain.ZoneAmbient: {{"东北大米 5kg", domain.CategoryGrainOil}, {"五常香米 2.5kg", domain.CategoryGrainOil},
		{"特级初榨橄榄油 1L", domain.CategoryGrainOil}, {"有机燕麦片 1kg", domain.CategoryGrainOil}, {"手工挂面 500g", domain.CategoryGrainOil},
		{"纯牛奶 250ml×12", domain.CategoryDairy}, {"坚果礼盒 750g", domain.CategorySnacks}, {"红枣 500g", domain.CategorySnacks},
		{"蜂蜜 500g", domain.CategorySnacks}, {"矿泉水 550ml×24", domain.CategoryBeverage}},
	domain.ZoneChilledHigh: {{"有机菠菜 300g", domain.CategoryVegetable}, {"樱桃番茄 500g", domain.CategoryVegetable},
		{"贝贝南瓜 1kg", domain.CategoryVegetable}, {"水果黄瓜 500g", domain.CategoryVegetable}, {"红富士苹果 2kg", domain.CategoryFruit},
		{"海南香蕉 1kg", domain.CategoryFruit}, {"奇异果 6个", domain.CategoryFruit}, {"西兰花 400g", domain.CategoryVegetable},
		{"生菜 250g", domain.CategoryVegetable}, {"鲜香菇 300g", domain.CategoryVegetable}},
	domain.ZoneChilledLow: {{"鲜牛奶 950ml", domain.CategoryDairy}, {"希腊酸奶 400g", domain.CategoryDairy},
		{"冷鲜鸡胸肉 500g", domain.CategoryMeat}, {"黑猪五花肉 400g", domain.CategoryMeat}, {"冷鲜牛腱 500g", domain.CategoryMeat},
		{"鲜鸡蛋 30枚", domain.CategoryEggsTofu}, {"豆腐 400g", domain.CategoryEggsTofu}, {"鲜切三文鱼 200g", domain.CategorySeafood},
		{"鲜榨橙汁 1L", domain.CategoryBeverage}, {"奶酪片 200g", domain.CategoryDairy}},
	domain.ZoneFrozenHigh: {{"速冻水饺 1kg", domain.CategoryFrozenFood}, {"手工汤圆 500g", domain.CategoryFrozenFood},
		{"冷冻虾仁 500g", domain.CategorySeafood}, {"鳕鱼块 400g", domain.CategorySeafood}, {"冷冻牛排 300g", domain.CategoryMeat},
		{"葱油饼 900g", domain.CategoryFrozenFood}, {"速冻玉米粒 500g", domain.CategoryFrozenFood}, {"小笼包 600g", domain.CategoryFrozenFood},
		{"冷冻鸡翅 1kg", domain.CategoryMeat}, {"冻毛豆 400g", domain.CategoryFrozenFood}},
	domain.ZoneFrozenLow: {{"香草冰淇淋 500g", domain.CategoryIceCream}, {"帝王蟹腿 1kg", domain.CategorySeafood},
		{"金枪鱼刺身 200g", domain.CategorySeafood}, {"北极甜虾 500g", domain.CategorySeafood}, {"雪糕 8支", domain.CategoryIceCream},
		{"冷冻和牛 200g", domain.CategoryMeat}, {"深海鳕鱼 1kg", domain.CategorySeafood}, {"冰淇淋蛋筒 6支", domain.CategoryIceCream},
		{"冻扇贝肉 300g", domain.CategorySeafood}, {"冷冻榴莲肉 400g", domain.CategoryFruit}},
}

var taxes = map[domain.Zone]int64{ // 9% for primary farm produce and food staples, 13% for processed goods
	domain.ZoneAmbient: 1300, domain.ZoneChilledHigh: 900, domain.ZoneChilledLow: 900, domain.ZoneFrozenHigh: 1300, domain.ZoneFrozenLow: 1300,
}

// Warehouses the seed spreads SKUs over.
var Warehouses = []string{"WH-SH", "WH-BJ"}

// Generate returns the seed catalog and the on-hand stock of each
// stock-carrying SKU; the same on every call.
func Generate() ([]domain.Product, map[string]int64) {
	rng := rand.New(rand.NewPCG(2024, 11))
	var ps []domain.Product
	onHand := map[string]int64{}
	const plain = 300
	for i := 0; i < plain; i++ {
		zone := domain.Zones[i%len(domain.Zones)]
		wh := Warehouses[(i/len(domain.Zones))%len(Warehouses)]
		base := goods[zone][(i/10)%len(goods[zone])]
		p := domain.Product{
			SKU:       fmt.Sprintf("SKU-%05d", i+1),
			Name:      fmt.Sprintf("%s #%d", base.name, i+1),
			Category:  base.category,
			PriceFen:  money.Fen(100 + rng.IntN(300)*50),
			Zone:      zone,
			TaxRateBP: taxes[zone],
			Warehouse: wh,
			Presale:   i%17 == 5,
		}
		if i%13 == 7 {
			p.DropShip = true
			p.Supplier = fmt.Sprintf("SUP-%02d", 1+(i/13)%6)
		}
		ps = append(ps, p)
		switch {
		case i%29 == 3:
			onHand[p.SKU] = 0 // sold out lines, for in-stock filters
		case i%11 == 2:
			onHand[p.SKU] = int64(1 + rng.IntN(10)) // nearly gone
		default:
			onHand[p.SKU] = int64(50 + rng.IntN(950))
		}
	}
	for b := 0; b < 20; b++ {
		n := 2 + b%2
		var comps []domain.Component
		var price money.Fen
		first := (b * 7) % plain
		for k := 0; k < n; k++ {
			c := ps[(first+k*len(domain.Zones)*len(Warehouses))%plain] // same warehouse and zone
			comps = append(comps, domain.Component{SKU: c.SKU, Qty: int64(1 + k%2)})
			price += c.PriceFen * money.Fen(1+k%2)
		}
		lead := ps[first]
		ps = append(ps, domain.Product{
			SKU:        fmt.Sprintf("BDL-%03d", b+1),
			Name:       fmt.Sprintf("组合装 %s 等%d件", lead.Name, n),
			PriceFen:   price * 9 / 10,
			Zone:       lead.Zone,
			Category:   lead.Category, // components share the lead's zone, warehouse and name, so its category too
			TaxRateBP:  lead.TaxRateBP,
			Warehouse:  lead.Warehouse,
			Components: comps,
		})
	}
	ps = append(ps, domain.Product{
		SKU: FlashSKU, Name: "限时秒杀 智利车厘子 JJ级 1kg", PriceFen: 5990, Zone: domain.ZoneChilledHigh,
		Category: domain.CategoryFruit, TaxRateBP: 900, Warehouse: "WH-SH", Hot: true,
	})
	onHand[FlashSKU] = FlashUnits
	return ps, onHand
}
