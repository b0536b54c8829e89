package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
)

// The GraphQL operations the tests send, as a front-end would.
const (
	qProducts = `query($first:Int,$filter:ProductFilter){ products(first:$first, filter:$filter){
		totalCount edges{ node{ sku name priceFen available stockState bundle presale dropShip } } } }`
	qProduct  = `query($sku:ID!){ product(sku:$sku){ sku available stockState } }`
	qAccounts = `{ myAccounts{ balanceFen giftCardFen points coupons{ id status valueFen } } }`
	qOrder    = `query($id:ID!){ order(id:$id){ id status totalFen cashDueFen nonCashFen paidFen payBy
		lines{ sku qty product{ name } } timeline{ type note } } }`
	mDeduct = `mutation($in:DeductNonCashInput!,$key:String!){ deductNonCash(input:$in, idempotencyKey:$key){
		deduction{ id totalFen status } errors{ code message field reason } } }`
	mPlace = `mutation($in:PlaceOrderInput!,$key:String!){ placeOrder(input:$in, idempotencyKey:$key){
		order{ id status totalFen cashDueFen payBy } errors{ code message field reason } } }`
	mStartPay = `mutation($id:ID!,$ch:PaymentChannel!,$key:String!){ startCashPayment(orderId:$id, channel:$ch, idempotencyKey:$key){
		payment{ tradeId cashierUrl amountFen expiresAt } errors{ code message reason } } }`
	mCancel = `mutation($id:ID!,$key:String!){ cancelOrder(orderId:$id, idempotencyKey:$key){
		order{ id status } errors{ code message } } }`
	sOrderEvents  = `subscription{ orderEvents{ orderId customerId type status } }`
	sOrderUpdated = `subscription($id:ID){ orderUpdated(orderId:$id){ orderId type status } }`
)

type userError struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Field   []string `json:"field"`
	Reason  string   `json:"reason"`
}

type product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceFen   int64  `json:"priceFen"`
	Available  int64  `json:"available"`
	StockState string `json:"stockState"`
	Bundle     bool   `json:"bundle"`
	Presale    bool   `json:"presale"`
	DropShip   bool   `json:"dropShip"`
}

type order struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	TotalFen   int64      `json:"totalFen"`
	CashDueFen int64      `json:"cashDueFen"`
	NonCashFen int64      `json:"nonCashFen"`
	PaidFen    int64      `json:"paidFen"`
	PayBy      *time.Time `json:"payBy"`
	Timeline   []struct {
		Type string `json:"type"`
		Note string `json:"note"`
	} `json:"timeline"`
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// plainProducts returns n in-stock SKUs that are neither bundles, presale,
// drop-ship nor the flash-sale SKU, so an order of them takes the plain
// path. Each test passes its own offset so that tests never share a SKU and
// one test's expiring orders cannot move another's stock figures.
func plainProducts(t *testing.T, c *gqlc.Client, n, offset int) []product {
	t.Helper()
	var out struct {
		Products struct {
			Edges []struct{ Node product } `json:"edges"`
		} `json:"products"`
	}
	if err := c.Do(ctx(t), qProducts, map[string]any{"first": 40, "filter": map[string]any{"inStock": true}}, &out); err != nil {
		t.Fatal(err)
	}
	var ps []product
	for _, e := range out.Products.Edges {
		p := e.Node
		if !p.Bundle && !p.Presale && !p.DropShip && p.Available > 50 && p.SKU != "FLASH-001" {
			ps = append(ps, p)
		}
	}
	if len(ps) < offset+n {
		t.Fatalf("want %d plain products in stock, found %d", offset+n, len(ps))
	}
	return ps[offset : offset+n]
}

func available(t *testing.T, c *gqlc.Client, sku string) int64 {
	t.Helper()
	var out struct{ Product product }
	if err := c.Do(ctx(t), qProduct, map[string]any{"sku": sku}, &out); err != nil {
		t.Fatal(err)
	}
	return out.Product.Available
}

type accounts struct {
	BalanceFen int64 `json:"balanceFen"`
}

func balance(t *testing.T, c *gqlc.Client) int64 {
	t.Helper()
	var out struct{ MyAccounts accounts }
	if err := c.Do(ctx(t), qAccounts, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.MyAccounts.BalanceFen
}

func orderInput(ps []product, qty int64, deductions []string) map[string]any {
	lines := make([]map[string]any, len(ps))
	for i, p := range ps {
		lines[i] = map[string]any{"sku": p.SKU, "qty": qty, "unitPriceFen": p.PriceFen}
	}
	in := map[string]any{
		"source": "APP",
		"lines":  lines,
		"address": map[string]any{"name": "Li Lei", "phone": "13800138000", "province": "Shanghai",
			"city": "Shanghai", "district": "Pudong", "detail": "1 Century Avenue"},
		"slot": map[string]any{"type": "NEXT_DAY", "date": time.Now().In(shanghai).AddDate(0, 0, 1).Format("2006-01-02")},
	}
	if len(deductions) > 0 {
		in["deductionIds"] = deductions
	}
	return in
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

func place(t *testing.T, c *gqlc.Client, in map[string]any) (order, []userError) {
	t.Helper()
	var out struct {
		PlaceOrder struct {
			Order  *order      `json:"order"`
			Errors []userError `json:"errors"`
		} `json:"placeOrder"`
	}
	if err := c.Do(ctx(t), mPlace, map[string]any{"in": in, "key": ids.New()}, &out); err != nil {
		t.Fatal(err)
	}
	if out.PlaceOrder.Order == nil {
		return order{}, out.PlaceOrder.Errors
	}
	return *out.PlaceOrder.Order, out.PlaceOrder.Errors
}

func mustPlace(t *testing.T, c *gqlc.Client, in map[string]any) order {
	t.Helper()
	o, errs := place(t, c, in)
	if len(errs) > 0 || o.ID == "" {
		t.Fatalf("placeOrder: %+v", errs)
	}
	return o
}

func deduct(t *testing.T, c *gqlc.Client, fen int64) string {
	t.Helper()
	var out struct {
		DeductNonCash struct {
			Deduction *struct{ ID string } `json:"deduction"`
			Errors    []userError          `json:"errors"`
		} `json:"deductNonCash"`
	}
	in := map[string]any{"items": []map[string]any{{"kind": "BALANCE", "amountFen": fen}}}
	if err := c.Do(ctx(t), mDeduct, map[string]any{"in": in, "key": ids.New()}, &out); err != nil {
		t.Fatal(err)
	}
	if out.DeductNonCash.Deduction == nil {
		t.Fatalf("deductNonCash: %+v", out.DeductNonCash.Errors)
	}
	return out.DeductNonCash.Deduction.ID
}

func getOrder(t *testing.T, c *gqlc.Client, id string) order {
	t.Helper()
	var out struct{ Order *order }
	if err := c.Do(ctx(t), qOrder, map[string]any{"id": id}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Order == nil {
		t.Fatalf("order %s not found", id)
	}
	return *out.Order
}

func waitStatus(t *testing.T, c *gqlc.Client, id, status string, d time.Duration) order {
	t.Helper()
	var o order
	eventually(t, d, fmt.Sprintf("order %s %s", id, status), func() (bool, error) {
		o = getOrder(t, c, id)
		return o.Status == status, fmt.Errorf("status %s", o.Status)
	})
	return o
}

type payment struct {
	TradeID    string    `json:"tradeId"`
	CashierURL string    `json:"cashierUrl"`
	AmountFen  int64     `json:"amountFen"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

func startPay(t *testing.T, c *gqlc.Client, orderID string) (*payment, []userError) {
	return startPayWith(t, c, orderID, "WECHAT")
}

func startPayWith(t *testing.T, c *gqlc.Client, orderID, channel string) (*payment, []userError) {
	t.Helper()
	var out struct {
		StartCashPayment struct {
			Payment *payment    `json:"payment"`
			Errors  []userError `json:"errors"`
		} `json:"startCashPayment"`
	}
	err := c.Do(ctx(t), mStartPay, map[string]any{"id": orderID, "ch": channel, "key": ids.New()}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.StartCashPayment.Payment, out.StartCashPayment.Errors
}
