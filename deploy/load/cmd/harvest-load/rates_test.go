package main

import (
	"slices"
	"testing"
)

func TestParseRates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		list string
		rate int
		want []int
	}{{"", 0, []int{100}}, {"", 250, []int{250}}, {"100, 200,300", 5, []int{100, 200, 300}}} {
		got, err := parseRates(c.list, c.rate)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseRates(%q, %d) = %v, %v; want %v", c.list, c.rate, got, err, c.want)
		}
	}
	for _, bad := range []string{"100,", "x", "0", "-5"} {
		if _, err := parseRates(bad, 0); err == nil {
			t.Errorf("parseRates(%q) accepted", bad)
		}
	}
}
