package ids

import (
	"sort"
	"testing"
	"time"
)

func TestIDsAreUniqueAndSortByTime(t *testing.T) {
	t.Parallel()
	const n = 50000
	got := make([]string, n)
	for i := range got {
		got[i] = New()
	}
	seen := make(map[string]bool, n)
	for i, id := range got {
		if len(id) != 26 {
			t.Fatalf("len %d", len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
		if i > 0 && got[i-1] >= id {
			t.Fatalf("not increasing: %s then %s", got[i-1], id)
		}
	}
	a := NewAt(time.Unix(1000, 0))
	b := NewAt(time.Unix(2000, 0))
	if !sort.StringsAreSorted([]string{a, b}) && a > b {
		t.Fatalf("%s !< %s", a, b)
	}
}
