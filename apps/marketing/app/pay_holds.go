package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
)

// PayHolds is Holds over PAY's typed client.
type PayHolds struct{ C *payclient.Client }

var _ Holds = PayHolds{}

// HoldState asks PAY where a coupon hold stands.
func (p PayHolds) HoldState(ctx context.Context, holdID string) (domain.HoldState, error) {
	st, err := p.C.CouponHoldState(ctx, holdID)
	if err != nil {
		return "", err
	}
	switch s := domain.HoldState(st.State); s {
	case domain.HoldHeld, domain.HoldUsed, domain.HoldReversed, domain.HoldVoid:
		return s, nil
	}
	return "", fmt.Errorf("pay answered hold %s with unknown state %q", holdID, st.State)
}
