package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// Callback handles a channel's callback: the signature must hold, and even
// then nothing in it is believed: PAY queries the channel and applies what
// the channel answers, through conditional updates, so forged, replayed or
// duplicate callbacks change nothing. It returns the channel's ack.
func (s *Service) Callback(ctx context.Context, channelName string, body []byte) (string, []byte, error) {
	ad, ok := s.channels[channelName]
	if !ok {
		return "", nil, fmt.Errorf("%w: %q", domain.ErrUnknownChannel, channelName)
	}
	n, err := ad.VerifyCallback(body)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", domain.ErrBadSignature, err)
	}
	ct, ack := ad.Ack()
	switch n.Kind {
	case channel.NotifyRefund:
		r, err := s.repo.Refund(ctx, n.RefundNo)
		if isNotFound(err) || (err == nil && r.TradeID() != n.TradeNo) {
			s.log.Warn("refund callback for an unknown refund", "channel", channelName, "refund", n.RefundNo)
			return ct, ack, nil
		}
		if err != nil {
			return "", nil, err
		}
		if err := s.confirmRefund(ctx, r); err != nil {
			return "", nil, err
		}
		return ct, ack, nil
	default:
		t, err := s.repo.Trade(ctx, n.TradeNo)
		if isNotFound(err) || (err == nil && t.Channel() != channelName) {
			s.log.Warn("payment callback for an unknown trade", "channel", channelName, "trade", n.TradeNo)
			return ct, ack, nil
		}
		if err != nil {
			return "", nil, err
		}
		if t.Status() == domain.TradeSucceeded {
			return ct, ack, nil // a duplicate
		}
		if _, err := s.confirmTrade(ctx, ad, t); err != nil {
			return "", nil, err
		}
		return ct, ack, nil
	}
}

// confirmTrade queries the channel and applies its answer; true when this
// call turned the trade SUCCEEDED.
func (s *Service) confirmTrade(ctx context.Context, ad channel.Adapter, t domain.Trade) (bool, error) {
	q, err := ad.Query(ctx, t.ID())
	if errors.Is(err, channel.ErrUnknownTrade) {
		if t.Expired(s.now()) {
			return false, s.repo.MarkClosed(ctx, t.ID(), s.now())
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("query trade %s: %w", t.ID(), err)
	}
	switch q.State {
	case channel.TradePaid:
		paid := money.Fen(q.AmountFen)
		if paid != t.AmountFen() {
			s.log.Error("channel reports another amount than the trade's", "trade", t.ID(), "want", int64(t.AmountFen()), "got", q.AmountFen)
		}
		now := s.now()
		paidAt := q.PaidAt
		if paidAt.IsZero() {
			paidAt = now
		}
		ev := outbox.Event{Topic: payevents.TopicTradeSucceeded, AggregateID: t.OrderID(), Type: payevents.TopicTradeSucceeded + ".v1",
			Payload: payevents.TradeSucceeded{TradeID: t.ID(), OrderID: t.OrderID(), CustomerID: t.CustomerID(), Channel: t.Channel(),
				AmountFen: paid, PaidAt: paidAt}}
		done, err := s.repo.MarkSucceeded(ctx, t, paid, q.ChannelTradeNo, paidAt, now, ev)
		if err != nil {
			return false, fmt.Errorf("mark trade %s succeeded: %w", t.ID(), err)
		}
		if done {
			s.notify()
			s.Wake()
			s.log.Info("trade succeeded", "trade", t.ID(), "order", t.OrderID(), "amount_fen", q.AmountFen)
		}
		return done, nil
	case channel.TradeClosed:
		return false, s.repo.MarkClosed(ctx, t.ID(), s.now())
	}
	return false, nil
}
