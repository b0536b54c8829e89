package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/deploy/gqlc"
)

type catalogItem struct {
	product
	Warehouse string `json:"warehouse"`
}

// findProducts pages through the catalog until keep has taken n products.
func findProducts(t *testing.T, c *gqlc.Client, n int, keep func(catalogItem) bool) []catalogItem {
	t.Helper()
	var out []catalogItem
	after := ""
	for len(out) < n {
		var page struct {
			Products struct {
				Edges    []struct{ Node catalogItem }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		err := c.Do(ctx(t), `query($after:String){ products(first:40, after:$after, filter:{inStock:true}){
			edges{ node{ sku priceFen available bundle presale dropShip warehouse } } pageInfo{ hasNextPage endCursor } } }`,
			map[string]any{"after": after}, &page)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Products.Edges {
			if len(out) < n && keep(e.Node) && e.Node.Available > 20 {
				out = append(out, e.Node)
			}
		}
		if !page.Products.PageInfo.HasNextPage {
			break
		}
		after = page.Products.PageInfo.EndCursor
	}
	if len(out) < n {
		t.Fatalf("catalog lacks %d products of the kind wanted", n)
	}
	return out
}

func received(t *testing.T, api, ref string) []struct {
	ID         string          `json:"id"`
	Deliveries int             `json:"deliveries"`
	Body       json.RawMessage `json:"body"`
} {
	t.Helper()
	resp, err := callApp("partners", http.MethodGet, "/admin/received?api="+api+"&ref="+ref, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []struct {
		ID         string          `json:"id"`
		Deliveries int             `json:"deliveries"`
		Body       json.RawMessage `json:"body"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A paid order with a bundle, a gift, lines from two warehouses and a
// drop-ship line walks all 16 stages and reaches WMS and the supplier as the
// right delivery orders, with waybills, voucher and invoice pushed once.
func TestPaidOrderIsFulfilledIntoDeliveryOrders(t *testing.T) {
	const customer = "C0012"
	c := client(t, "CUSTOMER", customer)
	sh := findProducts(t, c, 1, func(p catalogItem) bool {
		return p.Warehouse == "WH-SH" && !p.Bundle && !p.Presale && !p.DropShip && p.SKU != "FLASH-001"
	})[0]
	bj := findProducts(t, c, 2, func(p catalogItem) bool {
		return p.Warehouse == "WH-BJ" && !p.Bundle && !p.Presale && !p.DropShip && p.SKU != "FLASH-001"
	})
	bundle := findProducts(t, c, 1, func(p catalogItem) bool { return p.Bundle && !p.Presale })[0]
	drop := findProducts(t, c, 1, func(p catalogItem) bool { return p.DropShip && !p.Bundle && !p.Presale })[0]
	gift := bj[1]

	// Marketing: a goods-gift campaign whose candidate list, imported from
	// an .xlsx file, holds this customer.
	var camp marketingclient.Campaign
	err := invoke(ctx(t), "marketing", http.MethodPost, "v1/campaigns", marketingclient.CreateCampaignRequest{
		IdempotencyKey: ids.New(), Name: "e2e gift",
		StartsAt: time.Now().Add(-time.Hour), EndsAt: time.Now().Add(time.Hour),
		Conditions: marketingclient.Conditions{MinGoodsFen: 1},
		Gift:       marketingclient.Gift{SKU: gift.SKU, QtyPerOrder: 1, Stock: 10},
	}, &camp)
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"customer_id"})
	f.SetSheetRow("Sheet1", "A2", &[]any{customer})
	var xlsx bytes.Buffer
	if err := f.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	resp, err := callApp("marketing", http.MethodPost, "/v1/campaigns/"+camp.ID+"/candidates",
		marketingclient.XLSXContentType, &xlsx)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("import candidates: status %d", resp.StatusCode)
	}

	in := orderInput([]product{sh.product, bj[0].product, bundle.product, drop.product}, 1, nil)
	in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
	in["invoiceTitle"] = "Harvest E2E Ltd."
	o := mustPlace(t, c, in)
	payAtCashier(t, c, o.ID)

	var tl omsclient.FulfillmentTimeline
	eventually(t, 90*time.Second, "order dispatched", func() (bool, error) {
		got := getOrder(t, c, o.ID)
		if err := invoke(ctx(t), "oms", http.MethodGet, "v1/orders/"+o.ID+"/fulfillment", nil, &tl); err != nil {
			return false, err
		}
		return got.Status == omsclient.StatusDispatched, fmt.Errorf("status %s, units %+v", got.Status, tl.Units)
	})

	// Delivery orders: one per warehouse and one for the supplier.
	var whChildren, supplierChildren []omsclient.FulfillmentUnit
	for _, u := range tl.Units {
		if u.ParentID == "" {
			continue
		}
		if u.State != omsclient.UnitDone {
			t.Fatalf("delivery order %s is %s at %s", u.ID, u.State, u.StageName)
		}
		if u.Supplier != "" {
			supplierChildren = append(supplierChildren, u)
		} else {
			whChildren = append(whChildren, u)
		}
	}
	var whs []string
	for _, u := range whChildren {
		whs = append(whs, u.Warehouse)
	}
	slices.Sort(whs)
	if len(supplierChildren) != 1 || len(whs) < 2 || !slices.Contains(whs, "WH-SH") || !slices.Contains(whs, "WH-BJ") {
		t.Fatalf("delivery orders: warehouses %v, supplier %d; units %+v", whs, len(supplierChildren), tl.Units)
	}

	// WMS received each warehouse delivery order, with its waybill; the
	// bundle arrives as its components and the gift rides along.
	var skus []string
	for _, u := range whChildren {
		var wo wmsclient.Order
		if err := invoke(ctx(t), "wms", http.MethodGet, "v1/orders/"+u.ID, nil, &wo); err != nil {
			t.Fatalf("wms order %s: %v", u.ID, err)
		}
		if wo.WaybillNo == "" || wo.Warehouse != u.Warehouse {
			t.Fatalf("wms order %+v for unit %+v", wo, u)
		}
		for _, l := range wo.Lines {
			skus = append(skus, l.SKU)
		}
	}
	if slices.Contains(skus, bundle.SKU) || !slices.Contains(skus, gift.SKU) || !slices.Contains(skus, sh.SKU) || !slices.Contains(skus, bj[0].SKU) {
		t.Fatalf("WMS lines %v: want %s, %s, gift %s and bundle %s expanded", skus, sh.SKU, bj[0].SKU, gift.SKU, bundle.SKU)
	}

	// Each outside system got its document exactly once.
	for _, api := range []string{"suppliers.orders", "fms.payment_vouchers", "invoice.invoices", "tms.waybills", "sms.messages"} {
		got := received(t, api, o.ID)
		if len(got) == 0 {
			t.Fatalf("%s received nothing for %s", api, o.ID)
		}
		for _, r := range got {
			if r.Deliveries != 1 {
				t.Fatalf("%s %s delivered %d times", api, r.ID, r.Deliveries)
			}
		}
	}
	if n := len(received(t, "tms.waybills", o.ID)); n != len(whChildren) {
		t.Fatalf("%d waybills for %d warehouse delivery orders", n, len(whChildren))
	}
}

// payAtCashier pays an order's cash in full at the stand-in channel's
// cashier, as the customer would.
func payAtCashier(t *testing.T, c *gqlc.Client, orderID string) {
	t.Helper()
	p, errs := startPay(t, c, orderID)
	if p == nil {
		t.Fatalf("startCashPayment: %+v", errs)
	}
	if code, body := cashierPay(t, p.CashierURL, false); code != 200 {
		t.Fatalf("cashier pay: %d %s", code, body)
	}
}

// An operator suspends the pipeline through the gateway: a paid order
// enters fulfillment and waits at the first stage, nothing goes out to a
// partner, and once the pipeline is resumed the order is dispatched.
func TestSuspendedPipelineHoldsPaidOrdersUntilResumed(t *testing.T) {
	admin := client(t, "ADMIN", "ops-e2e")
	switchTo := func(suspend bool) {
		t.Helper()
		q := `mutation { resumeFulfillment { suspension { suspended operator } errors { code } } }`
		field := "resumeFulfillment"
		if suspend {
			q = `mutation { suspendFulfillment(input: {reason: "e2e: warehouse stocktake"}) { suspension { suspended operator } errors { code } } }`
			field = "suspendFulfillment"
		}
		var out map[string]struct {
			Suspension *struct {
				Suspended bool
				Operator  string
			}
			Errors []userError
		}
		if err := admin.Do(ctx(t), q, nil, &out); err != nil {
			t.Fatal(err)
		}
		if r := out[field]; len(r.Errors) > 0 || r.Suspension == nil || r.Suspension.Suspended != suspend || r.Suspension.Operator != "ADMIN:ops-e2e" {
			t.Fatalf("%s: %+v", field, r)
		}
	}
	switchTo(true)
	resumed := false
	defer func() {
		if !resumed {
			switchTo(false) // never leave the shared stack suspended
		}
	}()

	c := client(t, "CUSTOMER", "C0013")
	p := findProducts(t, c, 1, func(p catalogItem) bool {
		return !p.Bundle && !p.Presale && !p.DropShip && p.SKU != "FLASH-001"
	})[0]
	in := orderInput([]product{p.product}, 1, nil)
	in["slot"] = map[string]any{"type": "EXPRESS", "date": time.Now().In(shanghai).Format("2006-01-02")}
	o := mustPlace(t, c, in)
	payAtCashier(t, c, o.ID)
	unit := func() (state, stage string) {
		var out struct {
			FulfillmentTimeline *struct {
				Units []struct{ State, StageName string }
			}
		}
		if err := admin.Do(ctx(t), `query($id:ID!){ fulfillmentTimeline(orderId:$id){ units{ state stageName } } }`, map[string]any{"id": o.ID}, &out); err != nil {
			t.Fatal(err)
		}
		if out.FulfillmentTimeline == nil || len(out.FulfillmentTimeline.Units) == 0 {
			return "", ""
		}
		u := out.FulfillmentTimeline.Units[0]
		return u.State, u.StageName
	}
	eventually(t, 30*time.Second, "paid order entered fulfillment", func() (bool, error) {
		state, _ := unit()
		return state != "", fmt.Errorf("no unit yet")
	})
	time.Sleep(2 * time.Second) // past the instances' view of the switch (1 s)
	if state, stage := unit(); state != "READY" || stage != "initial" {
		t.Fatalf("while suspended the order's unit is %s at %s, want READY at initial", state, stage)
	}
	if got := received(t, "sms.messages", o.ID); len(got) != 0 {
		t.Fatalf("a suspended pipeline sent %d SMS for %s", len(got), o.ID)
	}
	switchTo(false)
	resumed = true
	eventually(t, 90*time.Second, "dispatched after resume", func() (bool, error) {
		got := getOrder(t, c, o.ID)
		return got.Status == omsclient.StatusDispatched, fmt.Errorf("status %s", got.Status)
	})
}
