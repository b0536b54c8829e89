package app

import (
	"context"
	"errors"
	"fmt"

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
// below zero, idempotent by key. Its coupons are held in the coupon wallet
// under the new deduction's id before PAY's transaction; when that
// transaction does not commit this deduction, the hold is declared void
// here (and the wallet told), and a hold left by a crash in between is
// voided by the wallet's check-back, which asks PAY (HoldState).
func (s *Service) Deduct(ctx context.Context, in DeductInput) (domain.Deduction, error) {
	items := make([]domain.Item, len(in.Items))
	for i, it := range in.Items {
		items[i] = domain.NewItem(it.Kind, it.AmountFen, it.CouponID)
	}
	d, err := domain.NewDeduction(ids.New(), in.IdempotencyKey, domain.RequestHash(in), in.CustomerID, items)
	if err != nil {
		return domain.Deduction{}, err
	}
	if prev, ok, err := s.repo.DeductionByKey(ctx, d.CustomerID(), d.IdempotencyKey()); err != nil {
		return domain.Deduction{}, err
	} else if ok {
		return prev.SameRequest(d.RequestHash())
	}
	var coupons map[string]domain.Coupon
	if cids := d.CouponIDs(); len(cids) > 0 {
		coupons, err = s.wallet.HoldCoupons(ctx, d.ID(), d.CustomerID(), cids)
		if err != nil {
			// A refusal held nothing; a lost answer may have held them.
			if !errors.Is(err, domain.ErrCouponRefused) {
				s.voidHold(ctx, d.ID())
			}
			// A concurrent duplicate may have held the coupons first.
			if prev, ok, ferr := s.repo.DeductionByKey(ctx, d.CustomerID(), d.IdempotencyKey()); ferr == nil && ok {
				return prev.SameRequest(d.RequestHash())
			}
			return domain.Deduction{}, err
		}
	}
	out, err := s.repo.Deduct(ctx, d, coupons, s.now())
	if len(coupons) > 0 && (err != nil || out.ID() != d.ID()) {
		s.voidHold(ctx, d.ID())
	}
	if err == nil {
		s.Wake() // the finance push
	}
	return out, err
}

// voidHold declares a hold no deduction took void and asks the wallet to
// give its coupons back. Either step may fail: the wallet's check-back
// asks again later, and the first answer it gets is VOID.
func (s *Service) voidHold(ctx context.Context, holdID string) {
	ctx = context.WithoutCancel(ctx)
	if _, err := s.repo.HoldState(ctx, holdID, s.now()); err != nil {
		s.log.Warn("void coupon hold; the wallet's check-back will", "hold", holdID, "err", err)
		return
	}
	if err := s.wallet.RecheckHold(ctx, holdID); err != nil {
		s.log.Warn("ask the wallet to give a void hold back; its check-back will", "hold", holdID, "err", err)
	}
}

// HoldState tells the wallet where a coupon hold stands (its check-back,
// or its recheck after PAY asked it to give coupons back). A hold no
// deduction took becomes VOID for good.
func (s *Service) HoldState(ctx context.Context, holdID string) (HoldAnswer, error) {
	if holdID == "" || len(holdID) > 26 {
		return HoldAnswer{}, fmt.Errorf("%w: hold id is required (at most 26 bytes)", domain.ErrValidation)
	}
	return s.repo.HoldState(ctx, holdID, s.now())
}

// Deduction returns one deduction.
func (s *Service) Deduction(ctx context.Context, id string) (domain.Deduction, error) {
	return s.repo.Deduction(ctx, id)
}
