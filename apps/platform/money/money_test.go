package money

import (
	"math/rand/v2"
	"testing"
)

func TestAllocateTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		total   Fen
		weights []int64
		want    []Fen
	}{
		{100, []int64{1, 1, 1}, []Fen{34, 33, 33}},
		{10, []int64{3, 3, 4}, []Fen{3, 3, 4}},
		{1, []int64{5, 5}, []Fen{1, 0}},
		{0, []int64{5, 5}, []Fen{0, 0}},
		{7, []int64{0, 0}, []Fen{7, 0}},
		{999, []int64{1999, 1}, []Fen{999, 0}}, // shares 998.5005 and 0.4995: the larger fraction wins
	}
	for _, c := range cases {
		got, err := Allocate(c.total, c.weights)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("Allocate(%d,%v)=%v want %v", c.total, c.weights, got, c.want)
			}
		}
	}
	if _, err := Allocate(-1, []int64{1}); err == nil {
		t.Fatal("negative total accepted")
	}
	if _, err := Allocate(1, []int64{-1, 2}); err == nil {
		t.Fatal("negative weight accepted")
	}
}

// Property: parts always sum to the total, none negative, and each part is
// within one fen of its exact proportional share.
func TestAllocateProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		n := 1 + r.IntN(12)
		w := make([]int64, n)
		var sum int64
		for j := range w {
			w[j] = r.Int64N(100000)
			sum += w[j]
		}
		total := Fen(r.Int64N(10_000_000))
		parts, err := Allocate(total, w)
		if err != nil {
			t.Fatal(err)
		}
		var got Fen
		for j, p := range parts {
			if p < 0 {
				t.Fatalf("negative part %v", parts)
			}
			got += p
			if sum > 0 {
				exact := float64(total) * float64(w[j]) / float64(sum)
				if float64(p) < exact-1 || float64(p) > exact+1 {
					t.Fatalf("part %d=%d far from %f", j, p, exact)
				}
			}
		}
		if got != total {
			t.Fatalf("parts %v sum %d want %d", parts, got, total)
		}
	}
}

func TestFenString(t *testing.T) {
	t.Parallel()
	for f, want := range map[Fen]string{0: "0.00", 5: "0.05", 1234: "12.34", -105: "-1.05"} {
		if f.String() != want {
			t.Fatalf("%d → %s want %s", f, f.String(), want)
		}
	}
}
