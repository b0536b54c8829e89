package domain

import (
	"fmt"
	"sort"
)

// Partial outbound (DOMAIN 7.2): a checker who finds bad items with no
// replacement ships what is good instead of holding the parcel. What a
// confirmed shortage does is a chain of named steps chosen by the order's
// business type (ChainFor); adding a business type is adding a chain to
// chains, nothing else.

// BusinessType is the kind of order a work order serves, from the received
// order's profile "business_type" (absent: Standard).
type BusinessType string

// Business types.
const (
	// Standard (ToC and the rest) ships the ordered quantity or nothing.
	BusinessStandard BusinessType = "STANDARD"
	// Retail-store replenishment orders (零售店补货单): the stores are a
	// separate company, sold to; they honour the item's minimum order
	// quantity.
	StoreLoss        BusinessType = "STORE_LOSS"         // partial, with a loss record
	StoreLossPutAway BusinessType = "STORE_LOSS_PUTAWAY" // partial, loss record with stock transactions, put-away of the unshipped
	StorePutAway     BusinessType = "STORE_PUTAWAY"      // partial, put-away of the unshipped only
)

// ProfileBusinessType is the order profile key naming the business type.
const ProfileBusinessType = "business_type"

// ParseBusinessType returns the business type named s ("" is Standard).
func ParseBusinessType(s string) (BusinessType, error) {
	if s == "" {
		return BusinessStandard, nil
	}
	if _, ok := chains[BusinessType(s)]; ok {
		return BusinessType(s), nil
	}
	return "", fmt.Errorf("%w: %q is not a business type", ErrValidation, s)
}

// Work order statuses of partial outbound.
const (
	// WOQCShort: QC confirm found differences (a physical shortage); a
	// second QC by work order number may still find the items.
	WOQCShort WorkOrderStatus = "QC_SHORT"
	// WOShortClosed: the shortage was confirmed and nothing of the work
	// order ships (all of it short, or under its minimum order quantity).
	WOShortClosed WorkOrderStatus = "SHORT_CLOSED"
)

// Loss reasons a checker gives.
const (
	LossDamaged = "DAMAGED"
	LossMissing = "MISSING"
)

// ShortLine is a line's outcome at a confirmed shortage.
type ShortLine struct {
	SKU      string
	Ordered  int64
	Picked   int64
	Passed   int64  // checked good at QC
	Short    int64  // picked but not good: Picked - Passed
	Ship     int64  // what is packed and shipped
	Withheld int64  // good but not shipped (under the MOQ): goes back on the shelf
	Reason   string // DAMAGED, MISSING
}

// PutAway is an RF put-away task's plan: units back into a bin's batch.
type PutAway struct {
	Bin   string
	SKU   string
	Batch string
	Qty   int64
}

// Loss is a damage/loss record of a shortage line.
type Loss struct {
	SKU     string
	Qty     int64
	Reason  string
	Bin     string // where the units were picked (first pick of the SKU)
	Batch   string
	WithTxn bool // logged as a LOSS stock movement too
}

// ShortageOutcome is what a chain decided: the lines, the loss records
// and the put-away tasks to create, and whether customer service is told.
type ShortageOutcome struct {
	Lines    []ShortLine
	Losses   []Loss
	PutAways []PutAway
	NotifyCS bool
	// Committed is set by the commit step: everything above is written in
	// one transaction by it.
	Committed bool
}

// Shipping is the units the outcome ships.
func (o ShortageOutcome) Shipping() int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Ship
	}
	return n
}

// ShortageCase is what the chain works on: the work order at its confirmed
// shortage, its picks, the items' minimum order quantities and the
// checker's reasons by SKU.
type ShortageCase struct {
	WorkOrder WorkOrder
	Picks     []Pick
	MOQ       map[string]int64
	Reasons   map[string]string
	Commit    func(ShortageOutcome) error // the store's one transaction
	Out       ShortageOutcome
}

// Step is one named step of a partial-outbound chain.
type ChainStep struct {
	Name string
	Run  func(c *ShortageCase) error
}

// The named steps (DOMAIN 7.2).
var (
	// StepVirtualQC ships the ordered quantity: a standard order leaves in
	// full, so a shortage cannot be confirmed for it.
	StepVirtualQC = ChainStep{"virtual-quantity outbound QC", func(c *ShortageCase) error {
		for _, l := range c.WorkOrder.Lines {
			if l.QCed < l.Qty {
				return fmt.Errorf("%w: %s ships what was ordered (%d of %s, %d checked): pick a replacement",
					ErrState, c.WorkOrder.ID, l.Qty, l.SKU, l.QCed)
			}
			c.Out.Lines = append(c.Out.Lines, ShortLine{SKU: l.SKU, Ordered: l.Qty, Picked: l.Picked, Passed: l.QCed, Ship: l.Qty})
		}
		return nil
	}}
	// StepActualQC ships what passed QC, honouring the item's minimum
	// order quantity: a line under it ships nothing and its good units go
	// back on the shelf.
	StepActualQC = ChainStep{"actual-quantity outbound QC", func(c *ShortageCase) error {
		for _, l := range c.WorkOrder.Lines {
			sl := ShortLine{SKU: l.SKU, Ordered: l.Qty, Picked: l.Picked, Passed: l.QCed, Short: l.Picked - l.QCed, Ship: l.QCed}
			if sl.Short > 0 {
				sl.Reason = c.Reasons[l.SKU]
				if sl.Reason == "" {
					sl.Reason = LossDamaged
				}
			}
			if moq := c.MOQ[l.SKU]; sl.Ship > 0 && sl.Ship < moq {
				sl.Ship, sl.Withheld = 0, sl.Passed
			}
			c.Out.Lines = append(c.Out.Lines, sl)
		}
		c.Out.NotifyCS = true
		return nil
	}}
	// StepLossRecord creates a damage/loss record per short line.
	StepLossRecord = ChainStep{"create damage/loss record", func(c *ShortageCase) error { return losses(c, false) }}
	// StepLossRecordWithTxn also logs each loss as a stock movement.
	StepLossRecordWithTxn = ChainStep{"create damage/loss record with stock transactions", func(c *ShortageCase) error { return losses(c, true) }}
	// StepPutAwayRandomBatch puts withheld units back into the bin of the
	// SKU's first pick, any batch of it (the first picked).
	StepPutAwayRandomBatch = ChainStep{"create RF put-away task with random batch", func(c *ShortageCase) error {
		for _, l := range c.Out.Lines {
			if l.Withheld == 0 {
				continue
			}
			p, ok := firstPick(c.Picks, l.SKU)
			if !ok {
				return fmt.Errorf("%w: no pick of %s to put back", ErrState, l.SKU)
			}
			c.Out.PutAways = append(c.Out.PutAways, PutAway{Bin: p.Bin, SKU: l.SKU, Batch: p.Batch, Qty: l.Withheld})
		}
		return nil
	}}
	// StepPutAwayByRule puts withheld units back where they came from,
	// batch by batch, latest pick first (the reverse of allocation's
	// first-expiring order), so each batch gets back no more than it gave.
	StepPutAwayByRule = ChainStep{"create RF put-away task with batch by rule", func(c *ShortageCase) error {
		for _, l := range c.Out.Lines {
			left := l.Withheld
			for i := len(c.Picks) - 1; i >= 0 && left > 0; i-- {
				p := c.Picks[i]
				if p.SKU != l.SKU || p.Picked == 0 {
					continue
				}
				q := min(p.Picked, left)
				c.Out.PutAways = append(c.Out.PutAways, PutAway{Bin: p.Bin, SKU: l.SKU, Batch: p.Batch, Qty: q})
				left -= q
			}
			if left > 0 {
				return fmt.Errorf("%w: %d of %s withheld beyond what was picked", ErrState, left, l.SKU)
			}
		}
		return nil
	}}
	// StepCommit writes the whole outcome in one transaction.
	StepCommit = ChainStep{"commit everything in one transaction", func(c *ShortageCase) error {
		if err := c.Commit(c.Out); err != nil {
			return err
		}
		c.Out.Committed = true
		return nil
	}}
	// StepNotifyCS marks the outcome for customer service; the commit has
	// written the message, published after it, so customer service hears
	// of the shortage concurrently with the floor moving on.
	StepNotifyCS = ChainStep{"notify customer service (concurrently)", func(c *ShortageCase) error {
		c.Out.NotifyCS = c.Out.NotifyCS && c.Out.Committed
		return nil
	}}
)

func losses(c *ShortageCase, withTxn bool) error {
	for _, l := range c.Out.Lines {
		if l.Short == 0 {
			continue
		}
		p, _ := firstPick(c.Picks, l.SKU)
		c.Out.Losses = append(c.Out.Losses, Loss{SKU: l.SKU, Qty: l.Short, Reason: l.Reason, Bin: p.Bin, Batch: p.Batch, WithTxn: withTxn})
	}
	return nil
}

func firstPick(ps []Pick, sku string) (Pick, bool) {
	for _, p := range ps {
		if p.SKU == sku && p.Picked > 0 {
			return p, true
		}
	}
	return Pick{}, false
}

// chains are the four chains of DOMAIN 7.2 by business type. The commit
// is the same step for all; what it writes is what the steps before it
// decided. (Notify runs after the commit: the notice is the commit's
// message.)
var chains = map[BusinessType][]ChainStep{
	BusinessStandard: {StepVirtualQC, StepCommit},
	StoreLoss:        {StepActualQC, StepLossRecord, StepCommit, StepNotifyCS},
	StoreLossPutAway: {StepActualQC, StepLossRecordWithTxn, StepPutAwayByRule, StepCommit, StepNotifyCS},
	StorePutAway:     {StepActualQC, StepPutAwayRandomBatch, StepCommit, StepNotifyCS},
}

// ChainFor is the chain of a business type.
func ChainFor(t BusinessType) ([]ChainStep, error) {
	c, ok := chains[t]
	if !ok {
		return nil, fmt.Errorf("%w: no partial-outbound chain for business type %q", ErrValidation, t)
	}
	return c, nil
}

// BusinessTypes lists the types that have a chain, sorted.
func BusinessTypes() []BusinessType {
	out := make([]BusinessType, 0, len(chains))
	for t := range chains {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// RunChain runs a business type's chain on c, step by step; a step's error
// stops it (before the commit nothing is written).
func RunChain(t BusinessType, c *ShortageCase) ([]string, error) {
	chain, err := ChainFor(t)
	if err != nil {
		return nil, err
	}
	var ran []string
	for _, s := range chain {
		if err := s.Run(c); err != nil {
			return ran, fmt.Errorf("%s: %w", s.Name, err)
		}
		ran = append(ran, s.Name)
	}
	return ran, nil
}

// PutAwayTask is an RF put-away task: units back into a bin's batch.
type PutAwayTask struct {
	ID          string
	Warehouse   string
	WorkOrderID string
	Bin         string
	SKU         string
	Batch       string
	Qty         int64
	Status      TaskStatus // OPEN, DONE
	Operator    string
}
