package app

import (
	"context"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
)

// RefundInput asks for part or all of a trade back (customer service,
// aftersales). Such refunds wait for finance's approval.
type RefundInput struct {
	IdempotencyKey string
	TradeID        string
	AmountFen      money.Fen
	Reason         string
}

// RequestRefund records a refund that finance must approve before it goes
// to the channel. It never lets refunds exceed what was paid.
func (s *Service) RequestRefund(ctx context.Context, in RefundInput) (domain.Refund, error) {
	if in.IdempotencyKey == "" || in.TradeID == "" || in.Reason == "" {
		return domain.Refund{}, errValidation("idempotency_key, trade_id and reason are required")
	}
	if err := domain.CheckKey(in.IdempotencyKey, ""); err != nil {
		return domain.Refund{}, err
	}
	t, err := s.repo.Trade(ctx, in.TradeID)
	if err != nil {
		return domain.Refund{}, err
	}
	r, err := domain.NewRequestedRefund(ids.New(), t, in.IdempotencyKey, domain.RequestHash(in), in.AmountFen, in.Reason)
	if err != nil {
		return domain.Refund{}, err
	}
	out, created, err := s.repo.CreateRefund(ctx, r, s.now())
	if err != nil {
		return domain.Refund{}, err
	}
	if created {
		s.Wake()
	}
	return out, nil
}

// RetryRefund is customer service's retry of failedID, a cancelled
// order's full refund the channel FAILED after PAY's own attempts: a new
// refund of whatever the trade still holds, straight to the channel, once
// per key (domain.ErrNothingToRetry when there is nothing to retry).
func (s *Service) RetryRefund(ctx context.Context, key, failedID string) (domain.Refund, error) {
	if failedID == "" {
		return domain.Refund{}, errValidation("refund id is required")
	}
	if err := domain.CheckKey(key, ""); err != nil {
		return domain.Refund{}, err
	}
	out, created, err := s.repo.RetryRefund(ctx, failedID, key, s.now())
	if err != nil {
		return domain.Refund{}, err
	}
	if created {
		s.Wake()
	}
	return out, nil
}

// Refund returns one refund.
func (s *Service) Refund(ctx context.Context, id string) (domain.Refund, error) {
	return s.repo.Refund(ctx, id)
}

// RefundsOfTrade lists a trade's refunds, oldest first.
func (s *Service) RefundsOfTrade(ctx context.Context, tradeID string) ([]domain.Refund, error) {
	return s.repo.RefundsOfTrade(ctx, tradeID)
}
