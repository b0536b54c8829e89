package graph_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/auth"
)

// Mutations are rate-limited per token subject (a token bucket): past the
// burst, a precise RATE_LIMITED error with retryAfterMs, and no service
// call; every alias of a mutation counts; queries and other subjects are
// not affected; tokens come back with time.
func TestMutationRateLimit(t *testing.T) {
	clk := clock.NewFixed(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newEnv(t, func(o *graph.Options) { o.MutationRate, o.MutationBurst, o.Clock = 1, 3, clk })
	deduct := `mutation { deductNonCash(input: {items: [{kind: BALANCE, amountFen: 1}]}, idempotencyKey: "k") { errors { code } } }`
	alice := as(t, "alice", auth.RoleCustomer)

	for i := range 3 {
		if _, errs := post(t, e.c, deduct, alice); len(errs) != 0 {
			t.Fatalf("mutation %d: %v", i, errs)
		}
	}
	data, errs := post(t, e.c, deduct, alice)
	wantCode(t, errs, graph.CodeRateLimited)
	if errs[0].Message != "too many mutations: at most 1 per second (burst 3); retry in 1000 ms" ||
		errs[0].Extensions["retryAfterMs"] != float64(1000) || errs[0].Extensions["retryAfter"] != float64(1) ||
		jsonOf(errs[0].Path) != `["deductNonCash"]` || data != nil {
		t.Fatalf("refusal = %+v, data %v", errs[0], data)
	}
	if len(e.pay.deducts) != 3 {
		t.Fatalf("PAY was called %d times", len(e.pay.deducts))
	}

	t.Run("queries are not limited", func(t *testing.T) {
		for range 5 {
			if _, errs := post(t, e.c, `{ me { subject } }`, alice); len(errs) != 0 {
				t.Fatal(errs)
			}
		}
	})
	t.Run("another subject has its own bucket", func(t *testing.T) {
		if _, errs := post(t, e.c, deduct, as(t, "bob", auth.RoleCustomer)); len(errs) != 0 {
			t.Fatal(errs)
		}
	})
	t.Run("a token comes back each second", func(t *testing.T) {
		clk.Advance(time.Second)
		if _, errs := post(t, e.c, deduct, alice); len(errs) != 0 {
			t.Fatal(errs)
		}
		_, errs := post(t, e.c, deduct, alice)
		wantCode(t, errs, graph.CodeRateLimited)
	})
	t.Run("each alias takes a token", func(t *testing.T) {
		before := len(e.pay.deducts)
		q := "mutation {"
		for i := range 5 {
			q += fmt.Sprintf(` m%d: deductNonCash(input: {items: [{kind: BALANCE, amountFen: 1}]}, idempotencyKey: "k%d") { errors { code } }`, i, i)
		}
		_, errs := post(t, e.c, q+" }", as(t, "carol", auth.RoleCustomer))
		if got := codes(errs); len(got) != 2 || got[0] != graph.CodeRateLimited || got[1] != graph.CodeRateLimited {
			t.Fatalf("errors %v", errs)
		}
		if n := len(e.pay.deducts) - before; n != 3 {
			t.Fatalf("PAY was called %d times for 5 aliases, want the burst of 3", n)
		}
	})
}
