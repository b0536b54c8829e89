package graph

import (
	"context"
	"errors"
	"time"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// Campaigns is what the gateway needs of marketing's coupon campaigns;
// *marketingclient.Client satisfies it.
type Campaigns interface {
	CreateCouponCampaign(ctx context.Context, r marketingclient.CreateCouponCampaignRequest) (marketingclient.CouponCampaign, error)
	CouponCampaign(ctx context.Context, id string) (marketingclient.CouponCampaign, error)
	CouponCampaigns(ctx context.Context, before string, limit int) (marketingclient.CouponCampaignPage, error)
	MoveCouponCampaign(ctx context.Context, id, action string) (marketingclient.CouponCampaign, error)
}

var _ Campaigns = (*marketingclient.Client)(nil)

// campaignPoll is how often a progress subscription reads the campaign.
const campaignPoll = 500 * time.Millisecond

func toCampaign(c marketingclient.CouponCampaign) *model.CouponCampaign {
	p := c.Progress
	out := &model.CouponCampaign{ID: c.ID, Name: c.Name, Status: model.CouponCampaignStatus(c.Status),
		Conditions:        &model.CampaignConditions{MinOrders: int64(c.Conditions.MinOrders), Cities: nonNil(c.Conditions.Cities)},
		ExcludedCustomers: nonNil(c.ExcludedCustomers), TemplateID: c.TemplateID, Stock: c.Stock, StockLeft: c.StockLeft,
		NotifySms: c.NotifySMS, BiDone: c.BIDone,
		Progress: &model.CampaignProgress{Matched: p.Matched, Granted: p.Granted, SkippedExcluded: p.SkippedExcluded,
			SkippedAlready: p.SkippedAlready, SkippedNoStock: p.SkippedNoStock, Failed: p.Failed, SmsSent: p.SMSSent},
		CreatedAt: c.CreatedAt, LaunchedAt: c.LaunchedAt, UpdatedAt: c.UpdatedAt}
	if c.SMSTemplate != "" {
		s := c.SMSTemplate
		out.SmsTemplate = &s
	}
	return out
}

func campaignPayload(c marketingclient.CouponCampaign, err error) (*model.CouponCampaignPayload, error) {
	if err != nil {
		var p *httpapi.Problem
		if errors.As(err, &p) && p.Code == marketingclient.CodeCampaignState {
			ue := &model.UserError{Code: model.UserErrorCodeCampaignStateConflict, Message: p.Message, Field: []string{"action"}}
			return &model.CouponCampaignPayload{Errors: []*model.UserError{ue}}, nil
		}
		ues, err := walletErrors(err, []string{"input"})
		if err != nil {
			return nil, err
		}
		return &model.CouponCampaignPayload{Errors: ues}, nil
	}
	return &model.CouponCampaignPayload{Campaign: toCampaign(c), Errors: []*model.UserError{}}, nil
}

// watchCampaign sends the campaign as first read, then every change seen
// by polling marketing every poll, until it completes or is cancelled (its
// last state sent) or ctx ends. The channel closes either way, and the
// goroutine ends with it.
func watchCampaign(ctx context.Context, cs Campaigns, first marketingclient.CouponCampaign, poll time.Duration) <-chan *model.CouponCampaign {
	ch := make(chan *model.CouponCampaign, 1)
	go func() {
		defer close(ch)
		last := first
		send := func(c marketingclient.CouponCampaign) bool {
			select {
			case ch <- toCampaign(c):
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !send(first) {
			return
		}
		t := time.NewTicker(poll)
		defer t.Stop()
		for last.Status != marketingclient.CampaignCompleted && last.Status != marketingclient.CampaignCancelled {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			c, err := cs.CouponCampaign(ctx, first.ID)
			if err != nil {
				continue // a passing fault: the next tick asks again
			}
			if c.Progress == last.Progress && c.Status == last.Status && c.StockLeft == last.StockLeft {
				continue
			}
			if !send(c) {
				return
			}
			last = c
		}
	}()
	return ch
}
