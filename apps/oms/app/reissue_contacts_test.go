package app_test

import (
	"context"
	"slices"
	"testing"

	"github.com/harvest/harvest/apps/oms/domain"
)

// A reissue or exchange placed for an order whose SMS recipients customer
// service set inherits them (stored with the order, so stage 14 texts
// those phones); one for an original without recipients, for another
// customer's order, or for an order OMS does not hold gets none.
func TestReissueInheritsTheOriginalsSMSRecipients(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	orig := mustPlace(t, e, "k-orig", placement("APP"))
	plain := mustPlace(t, e, "k-plain", placement("APP"))
	if _, err := e.db.Exec(`UPDATE orders SET sms_recipients = '["13900139000","13700137000"]' WHERE id = ?`, orig.ID()); err != nil {
		t.Fatal(err)
	}
	made := func(key, source, original, customer string) *domain.Order {
		t.Helper()
		p := placement(source)
		p.OriginalOrder, p.CustomerID = original, customer
		o := mustPlace(t, e, key, p)
		got, err := e.repo.Get(ctx, o.ID())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := []string{"13900139000", "13700137000"}
	for _, src := range []string{"REISSUE", "EXCHANGE"} {
		if got := made("k-"+src, src, orig.ID(), "cust-1"); !slices.Equal(got.CustomSMSRecipients(), want) || !slices.Equal(got.SMSRecipients(), want) {
			t.Errorf("%s of an order with recipients: %v", src, got.CustomSMSRecipients())
		}
	}
	for name, got := range map[string]*domain.Order{
		"an original without recipients": made("k-plain-r", "REISSUE", plain.ID(), "cust-1"),
		"another customer's order":       made("k-other", "REISSUE", orig.ID(), "cust-2"),
		"an order OMS does not hold":     made("k-none", "REISSUE", "01PARTNERORDER", "cust-1"),
	} {
		if len(got.CustomSMSRecipients()) != 0 {
			t.Errorf("reissue of %s inherited %v", name, got.CustomSMSRecipients())
		}
	}
}
