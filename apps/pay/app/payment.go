package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
)

func errValidation(msg string) error { return fmt.Errorf("%w: %s", domain.ErrValidation, msg) }

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }

// StartInput opens a cash payment.
type StartInput struct {
	IdempotencyKey string
	OrderID        string
	CustomerID     string
	Channel        string
}

// StartCashPayment asks OMS whether the order may be paid now, records the
// trade and its channel record (idempotent by key), and opens the trade at
// the channel with the order's pay-by as time_expire, so the channel itself
// refuses a late payment (DOMAIN 1.4 case 3).
func (s *Service) StartCashPayment(ctx context.Context, in StartInput) (domain.Trade, error) {
	if in.IdempotencyKey == "" || in.OrderID == "" || in.CustomerID == "" {
		return domain.Trade{}, errValidation("idempotency_key, order_id and customer_id are required")
	}
	if err := domain.CheckKey(in.IdempotencyKey, in.CustomerID); err != nil {
		return domain.Trade{}, err
	}
	ad, ok := s.channels[in.Channel]
	if !ok {
		return domain.Trade{}, fmt.Errorf("%w: %q", domain.ErrUnknownChannel, in.Channel)
	}
	hash := domain.RequestHash(in)
	if t, err := s.store.TradeByKey(ctx, in.CustomerID, in.IdempotencyKey); err == nil {
		return s.resume(ctx, ad, t, hash)
	} else if !isNotFound(err) {
		return domain.Trade{}, err
	}
	p, err := s.oms.Payable(ctx, in.OrderID)
	if err != nil {
		if httpapi.HasCode(err, omsclient.CodeNotFound) {
			return domain.Trade{}, fmt.Errorf("order %s: %w", in.OrderID, domain.ErrNotFound)
		}
		return domain.Trade{}, fmt.Errorf("ask oms whether %s is payable: %w", in.OrderID, err)
	}
	if p.CustomerID != "" && p.CustomerID != in.CustomerID {
		return domain.Trade{}, fmt.Errorf("order %s: %w", in.OrderID, domain.ErrNotFound)
	}
	now := s.now()
	if !p.Payable {
		return domain.Trade{}, &domain.NotPayableError{Reason: p.Reason}
	}
	if p.CashDueFen <= 0 {
		return domain.Trade{}, &domain.NotPayableError{Reason: "NOTHING_DUE"}
	}
	// Whole seconds, rounded down: channels speak seconds and must not
	// accept a payment after the deadline.
	expire := p.PayBy.UTC().Truncate(time.Second)
	if !expire.After(now) {
		return domain.Trade{}, &domain.NotPayableError{Reason: "DEADLINE_PASSED"}
	}
	t := domain.Trade{ID: ids.New(), IdempotencyKey: in.IdempotencyKey, RequestHash: hash, OrderID: in.OrderID,
		CustomerID: in.CustomerID, Channel: in.Channel, AmountFen: int64(p.CashDueFen), Status: domain.TradePending,
		TimeExpire: expire, CreatedAt: now}
	if err := s.store.CreateTrade(ctx, t, now.Add(s.cfg.PollAfter)); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			prev, err := s.store.TradeByKey(ctx, in.CustomerID, in.IdempotencyKey)
			if err != nil {
				return domain.Trade{}, err
			}
			return s.resume(ctx, ad, prev, hash)
		}
		return domain.Trade{}, err
	}
	return s.openAtChannel(ctx, ad, t)
}

// resume answers a repeated start: the first trade again, opened at the
// channel if the first call did not get that far.
func (s *Service) resume(ctx context.Context, ad channel.Adapter, t domain.Trade, hash string) (domain.Trade, error) {
	if t.RequestHash != hash {
		return domain.Trade{}, domain.ErrKeyReused
	}
	if t.CashierURL != "" || t.Status != domain.TradePending {
		return t, nil
	}
	return s.openAtChannel(ctx, ad, t)
}

func (s *Service) openAtChannel(ctx context.Context, ad channel.Adapter, t domain.Trade) (domain.Trade, error) {
	res, err := ad.Create(ctx, channel.CreateRequest{TradeNo: t.ID, AmountFen: t.AmountFen,
		Subject: "Harvest order " + t.OrderID, TimeExpire: t.TimeExpire})
	if err != nil {
		return domain.Trade{}, fmt.Errorf("open trade %s at %s: %w", t.ID, t.Channel, err)
	}
	if err := s.store.SetCashier(ctx, t.ID, res.ChannelTradeNo, res.CashierURL, s.now()); err != nil {
		return domain.Trade{}, err
	}
	t.ChannelTradeNo, t.CashierURL = res.ChannelTradeNo, res.CashierURL
	return t, nil
}

// Trade returns one trade.
func (s *Service) Trade(ctx context.Context, id string) (domain.Trade, error) {
	return s.store.Trade(ctx, id)
}

// TradesOfOrder lists an order's trades.
func (s *Service) TradesOfOrder(ctx context.Context, orderID string) ([]domain.Trade, error) {
	return s.store.TradesOfOrder(ctx, orderID)
}

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
		r, err := s.store.Refund(ctx, n.RefundNo)
		if isNotFound(err) || (err == nil && r.TradeID != n.TradeNo) {
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
		t, err := s.store.Trade(ctx, n.TradeNo)
		if isNotFound(err) || (err == nil && t.Channel != channelName) {
			s.log.Warn("payment callback for an unknown trade", "channel", channelName, "trade", n.TradeNo)
			return ct, ack, nil
		}
		if err != nil {
			return "", nil, err
		}
		if t.Status == domain.TradeSucceeded {
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
	q, err := ad.Query(ctx, t.ID)
	if errors.Is(err, channel.ErrUnknownTrade) {
		if s.now().After(t.TimeExpire) {
			return false, s.store.MarkClosed(ctx, t.ID, s.now())
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("query trade %s: %w", t.ID, err)
	}
	switch q.State {
	case channel.TradePaid:
		if q.AmountFen != t.AmountFen {
			s.log.Error("channel reports another amount than the trade's", "trade", t.ID, "want", t.AmountFen, "got", q.AmountFen)
		}
		now := s.now()
		paidAt := q.PaidAt
		if paidAt.IsZero() {
			paidAt = now
		}
		ev := outbox.Event{Topic: payevents.TopicTradeSucceeded, AggregateID: t.OrderID, Type: payevents.TopicTradeSucceeded + ".v1",
			Payload: payevents.TradeSucceeded{TradeID: t.ID, OrderID: t.OrderID, CustomerID: t.CustomerID, Channel: t.Channel,
				AmountFen: money.Fen(q.AmountFen), PaidAt: paidAt}}
		done, err := s.store.MarkSucceeded(ctx, t, q.AmountFen, q.ChannelTradeNo, paidAt, now, ev)
		if err != nil {
			return false, fmt.Errorf("mark trade %s succeeded: %w", t.ID, err)
		}
		if done {
			s.notify()
			s.Wake()
			s.log.Info("trade succeeded", "trade", t.ID, "order", t.OrderID, "amount_fen", q.AmountFen)
		}
		return done, nil
	case channel.TradeClosed:
		return false, s.store.MarkClosed(ctx, t.ID, s.now())
	}
	return false, nil
}

// PollTrades queries the channel for pending trades whose callback is late
// (the pay-poll cron binding), backing off per trade up to a minute.
func (s *Service) PollTrades(ctx context.Context) (succeeded int, err error) {
	due, err := s.store.DuePolls(ctx, s.now(), 100)
	if err != nil {
		return 0, err
	}
	for _, t := range due {
		ad, ok := s.channels[t.Channel]
		if !ok {
			continue
		}
		done, err := s.confirmTrade(ctx, ad, t)
		if err != nil {
			s.log.Warn("poll trade", "trade", t.ID, "err", err)
		}
		if done {
			succeeded++
			continue
		}
		if err := s.store.PollLater(ctx, t.ID, s.now().Add(backoff(t.PollCount, s.cfg.PollAfter, time.Minute))); err != nil {
			return succeeded, err
		}
	}
	return succeeded, nil
}
