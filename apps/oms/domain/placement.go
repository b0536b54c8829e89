package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harvest/harvest/apps/platform/money"
)

// Limits of an accept-order call.
const (
	MaxLines       = 100    // lines per order
	MaxQty         = 9999   // units per line
	MaxSlotDays    = 30     // how far ahead a delivery may be promised
	MaxDeductions  = 10     // non-cash deductions per order
	MaxCoupons     = 10     // coupons per order
	maxTextLen     = 200    // names, address detail, invoice title
	maxIDLen       = 64     // customer, SKU, deduction, coupon ids
	maxChannelLen  = 32     // payment channel hint
	maxFreightFen  = 100000 // 1000 yuan: anything above is a mistake, not freight
	minPhoneDigits = 7
	maxPhoneDigits = 15
)

// Shanghai is the zone delivery dates are promised in. China keeps no
// daylight saving, so a fixed offset is exact and needs no tzdata.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// Slot types.
const (
	SlotExpress = "EXPRESS"  // 极速达: delivered the same day
	SlotNextDay = "NEXT_DAY" // 次日达: delivered from the next day on
)

// Violation names one offending field of a placement.
type Violation struct {
	Field   string // lines[2].qty, address.phone, slot.date
	Code    string // UNKNOWN_SKU, NON_POSITIVE_QTY, PRICE_MISMATCH, SLOT_IN_PAST, ...
	Message string
}

// ValidationError carries every violation of a placement at once, so a
// caller can fix them all in one round.
type ValidationError struct{ Violations []Violation }

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		parts = append(parts, v.Field+" "+v.Code)
	}
	return "order is invalid: " + strings.Join(parts, ", ")
}

// Is makes errors.Is(err, ErrInvalidOrder) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidOrder }

// Address is a delivery address.
type Address struct {
	Name, Phone, Province, City, District, Detail string
}

// Slot is the promised delivery slot: a type and a date in Shanghai.
type Slot struct {
	Type string
	Date string // YYYY-MM-DD
}

// LineInput is one line as the customer asks for it.
type LineInput struct {
	SKU       string
	Qty       int64
	UnitPrice money.Fen
}

// Product is what the catalog says about a SKU at placement.
type Product struct {
	SKU   string
	Name  string
	Price money.Fen
}

// Placement is an accept-order call's business content (DOMAIN 1.2).
type Placement struct {
	CustomerID    string
	Source        string
	Channel       string
	Lines         []LineInput
	Address       Address
	Slot          Slot
	DeductionIDs  []string
	CouponIDs     []string
	Freight       money.Fen
	InvoiceTitle  string
	OriginalOrder string
}

type violations []Violation

func (vs *violations) add(field, code, format string, args ...any) {
	*vs = append(*vs, Violation{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Check applies every rule that needs neither the catalog nor PAY, so a bad
// call fails before any remote call is made.
func (p Placement) Check(now time.Time) []Violation {
	var vs violations
	if strings.TrimSpace(p.CustomerID) == "" {
		vs.add("customer_id", "REQUIRED", "customer is required")
	} else if len(p.CustomerID) > maxIDLen {
		vs.add("customer_id", "TOO_LONG", "customer id longer than %d", maxIDLen)
	}
	src, err := ParseSource(p.Source)
	if err != nil {
		vs.add("source", "UNKNOWN_SOURCE", "source %q is not one of APP, WEB, MINI_PROGRAM, GIFT_EXCHANGE, SALES_PLAN, THIRD_PARTY, REISSUE, EXCHANGE", p.Source)
	}
	if len(p.Channel) > maxChannelLen {
		vs.add("channel", "TOO_LONG", "channel longer than %d", maxChannelLen)
	}
	p.checkLines(&vs)
	p.checkAddress(&vs)
	checkSlot(p.Slot, now, &vs)
	if p.Freight < 0 {
		vs.add("freight_fen", "NEGATIVE_AMOUNT", "freight must not be negative")
	} else if p.Freight > maxFreightFen {
		vs.add("freight_fen", "TOO_LARGE", "freight above %s yuan", money.Fen(maxFreightFen))
	}
	checkIDs("deduction_ids", p.DeductionIDs, MaxDeductions, &vs)
	checkIDs("coupon_ids", p.CouponIDs, MaxCoupons, &vs)
	if err == nil {
		if len(p.DeductionIDs) > 0 && !src.NonCashAllowed() {
			vs.add("deduction_ids", "NOT_ALLOWED_FOR_SOURCE", "%s orders are settled with the partner and carry no non-cash deductions", src)
		}
		if src == SourceGiftExchange && len(p.DeductionIDs) == 0 {
			vs.add("deduction_ids", "REQUIRED", "a gift exchange is paid by its redeemed code: a non-cash deduction is required")
		}
		if src.NeedsOriginalOrder() && strings.TrimSpace(p.OriginalOrder) == "" {
			vs.add("original_order", "REQUIRED", "a %s order must name the order it replaces", src)
		}
	}
	if utf8.RuneCountInString(p.InvoiceTitle) > maxTextLen {
		vs.add("invoice_title", "TOO_LONG", "invoice title longer than %d characters", maxTextLen)
	}
	if len(p.OriginalOrder) > maxIDLen {
		vs.add("original_order", "TOO_LONG", "original order id longer than %d", maxIDLen)
	}
	return vs
}

func (p Placement) checkLines(vs *violations) {
	if len(p.Lines) == 0 {
		vs.add("lines", "REQUIRED", "an order needs at least one line")
		return
	}
	if len(p.Lines) > MaxLines {
		vs.add("lines", "TOO_MANY_LINES", "%d lines, at most %d", len(p.Lines), MaxLines)
		return
	}
	first := make(map[string]int, len(p.Lines))
	for i, l := range p.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		switch {
		case strings.TrimSpace(l.SKU) == "":
			vs.add(f+".sku", "REQUIRED", "SKU is required")
		case len(l.SKU) > maxIDLen:
			vs.add(f+".sku", "TOO_LONG", "SKU longer than %d", maxIDLen)
		default:
			if j, dup := first[l.SKU]; dup {
				vs.add(f+".sku", "DUPLICATE_SKU", "SKU %s already on lines[%d]; put the whole quantity on one line", l.SKU, j)
			} else {
				first[l.SKU] = i
			}
		}
		if l.Qty <= 0 {
			vs.add(f+".qty", "NON_POSITIVE_QTY", "quantity %d must be at least 1", l.Qty)
		} else if l.Qty > MaxQty {
			vs.add(f+".qty", "QTY_TOO_LARGE", "quantity %d above %d", l.Qty, MaxQty)
		}
		if l.UnitPrice < 0 {
			vs.add(f+".unit_price_fen", "NEGATIVE_AMOUNT", "unit price must not be negative")
		}
	}
}

func (p Placement) checkAddress(vs *violations) {
	a := p.Address
	for _, f := range []struct{ name, v string }{
		{"address.name", a.Name}, {"address.province", a.Province}, {"address.city", a.City},
		{"address.district", a.District}, {"address.detail", a.Detail},
	} {
		switch {
		case strings.TrimSpace(f.v) == "":
			vs.add(f.name, "REQUIRED", "%s is required", f.name)
		case utf8.RuneCountInString(f.v) > maxTextLen:
			vs.add(f.name, "TOO_LONG", "%s longer than %d characters", f.name, maxTextLen)
		}
	}
	if strings.TrimSpace(a.Phone) == "" {
		vs.add("address.phone", "REQUIRED", "address.phone is required")
	} else if !validPhone(a.Phone) {
		vs.add("address.phone", "INVALID_PHONE", "phone %q is not a phone number", a.Phone)
	}
}

// validPhone accepts mainland mobiles (1 and ten digits) and landlines with
// an area code, optionally with +86, spaces or dashes.
func validPhone(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+86")
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' || r == ' ':
		default:
			return false
		}
	}
	return digits >= minPhoneDigits && digits <= maxPhoneDigits
}

func checkSlot(s Slot, now time.Time, vs *violations) {
	if s.Type != SlotExpress && s.Type != SlotNextDay {
		vs.add("slot.type", "UNKNOWN_SLOT_TYPE", "slot type %q is not EXPRESS or NEXT_DAY", s.Type)
	}
	d, err := time.ParseInLocation("2006-01-02", s.Date, Shanghai)
	if err != nil {
		vs.add("slot.date", "INVALID_DATE", "slot date %q is not YYYY-MM-DD", s.Date)
		return
	}
	local := now.In(Shanghai)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, Shanghai)
	switch {
	case d.Before(today):
		vs.add("slot.date", "SLOT_IN_PAST", "slot date %s is before today (%s)", s.Date, today.Format("2006-01-02"))
	case s.Type == SlotNextDay && !d.After(today):
		vs.add("slot.date", "SLOT_IN_PAST", "next-day delivery cannot be promised for today (%s)", s.Date)
	case d.After(today.AddDate(0, 0, MaxSlotDays)):
		vs.add("slot.date", "SLOT_TOO_FAR", "slot date %s is more than %d days ahead", s.Date, MaxSlotDays)
	}
}

func checkIDs(field string, list []string, max int, vs *violations) {
	if len(list) > max {
		vs.add(field, "TOO_MANY", "%d entries, at most %d", len(list), max)
		return
	}
	seen := make(map[string]int, len(list))
	for i, id := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case strings.TrimSpace(id) == "":
			vs.add(f, "REQUIRED", "empty id")
		case len(id) > maxIDLen:
			vs.add(f, "TOO_LONG", "id longer than %d", maxIDLen)
		default:
			if j, dup := seen[id]; dup {
				vs.add(f, "DUPLICATE", "%s already at %s[%d]", id, field, j)
			}
			seen[id] = i
		}
	}
}
