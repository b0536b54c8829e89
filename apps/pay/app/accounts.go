package app

import (
	"context"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/money"
)

// Accounts returns a customer's balances and coupons.
func (s *Service) Accounts(ctx context.Context, customerID string) (domain.Account, []domain.Coupon, error) {
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

// CouponGrant is a coupon to put into an account.
type CouponGrant struct {
	Title     string
	ValueFen  money.Fen
	ExpiresAt time.Time
}

// Credit adds money-like amounts and coupons to a customer's accounts, once
// per idempotency key (the ops endpoint and the seeder).
func (s *Service) Credit(ctx context.Context, key string, in Amounts, coupons []CouponGrant) error {
	if key == "" || in.CustomerID == "" {
		return fmt.Errorf("%w: idempotency_key and customer are required", domain.ErrValidation)
	}
	if err := domain.CheckKey(key, in.CustomerID); err != nil {
		return err
	}
	if err := domain.CheckList("coupons", len(coupons), domain.MaxItems); err != nil {
		return err
	}
	a, err := domain.NewCredit(in.CustomerID, in.BalanceFen, in.GiftCardFen, in.Points, in.GoodsCardFen)
	if err != nil {
		return err
	}
	// Times are hashed as stored (UTC, microseconds), so a retry that
	// went through a JSON round trip hashes the same.
	coupons = append([]CouponGrant(nil), coupons...)
	for i := range coupons {
		coupons[i].ExpiresAt = coupons[i].ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	hash := domain.RequestHash(struct {
		A Amounts
		C []CouponGrant
	}{in, coupons})
	cs := make([]domain.Coupon, len(coupons))
	for i, c := range coupons {
		// The id derives from the key, so a retried credit names the same coupons.
		id := "CP" + domain.RequestHash(fmt.Sprintf("%s#%d", key, i))[:24]
		if cs[i], err = domain.NewCoupon(id, c.Title, c.ValueFen, c.ExpiresAt.UTC()); err != nil {
			return fmt.Errorf("coupons[%d]: %w", i, err)
		}
	}
	return s.repo.Credit(ctx, key, hash, a, cs, s.now())
}

// Seed fills an empty database with customers C0001..C<n> for the local
// stack: some balance, gift card, goods card, points and two coupons each.
func (s *Service) Seed(ctx context.Context, n int) (bool, error) {
	count, err := s.repo.CountAccounts(ctx)
	if err != nil || count > 0 {
		return false, err
	}
	exp := s.now().Add(180 * 24 * time.Hour)
	for i := 1; i <= n; i++ {
		c := fmt.Sprintf("C%04d", i)
		a := Amounts{CustomerID: c, BalanceFen: 50_000, GiftCardFen: 20_000, Points: 10_000, GoodsCardFen: 5_000}
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
