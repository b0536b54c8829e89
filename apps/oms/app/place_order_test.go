package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/pay/payclient"
)

func TestPlaceOrderToCWaitsForCash(t *testing.T) {
	e := newEnv(t)
	o := mustPlace(t, e, "k1", placement("APP"))
	if o.Status() != domain.StatusPendingPayment || o.Total() != 2*1000+2550+600 || o.CashDue() != o.Total() {
		t.Fatalf("status %s total %d due %d", o.Status(), o.Total(), o.CashDue())
	}
	if want := t0.Add(10 * time.Minute); !o.PayBy().Equal(want) {
		t.Fatalf("pay by %s, want %s", o.PayBy(), want)
	}
	if at, ok := e.rem.armedAt(o.ID()); !ok || !at.Equal(o.PayBy()) {
		t.Fatalf("reminder armed %v at %s", ok, at)
	}
	if e.inv.available("SKU-A") != 98 || e.inv.status(o.ID()) != inventoryclient.ReservationHeld {
		t.Fatalf("stock %d reservation %q", e.inv.available("SKU-A"), e.inv.status(o.ID()))
	}
	if outboxCount(t, e.db, events.TopicOrderPlaced) != 1 || outboxCount(t, e.db, events.TopicOrderPaid) != 0 {
		t.Fatal("want exactly one order.placed and no order.paid")
	}
	got, err := e.svc.GetOrder(context.Background(), o.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Lines()) != 2 || got.Lines()[1].Name != "Frozen dumplings" || len(got.Timeline()) != 1 ||
		got.Timeline()[0].Type != domain.EventPlaced || !got.PayBy().Equal(o.PayBy()) || got.Slot().Date != "2026-03-10" {
		t.Fatalf("stored order differs: %+v", got.Snapshot())
	}
}

func TestPlaceOrderChannelDeadline(t *testing.T) {
	e := newEnv(t)
	p := placement("APP")
	p.Channel = "alipay"
	o := mustPlace(t, e, "k1", p)
	if want := t0.Add(15 * time.Minute); !o.PayBy().Equal(want) {
		t.Fatalf("pay by %s, want %s", o.PayBy(), want)
	}
}

func TestPlaceOrderValidationWritesNothing(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *domain.Placement)
		field  string
		code   string
	}{
		{"unknown sku", func(p *domain.Placement) { p.Lines[1].SKU = "SKU-NOPE" }, "lines[1].sku", "UNKNOWN_SKU"},
		{"zero qty", func(p *domain.Placement) { p.Lines[0].Qty = 0 }, "lines[0].qty", "NON_POSITIVE_QTY"},
		{"negative qty", func(p *domain.Placement) { p.Lines[1].Qty = -3 }, "lines[1].qty", "NON_POSITIVE_QTY"},
		{"price mismatch", func(p *domain.Placement) { p.Lines[1].UnitPrice = 2500 }, "lines[1].unit_price_fen", "PRICE_MISMATCH"},
		{"duplicate sku", func(p *domain.Placement) { p.Lines[1].SKU = "SKU-A"; p.Lines[1].UnitPrice = 1000 }, "lines[1].sku", "DUPLICATE_SKU"},
		{"no lines", func(p *domain.Placement) { p.Lines = nil }, "lines", "REQUIRED"},
		{"too many lines", func(p *domain.Placement) {
			p.Lines = nil
			for i := 0; i <= domain.MaxLines; i++ {
				p.Lines = append(p.Lines, domain.LineInput{SKU: fmt.Sprintf("S%d", i), Qty: 1, UnitPrice: 1})
			}
		}, "lines", "TOO_MANY_LINES"},
		// List inputs are capped before PAY or inventory is asked anything.
		{"too many deductions", func(p *domain.Placement) {
			for i := 0; i < 30_000; i++ {
				p.DeductionIDs = append(p.DeductionIDs, fmt.Sprintf("d%d", i))
			}
		}, "deduction_ids", "TOO_MANY"},
		{"too many coupons", func(p *domain.Placement) {
			for i := 0; i <= domain.MaxCoupons; i++ {
				p.CouponIDs = append(p.CouponIDs, fmt.Sprintf("c%d", i))
			}
		}, "coupon_ids", "TOO_MANY"},
		{"missing phone", func(p *domain.Placement) { p.Address.Phone = "" }, "address.phone", "REQUIRED"},
		{"bad phone", func(p *domain.Placement) { p.Address.Phone = "call me" }, "address.phone", "INVALID_PHONE"},
		{"missing city", func(p *domain.Placement) { p.Address.City = " " }, "address.city", "REQUIRED"},
		{"slot type", func(p *domain.Placement) { p.Slot.Type = "TELEPORT" }, "slot.type", "UNKNOWN_SLOT_TYPE"},
		{"slot in past", func(p *domain.Placement) { p.Slot.Date = "2026-03-09" }, "slot.date", "SLOT_IN_PAST"},
		{"next day today", func(p *domain.Placement) { p.Slot.Type = domain.SlotNextDay }, "slot.date", "SLOT_IN_PAST"},
		{"slot malformed", func(p *domain.Placement) { p.Slot.Date = "10/03/2026" }, "slot.date", "INVALID_DATE"},
		{"unknown source", func(p *domain.Placement) { p.Source = "FAX" }, "source", "UNKNOWN_SOURCE"},
		{"pull-back through the accept-order API", func(p *domain.Placement) { p.Source = "PULL_BACK"; p.OriginalOrder = "o1" }, "source", "SOURCE_NOT_ACCEPTED"},
		{"negative freight", func(p *domain.Placement) { p.Freight = -1 }, "freight_fen", "NEGATIVE_AMOUNT"},
		{"tob with deductions", func(p *domain.Placement) { p.Source = "SALES_PLAN"; p.DeductionIDs = []string{"d1"} }, "deduction_ids", "NOT_ALLOWED_FOR_SOURCE"},
		{"reissue without original", func(p *domain.Placement) { p.Source = "REISSUE" }, "original_order", "REQUIRED"},
		{"gift exchange without non-cash", func(p *domain.Placement) { p.Source = "GIFT_EXCHANGE" }, "deduction_ids", "REQUIRED"},
		{"duplicate deduction", func(p *domain.Placement) { p.DeductionIDs = []string{"d1", "d1"} }, "deduction_ids[1]", "DUPLICATE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			p := placement("APP")
			c.mutate(&p)
			_, _, err := e.svc.PlaceOrder(context.Background(), cmd("k", p))
			var ve *domain.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a validation error, got %v", err)
			}
			found := false
			for _, v := range ve.Violations {
				found = found || (v.Field == c.field && v.Code == c.code)
			}
			if !found {
				t.Fatalf("want %s %s among %+v", c.field, c.code, ve.Violations)
			}
			nothingWritten(t, e)
			if e.inv.reservations() != 0 {
				t.Fatal("stock was reserved for an invalid order")
			}
		})
	}
}

func TestPlaceOrderIdempotencyKeyRequired(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.svc.PlaceOrder(context.Background(), cmd("", placement("APP")))
	if !errors.Is(err, domain.ErrInvalidOrder) || !strings.Contains(err.Error(), "idempotency_key") {
		t.Fatalf("got %v", err)
	}
	nothingWritten(t, e)
}

func TestPlaceOrderOutOfStockWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.inv.stock["SKU-B"] = 0
	_, _, err := e.svc.PlaceOrder(context.Background(), cmd("k", placement("APP")))
	var oos *app.OutOfStockError
	if !errors.As(err, &oos) || len(oos.SKUs) != 1 || oos.SKUs[0] != "SKU-B" {
		t.Fatalf("want out of stock naming SKU-B, got %v", err)
	}
	nothingWritten(t, e)
	if e.inv.available("SKU-A") != 100 {
		t.Fatal("a partial reservation stayed")
	}
}

func TestPlaceOrderPaymentRules(t *testing.T) {
	total := int64(2*1000 + 2550 + 600)
	cases := []struct {
		name       string
		source     string
		deductions map[string]int64 // id -> fen, all HELD for cust-1
		status     domain.Status
		cashDue    int64
		code       string // violation code when rejected
	}{
		{"sales plan pays nothing", "SALES_PLAN", nil, domain.StatusPaid, 0, ""},
		{"third party pays nothing", "THIRD_PARTY", nil, domain.StatusPaid, 0, ""},
		{"reissue pays nothing", "REISSUE", nil, domain.StatusPaid, 0, ""},
		{"exchange pays nothing", "EXCHANGE", nil, domain.StatusPaid, 0, ""},
		{"toc pays the rest in cash", "WEB", map[string]int64{"d1": 1000, "d2": 150}, domain.StatusPendingPayment, total - 1150, ""},
		{"toc covered by non-cash", "MINI_PROGRAM", map[string]int64{"d1": total}, domain.StatusPaid, 0, ""},
		{"gift exchange covered", "GIFT_EXCHANGE", map[string]int64{"g1": total}, domain.StatusPaid, 0, ""},
		{"gift exchange short", "GIFT_EXCHANGE", map[string]int64{"g1": total - 1}, "", 0, "NON_CASH_SHORT"},
		{"non-cash above total", "APP", map[string]int64{"d1": total + 1}, "", 0, "NON_CASH_EXCEEDS_TOTAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			p := placement(c.source)
			for id, fen := range c.deductions {
				e.deduction(id, "cust-1", payclient.DeductionHeld, fen)
				p.DeductionIDs = append(p.DeductionIDs, id)
			}
			o, _, err := e.svc.PlaceOrder(context.Background(), cmd("k", p))
			if c.code != "" {
				var ve *domain.ValidationError
				if !errors.As(err, &ve) || ve.Violations[0].Code != c.code {
					t.Fatalf("want %s, got %v", c.code, err)
				}
				nothingWritten(t, e)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Status() != c.status || int64(o.CashDue()) != c.cashDue {
				t.Fatalf("status %s due %d, want %s %d", o.Status(), o.CashDue(), c.status, c.cashDue)
			}
			paid := outboxCount(t, e.db, events.TopicOrderPaid)
			_, armed := e.rem.armedAt(o.ID())
			if c.status == domain.StatusPaid {
				if paid != 1 || armed || !o.PayBy().IsZero() {
					t.Fatalf("paid at creation: order.paid %d, reminder %v, pay by %s", paid, armed, o.PayBy())
				}
			} else if paid != 0 || !armed {
				t.Fatalf("unpaid: order.paid %d, reminder %v", paid, armed)
			}
			if n := count(t, e.db, `SELECT COUNT(*) FROM order_deductions WHERE order_id = ?`, o.ID()); n != len(c.deductions) {
				t.Fatalf("%d deductions bound, want %d", n, len(c.deductions))
			}
		})
	}
}

func TestPlaceOrderDeductionChecks(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env)
		code  string
	}{
		{"missing", func(e *env) {}, "DEDUCTION_NOT_FOUND"},
		{"other customer", func(e *env) { e.deduction("d1", "cust-2", payclient.DeductionHeld, 100) }, "DEDUCTION_NOT_FOUND"},
		{"reversed", func(e *env) { e.deduction("d1", "cust-1", payclient.DeductionReversed, 100) }, "DEDUCTION_NOT_HELD"},
		{"used in pay", func(e *env) { e.deduction("d1", "cust-1", payclient.DeductionUsed, 100) }, "DEDUCTION_IN_USE"},
		{"used by another order here", func(e *env) {
			e.deduction("d1", "cust-1", payclient.DeductionHeld, 100)
			p := placement("APP")
			p.DeductionIDs = []string{"d1"}
			_, _, _ = e.svc.PlaceOrder(context.Background(), cmd("first", p))
		}, "DEDUCTION_IN_USE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			c.setup(e)
			before := count(t, e.db, `SELECT COUNT(*) FROM orders`)
			p := placement("APP")
			p.DeductionIDs = []string{"d1"}
			_, _, err := e.svc.PlaceOrder(context.Background(), cmd("k", p))
			var de *app.DeductionError
			if !errors.As(err, &de) || de.Violations[0].Code != c.code || de.Violations[0].Field != "deduction_ids[0]" {
				t.Fatalf("want %s on deduction_ids[0], got %v", c.code, err)
			}
			if after := count(t, e.db, `SELECT COUNT(*) FROM orders`); after != before {
				t.Fatal("an order was written")
			}
		})
	}
}

func TestPlaceOrderIdempotency(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := mustPlace(t, e, "k1", placement("APP"))
	again, created, err := e.svc.PlaceOrder(ctx, cmd("k1", placement("APP")))
	if err != nil || created || again.ID() != first.ID() {
		t.Fatalf("replay: created %v id %v err %v", created, again, err)
	}
	other := placement("APP")
	other.Lines[0].Qty = 3
	if _, _, err := e.svc.PlaceOrder(ctx, cmd("k1", other)); !errors.Is(err, app.ErrIdempotencyReuse) {
		t.Fatalf("want reuse error, got %v", err)
	}
	// The key is per customer: another customer may use the same words.
	p2 := placement("APP")
	p2.CustomerID = "cust-2"
	if o, created, err := e.svc.PlaceOrder(ctx, cmd("k1", p2)); err != nil || !created || o.ID() == first.ID() {
		t.Fatalf("other customer: %v %v", created, err)
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM orders`); n != 2 {
		t.Fatalf("%d orders, want 2", n)
	}
	if e.inv.reserveCalls != 2 || e.inv.available("SKU-A") != 96 {
		t.Fatalf("reserve calls %d, stock %d", e.inv.reserveCalls, e.inv.available("SKU-A"))
	}
}

func TestPlaceOrderConcurrentDuplicatesMakeOneOrder(t *testing.T) {
	e := newEnv(t)
	e.inv.stock["SKU-B"] = 1 // scarce: duplicates must not look sold out
	const n = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		idsOf = map[string]int{}
		made  int
		errs  []error
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			o, created, err := e.svc.PlaceOrder(context.Background(), cmd("same-key", placement("APP")))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			idsOf[o.ID()]++
			if created {
				made++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d calls failed, first: %v", len(errs), errs[0])
	}
	if len(idsOf) != 1 || made != 1 {
		t.Fatalf("orders seen %v, created %d", idsOf, made)
	}
	if c := count(t, e.db, `SELECT COUNT(*) FROM orders`); c != 1 {
		t.Fatalf("%d orders stored", c)
	}
	if e.inv.reserveCalls != 1 || e.inv.available("SKU-B") != 0 || e.inv.available("SKU-A") != 98 {
		t.Fatalf("reserve calls %d, stock A %d B %d", e.inv.reserveCalls, e.inv.available("SKU-A"), e.inv.available("SKU-B"))
	}
	if outboxCount(t, e.db, events.TopicOrderPlaced) != 1 {
		t.Fatal("want one order.placed")
	}
}

func TestPlaceOrderCommitFailureReleasesStock(t *testing.T) {
	e := newEnv(t)
	svc := e.service(failingCommit{e.repo})
	_, _, err := svc.PlaceOrder(context.Background(), cmd("k", placement("APP")))
	if err == nil {
		t.Fatal("placement succeeded with a failing commit")
	}
	nothingWritten(t, e)
	if e.inv.reservations() != 1 {
		t.Fatalf("%d reservations, want the one made before the commit", e.inv.reservations())
	}
	if e.inv.available("SKU-A") != 100 || e.inv.available("SKU-B") != 100 {
		t.Fatal("stock not given back by the release")
	}
}

func TestPlaceOrderCrashBeforeCommitCheckBackReleases(t *testing.T) {
	e := newEnv(t)
	e.inv.releaseFails = true // the process "dies": no release reaches inventory
	svc := e.service(failingCommit{e.repo})
	if _, _, err := svc.PlaceOrder(context.Background(), cmd("k", placement("APP"))); err == nil {
		t.Fatal("placement succeeded with a failing commit")
	}
	if e.inv.available("SKU-A") != 98 {
		t.Fatal("the reservation should still hold stock before the check-back")
	}
	// A committed order meanwhile must survive the check-back.
	kept := mustPlace(t, e, "k2", placement("APP"))
	e.clock.Advance(2*time.Minute + time.Second)
	if err := e.inv.checkBack(context.Background(), e.svc.Exists); err != nil {
		t.Fatal(err)
	}
	if e.inv.available("SKU-A") != 98 || e.inv.status(kept.ID()) != inventoryclient.ReservationConfirmed {
		t.Fatalf("stock A %d (want 98: only the committed order holds it), kept %s", e.inv.available("SKU-A"), e.inv.status(kept.ID()))
	}
	if n := count(t, e.db, `SELECT COUNT(*) FROM orders`); n != 1 {
		t.Fatalf("%d orders", n)
	}
}

// After inventory refuses a SKU as short, OMS refuses it alone for
// SoldOutTTL — but not a smaller quantity, not a replayed key, and not
// once the memory has lapsed.
func TestSoldOutIsRememberedBriefly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := app.New(app.Deps{Repo: e.repo, Inventory: e.inv, Pay: e.pay, Reminders: e.rem, Clock: e.clock},
		app.Config{SoldOutTTL: time.Second})
	e.inv.mu.Lock()
	e.inv.stock["SKU-A"] = 3
	e.inv.mu.Unlock()
	withA := func(qty int64) domain.Placement {
		p := placement("APP")
		p.Lines = p.Lines[:1]
		p.Lines[0].Qty = qty
		return p
	}
	won, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "won", Placement: withA(1)})
	if err != nil {
		t.Fatal(err)
	}
	calls := func() int { e.inv.mu.Lock(); defer e.inv.mu.Unlock(); return e.inv.reserveCalls }
	var oos *app.OutOfStockError
	if _, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "k1", Placement: withA(3)}); !errors.As(err, &oos) {
		t.Fatalf("3 of 2 left: %v", err)
	}
	before := calls()
	if _, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "k2", Placement: withA(5)}); !errors.As(err, &oos) || oos.SKUs[0] != "SKU-A" {
		t.Fatalf("5 right after: %v", err)
	}
	if calls() != before {
		t.Fatal("inventory was asked again within the TTL")
	}
	if o, created, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "won", Placement: withA(1)}); err != nil || created || o.ID() != won.ID() {
		t.Fatalf("replayed key: %v %v %v", o, created, err)
	}
	if _, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "k3", Placement: withA(2)}); err != nil {
		t.Fatalf("a smaller quantity that fits: %v", err)
	}
	e.inv.mu.Lock()
	e.inv.stock["SKU-A"] = 10 // restocked (or released by a cancel)
	e.inv.mu.Unlock()
	if _, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "k4", Placement: withA(3)}); !errors.As(err, &oos) {
		t.Fatalf("within the TTL the memory still refuses: %v", err)
	}
	e.clock.Advance(1100 * time.Millisecond)
	if _, _, err := svc.PlaceOrder(ctx, app.PlaceOrder{IdempotencyKey: "k5", Placement: withA(3)}); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
}
