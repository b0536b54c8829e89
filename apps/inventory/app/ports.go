package app

import (
	"errors"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// Types of the ports below, owned here so that the use cases need no
// import of their adapters (store, hotstock); the adapters import these.

// ErrExists is returned by CreateReservation when the order already has a
// reservation row (a concurrent or earlier Reserve): read it and decide.
var ErrExists = errors.New("reservation exists")

// Claim makes a change idempotent for a message consumer (package inbox).
type Claim struct {
	Consumer string
	MsgID    string
}

// Level is the stock of one stock-carrying SKU as MariaDB has it (for a
// hot SKU, the written-back mirror of Redis).
type Level struct {
	Available int64
	OnHand    int64
	Hot       bool
}

// Filter narrows a catalog search; zero fields do not filter.
type Filter struct {
	Query     string
	Zone      domain.Zone
	Category  domain.Category
	Warehouse string
	InStock   bool
	After     string // SKU the page starts after
	First     int
}

// HotOutcome is the hot stock's answer to a reservation of hot lines.
type HotOutcome string

// Outcomes of HotStock.Reserve.
const (
	HotTaken    HotOutcome = "TAKEN"    // units taken now
	HotRepeat   HotOutcome = "REPEAT"   // taken before for the same lines (a retry)
	HotConflict HotOutcome = "CONFLICT" // the order holds other hot lines
	HotShort    HotOutcome = "SHORT"    // SKUs lists the lines without enough units
	HotMissing  HotOutcome = "MISSING"  // SKUs lists counters that must be rebuilt
)

// HotResult is what HotStock.Reserve answers.
type HotResult struct {
	Outcome HotOutcome
	SKUs    []string         // HotShort or HotMissing
	Epochs  map[string]int64 // HotTaken or HotRepeat: the counter epoch per SKU
}
