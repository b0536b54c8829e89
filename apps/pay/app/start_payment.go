package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
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
	if t, err := s.repo.TradeByKey(ctx, in.CustomerID, in.IdempotencyKey); err == nil {
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
	// Whole seconds, rounded down: channels speak seconds and must not
	// accept a payment after the deadline.
	expire := p.PayBy.UTC().Truncate(time.Second)
	t, err := domain.NewTrade(ids.New(), in.IdempotencyKey, hash, in.OrderID, in.CustomerID, in.Channel, p.CashDueFen, expire, now)
	if err != nil {
		return domain.Trade{}, err
	}
	if err := s.repo.CreateTrade(ctx, t, now.Add(s.cfg.PollAfter)); err != nil {
		if errors.Is(err, ErrDuplicateKey) {
			prev, err := s.repo.TradeByKey(ctx, in.CustomerID, in.IdempotencyKey)
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
	if err := t.SameRequest(hash); err != nil {
		return domain.Trade{}, err
	}
	if !t.NeedsOpening() {
		return t, nil
	}
	return s.openAtChannel(ctx, ad, t)
}

func (s *Service) openAtChannel(ctx context.Context, ad channel.Adapter, t domain.Trade) (domain.Trade, error) {
	res, err := ad.Create(ctx, channel.CreateRequest{TradeNo: t.ID(), AmountFen: int64(t.AmountFen()),
		Subject: "Harvest order " + t.OrderID(), TimeExpire: t.TimeExpire()})
	if err != nil {
		return domain.Trade{}, fmt.Errorf("open trade %s at %s: %w", t.ID(), t.Channel(), err)
	}
	t.Opened(res.ChannelTradeNo, res.CashierURL)
	if err := s.repo.SetCashier(ctx, t, s.now()); err != nil {
		return domain.Trade{}, err
	}
	return t, nil
}

// Trade returns one trade.
func (s *Service) Trade(ctx context.Context, id string) (domain.Trade, error) {
	return s.repo.Trade(ctx, id)
}

// TradesOfOrder lists an order's trades and, when paidBy names a trade
// not among them, that one last: the trade OMS says paid the order (a
// pull-back's order is paid by its original's trade, which PAY holds
// under the original's id). A read for after-sales, which takes the id
// from OMS; an unknown paidBy adds nothing.
func (s *Service) TradesOfOrder(ctx context.Context, orderID, paidBy string) ([]domain.Trade, error) {
	ts, err := s.repo.TradesOfOrder(ctx, orderID)
	if err != nil || paidBy == "" || slices.ContainsFunc(ts, func(t domain.Trade) bool { return t.ID() == paidBy }) {
		return ts, err
	}
	t, err := s.repo.Trade(ctx, paidBy)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return ts, nil
	case err != nil:
		return nil, err
	}
	return append(ts, t), nil
}
