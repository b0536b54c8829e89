package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Customer service's forward documents (DOMAIN 4.1, 4.4, 4.5), beside
// the return and rejection documents: each waits AWAITING_AUDIT for a
// CS_SUPERVISOR other than its author, then runs by jobs and pushes.
//
//	REISSUE    missing or bad goods sent again: a new ToB order through
//	           the accept-order API (source REISSUE), fulfilled through
//	           stages 1-16 like any (stage 14 texts the customer)
//	EXCHANGE   a return of the units (the return chain: pickup courier,
//	           the warehouse's notice, sellable stock restored; nothing
//	           refunded), then a new delivery of the same goods (source
//	           EXCHANGE, as a reissue)
//	PULL_BACK  an order whose goods wait for stock at the warehouse is
//	           pulled back (fulfillment paused, the warehouse's work
//	           intercepted) and: NEW_ORDER, a new order made directly in
//	           OMS (the one source that skips the accept-order API) while
//	           the original ends; WAIT_FOR_STOCK, left to wait; CANCEL,
//	           cancelled and refunded by the reverse flow
const (
	KindPullBack Kind = "PULL_BACK"
	KindExchange Kind = "EXCHANGE"
	KindReissue  Kind = "REISSUE"
)

// Pull-back outcomes (DOMAIN 4.1 a-c).
const (
	OutcomeNewOrder = "NEW_ORDER"
	OutcomeWait     = "WAIT_FOR_STOCK"
	OutcomeCancel   = "CANCEL"
)

// StatusCompleted: a forward document did its work: its new order is
// made, or its decision to wait for stock applied. (A pull-back that
// cancels ends REFUNDED, as a cancel.)
const StatusCompleted Status = "COMPLETED"

// Steps of forward documents.
const (
	// StepNewOrderPlaced: the new order (reissue, exchange, pull-back) exists.
	StepNewOrderPlaced Step = "NEW_ORDER_PLACED"
	// StepWaitingForStock: the pull-back leaves the order waiting.
	StepWaitingForStock Step = "WAITING_FOR_STOCK"
)

// Errors of forward documents; the API maps each to its own code.
var (
	// ErrNotShipped: a reissue of an order not shipped yet (nothing was
	// lost or damaged on the way).
	ErrNotShipped = errors.New("order has not shipped")
	// ErrNoShortage: a pull-back of an order none of whose work orders
	// waits for stock at its warehouse (or whose warehouse has not split
	// it yet: nothing to decide on).
	ErrNoShortage = errors.New("no work order of the order waits for stock")
	// ErrPullBackOpen: the order has a pull-back not finished yet.
	ErrPullBackOpen = errors.New("the order has an open pull-back")
	// ErrLockTimeout: the order's pull-back lock was held by another
	// decision for the whole wait; nothing was decided.
	ErrLockTimeout = errors.New("the order's pull-back lock was not acquired in time")
	// ErrAlreadyReissued: a reissue of more units of a line than its
	// order has left to reissue (ordered, less what earlier reissues of
	// the order not rejected or refused send again).
	ErrAlreadyReissued = errors.New("units of the line were reissued already")
)

// CheckReissue refuses a reissue of more units of a line than lines
// ordered, counting the units earlier reissues of the order took
// (reissued by SKU): ErrAlreadyReissued naming the line. A SKU not on the
// order, or more units than it ordered on their own, are ComputeRefund's
// errors (checked first).
func CheckReissue(lines []OrderLine, reissued map[string]int64, want []ReturnLine) error {
	if _, err := ComputeRefund(lines, nil, want); err != nil {
		return err
	}
	for _, w := range want {
		i := slices.IndexFunc(lines, func(l OrderLine) bool { return l.SKU == w.SKU })
		if prev := reissued[w.SKU]; prev+w.Qty > lines[i].Qty {
			return fmt.Errorf("%w: %s: %d asked, %d ordered, %d reissued before", ErrAlreadyReissued, w.SKU, w.Qty, lines[i].Qty, prev)
		}
	}
	return nil
}

// Slot is a delivery slot: EXPRESS or NEXT_DAY on a Shanghai date.
type Slot struct{ Type, Date string }

// Forward is what a forward document carries beside a request's fields.
type Forward struct {
	Outcome    string   // pull-backs
	Address    *Address // a pull-back's new order: another address
	Slot       *Slot    // the new order's slot (nil: OMS's default rule)
	NewOrderID string   // once made
}

// ForwardInput is a forward document as customer service fills it in.
type ForwardInput struct {
	OrderID, CustomerID, IdempotencyKey, Reason string
	Lines                                       []ReturnLine // reissues and exchanges
	Outcome                                     string       // pull-backs
	Address                                     *Address
	Slot                                        *Slot
}

// Hash fingerprints the input of a document of kind.
func (in ForwardInput) Hash(kind Kind) string {
	ls := slices.Clone(in.Lines)
	slices.SortFunc(ls, func(a, b ReturnLine) int { return strings.Compare(a.SKU, b.SKU) })
	parts := []string{string(kind), in.OrderID, in.CustomerID, in.Reason, in.Outcome}
	for _, l := range ls {
		parts = append(parts, l.SKU, strconv.FormatInt(l.Qty, 10))
	}
	if a := in.Address; a != nil {
		parts = append(parts, "address", a.Name, a.Phone, a.Province, a.City, a.District, a.Detail)
	}
	if s := in.Slot; s != nil {
		parts = append(parts, "slot", s.Type, s.Date)
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

var slotDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Validate names every bad field of in as a document of kind.
func (in ForwardInput) Validate(kind Kind) error {
	bad := baseFields(in.OrderID, in.CustomerID, in.IdempotencyKey, in.Reason)
	switch kind {
	case KindReissue, KindExchange:
		if in.Outcome != "" || in.Address != nil {
			bad = append(bad, "only a pull-back has an outcome or another address")
		}
		if len(in.Lines) == 0 || len(in.Lines) > MaxReturnLines {
			bad = append(bad, fmt.Sprintf("lines must hold 1-%d lines", MaxReturnLines))
		}
		seen := map[string]bool{}
		for i, l := range in.Lines {
			switch {
			case strings.TrimSpace(l.SKU) == "" || len(l.SKU) > 64:
				bad = append(bad, fmt.Sprintf("lines[%d].sku must be 1-64 characters", i))
			case seen[l.SKU]:
				bad = append(bad, fmt.Sprintf("lines[%d].sku %s is named twice", i, l.SKU))
			}
			seen[l.SKU] = true
			if l.Qty <= 0 {
				bad = append(bad, fmt.Sprintf("lines[%d].qty must be positive", i))
			}
		}
	case KindPullBack:
		if len(in.Lines) > 0 {
			bad = append(bad, "a pull-back takes the whole order: no lines")
		}
		switch in.Outcome {
		case OutcomeNewOrder:
		case OutcomeWait, OutcomeCancel:
			if in.Address != nil || in.Slot != nil {
				bad = append(bad, "only a pull-back to a new order takes another address or slot")
			}
		default:
			bad = append(bad, fmt.Sprintf("outcome must be %s, %s or %s", OutcomeNewOrder, OutcomeWait, OutcomeCancel))
		}
	default:
		bad = append(bad, fmt.Sprintf("kind %s is not a forward document", kind))
	}
	if a := in.Address; a != nil {
		for name, v := range map[string]string{"name": a.Name, "phone": a.Phone, "province": a.Province, "city": a.City, "district": a.District, "detail": a.Detail} {
			if strings.TrimSpace(v) == "" || len([]rune(v)) > 200 {
				bad = append(bad, "address."+name+" must be 1-200 characters")
			}
		}
	}
	if s := in.Slot; s != nil && (s.Type != "EXPRESS" && s.Type != "NEXT_DAY" || !slotDate.MatchString(s.Date)) {
		bad = append(bad, "slot must be EXPRESS or NEXT_DAY on a YYYY-MM-DD date")
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("%w: %s", ErrValidation, strings.Join(bad, "; "))
	}
	return nil
}

// NewForwardDocument is a forward document of kind made by author,
// awaiting audit. lines are the reissued or exchanged units (nothing is
// refunded for them: their money fields are zero).
func NewForwardDocument(id string, kind Kind, author string, in ForwardInput, lines []LineRefund, now time.Time) (*Request, error) {
	if strings.TrimSpace(author) == "" || len(author) > 64 {
		return nil, fmt.Errorf("%w: author must be 1-64 characters", ErrValidation)
	}
	if err := in.Validate(kind); err != nil {
		return nil, err
	}
	zeroed := make([]LineRefund, 0, len(lines))
	for _, l := range lines {
		zeroed = append(zeroed, LineRefund{SKU: l.SKU, Qty: l.Qty})
	}
	f := &Forward{Outcome: in.Outcome}
	if in.Address != nil {
		a := *in.Address
		f.Address = &a
	}
	if in.Slot != nil {
		s := *in.Slot
		f.Slot = &s
	}
	mode := ""
	if kind == KindExchange {
		mode = ModePickup // the exchanged units come back with a courier
	}
	r := &Request{id: id, orderID: in.OrderID, customerID: in.CustomerID, kind: kind, status: StatusAwaitingAudit,
		reason: strings.TrimSpace(in.Reason), mode: mode, lines: zeroed, key: in.IdempotencyKey, requestHash: in.Hash(kind),
		createdBy: author, forward: f, createdAt: now, updatedAt: now}
	note := author + ": " + r.reason
	if in.Outcome != "" {
		note = author + " (" + in.Outcome + "): " + r.reason
	}
	r.record(now, StepSubmitted, note)
	return r, nil
}

// IsForward reports whether the request is a forward document.
func (r *Request) IsForward() bool {
	return r.kind == KindPullBack || r.kind == KindExchange || r.kind == KindReissue
}

// Forward returns a forward document's own fields (zero for other requests).
func (r *Request) Forward() Forward {
	if r.forward == nil {
		return Forward{}
	}
	return *r.forward
}

// NewOrderPlaced records the document's new order and completes it.
func (r *Request) NewOrderPlaced(at time.Time, newOrderID, note string) error {
	if r.forward == nil || newOrderID == "" {
		return fmt.Errorf("%w: request %s makes no new order", ErrBadTransition, r.id)
	}
	if err := r.move([]Status{StatusAccepted, StatusPaused, StatusReturning}, StatusCompleted); err != nil {
		return err
	}
	r.forward.NewOrderID = newOrderID
	r.record(at, StepNewOrderPlaced, note)
	return nil
}

// WaitsForStock completes a pull-back that leaves its order waiting.
func (r *Request) WaitsForStock(at time.Time, note string) error {
	if r.kind != KindPullBack || r.forward == nil || r.forward.Outcome != OutcomeWait {
		return fmt.Errorf("%w: request %s does not wait for stock", ErrBadTransition, r.id)
	}
	if err := r.move([]Status{StatusAccepted}, StatusCompleted); err != nil {
		return err
	}
	r.record(at, StepWaitingForStock, note)
	return nil
}

// holdsUnits reports whether the request counts its units returned
// while it lives (returns, rejections, exchanges), so a rejected
// document gives them back; a reissue or pull-back holds none.
func (r *Request) holdsUnits() bool { return r.kind != KindReissue && r.kind != KindPullBack }
