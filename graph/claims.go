package graph

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// Claims is what the gateway needs of marketing's pop-up claims;
// *marketingclient.Client satisfies it.
type Claims interface {
	CreateClaimCampaign(ctx context.Context, r marketingclient.CreateClaimCampaignRequest) (marketingclient.ClaimCampaign, error)
	ClaimCampaign(ctx context.Context, id string) (marketingclient.ClaimCampaign, error)
	ClaimCoupon(ctx context.Context, r marketingclient.ClaimRequest) (marketingclient.Claim, error)
	CouponClaim(ctx context.Context, customerID, id string) (marketingclient.Claim, error)
}

var _ Claims = (*marketingclient.Client)(nil)

func toClaimCampaign(c marketingclient.ClaimCampaign) *model.ClaimCampaign {
	out := &model.ClaimCampaign{ID: c.ID, Name: c.Name, TemplateID: c.TemplateID, Stock: c.Stock, PerUserLimit: int64(c.PerUserLimit),
		StartsAt: c.StartsAt, EndsAt: c.EndsAt, CreatedAt: c.CreatedAt, Claims: c.Claims, Pending: c.Pending, Bound: c.Bound,
		Refused: c.Refused, GivebacksOwed: c.GivebacksOwed}
	if c.StockLeft >= 0 {
		left := c.StockLeft
		out.StockLeft = &left
	}
	return out
}

func toClaim(c marketingclient.Claim) *model.CouponClaim {
	out := &model.CouponClaim{ID: c.ID, CampaignID: c.CampaignID, Status: model.CouponClaimStatus(c.Status), CreatedAt: c.CreatedAt}
	if c.Reason != "" {
		r := c.Reason
		out.Reason = &r
	}
	if c.CouponID != "" {
		id := c.CouponID
		out.CouponID = &id
	}
	return out
}

// claimErrors turns a claim's refusals into CLAIM_REFUSED with the
// service's reason; the rest as the wallet's.
func claimErrors(err error, field []string) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if errors.As(err, &p) {
		switch p.Code {
		case marketingclient.CodeClaimCampaignEnded, marketingclient.CodeClaimCampaignNotStarted, marketingclient.CodeClaimLimitReached,
			marketingclient.CodeClaimOutOfStock:
			reason := p.Code
			return []*model.UserError{{Code: model.UserErrorCodeClaimRefused, Message: p.Message, Field: field, Reason: &reason}}, nil
		}
	}
	return walletErrors(err, field)
}
