package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
)

// OnPaymentRejected refunds in full a payment OMS could not take (the order
// was cancelled meanwhile; consumer of oms.payment.rejected). Like a
// cancel, it is believed after asking OMS (rejections are rare, so always):
// the trade's own order (PAY's record, not the event's) must not be one
// OMS holds as paid by this very trade, or a forged rejection would refund
// a paid order.
func (s *Service) OnPaymentRejected(ctx context.Context, msgID string, ev events.PaymentRejected) error {
	t, err := s.repo.Trade(ctx, ev.TradeID)
	if isNotFound(err) {
		s.log.Error("payment rejected for an unknown trade", "trade", ev.TradeID, "order", ev.OrderID)
		return nil
	}
	if err != nil {
		return err
	}
	if t.OrderID() != ev.OrderID {
		return fmt.Errorf("%w: trade %s is for order %s, not %s", ErrUnconfirmed, t.ID(), t.OrderID(), ev.OrderID)
	}
	o, err := s.oms.GetOrder(ctx, t.OrderID())
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound):
		// OMS rejects money for an order it does not have.
	case err != nil:
		return fmt.Errorf("ask oms about the rejection of trade %s: %w", t.ID(), err)
	case o.TradeID == t.ID() && o.Status != omsclient.StatusCancelled:
		return fmt.Errorf("%w: order %s is %s, paid by trade %s", ErrUnconfirmed, o.ID, o.Status, t.ID())
	}
	fresh, err := s.repo.RefundRejected(ctx, InboxClaim{Consumer: consumerPaymentRejected, MsgID: msgID}, ev.TradeID, ids.New(), s.now())
	if isNotFound(err) {
		s.log.Error("payment rejected for an unknown trade", "trade", ev.TradeID, "order", ev.OrderID)
		return nil
	}
	if err == nil && fresh {
		s.Wake()
	}
	return err
}
