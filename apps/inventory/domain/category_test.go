package domain_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
)

// Marketing validates coupon templates against the published list: a
// category added to the domain and not published would be refused there.
func TestCategoriesArePublished(t *testing.T) {
	published := make([]domain.Category, len(inventoryclient.Categories))
	for i, c := range inventoryclient.Categories {
		published[i] = domain.Category(c)
	}
	if !slices.Equal(published, domain.Categories) {
		t.Fatalf("inventoryclient.Categories = %v, domain.Categories = %v", published, domain.Categories)
	}
}

func TestProductNeedsAKnownCategory(t *testing.T) {
	p := domain.Product{SKU: "S1", Name: "鲜牛奶", PriceFen: 990, Zone: domain.ZoneChilledLow, Category: domain.CategoryDairy,
		TaxRateBP: 900, Warehouse: "WH-SH"}
	if err := p.Validate(); err != nil {
		t.Fatalf("a dairy product: %v", err)
	}
	for _, bad := range []domain.Category{"", "dairy", "TOYS"} {
		p.Category = bad
		var ve *domain.ValidationError
		if err := p.Validate(); !errors.As(err, &ve) || ve.Field != "category" || ve.Reason != domain.ReasonUnknownCategory {
			t.Fatalf("category %q: %v, want field category reason %s", bad, err, domain.ReasonUnknownCategory)
		}
	}
}
