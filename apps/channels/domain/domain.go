// Package domain holds channels' rules, free of storage and transport:
// where a staged marketplace order stands and why it may be parked, what
// a sales plan is and what it must hold, and which platform statuses an
// order's life produces.
package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
)

// Where a staged order stands.
const (
	StageReceived = "RECEIVED" // stored with its channels.order.received message
	StagePlanned  = "PLANNED"  // its sales plan made
	StageOrdered  = "ORDERED"  // its Harvest order made
	StageParked   = "PARKED"   // unmappable: waits for an operator (reason)
	StageFailed   = "FAILED"   // OMS refused its order (reason); retryable
)

// Plan statuses.
const (
	PlanPlanned = "PLANNED" // stored with its channels.plan.created message
	PlanOrdered = "ORDERED"
	PlanFailed  = "FAILED"
)

// Plan sources.
const (
	SourceMarketplace = "MARKETPLACE"
	SourceStaff       = "STAFF"
)

// Settlement periods (DOMAIN 6.1).
const (
	PeriodMonthly   = "MONTHLY"
	PeriodQuarterly = "QUARTERLY"
	PeriodYearly    = "YEARLY"
)

// ValidPeriod reports whether p is a settlement period.
func ValidPeriod(p string) bool {
	return p == PeriodMonthly || p == PeriodQuarterly || p == PeriodYearly
}

// Reasons a staged order is parked.
const (
	ReasonUnknownMapping = "UNKNOWN_SKU_MAPPING"
	ReasonBadAddress     = "BAD_ADDRESS"
	ReasonBadSlot        = "BAD_SLOT"
	ReasonBadQuantity    = "NON_POSITIVE_QTY"
	ReasonBadPrice       = "NEGATIVE_PRICE"
)

// Errors of the use cases.
var (
	ErrValidation   = errors.New("validation failed")
	ErrNotFound     = errors.New("not found")
	ErrNotRetryable = errors.New("not retryable")
	ErrKeyReused    = errors.New("idempotency key reused with another request")
)

// Parked is why an order cannot become a plan: a reason code, the field
// at fault and a note an operator can act on.
type Parked struct {
	Code  string
	Field string
	Note  string
}

func (p *Parked) Error() string { return fmt.Sprintf("%s at %s: %s", p.Code, p.Field, p.Note) }

// PlanLine is one line of a plan, in Harvest's SKU, at the price agreed
// with the business customer.
type PlanLine struct {
	SKU            string
	Qty            int64
	AgreedPriceFen int64
}

// Plan is a sales plan's content.
type Plan struct {
	CustomerID string
	Source     string
	ProcessID  string // the staged order it came from (marketplace plans)
	Receiver   platforms.Receiver
	SlotType   string
	SlotDate   string
	Period     string
	Lines      []PlanLine
}

// AgreedFen is what the plan's lines come to at the agreed prices.
func (p Plan) AgreedFen() int64 {
	var t int64
	for _, l := range p.Lines {
		t += l.Qty * l.AgreedPriceFen
	}
	return t
}

// CustomerOf is the business customer a platform's orders are settled
// with (DOMAIN 1.1: the platform, not the buyer, is Harvest's customer).
func CustomerOf(platform string) string { return "B-" + platform }

var (
	mobile   = regexp.MustCompile(`^1[3-9]\d{9}$`)
	landline = regexp.MustCompile(`^0\d{2,3}-?\d{7,8}$`)
)

// CheckReceiver says what is wrong with a delivery address, if anything.
func CheckReceiver(r platforms.Receiver) *Parked {
	phone := strings.TrimPrefix(strings.ReplaceAll(r.Phone, " ", ""), "+86")
	for _, f := range []struct{ field, v string }{{"receiver.name", r.Name}, {"receiver.province", r.Province},
		{"receiver.city", r.City}, {"receiver.district", r.District}, {"receiver.detail", r.Detail}} {
		if strings.TrimSpace(f.v) == "" {
			return &Parked{Code: ReasonBadAddress, Field: f.field, Note: f.field + " is empty"}
		}
	}
	if !mobile.MatchString(phone) && !landline.MatchString(phone) {
		return &Parked{Code: ReasonBadAddress, Field: "receiver.phone", Note: fmt.Sprintf("%q is neither a mobile nor a landline number", r.Phone)}
	}
	return nil
}

// CheckSlot says what is wrong with a promised slot, judged on today
// (Asia/Shanghai).
func CheckSlot(typ, date string, today string) *Parked {
	if typ != platforms.SlotExpress && typ != platforms.SlotNextDay {
		return &Parked{Code: ReasonBadSlot, Field: "slot.type", Note: fmt.Sprintf("%q is neither EXPRESS nor NEXT_DAY", typ)}
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return &Parked{Code: ReasonBadSlot, Field: "slot.date", Note: fmt.Sprintf("%q is not a date", date)}
	}
	if date < today {
		return &Parked{Code: ReasonBadSlot, Field: "slot.date", Note: fmt.Sprintf("%s is before today (%s)", date, today)}
	}
	return nil
}

// PlanOf maps a staged order to its sales plan with mapping (platform SKU
// → Harvest SKU), or says precisely why it cannot: the first line without
// a mapping, a bad address, a bad slot or quantity. The plan's agreed
// prices are the platform's (what the platform settles).
func PlanOf(processID string, o platforms.Order, mapping map[string]string, today string) (Plan, *Parked) {
	p := Plan{CustomerID: CustomerOf(o.Platform), Source: SourceMarketplace, ProcessID: processID, Receiver: o.Receiver,
		SlotType: o.SlotType, SlotDate: o.SlotDate, Period: PeriodMonthly}
	for i, l := range o.Lines {
		sku, ok := mapping[l.PlatformSKU]
		if !ok {
			return p, &Parked{Code: ReasonUnknownMapping, Field: fmt.Sprintf("lines[%d].sku", i),
				Note: fmt.Sprintf("%s SKU %s has no Harvest SKU", o.Platform, l.PlatformSKU)}
		}
		if l.Qty <= 0 {
			return p, &Parked{Code: ReasonBadQuantity, Field: fmt.Sprintf("lines[%d].qty", i), Note: fmt.Sprintf("quantity %d", l.Qty)}
		}
		if l.UnitPriceFen < 0 {
			return p, &Parked{Code: ReasonBadPrice, Field: fmt.Sprintf("lines[%d].price", i), Note: fmt.Sprintf("price %d fen", l.UnitPriceFen)}
		}
		p.Lines = append(p.Lines, PlanLine{SKU: sku, Qty: l.Qty, AgreedPriceFen: l.UnitPriceFen})
	}
	if pk := CheckReceiver(o.Receiver); pk != nil {
		return p, pk
	}
	if pk := CheckSlot(o.SlotType, o.SlotDate, today); pk != nil {
		return p, pk
	}
	return p, nil
}

// CheckStaffPlan validates a plan entered by sales staff.
func CheckStaffPlan(p Plan, today string) error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrValidation, field, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(p.CustomerID) == "" || len(p.CustomerID) > 64 {
		return bad("customerId", "required, at most 64 characters")
	}
	if !ValidPeriod(p.Period) {
		return bad("settlementPeriod", "%q is not MONTHLY, QUARTERLY or YEARLY", p.Period)
	}
	if len(p.Lines) == 0 || len(p.Lines) > platforms.MaxLines {
		return bad("lines", "%d lines (1..%d)", len(p.Lines), platforms.MaxLines)
	}
	for i, l := range p.Lines {
		switch {
		case l.SKU == "":
			return bad(fmt.Sprintf("lines[%d].sku", i), "required")
		case l.Qty <= 0:
			return bad(fmt.Sprintf("lines[%d].qty", i), "quantity %d is not positive", l.Qty)
		case l.AgreedPriceFen < 0:
			return bad(fmt.Sprintf("lines[%d].agreedPriceFen", i), "negative")
		}
	}
	if pk := CheckReceiver(p.Receiver); pk != nil {
		return bad(strings.Replace(pk.Field, "receiver", "address", 1), "%s", pk.Note)
	}
	if pk := CheckSlot(p.SlotType, p.SlotDate, today); pk != nil {
		return bad(pk.Field, "%s", pk.Note)
	}
	return nil
}

// PlatformStatusOf is the platform status an OMS order status means (""
// for none the platforms are told of).
func PlatformStatusOf(omsStatus string) string {
	switch omsStatus {
	case "SHIPPED":
		return platforms.StatusShipped
	case "COMPLETED":
		return platforms.StatusDelivered
	case "CANCELLED":
		return platforms.StatusCancelled
	}
	return ""
}

// Step is one step a staged order took.
type Step struct {
	Step string
	Note string
	At   time.Time
}

// Staged is a staged marketplace order and where it stands.
type Staged struct {
	ID         string
	Way        string
	Status     string
	ReasonCode string
	ReasonNote string
	PlanID     string
	OrderID    string
	Attempts   int
	ReceivedAt time.Time
	UpdatedAt  time.Time
	Order      platforms.Order
	Steps      []Step
}

// PlanRecord is a stored sales plan.
type PlanRecord struct {
	Plan
	ID         string
	Status     string
	ReasonCode string
	ReasonNote string
	OrderID    string
	Key        string
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Update is a status owed to a platform.
type Update struct {
	ID              string
	ProcessID       string
	Status          string
	Platform        string
	PlatformOrderID string
	OrderID         string
	Attempts        int
	CreatedAt       time.Time
	SentAt          *time.Time
}

// PeriodOf is the settlement period of kind that holds day (Asia/Shanghai
// dates, end exclusive).
func PeriodOf(kind string, day time.Time) (start, end time.Time) {
	y, m, _ := day.Date()
	switch kind {
	case PeriodQuarterly:
		q := time.Month((int(m)-1)/3*3 + 1)
		start = time.Date(y, q, 1, 0, 0, 0, 0, platforms.Shanghai)
		return start, start.AddDate(0, 3, 0)
	case PeriodYearly:
		start = time.Date(y, 1, 1, 0, 0, 0, 0, platforms.Shanghai)
		return start, start.AddDate(1, 0, 0)
	default:
		start = time.Date(y, m, 1, 0, 0, 0, 0, platforms.Shanghai)
		return start, start.AddDate(0, 1, 0)
	}
}

// Statement is a settlement statement: what a business customer's plans
// came to in a period. A CLOSED one never changes; the OPEN one is the
// current period's, computed when read.
type Statement struct {
	ID           string
	CustomerID   string
	Period       string
	Start, End   time.Time
	Status       string // OPEN or CLOSED
	Plans        int
	DeliveredFen int64
	ReturnedFen  int64
	OwedFen      int64
	ClosedAt     *time.Time
	Lines        []StatementLine
}

// StatementLine is one plan settled.
type StatementLine struct {
	PlanID       string
	OrderID      string
	DeliveredFen int64
	ReturnedFen  int64
}
