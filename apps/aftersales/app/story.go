package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/pay/payclient"
)

// OrderMoney is what PAY has of an order: its cash trades and each
// trade's refunds.
//
// Why after-sales composes it and the gateway does not ask PAY. PAY's
// trade and refund lists are granted to after-sales already (a refund is
// decided on them); the gateway's PAY grants are the customer's own
// operations only, and TestAccessControlLists keeps "the gateway lists
// trades" among the forgeries. Customer service's whole story reads the
// money through after-sales' one narrow route, GET v1/orders/{id}/story,
// which answers one order's trades and refunds (no cashier URLs, no
// listing by anything but an order id): a stolen gateway identity gains
// no PAY route, and PAY keeps one reader of its refunds.
type OrderMoney struct {
	Trades  []payclient.Trade
	Refunds []payclient.Refund
}

// Money reads an order's trades and their refunds from PAY: its own and
// the trade OMS says paid it (a pull-back's order is paid by its
// original's trade, which PAY holds under the original's id; without it
// the story of such an order would show no payment).
func (s *Service) Money(ctx context.Context, orderID string) (OrderMoney, error) {
	o, err := s.d.Orders.GetOrder(ctx, orderID)
	if err != nil {
		return OrderMoney{}, fmt.Errorf("order %s: %w", orderID, err)
	}
	ts, err := s.d.Payments.TradesPaying(ctx, orderID, o.TradeID)
	if err != nil {
		return OrderMoney{}, fmt.Errorf("trades of %s: %w", orderID, err)
	}
	out := OrderMoney{Trades: ts}
	for _, t := range ts {
		rs, err := s.d.Payments.RefundsOfTrade(ctx, t.ID)
		if err != nil {
			return OrderMoney{}, fmt.Errorf("refunds of trade %s: %w", t.ID, err)
		}
		out.Refunds = append(out.Refunds, rs...)
	}
	for i := range out.Trades {
		out.Trades[i].CashierURL = "" // the payer's link, not customer service's
	}
	return out, nil
}
