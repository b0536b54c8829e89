// Package money holds amounts as integer fen (1/100 yuan); never floats.
package money

import (
	"errors"
	"fmt"
)

// Fen is an amount of money in fen.
type Fen int64

// ErrNegative is returned where an amount must not be below zero.
var ErrNegative = errors.New("amount must not be negative")

// String formats the amount in yuan with two decimals, e.g. "12.05".
func (f Fen) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Allocate spreads total over parts in proportion to weights, in whole fen,
// so that the parts always sum exactly to total. The remainder left by
// rounding down goes one fen at a time to the parts with the largest
// fractional share (ties to the earlier part), the usual rule in finance.
// Weights must be non-negative; with all weights zero, total goes to the
// first part.
func Allocate(total Fen, weights []int64) ([]Fen, error) {
	out := make([]Fen, len(weights))
	if len(weights) == 0 {
		if total != 0 {
			return nil, errors.New("allocate: no parts to hold a non-zero total")
		}
		return out, nil
	}
	if total < 0 {
		return nil, ErrNegative
	}
	var sum int64
	for _, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("allocate: weight %d: %w", w, ErrNegative)
		}
		sum += w
	}
	if sum == 0 {
		out[0] = total
		return out, nil
	}
	rems := make([]int64, len(weights))
	var given Fen
	for i, w := range weights {
		// 128-bit safe enough: totals and weights are fen of single orders.
		q := int64(total) * w
		out[i] = Fen(q / sum)
		rems[i] = q % sum
		given += out[i]
	}
	for left := total - given; left > 0; left-- {
		best := 0
		for i := range rems {
			if rems[i] > rems[best] {
				best = i
			}
		}
		out[best]++
		rems[best] = -1
	}
	return out, nil
}
