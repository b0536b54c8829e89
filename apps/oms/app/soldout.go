package app

import (
	"sync"
	"time"
)

// soldOut remembers, for a moment, the SKUs inventory just refused as short,
// so that in a flash sale the tens of thousands of buyers who come after the
// last unit are refused by OMS alone instead of each costing a call to
// inventory (two sidecar hops and its reads). A SKU is remembered with the
// smallest quantity refused: a buyer asking for less still goes through.
// Stock released (a cancelled order) becomes sellable again at most TTL
// later; the refusal a buyer gets meanwhile is the same OUT_OF_STOCK.
type soldOut struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]soldOutEntry
}

type soldOutEntry struct {
	qty   int64 // the smallest quantity refused
	until time.Time
}

func newSoldOut(ttl time.Duration) *soldOut {
	return &soldOut{ttl: ttl, m: map[string]soldOutEntry{}}
}

// short returns the SKUs of lines known short at now.
func (s *soldOut) short(now time.Time, qty map[string]int64) []string {
	if s.ttl <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for sku, q := range qty {
		if e, ok := s.m[sku]; ok {
			if now.After(e.until) {
				delete(s.m, sku)
				continue
			}
			if q >= e.qty {
				out = append(out, sku)
			}
		}
	}
	return out
}

// refused records inventory's refusal of skus at the quantities asked.
func (s *soldOut) refused(now time.Time, skus []string, qty map[string]int64) {
	if s.ttl <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) > 10_000 { // only ever a handful; never let it grow
		clear(s.m)
	}
	for _, sku := range skus {
		q, ok := qty[sku]
		if !ok {
			continue // a bundle's component: not what the lines ask for
		}
		e, ok := s.m[sku]
		if !ok || now.After(e.until) || q < e.qty {
			e.qty = q
		}
		e.until = now.Add(s.ttl)
		s.m[sku] = e
	}
}
