package domain

import "fmt"

// Source is where an order comes from (DOMAIN 1.1).
type Source string

// Sources accepted by the accept-order API.
const (
	SourceApp          Source = "APP"
	SourceWeb          Source = "WEB"
	SourceMiniProgram  Source = "MINI_PROGRAM"
	SourceGiftExchange Source = "GIFT_EXCHANGE"
	SourceSalesPlan    Source = "SALES_PLAN"
	SourceThirdParty   Source = "THIRD_PARTY"
	SourceReissue      Source = "REISSUE"
	SourceExchange     Source = "EXCHANGE"
	// SourcePullBack is an order customer service's pull-back made from
	// another, which it ends (DOMAIN 4.1a): the one source made directly
	// in OMS, never through the accept-order API (see Direct).
	SourcePullBack Source = "PULL_BACK"
)

var sources = map[Source]bool{
	SourceApp: true, SourceWeb: true, SourceMiniProgram: true, SourceGiftExchange: true,
	SourceSalesPlan: true, SourceThirdParty: true, SourceReissue: true, SourceExchange: true, SourcePullBack: true,
}

// ParseSource turns a wire value into a Source, refusing unknown ones so no
// code can invent a source the payment rules do not cover.
func ParseSource(s string) (Source, error) {
	if !sources[Source(s)] {
		return "", fmt.Errorf("%w: %q", ErrUnknownSource, s)
	}
	return Source(s), nil
}

// ToB reports whether orders of this source are business orders, settled
// monthly/quarterly with the partner or enterprise and never paid by the
// customer: they are PAID at creation, ready for fulfillment. A
// pull-back's order is not one: it carries over what the customer paid
// for the order it replaces (NewPullBackOrder), so cancelling or
// returning it gives that money back.
func (s Source) ToB() bool {
	switch s {
	case SourceSalesPlan, SourceThirdParty, SourceReissue, SourceExchange:
		return true
	}
	return false
}

// CashAllowed reports whether an order of this source may wait for cash at
// the cashier. Gift exchange is ToC but redeems a code bought elsewhere, so
// its non-cash part must cover the whole total.
func (s Source) CashAllowed() bool { return !s.ToB() && s != SourceGiftExchange }

// NonCashAllowed reports whether the order may carry non-cash deductions
// taken by PAY; ToB orders are settled outside the customer's accounts.
func (s Source) NonCashAllowed() bool { return !s.ToB() }

// NeedsOriginalOrder reports whether the order is made from another one
// (reissue 补发, exchange 换发) and must name it.
func (s Source) NeedsOriginalOrder() bool {
	return s == SourceReissue || s == SourceExchange || s == SourcePullBack
}

// Direct reports whether orders of this source are made directly in OMS
// and refused by the accept-order API (a pull-back's new order carries
// over the stock and payment of the order it ends; nothing is reserved
// or paid again).
func (s Source) Direct() bool { return s == SourcePullBack }
