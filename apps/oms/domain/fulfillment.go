package domain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Kinds of fulfillment lines.
const (
	KindOrdered   = "ORDERED"   // a line the customer bought
	KindGift      = "GIFT"      // a goods gift added by stage 3, at zero price
	KindComponent = "COMPONENT" // a component SKU of a virtual bundle (stage 4)
)

// ErrAllocation: order-level amounts cannot be spread over the lines
// without a negative line or a sum that differs from the header.
var ErrAllocation = errors.New("amounts cannot be allocated over the lines")

// FLine is an order line as fulfillment works on it: the customer's line
// after gifts, bundle expansion, catalog data and allocation.
type FLine struct {
	SKU       string    `json:"sku,omitempty"`
	Name      string    `json:"name,omitempty"`
	Qty       int64     `json:"qty,omitempty"`
	UnitPrice money.Fen `json:"unitPrice,omitempty"`
	Amount    money.Fen `json:"amount,omitempty"` // goods amount of the line (0 for gifts)
	Kind      string    `json:"kind,omitempty"`
	Bundle    string    `json:"bundle,omitempty"`   // the bundle SKU a component came from
	Campaign  string    `json:"campaign,omitempty"` // the campaign that granted a gift
	TaxRateBP int64     `json:"taxRateBp,omitempty"`
	Zone      string    `json:"zone,omitempty"`
	Warehouse string    `json:"warehouse,omitempty"`
	Supplier  string    `json:"supplier,omitempty"`
	DropShip  bool      `json:"dropShip,omitempty"`
	Presale   bool      `json:"presale,omitempty"`
	// DeliveryDate is the promised date of this line (YYYY-MM-DD).
	DeliveryDate string `json:"deliveryDate,omitempty"`
	// Allocation (stage 5): the line's share of the freight and of the
	// non-cash part; Cash = Amount + Freight - NonCash.
	Freight money.Fen `json:"freight,omitempty"`
	NonCash money.Fen `json:"nonCash,omitempty"`
	Cash    money.Fen `json:"cash,omitempty"`
}

// Payable is what the line costs the customer: goods plus its freight share.
func (l FLine) Payable() money.Fen { return l.Amount + l.Freight }

// Header is an order's amounts as fulfillment checks them.
type Header struct {
	Source  Source
	Goods   money.Fen
	Freight money.Fen
	Total   money.Fen
	NonCash money.Fen
	CashDue money.Fen
	Paid    money.Fen
}

// CheckAmounts is the exception check of DOMAIN 1.6 stage 2: every line is
// qty × unit price, the lines sum to the goods, goods and freight to the
// total, non-cash and cash to the total (ToB orders are settled with the
// partner: neither), and the cash received is the cash due.
func CheckAmounts(h Header, lines []FLine) []Violation {
	var vs violations
	var sum money.Fen
	for i, l := range lines {
		if l.Qty <= 0 {
			vs.add(fmt.Sprintf("lines[%d].qty", i), "NON_POSITIVE_QTY", "quantity %d", l.Qty)
		}
		if l.UnitPrice < 0 || l.Amount < 0 {
			vs.add(fmt.Sprintf("lines[%d].amount", i), "NEGATIVE_AMOUNT", "negative amount on %s", l.SKU)
		}
		if l.Amount != l.UnitPrice*money.Fen(l.Qty) {
			vs.add(fmt.Sprintf("lines[%d].amount", i), "LINE_MISMATCH", "%s: %d × %s is not %s", l.SKU, l.Qty, l.UnitPrice, l.Amount)
		}
		sum += l.Amount
	}
	if len(lines) == 0 {
		vs.add("lines", "REQUIRED", "no lines")
	}
	if sum != h.Goods {
		vs.add("goods", "GOODS_MISMATCH", "lines sum to %s, header says %s", sum, h.Goods)
	}
	if h.Freight < 0 || h.NonCash < 0 || h.CashDue < 0 || h.Paid < 0 {
		vs.add("amounts", "NEGATIVE_AMOUNT", "a header amount is negative")
	}
	if h.Goods+h.Freight != h.Total {
		vs.add("total", "TOTAL_MISMATCH", "goods %s + freight %s is not the total %s", h.Goods, h.Freight, h.Total)
	}
	if SettledWithPartner(h.Source, h.NonCash, h.CashDue, h.Paid) {
		if h.NonCash != 0 || h.CashDue != 0 || h.Paid != 0 {
			vs.add("payment", "TOB_PAID", "a %s order is settled with the partner and carries no payment", h.Source)
		}
	} else {
		if h.NonCash+h.CashDue != h.Total {
			vs.add("payment", "PAYMENT_MISMATCH", "non-cash %s + cash %s is not the total %s", h.NonCash, h.CashDue, h.Total)
		}
		if h.Paid != h.CashDue {
			vs.add("paid", "CASH_MISMATCH", "paid %s, cash due %s", h.Paid, h.CashDue)
		}
	}
	return vs
}

// CheckDelivery is the address half of stage 2: the address is complete
// and the phone is a phone number. Whether a warehouse delivers there is
// CheckServed, on inventory's answer.
func CheckDelivery(a Address) []Violation {
	var vs violations
	p := Placement{Address: a}
	p.checkAddress(&vs)
	return vs
}

// ComponentPrice is one component of a bundle with its catalog price.
type ComponentPrice struct {
	SKU       string
	Name      string
	Qty       int64 // per bundle
	UnitPrice money.Fen
}

// ExpandBundle replaces a virtual bundle line by its component SKUs. The
// bundle's amount is split over the components in proportion to their
// catalog value (price × quantity) with the remainder rule, so the
// components sum exactly to what the customer paid for the bundle.
func ExpandBundle(bundle FLine, comps []ComponentPrice) ([]FLine, error) {
	if len(comps) == 0 {
		return nil, fmt.Errorf("bundle %s has no components", bundle.SKU)
	}
	weights := make([]int64, len(comps))
	for i, c := range comps {
		if c.Qty <= 0 || c.UnitPrice < 0 {
			return nil, fmt.Errorf("bundle %s: component %s has quantity %d, price %s", bundle.SKU, c.SKU, c.Qty, c.UnitPrice)
		}
		weights[i] = int64(c.UnitPrice) * c.Qty
	}
	shares, err := money.Allocate(bundle.Amount, weights)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle.SKU, err)
	}
	out := make([]FLine, len(comps))
	for i, c := range comps {
		qty := c.Qty * bundle.Qty
		out[i] = FLine{SKU: c.SKU, Name: c.Name, Qty: qty, Amount: shares[i], Kind: KindComponent, Bundle: bundle.SKU,
			DeliveryDate: bundle.DeliveryDate}
		// The unit price is what the customer paid per unit; the amount
		// is exact, the unit price the rounded-down average.
		out[i].UnitPrice = shares[i] / money.Fen(qty)
	}
	return out, nil
}

// Allocate spreads the order-level amounts over the lines (stage 5): the
// freight in proportion to the goods amounts, then the non-cash part (which
// holds the coupons and deductions PAY took) in proportion to what each
// line costs with its freight; each line's cash is the rest. Every split
// uses money.Allocate, so the lines sum exactly to the header, and no line
// goes negative because no line gets more non-cash than it costs.
func Allocate(lines []FLine, freight, nonCash money.Fen) ([]FLine, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: no lines", ErrAllocation)
	}
	out := slices.Clone(lines)
	w := make([]int64, len(out))
	var goods money.Fen
	for i, l := range out {
		if l.Amount < 0 {
			return nil, fmt.Errorf("%w: line %s is negative", ErrAllocation, l.SKU)
		}
		w[i] = int64(l.Amount)
		goods += l.Amount
	}
	if nonCash > goods+freight {
		return nil, fmt.Errorf("%w: non-cash %s exceeds goods %s + freight %s", ErrAllocation, nonCash, goods, freight)
	}
	fr, err := money.Allocate(freight, w)
	if err != nil {
		return nil, fmt.Errorf("%w: freight: %v", ErrAllocation, err)
	}
	for i := range out {
		out[i].Freight = fr[i]
		w[i] = int64(out[i].Payable())
	}
	nc, err := money.Allocate(nonCash, w)
	if err != nil {
		return nil, fmt.Errorf("%w: non-cash: %v", ErrAllocation, err)
	}
	for i := range out {
		out[i].NonCash = nc[i]
		out[i].Cash = out[i].Payable() - nc[i]
		if out[i].Cash < 0 {
			return nil, fmt.Errorf("%w: line %s would be negative", ErrAllocation, out[i].SKU)
		}
	}
	return out, nil
}

// Delivery is one delivery (child) order of a split: the lines one
// warehouse ships on one date, or one drop-ship supplier ships.
type Delivery struct {
	Seq          int
	Warehouse    string
	Supplier     string // drop-ship only
	DropShip     bool
	DeliveryDate string
	Lines        []FLine
}

// Split groups the lines into delivery orders (stage 7) by warehouse,
// delivery date and, for drop-ship lines (产地直发), supplier: each group
// is shipped by one party on one day. Deliveries come in a stable order
// (warehouse ones first, then by key) numbered from 1, so a re-run of the
// stage makes the same children with the same ids.
func Split(lines []FLine) []Delivery {
	type key struct {
		dropShip    bool
		party, date string
	}
	groups := map[key]*Delivery{}
	var keys []key
	for _, l := range lines {
		k := key{dropShip: l.DropShip, date: l.DeliveryDate}
		if l.DropShip {
			k.party = l.Supplier
		} else {
			k.party = l.Warehouse
		}
		d, ok := groups[k]
		if !ok {
			d = &Delivery{DropShip: l.DropShip, DeliveryDate: l.DeliveryDate}
			if l.DropShip {
				d.Supplier = l.Supplier
				d.Warehouse = l.Warehouse
			} else {
				d.Warehouse = l.Warehouse
			}
			groups[k] = d
			keys = append(keys, k)
		}
		d.Lines = append(d.Lines, l)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.dropShip != b.dropShip {
			if a.dropShip {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.party, b.party), cmp.Compare(a.date, b.date))
	})
	out := make([]Delivery, len(keys))
	for i, k := range keys {
		out[i] = *groups[k]
		out[i].Seq = i + 1
	}
	return out
}

// NextDayCutoff is the Shanghai hour on the day before delivery at which a
// next-day order goes to the warehouse (picked overnight, delivered next day).
const NextDayCutoff = 18

// EffectiveAt is when an order may go to the warehouse (stage 10): express
// orders at once (now), next-day orders at 18:00 Shanghai on the day
// before their delivery date, or now when that has passed.
func EffectiveAt(s Slot, now time.Time) (time.Time, error) {
	switch s.Type {
	case SlotExpress:
		return now, nil
	case SlotNextDay:
		d, err := time.ParseInLocation("2006-01-02", s.Date, Shanghai)
		if err != nil {
			return time.Time{}, fmt.Errorf("slot date %q: %w", s.Date, err)
		}
		at := d.AddDate(0, 0, -1).Add(NextDayCutoff * time.Hour).UTC()
		if at.Before(now) {
			return now, nil
		}
		return at, nil
	}
	return time.Time{}, fmt.Errorf("slot type %q is not EXPRESS or NEXT_DAY", s.Type)
}

// ShanghaiDay is the Shanghai calendar day of t (YYYY-MM-DD), the day a
// warehouse's capacity counts against.
func ShanghaiDay(t time.Time) string { return t.In(Shanghai).Format("2006-01-02") }

// NextShanghaiMidnight is 00:00 Shanghai of the day after t's, when a full
// warehouse has capacity again.
func NextShanghaiMidnight(t time.Time) time.Time {
	l := t.In(Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, Shanghai).UTC()
}
