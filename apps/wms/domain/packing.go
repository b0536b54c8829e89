package domain

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Weighing: a box's weight is its items' unit weights plus the carton
// (BoxTareG), and a weighed box may differ from that by TolerancePct
// percent, at least MinToleranceG grams (scales and cartons vary).
const (
	BoxTareG      = 150
	TolerancePct  = 5
	MinToleranceG = 50
)

// WeightError is a refused weight: the box, what was expected, what the
// scale read.
type WeightError struct {
	BoxNo     int
	ExpectedG int64
	GotG      int64
	AllowedG  int64
}

func (e *WeightError) Error() string {
	if e.GotG <= 0 {
		return fmt.Sprintf("box %d must be weighed: its courier requires a weight (expected about %d g)", e.BoxNo, e.ExpectedG)
	}
	return fmt.Sprintf("box %d weighs %d g, expected %d g ± %d g: check its contents", e.BoxNo, e.GotG, e.ExpectedG, e.AllowedG)
}

// Box is a parcel a work order is packed into.
type Box struct {
	ID        string
	BoxNo     int
	Lines     []Line // SKU and Qty
	ExpectedG int64
	WeightG   int64 // 0 when not weighed
}

// Tolerance is the weight difference allowed for a box expected to weigh g.
func Tolerance(g int64) int64 { return max(g*TolerancePct/100, MinToleranceG) }

// PlanBoxes checks boxes against a work order ready to pack: every line
// picked and checked at QC, every checked unit in exactly one box, no box
// empty; each box's expected weight from unit weights (weights, by SKU);
// when weigh is true (the courier requires it), every box weighed within
// Tolerance. Boxes are numbered 1..n.
func PlanBoxes(w WorkOrder, boxes [][]Line, weighedG []int64, weights map[string]int64, weigh bool, newID func() string) ([]Box, error) {
	if w.Status != WOPicked {
		return nil, fmt.Errorf("%w: work order %s is %s, not PICKED", ErrState, w.ID, w.Status)
	}
	need := map[string]int64{}
	for _, l := range w.Lines {
		if l.Partial { // a confirmed shortage decided what ships
			if l.Ship > 0 {
				need[l.SKU] += l.Ship
			}
			continue
		}
		if l.QCed < l.Picked || l.Picked < l.Qty {
			return nil, fmt.Errorf("%w: work order %s line %d (%s): %d ordered, %d picked, %d checked at QC",
				ErrState, w.ID, l.LineNo, l.SKU, l.Qty, l.Picked, l.QCed)
		}
		need[l.SKU] += l.QCed
	}
	if len(boxes) == 0 || len(boxes) > 50 {
		return nil, fmt.Errorf("%w: 1..50 boxes are required", ErrValidation)
	}
	if len(weighedG) != 0 && len(weighedG) != len(boxes) {
		return nil, fmt.Errorf("%w: %d weights for %d boxes", ErrValidation, len(weighedG), len(boxes))
	}
	got := map[string]int64{}
	out := make([]Box, len(boxes))
	for i, ls := range boxes {
		if len(ls) == 0 {
			return nil, fmt.Errorf("%w: box %d is empty", ErrValidation, i+1)
		}
		b := Box{ID: newID(), BoxNo: i + 1, ExpectedG: BoxTareG}
		merged := map[string]int64{}
		for _, l := range ls {
			if l.Qty <= 0 {
				return nil, fmt.Errorf("%w: box %d: %s needs a positive qty", ErrValidation, i+1, l.SKU)
			}
			if _, ok := need[l.SKU]; !ok {
				return nil, fmt.Errorf("%w: box %d: %s is not in work order %s", ErrValidation, i+1, l.SKU, w.ID)
			}
			merged[l.SKU] += l.Qty
			got[l.SKU] += l.Qty
			b.ExpectedG += l.Qty * weights[l.SKU]
		}
		for sku, q := range merged {
			b.Lines = append(b.Lines, Line{SKU: sku, Qty: q})
		}
		sort.Slice(b.Lines, func(x, y int) bool { return b.Lines[x].SKU < b.Lines[y].SKU })
		if len(weighedG) > 0 {
			b.WeightG = weighedG[i]
			if b.WeightG < 0 {
				return nil, fmt.Errorf("%w: box %d: weight must not be negative", ErrValidation, i+1)
			}
		}
		if weigh || b.WeightG > 0 {
			tol := Tolerance(b.ExpectedG)
			if d := b.WeightG - b.ExpectedG; b.WeightG <= 0 || d > tol || -d > tol {
				return nil, &WeightError{BoxNo: b.BoxNo, ExpectedG: b.ExpectedG, GotG: b.WeightG, AllowedG: tol}
			}
		}
		out[i] = b
	}
	for sku, q := range need {
		if got[sku] != q {
			return nil, fmt.Errorf("%w: %s: %d checked at QC, %d in boxes", ErrValidation, sku, q, got[sku])
		}
	}
	return out, nil
}

// Parcel tracking states reported by TMS.
const (
	ParcelCollected = "COLLECTED"
	ParcelDelivered = "DELIVERED"
	ParcelRefused   = "REFUSED"
)

// TrackingForward reports whether a parcel may move from tracking state
// from to state to: collection first, then one ending (delivered or
// refused); reports never go back.
func TrackingForward(from, to string) bool {
	switch to {
	case ParcelCollected:
		return from == ""
	case ParcelDelivered, ParcelRefused:
		return from == "" || from == ParcelCollected
	}
	return false
}

// QCResult is where a checked item goes: the work order and its cart slot.
type QCResult struct {
	WorkOrderID string
	Slot        int
	Duplicate   bool
}

// Parcel is a packed box as TMS knows it.
type Parcel struct {
	ParcelID        string
	BoxNo           int
	WorkOrderID     string
	WMSOrderID      string
	DeliveryOrderID string
	OrderID         string
	Carrier         string
	WaybillNo       string
	WeightG         int64
	Tracking        string       // "", COLLECTED, DELIVERED, REFUSED
	Contents        []ParcelLine // what was packed in it, one line per SKU
	Refused         []ParcelLine // REFUSED: the units the customer refused
}

// ParcelLine is units of one SKU in a parcel.
type ParcelLine struct {
	SKU string
	Qty int64
}

// ParcelReport is where TMS has a parcel and, refused, the courier's
// report of the units refused (none: the whole parcel).
type ParcelReport struct {
	State        string
	At           time.Time
	RefusedLines []ParcelLine
}

// RefusedUnits is what a refusal at the door takes back of a parcel
// holding contents: the courier's reported lines, each a SKU the parcel
// holds at most as many units as it holds; no lines, the whole parcel.
func RefusedUnits(contents, reported []ParcelLine) ([]ParcelLine, error) {
	if len(reported) == 0 {
		return slices.Clone(contents), nil
	}
	held := map[string]int64{}
	for _, l := range contents {
		held[l.SKU] += l.Qty
	}
	seen := map[string]bool{}
	for _, l := range reported {
		switch n, ok := held[l.SKU]; {
		case !ok:
			return nil, fmt.Errorf("%w: the parcel holds no %s", ErrValidation, l.SKU)
		case l.Qty < 1 || l.Qty > n:
			return nil, fmt.Errorf("%w: %d of %s refused, the parcel holds %d", ErrValidation, l.Qty, l.SKU, n)
		case seen[l.SKU]:
			return nil, fmt.Errorf("%w: %s refused on two lines", ErrValidation, l.SKU)
		}
		seen[l.SKU] = true
	}
	return slices.Clone(reported), nil
}

// Handover is a batch of parcels one courier collects.
type Handover struct {
	ID        string
	Warehouse string
	Carrier   string
	Parcels   []Parcel
	Duplicate bool
	// As read back: how many parcels, when formed, when TMS took them
	// (zero until imported).
	ParcelCount int
	At          time.Time
	ImportedAt  time.Time
}
