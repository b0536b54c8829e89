package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// lookupMetric is the gateway's histogram of cancelRequest lookups by
// path (graph/lookupcost.go).
const lookupMetric = "harvest_gateway_cancel_lookup_seconds"

// lookupCost is what one path's lookups cost over a phase: the change
// of the gateway's histogram between two scrapes.
type lookupCost struct {
	count, sum float64
	buckets    map[float64]float64 // upper bound → cumulative count
}

// lookupCosts groups the phase's lookups: "filter_no_memory" (the
// filter's certain no from the gateway's mirror), "filter_no_redis" (the
// same no read from Redis; a gateway from before the mirror calls it
// "filter_no") and "asked" (every asked_* path: after-sales was asked),
// from the scrapes before and after the phase.
func lookupCosts(before, after map[string]float64) map[string]*lookupCost {
	out := map[string]*lookupCost{}
	for k, v := range after {
		name, labels, ok := strings.Cut(k, "{")
		if !ok || !strings.HasPrefix(name, lookupMetric) {
			continue
		}
		path := labelValue(labels, "path")
		group := "asked"
		switch {
		case path == "filter_no_memory" || path == "filter_no_redis":
			group = path
		case path == "filter_no":
			group = "filter_no_redis"
		case !strings.HasPrefix(path, "asked_"):
			continue
		}
		c := out[group]
		if c == nil {
			c = &lookupCost{buckets: map[float64]float64{}}
			out[group] = c
		}
		d := v - before[k]
		switch strings.TrimPrefix(name, lookupMetric) {
		case "_count":
			c.count += d
		case "_sum":
			c.sum += d
		case "_bucket":
			le, err := strconv.ParseFloat(labelValue(labels, "le"), 64)
			if err == nil {
				c.buckets[le] += d
			}
		}
	}
	return out
}

// labelValue is label name's value in a scraped series' `a="x",b="y"}`.
func labelValue(labels, name string) string {
	_, rest, ok := strings.Cut(labels, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func (c *lookupCost) mean() time.Duration {
	if c == nil || c.count == 0 {
		return 0
	}
	return time.Duration(math.Round(c.sum / c.count * 1e9))
}

// quantile estimates the q-quantile from the buckets, interpolating
// linearly inside the bucket it falls in (as PromQL's
// histogram_quantile does); its error is the bucket width, about 37 %.
func (c *lookupCost) quantile(q float64) time.Duration {
	if c == nil || c.count == 0 {
		return 0
	}
	les := make([]float64, 0, len(c.buckets))
	for le := range c.buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	rank := q * c.count
	lower, below := 0.0, 0.0
	for _, le := range les {
		n := c.buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) {
				return time.Duration(lower * 1e9)
			}
			frac := 0.0
			if n > below {
				frac = (rank - below) / (n - below)
			}
			return time.Duration((lower + (le-lower)*frac) * 1e9)
		}
		lower, below = le, n
	}
	return time.Duration(lower * 1e9)
}

// printLookupCosts prints one phase's lookups per path, as the gateway
// timed them.
func printLookupCosts(costs map[string]*lookupCost) {
	for _, group := range []string{"filter_no_memory", "filter_no_redis", "asked"} {
		c := costs[group]
		if c == nil || c.count == 0 {
			fmt.Printf("  cancelRequest lookups, %-16s: none\n", group)
			continue
		}
		fmt.Printf("  cancelRequest lookups, %-16s: %8.0f, mean %s, p50 %s, p99 %s (gateway's histogram)\n", group, c.count,
			round(c.mean()), c.quantileText(0.5), c.quantileText(0.99))
	}
}

// lookupCPU is the CPU one phase spent per read in the processes a
// lookup can touch: after-sales' side (after-sales, its daprd, MariaDB,
// which also serves the order itself), the gateway's daprd, Redis.
func lookupCPU(before, after map[string]int64, reads int64) (aftersalesSide, gatewayDaprd, redis float64) {
	if reads <= 0 {
		return 0, 0, 0
	}
	ms := func(name string) float64 {
		return float64(after[name]-before[name]) * 1000 / clockTicks / float64(reads)
	}
	return ms("aftersales") + ms("aftersales.daprd") + ms("(mariadbd)") + ms("(mysqld)"), ms("gateway.daprd"), ms("(redis-server)")
}

// quantileText is quantile(q) rounded, or "> top" when it lies beyond the
// histogram's last finite bucket (its value is not known).
func (c *lookupCost) quantileText(q float64) string {
	v := c.quantile(q)
	top := 0.0
	for le := range c.buckets {
		if !math.IsInf(le, 1) && le > top {
			top = le
		}
	}
	if top > 0 && v >= time.Duration(top*1e9) && c.buckets[top] < q*c.count {
		return "> " + round(v).String()
	}
	return round(v).String()
}
