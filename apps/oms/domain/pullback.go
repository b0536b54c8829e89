package domain

import (
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// ReasonPulledBack: customer service pulled the order back and made a new
// order from it (DOMAIN 4.1a). The order ends without a refund and
// without giving its stock back: the new order carries both over.
const ReasonPulledBack CancelReason = "PULLED_BACK"

// EventPulledBack ends an order replaced by a pull-back's new order.
const EventPulledBack EventType = "PULLED_BACK"

// EventMadeFrom starts a pull-back's new order: it names the order it replaces.
const EventMadeFrom EventType = "MADE_FROM"

// EndForPullBack ends a paid order a pull-back replaces, once its
// fulfillment is paused: PAID or FULFILLING, or DISPATCHED when every
// delivery order that reached a warehouse was intercepted there
// (intercepted), as CancelForReverse. It is CANCELLED with reason
// PULLED_BACK; no oms.order.cancelled follows (PAY keeps the payment and
// inventory the stock for the new order). A repeat answers
// ErrAlreadyCancelled.
func (o *Order) EndForPullBack(at time.Time, note string, intercepted bool) error {
	switch {
	case o.status == StatusCancelled && o.cancelReason == ReasonPulledBack:
		return ErrAlreadyCancelled
	case o.status == StatusPaid, o.status == StatusFulfilling, o.status == StatusDispatched && intercepted:
	default:
		return fmt.Errorf("%w: order %s is %s", ErrNotCancellable, o.id, o.status)
	}
	if err := CheckCancelNote(note); err != nil {
		return err
	}
	o.cancel(ReasonPulledBack, EventPulledBack, at, note)
	return nil
}

// PullBackChange is what a pull-back's new order changes of the order it
// replaces: another address, another delivery slot (nil keeps the old).
type PullBackChange struct {
	Address *Address
	Slot    *Slot
}

// NewPullBackOrder is the order made from orig by a pull-back (source
// PULL_BACK, the one made directly, never through the accept-order API):
// orig's customer, lines at the prices sold and freight, with change's
// address and slot; PAID at creation with orig's payment carried over:
// its non-cash deductions and coupons, its cash and the trade that paid
// it (TradeID names orig's trade). Why carry the trade rather than let
// PAY or after-sales follow OriginalOrder: OMS is who says which trade
// paid an order (PAY asks it before refunding a cancel, after-sales reads
// the trade from the order's allocation), so every reader of the new
// order, a pull-back of a pull-back included, finds the money in one
// read, and the trade's own conditional update keeps refunds of both
// orders together within what it took. Every rule of a placement applies
// (a slot in the past, a bad address: *ValidationError).
func NewPullBackOrder(id string, orig *Order, change PullBackChange, now time.Time) (*Order, error) {
	p := Placement{CustomerID: orig.customerID, Source: string(SourcePullBack), Channel: orig.channel, Address: orig.address,
		Slot: orig.slot, Freight: orig.freight, InvoiceTitle: orig.invoiceTitle, OriginalOrder: orig.id,
		DeductionIDs: orig.deductionIDs, CouponIDs: orig.couponIDs}
	if change.Address != nil {
		p.Address = *change.Address
	}
	if change.Slot != nil {
		p.Slot = *change.Slot
	}
	catalog := map[string]Product{}
	for _, l := range orig.lines {
		p.Lines = append(p.Lines, LineInput{SKU: l.SKU, Qty: l.Qty, UnitPrice: l.UnitPrice})
		catalog[l.SKU] = Product{SKU: l.SKU, Name: l.Name, Price: l.UnitPrice}
	}
	o, err := NewOrder(id, p, catalog, orig.nonCash, now, 0)
	if err != nil {
		return nil, err
	}
	o.stockOrder = orig.StockOrder()
	o.record(now, EventMadeFrom, "pulled back from "+orig.id)
	switch {
	case o.status == StatusPaid: // covered by non-cash: paid already
	case orig.tradeID == "": // a ToB original: settled with its partner, nothing for the customer to get back
		o.status, o.cashDue, o.payBy = StatusPaid, 0, time.Time{}
		o.record(now, EventPaid, "settled with the partner as "+orig.id)
	default:
		o.status, o.cashDue, o.paid, o.tradeID, o.payBy = StatusPaid, orig.cashDue, orig.paid, orig.tradeID, time.Time{}
		o.record(now, EventPaid, fmt.Sprintf("paid %s by trade %s of %s", orig.paid, orig.tradeID, orig.id))
	}
	return o, nil
}

// SettledWithPartner reports whether an order's amounts are a business
// order's (no non-cash, no cash due, nothing paid): every ToB order, and
// a pull-back's order made from one.
func SettledWithPartner(src Source, nonCash, cashDue, paid money.Fen) bool {
	return src.ToB() || src == SourcePullBack && nonCash == 0 && cashDue == 0 && paid == 0
}
