package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrNotServed is wrapped by NotServedError.
var ErrNotServed = errors.New("address outside every served area")

// maxAreaLen bounds a province, city or district name.
const maxAreaLen = 64

// AreaRef is where an address lies: province, city and district.
type AreaRef struct {
	Province, City, District string
}

func (a AreaRef) String() string { return a.Province + "/" + a.City + "/" + a.District }

// NewAreaRef validates an address's area: all three names are required.
func NewAreaRef(province, city, district string) (AreaRef, error) {
	a := AreaRef{strings.TrimSpace(province), strings.TrimSpace(city), strings.TrimSpace(district)}
	for _, f := range []struct{ name, v string }{{"province", a.Province}, {"city", a.City}, {"district", a.District}} {
		if f.v == "" || utf8.RuneCountInString(f.v) > maxAreaLen {
			return AreaRef{}, invalid(f.name, fmt.Sprintf("must be 1..%d characters", maxAreaLen))
		}
	}
	return a, nil
}

// ServedArea is an entry of the served-area list operators maintain: the
// warehouses delivering to a district, or with District "" to every
// district of the city that has no entry of its own.
type ServedArea struct {
	Province, City, District string
	Warehouses               []string // sorted; empty: not served (the entry is removed)
}

// NewServedArea validates an entry; warehouses are sorted and deduplicated.
func NewServedArea(province, city, district string, warehouses []string) (ServedArea, error) {
	a := ServedArea{Province: strings.TrimSpace(province), City: strings.TrimSpace(city), District: strings.TrimSpace(district)}
	for _, f := range []struct{ name, v string }{{"province", a.Province}, {"city", a.City}} {
		if f.v == "" || utf8.RuneCountInString(f.v) > maxAreaLen {
			return ServedArea{}, invalid(f.name, fmt.Sprintf("must be 1..%d characters", maxAreaLen))
		}
	}
	if utf8.RuneCountInString(a.District) > maxAreaLen {
		return ServedArea{}, invalid("district", fmt.Sprintf("at most %d characters", maxAreaLen))
	}
	if len(warehouses) > 20 {
		return ServedArea{}, invalid("warehouses", "at most 20")
	}
	for i, w := range warehouses {
		if strings.TrimSpace(w) == "" || len(w) > 16 {
			return ServedArea{}, invalid(fmt.Sprintf("warehouses[%d]", i), "must be 1..16 characters")
		}
	}
	a.Warehouses = slices.Compact(slices.Sorted(slices.Values(warehouses)))
	return a, nil
}

// Serving picks the warehouses serving a from the entries of its city: the
// district's own entry, else the whole city's.
func Serving(a AreaRef, entries []ServedArea) []string {
	var city []string
	for _, e := range entries {
		if e.Province != a.Province || e.City != a.City {
			continue
		}
		switch e.District {
		case a.District:
			return e.Warehouses
		case "":
			city = e.Warehouses
		}
	}
	return city
}

// NotServedError names the area no warehouse delivers to.
type NotServedError struct{ Area AreaRef }

func (e *NotServedError) Error() string { return ErrNotServed.Error() + ": " + e.Area.String() }

// Unwrap lets errors.Is match ErrNotServed.
func (e *NotServedError) Unwrap() error { return ErrNotServed }
