package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/marketing/domain"
)

var t0 = time.Date(2025, 11, 11, 0, 0, 0, 0, time.UTC)

func campaign() domain.CampaignSpec {
	return domain.CampaignSpec{Name: "双十一赠品", StartsAt: t0, EndsAt: t0.Add(24 * time.Hour),
		Conditions: domain.Conditions{MinGoodsFen: 9_900, RequiredSKUs: []string{"SKU-1"}},
		Gift:       domain.Gift{SKU: "GIFT-1", QtyPerOrder: 1, Stock: 10}}
}

func order() domain.Order {
	return domain.Order{ID: "O1", CustomerID: "U1", GoodsFen: 10_000, PlacedAt: t0.Add(time.Hour),
		Lines: []domain.Line{{SKU: "SKU-1", Qty: 1, AmountFen: 5_000}, {SKU: "SKU-2", Qty: 2, AmountFen: 5_000}}}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                string
		mod                 func(c *domain.CampaignSpec, o *domain.Order)
		candidate, excluded bool
		want                domain.Verdict
	}{
		{"eligible", func(*domain.CampaignSpec, *domain.Order) {}, true, false, domain.VerdictEligible},
		{"not a candidate", func(*domain.CampaignSpec, *domain.Order) {}, false, false, domain.VerdictNotCandidate},
		{"excluded", func(*domain.CampaignSpec, *domain.Order) {}, true, true, domain.VerdictExcluded},
		{"before window", func(_ *domain.CampaignSpec, o *domain.Order) { o.PlacedAt = t0.Add(-time.Nanosecond) }, true, false, domain.VerdictOutside},
		{"at start", func(_ *domain.CampaignSpec, o *domain.Order) { o.PlacedAt = t0 }, true, false, domain.VerdictEligible},
		{"at end (exclusive)", func(_ *domain.CampaignSpec, o *domain.Order) { o.PlacedAt = t0.Add(24 * time.Hour) }, true, false, domain.VerdictOutside},
		{"below minimum", func(_ *domain.CampaignSpec, o *domain.Order) { o.GoodsFen = 9_899 }, true, false, domain.VerdictUnmet},
		{"exactly minimum", func(_ *domain.CampaignSpec, o *domain.Order) { o.GoodsFen = 9_900 }, true, false, domain.VerdictEligible},
		{"required sku missing", func(_ *domain.CampaignSpec, o *domain.Order) { o.Lines = o.Lines[1:] }, true, false, domain.VerdictUnmet},
		{"second required sku missing", func(c *domain.CampaignSpec, _ *domain.Order) {
			c.Conditions.RequiredSKUs = []string{"SKU-1", "SKU-9"}
		}, true, false, domain.VerdictUnmet},
		{"no conditions", func(c *domain.CampaignSpec, o *domain.Order) {
			c.Conditions = domain.Conditions{}
			o.GoodsFen, o.Lines = 0, nil
		}, true, false, domain.VerdictEligible},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec, o := campaign(), order()
			tc.mod(&spec, &o)
			c, err := domain.NewCampaign("C1", spec, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Evaluate(o, tc.candidate, tc.excluded); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCampaignValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		mod  func(c *domain.CampaignSpec)
		ok   bool
	}{
		{"valid", func(*domain.CampaignSpec) {}, true},
		{"no name", func(c *domain.CampaignSpec) { c.Name = " " }, false},
		{"end before start", func(c *domain.CampaignSpec) { c.EndsAt = c.StartsAt }, false},
		{"negative minimum", func(c *domain.CampaignSpec) { c.Conditions.MinGoodsFen = -1 }, false},
		{"no gift sku", func(c *domain.CampaignSpec) { c.Gift.SKU = "" }, false},
		{"zero gift qty", func(c *domain.CampaignSpec) { c.Gift.QtyPerOrder = 0 }, false},
		{"negative stock", func(c *domain.CampaignSpec) { c.Gift.Stock = -1 }, false},
		{"bad excluded id", func(c *domain.CampaignSpec) { c.Excluded = []string{"no spaces allowed"} }, false},
		{"excluded deduplicated", func(c *domain.CampaignSpec) { c.Excluded = []string{"U1", "U1", ""} }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := campaign()
			tc.mod(&c)
			c.Normalize()
			err := c.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, domain.ErrValidation)) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
		})
	}
	c := campaign()
	c.Excluded = []string{" U1", "U1", "", "U2"}
	c.Normalize()
	if len(c.Excluded) != 2 || c.Excluded[0] != "U1" || c.Excluded[1] != "U2" {
		t.Fatalf("normalized excluded = %q", c.Excluded)
	}
}
