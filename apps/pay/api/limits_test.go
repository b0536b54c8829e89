package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// A 30,000-item deductNonCash (issue 10, finding 6) is refused with
// TOO_MANY_ITEMS before any lock is taken or any money moves; 50 items,
// the bound, still go through. Over-long keys are validation errors, not
// database errors, and credits bound their coupons the same way.
func TestListInputsAreCapped(t *testing.T) {
	ctx := context.Background()
	c, _, _ := setup(t, omsclient.Payability{Payable: true, PayBy: time.Now().Add(10 * time.Minute), CashDueFen: 1, CustomerID: "C1"})
	if _, err := c.Credit(ctx, "C1", payclient.CreditRequest{IdempotencyKey: "cr", BalanceFen: 100_000}); err != nil {
		t.Fatal(err)
	}
	items := func(n int) []payclient.DeductItem {
		out := make([]payclient.DeductItem, n)
		for i := range out {
			out[i] = payclient.DeductItem{Kind: payclient.KindBalance, AmountFen: 1}
		}
		return out
	}
	_, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "big", CustomerID: "C1", Items: items(30_000)})
	var p *httpapi.Problem
	if !errors.As(err, &p) || p.Code != payclient.CodeTooMany || p.Status != 400 || p.Details["field"] != "items" || p.Details["max"] != float64(50) {
		t.Fatalf("30,000 items: want 400 %s on items (max 50), got %v", payclient.CodeTooMany, err)
	}
	if _, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "51", CustomerID: "C1", Items: items(51)}); !httpapi.HasCode(err, payclient.CodeTooMany) {
		t.Fatalf("51 items: %v", err)
	}
	if a, _ := c.Accounts(ctx, "C1"); a.BalanceFen != 100_000 {
		t.Fatalf("a refused deduction moved money: %d", a.BalanceFen)
	}
	d, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: "50", CustomerID: "C1", Items: items(50)})
	if err != nil || d.TotalFen != 50 || len(d.Items) != 50 {
		t.Fatalf("50 items: %+v %v", d, err)
	}
	long := strings.Repeat("k", 129)
	if _, err := c.Deduct(ctx, payclient.DeductRequest{IdempotencyKey: long, CustomerID: "C1", Items: items(1)}); !httpapi.HasCode(err, payclient.CodeValidation) {
		t.Fatalf("129-byte key: %v", err)
	}
}
