package app

import (
	"context"
	"errors"

	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// WalletClient is Wallet over marketing's typed client.
type WalletClient struct{ C *mc.Client }

var _ Wallet = WalletClient{}

// refusals are the wallet's codes that refuse a coupon; PAY passes them on.
var refusals = map[string]bool{
	mc.CodeCouponNotFound: true, mc.CodeCouponExpired: true, mc.CodeCouponNotStarted: true,
	mc.CodeCouponNotUsable: true, mc.CodeValidation: true,
}

// HoldCoupons holds the coupons in the wallet and answers their values.
func (w WalletClient) HoldCoupons(ctx context.Context, holdID, customerID string, couponIDs []string) (map[string]domain.Coupon, error) {
	cs, err := w.C.HoldCoupons(ctx, mc.HoldRequest{HoldID: holdID, CustomerID: customerID, CouponIDs: couponIDs})
	var p *httpapi.Problem
	if errors.As(err, &p) && refusals[p.Code] {
		return nil, &domain.CouponRefusedError{Code: p.Code, Message: p.Message}
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]domain.Coupon, len(cs))
	for _, c := range cs {
		out[c.ID] = domain.HeldCoupon(c.ID, c.Title, c.ValueFen, c.ValidTo)
	}
	return out, nil
}

// RecheckHold asks the wallet to settle a hold by PAY's word.
func (w WalletClient) RecheckHold(ctx context.Context, holdID string) error {
	_, err := w.C.RecheckHold(ctx, holdID)
	return err
}
