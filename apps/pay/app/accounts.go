package app

import (
	"context"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
)

// Accounts returns a customer's balances and coupons.
func (s *Service) Accounts(ctx context.Context, customerID string) (domain.Account, []domain.Coupon, error) {
	return s.store.Accounts(ctx, customerID)
}

// CouponGrant is a coupon to put into an account.
type CouponGrant struct {
	Title     string
	ValueFen  int64
	ExpiresAt time.Time
}

// Credit adds money-like amounts and coupons to a customer's accounts, once
// per idempotency key (the ops endpoint and the seeder).
func (s *Service) Credit(ctx context.Context, key string, a domain.Account, coupons []CouponGrant) error {
	if key == "" || a.CustomerID == "" {
		return fmt.Errorf("%w: idempotency_key and customer are required", domain.ErrValidation)
	}
	if err := domain.CheckKey(key, a.CustomerID); err != nil {
		return err
	}
	if err := domain.CheckList("coupons", len(coupons), domain.MaxItems); err != nil {
		return err
	}
	if a.BalanceFen < 0 || a.GiftCardFen < 0 || a.Points < 0 || a.GoodsCardFen < 0 {
		return fmt.Errorf("%w: credits must not be negative", domain.ErrValidation)
	}
	// Times are hashed as stored (UTC, microseconds), so a retry that
	// went through a JSON round trip hashes the same.
	coupons = append([]CouponGrant(nil), coupons...)
	for i := range coupons {
		coupons[i].ExpiresAt = coupons[i].ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	hash := domain.RequestHash(struct {
		A domain.Account
		C []CouponGrant
	}{a, coupons})
	cs := make([]domain.Coupon, len(coupons))
	for i, c := range coupons {
		if c.ValueFen <= 0 || c.Title == "" || c.ExpiresAt.IsZero() {
			return fmt.Errorf("%w: coupons[%d] needs title, positive value_fen and expires_at", domain.ErrValidation, i)
		}
		// The id derives from the key, so a retried credit names the same coupons.
		cs[i] = domain.Coupon{ID: "CP" + domain.RequestHash(fmt.Sprintf("%s#%d", key, i))[:24], Title: c.Title,
			ValueFen: c.ValueFen, ExpiresAt: c.ExpiresAt.UTC()}
	}
	return s.store.Credit(ctx, key, hash, a, cs, s.now())
}

// Seed fills an empty database with customers C0001..C<n> for the local
// stack: some balance, gift card, goods card, points and two coupons each.
func (s *Service) Seed(ctx context.Context, n int) (bool, error) {
	count, err := s.store.CountAccounts(ctx)
	if err != nil || count > 0 {
		return false, err
	}
	exp := s.now().Add(180 * 24 * time.Hour)
	for i := 1; i <= n; i++ {
		c := fmt.Sprintf("C%04d", i)
		a := domain.Account{CustomerID: c, BalanceFen: 50_000, GiftCardFen: 20_000, Points: 10_000, GoodsCardFen: 5_000}
		cs := []CouponGrant{
			{Title: "满99减10", ValueFen: 1_000, ExpiresAt: exp},
			{Title: "新客立减5元", ValueFen: 500, ExpiresAt: exp},
		}
		if err := s.Credit(ctx, "seed:"+c, a, cs); err != nil {
			return false, fmt.Errorf("seed %s: %w", c, err)
		}
	}
	return true, nil
}
