package domain

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Area is the part of a warehouse a zone belongs to: pick bins are picked
// from, the reserve area (备货区) backs them.
type Area string

// Areas, in the order allocation looks at them.
const (
	PickArea    Area = "PICK"
	ReserveArea Area = "RESERVE"
)

// ParseArea returns the area named s.
func ParseArea(s string) (Area, error) {
	switch a := Area(s); a {
	case PickArea, ReserveArea:
		return a, nil
	}
	return "", fmt.Errorf("%w: %q is not an area (PICK, RESERVE)", ErrValidation, s)
}

var binCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// ValidCode reports whether s can be a zone, bin or batch code.
func ValidCode(s string) bool { return binCode.MatchString(s) }

// Zone is a storage zone (wms_zone): a temperature zone in one area.
type Zone struct {
	Warehouse string
	Code      string
	Temp      TempZone
	Area      Area
}

// NewZone validates a zone.
func NewZone(warehouse, code, temp, area string) (Zone, error) {
	if !ValidWarehouse(warehouse) || !ValidCode(code) {
		return Zone{}, fmt.Errorf("%w: warehouse %q or zone code %q is not a code", ErrValidation, warehouse, code)
	}
	t, err := ParseZone(temp)
	if err != nil {
		return Zone{}, err
	}
	a, err := ParseArea(area)
	if err != nil {
		return Zone{}, err
	}
	return Zone{Warehouse: warehouse, Code: code, Temp: t, Area: a}, nil
}

// BinStock is one batch of a SKU in one bin (wms_inv), with the area its
// bin's zone is in.
type BinStock struct {
	InvID      int64
	Warehouse  string
	Bin        string
	Area       Area
	Zone       TempZone
	SKU        string
	Batch      string
	Production time.Time
	Expiry     time.Time
	OnHand     int64
	Occupied   int64
}

// Free is what allocation may still occupy.
func (b BinStock) Free() int64 { return b.OnHand - b.Occupied }

// Pick is bin stock a work order holds: qty of one batch in one bin.
type Pick struct {
	PickNo int
	InvID  int64
	Bin    string
	SKU    string
	Batch  string
	Qty    int64
	Picked int64
}

// Shortage is a SKU the pick and reserve areas together cannot cover.
type Shortage struct {
	SKU  string
	Need int64
	Free int64
}

// ShortReason is the operator's (and CS's) reading of shortages.
func ShortReason(s []Shortage) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprintf("%s needs %d, %d free in pick and reserve areas", x.SKU, x.Need, x.Free)
	}
	r := "stock short: " + strings.Join(parts, "; ")
	if len(r) > 512 {
		r = r[:509] + "..."
	}
	return r
}

// SortForAllocation orders candidates the way allocation takes them: pick
// area before reserve, then first-expiring first (fresh food), then the
// oldest row.
func SortForAllocation(c []BinStock) {
	sort.SliceStable(c, func(i, j int) bool {
		a, b := c[i], c[j]
		if a.Area != b.Area {
			return a.Area == PickArea
		}
		if !a.Expiry.Equal(b.Expiry) {
			return a.Expiry.Before(b.Expiry)
		}
		return a.InvID < b.InvID
	})
}

// Allocate plans a work order's picks from candidates (DOMAIN 7.1 step
// 3): for each line, pick-area bins first, then the reserve area, each
// first-expiring first, taking free stock until the line is covered. A
// line of a SKU whose candidates cannot cover it all is a shortage; with
// any shortage no picks are planned (all lines or none). Lines of the same
// SKU draw on the same candidates; candidates must be of w's warehouse.
func Allocate(w WorkOrder, candidates []BinStock) ([]Pick, []Shortage) {
	bySKU := map[string][]BinStock{}
	for _, c := range candidates {
		bySKU[c.SKU] = append(bySKU[c.SKU], c)
	}
	for _, cs := range bySKU {
		SortForAllocation(cs)
	}
	need := map[string]int64{}
	var order []string
	for _, l := range w.Lines {
		if _, ok := need[l.SKU]; !ok {
			order = append(order, l.SKU)
		}
		need[l.SKU] += l.Qty
	}
	sort.Strings(order)
	var picks []Pick
	var short []Shortage
	for _, sku := range order {
		left, free := need[sku], int64(0)
		for _, c := range bySKU[sku] {
			free += max(c.Free(), 0)
		}
		if free < left {
			short = append(short, Shortage{SKU: sku, Need: left, Free: free})
			continue
		}
		for _, c := range bySKU[sku] {
			if left == 0 {
				break
			}
			take := min(c.Free(), left)
			if take <= 0 {
				continue
			}
			picks = append(picks, Pick{PickNo: len(picks) + 1, InvID: c.InvID, Bin: c.Bin, SKU: sku, Batch: c.Batch, Qty: take})
			left -= take
		}
	}
	if len(short) > 0 {
		return nil, short
	}
	return picks, nil
}

// Receipt is goods received against a purchase order (DOMAIN 7.3): one
// batch of one SKU, put away into a bin at once, or (Bin "") received at
// the dock and put away into bins after (PutAway).
type Receipt struct {
	ID             string
	Warehouse      string
	IdempotencyKey string
	PurchaseOrder  string
	Bin            string
	SKU            string
	Batch          string
	Production     time.Time
	Expiry         time.Time
	Qty            int64
	Operator       string
	At             time.Time // when it was recorded (as read back)
	// PutAway is how much of it is in bins (as read back): all of a
	// receipt into a bin, what put-aways moved of one at the dock.
	PutAway int64
}

// AtDock is what of the receipt waits at the dock to be put away.
func (r Receipt) AtDock() int64 { return r.Qty - r.PutAway }

// Validate checks a receipt before it moves stock.
func (r Receipt) Validate() error {
	switch {
	case !ValidWarehouse(r.Warehouse):
		return fmt.Errorf("%w: warehouse %q is not a warehouse code", ErrValidation, r.Warehouse)
	case r.IdempotencyKey == "" || len(r.IdempotencyKey) > 64:
		return fmt.Errorf("%w: idempotency key is required (at most 64 bytes)", ErrValidation)
	case r.PurchaseOrder == "" || len(r.PurchaseOrder) > 64:
		return fmt.Errorf("%w: purchase order is required (at most 64 bytes)", ErrValidation)
	case r.Bin != "" && !ValidCode(r.Bin): // no bin: received at the dock
		return fmt.Errorf("%w: bin %q is not a bin code", ErrValidation, r.Bin)
	case r.SKU == "" || len(r.SKU) > 64:
		return fmt.Errorf("%w: sku is required (at most 64 bytes)", ErrValidation)
	case !ValidCode(r.Batch):
		return fmt.Errorf("%w: batch %q is not a batch code", ErrValidation, r.Batch)
	case r.Qty <= 0 || r.Qty > 1_000_000_000:
		return fmt.Errorf("%w: qty must be positive", ErrValidation)
	case r.Production.IsZero() || r.Expiry.IsZero():
		return fmt.Errorf("%w: production and expiry dates are required", ErrValidation)
	case !r.Expiry.After(r.Production):
		return fmt.Errorf("%w: expiry %s is not after production %s", ErrValidation,
			r.Expiry.Format(time.DateOnly), r.Production.Format(time.DateOnly))
	case r.Operator == "" || len(r.Operator) > 64:
		return fmt.Errorf("%w: operator is required (at most 64 bytes)", ErrValidation)
	}
	return nil
}

// Hash identifies a receipt's content, to tell a retry from a reuse of its key.
func (r Receipt) Hash() string {
	return RequestHash(struct {
		P, B, S, Bt string
		Pr, E       string
		Q           int64
	}{r.PurchaseOrder, r.Bin, r.SKU, r.Batch, r.Production.Format(time.DateOnly), r.Expiry.Format(time.DateOnly), r.Qty})
}

// Movement is one stock movement (inv_tran): a signed change of a batch's
// on-hand stock in a bin, with what caused it.
type Movement struct {
	ID        string
	Warehouse string
	Bin       string
	SKU       string
	Batch     string
	Kind      string // RECEIPT, PICK
	Qty       int64
	Ref       string // the receipt or work order
	At        time.Time
	Uploaded  bool // sent to ERP
}

// Receiving against a purchase order (DOMAIN 7.3): ERP says what a
// supplier is to deliver; a receipt must name a purchase order ERP has,
// of the receiving warehouse, with a line of the SKU, and may not take the
// line's receipts above its quantity.
var (
	ErrUnknownPO   = errors.New("no such purchase order at ERP")
	ErrPOElsewhere = errors.New("purchase order is for another warehouse")
	ErrNotOnPO     = errors.New("SKU is not on the purchase order")
	ErrOverReceipt = errors.New("receipt above the purchase order's quantity")
)

// PurchaseOrder is ERP's purchase order as receiving reads it.
type PurchaseOrder struct {
	ID, Warehouse, Supplier string
	Lines                   map[string]int64 // SKU → ordered
}

// Admit checks that r may be received against p and returns the ordered
// quantity of r's SKU.
func (p PurchaseOrder) Admit(r Receipt) (int64, error) {
	if p.Warehouse != r.Warehouse {
		return 0, fmt.Errorf("%w: %s is for %s", ErrPOElsewhere, p.ID, p.Warehouse)
	}
	q, ok := p.Lines[r.SKU]
	if !ok {
		return 0, fmt.Errorf("%w: %s is not on %s", ErrNotOnPO, r.SKU, p.ID)
	}
	if r.Qty > q {
		return 0, &OverReceiptError{PO: p.ID, SKU: r.SKU, Ordered: q, Qty: r.Qty}
	}
	return q, nil
}

// OverReceiptError says a receipt would take a purchase order line's
// receipts above its ordered quantity.
type OverReceiptError struct {
	PO, SKU                string
	Ordered, Received, Qty int64
}

func (e *OverReceiptError) Error() string {
	return fmt.Sprintf("%s of %s: %d ordered, %d received, %d more is %d too many", e.SKU, e.PO, e.Ordered, e.Received, e.Qty,
		e.Received+e.Qty-e.Ordered)
}

func (e *OverReceiptError) Unwrap() error { return ErrOverReceipt }

// POLine is what WMS received of one purchase order line.
type POLine struct {
	SKU               string
	Ordered, Received int64
}

// StockFilter narrows a bin-stock listing: one SKU, bin or batch, and
// batches expiring before a day (fresh food first to go); zero values
// select all.
type StockFilter struct {
	SKU, Bin, Batch string
	ExpiringBefore  time.Time
}

// ReceiptPutAway moves part of a receipt waiting at the dock into a bin.
type ReceiptPutAway struct {
	ID, ReceiptID, Warehouse, IdempotencyKey, Bin, Operator string
	Qty                                                     int64
}

// Validate checks a put-away before it moves stock.
func (p ReceiptPutAway) Validate() error {
	switch {
	case p.ReceiptID == "" || len(p.ReceiptID) > 64:
		return fmt.Errorf("%w: receipt id is required", ErrValidation)
	case p.IdempotencyKey == "" || len(p.IdempotencyKey) > 64:
		return fmt.Errorf("%w: idempotency key is required (at most 64 bytes)", ErrValidation)
	case !ValidCode(p.Bin):
		return fmt.Errorf("%w: bin %q is not a bin code", ErrValidation, p.Bin)
	case p.Qty <= 0 || p.Qty > 1_000_000_000:
		return fmt.Errorf("%w: qty must be positive", ErrValidation)
	case p.Operator == "" || len(p.Operator) > 64:
		return fmt.Errorf("%w: operator is required (at most 64 bytes)", ErrValidation)
	}
	return nil
}

// Hash identifies a put-away's content, to tell a retry from a reuse of its key.
func (p ReceiptPutAway) Hash() string {
	return RequestHash(struct {
		R, B string
		Q    int64
	}{p.ReceiptID, p.Bin, p.Qty})
}
