package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
)

// Accounts returns a customer's money-like balances (coupons are the
// wallet's).
func (s *Service) Accounts(ctx context.Context, customerID string) (domain.Account, error) {
	return s.repo.Accounts(ctx, customerID)
}

// Amounts are what a credit adds to a customer's accounts.
type Amounts struct {
	CustomerID   string
	BalanceFen   money.Fen
	GiftCardFen  money.Fen
	Points       int64
	GoodsCardFen money.Fen
}

// Credit adds money-like amounts to a customer's accounts, once per
// idempotency key (the ops endpoint and the seeder).
func (s *Service) Credit(ctx context.Context, key string, in Amounts) error {
	if key == "" || in.CustomerID == "" {
		return fmt.Errorf("%w: idempotency_key and customer are required", domain.ErrValidation)
	}
	if err := domain.CheckKey(key, in.CustomerID); err != nil {
		return err
	}
	a, err := domain.NewCredit(in.CustomerID, in.BalanceFen, in.GiftCardFen, in.Points, in.GoodsCardFen)
	if err != nil {
		return err
	}
	return s.repo.Credit(ctx, key, domain.RequestHash(in), a, s.now())
}

// Seed fills an empty database with customers C0001..C<n> for the local
// stack: some balance, gift card, goods card and points each (marketing
// seeds their coupons).
func (s *Service) Seed(ctx context.Context, n int) (bool, error) {
	count, err := s.repo.CountAccounts(ctx)
	if err != nil || count > 0 {
		return false, err
	}
	for i := 1; i <= n; i++ {
		c := fmt.Sprintf("C%04d", i)
		a := Amounts{CustomerID: c, BalanceFen: 50_000, GiftCardFen: 20_000, Points: 10_000, GoodsCardFen: 5_000}
		if err := s.Credit(ctx, "seed:"+c, a); err != nil {
			return false, fmt.Errorf("seed %s: %w", c, err)
		}
	}
	return true, nil
}
