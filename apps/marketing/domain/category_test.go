package domain

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
)

// A template may apply only to categories inventory's catalog has.
func TestTemplateCategoriesAreTheCatalogs(t *testing.T) {
	if !slices.Equal(ProductCategories, inventoryclient.Categories) {
		t.Fatalf("marketing knows %v, the catalog publishes %v", ProductCategories, inventoryclient.Categories)
	}
}

func TestTemplateCategoryValidation(t *testing.T) {
	spec := TemplateSpec{Title: "水果满50减5", ValueFen: 500, ThresholdFen: 5_000, Categories: []string{"VEGETABLE", "FRUIT", "FRUIT", ""},
		ValidFrom: c0, ValidTo: c0.Add(time.Hour)}
	spec.Normalize()
	if err := spec.Validate(); err != nil || !slices.Equal(spec.Categories, []string{"FRUIT", "VEGETABLE"}) {
		t.Fatalf("known categories: %v %v", spec.Categories, err)
	}
	spec.Categories = []string{"FRUIT", "fruit"}
	var fe *FieldError
	if err := spec.Validate(); !errors.As(err, &fe) || fe.Field != "categories[1]" || fe.Reason != ReasonUnknownCategory || !errors.Is(err, ErrValidation) {
		t.Fatalf("lower-case code: %v", err)
	}
}

// Eligible goods are those of the coupon's SKUs or categories; the
// threshold counts them alone.
func TestCouponAppliesByCategory(t *testing.T) {
	c := Coupon{ID: "c", Rules: TemplateSpec{ValueFen: 500, ThresholdFen: 5_000, Categories: []string{"FRUIT"}}}
	for _, tc := range []struct {
		name  string
		lines []Line
		want  error
	}{
		{"fruit reaching it", []Line{{SKU: "A", Category: "FRUIT", AmountFen: 3_000}, {SKU: "B", Category: "FRUIT", AmountFen: 2_000}}, nil},
		{"fruit below it, meat above", []Line{{SKU: "A", Category: "FRUIT", AmountFen: 4_999}, {SKU: "M", Category: "MEAT", AmountFen: 90_000}}, ErrThresholdNotMet},
		{"no fruit", []Line{{SKU: "M", Category: "MEAT", AmountFen: 90_000}}, ErrNotApplicable},
		{"uncategorised", []Line{{SKU: "A", AmountFen: 90_000}}, ErrNotApplicable},
	} {
		if err := c.Applies(tc.lines); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	both := Coupon{ID: "b", Rules: TemplateSpec{ValueFen: 500, ThresholdFen: 5_000, SKUs: []string{"M"}, Categories: []string{"FRUIT"}}}
	if err := both.Applies([]Line{{SKU: "M", Category: "MEAT", AmountFen: 2_500}, {SKU: "A", Category: "FRUIT", AmountFen: 2_500},
		{SKU: "X", Category: "DAIRY", AmountFen: 90_000}}); err != nil {
		t.Errorf("by SKU and by category: %v", err)
	}
}
