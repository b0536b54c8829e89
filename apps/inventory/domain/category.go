package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Category is where a product sits in the fresh-grocery range: what
// customers browse by and coupon templates may apply to (DOMAIN 3.1). The
// list is flat and fixed: a coupon bound today keeps its categories, so a
// code never changes meaning; a new one is added here and in
// inventoryclient.Categories (TestCategoriesArePublished holds them equal).
type Category string

// The categories.
const (
	CategoryGrainOil   Category = "GRAIN_OIL"   // 粮油米面
	CategorySnacks     Category = "SNACKS"      // 休闲零食
	CategoryBeverage   Category = "BEVERAGE"    // 酒水饮料
	CategoryDairy      Category = "DAIRY"       // 乳品
	CategoryEggsTofu   Category = "EGGS_TOFU"   // 蛋品豆制品
	CategoryVegetable  Category = "VEGETABLE"   // 蔬菜
	CategoryFruit      Category = "FRUIT"       // 水果
	CategoryMeat       Category = "MEAT"        // 肉禽
	CategorySeafood    Category = "SEAFOOD"     // 水产海鲜
	CategoryFrozenFood Category = "FROZEN_FOOD" // 速冻食品
	CategoryIceCream   Category = "ICE_CREAM"   // 冰淇淋
)

// Categories lists every category in a stable order.
var Categories = []Category{CategoryGrainOil, CategorySnacks, CategoryBeverage, CategoryDairy, CategoryEggsTofu,
	CategoryVegetable, CategoryFruit, CategoryMeat, CategorySeafood, CategoryFrozenFood, CategoryIceCream}

// ReasonUnknownCategory: a product named a category not in Categories
// (an empty one included: every product entered has one).
const ReasonUnknownCategory = "UNKNOWN_CATEGORY"

// ParseCategory accepts exactly one of the categories.
func ParseCategory(s string) (Category, error) {
	c := Category(s)
	if slices.Contains(Categories, c) {
		return c, nil
	}
	return "", refused("category", ReasonUnknownCategory, fmt.Sprintf("%q is not a category (%s)", s, categoryNames()))
}

func categoryNames() string {
	names := make([]string, len(Categories))
	for i, c := range Categories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
