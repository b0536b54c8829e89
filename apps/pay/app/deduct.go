package app

import (
	"context"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
)

// Item is one item of a deduction request.
type Item struct {
	Kind      domain.Kind
	AmountFen money.Fen // for a coupon, 0 takes its value
	CouponID  string
}

// DeductInput is a deduction request.
type DeductInput struct {
	IdempotencyKey string
	CustomerID     string
	Items          []Item
}

// Deduct takes the non-cash part of an order: all items or none, never
// below zero, idempotent by key.
func (s *Service) Deduct(ctx context.Context, in DeductInput) (domain.Deduction, error) {
	items := make([]domain.Item, len(in.Items))
	for i, it := range in.Items {
		items[i] = domain.NewItem(it.Kind, it.AmountFen, it.CouponID)
	}
	d, err := domain.NewDeduction(ids.New(), in.IdempotencyKey, domain.RequestHash(in), in.CustomerID, items)
	if err != nil {
		return domain.Deduction{}, err
	}
	out, err := s.repo.Deduct(ctx, d, s.now())
	if err == nil {
		s.Wake() // the finance push
	}
	return out, err
}

// Deduction returns one deduction.
func (s *Service) Deduction(ctx context.Context, id string) (domain.Deduction, error) {
	return s.repo.Deduction(ctx, id)
}
