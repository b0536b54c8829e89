package load

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// CampaignGrantBaseline measures the raw write rate of a coupon campaign's
// grants with no services, sidecars or broker in front: marketing's own
// store binds bulks of bulk users (the very transaction the user consumer
// runs: inbox claims, exclusions and coupons read, coupons written,
// counters and the campaign row, under its lock), and the user messages
// are written to a Redis stream (XADD, pipelined per bulk: what the broker
// holds per user). Ops counts users granted.
func CampaignGrantBaseline(ctx context.Context, server string, rdb *redis.Client, workers, bulk int, d time.Duration) (Rate, error) {
	db, drop, err := scratchDB(ctx, server, "marketing", workers)
	if err != nil {
		return Rate{}, err
	}
	defer drop()
	st := store.New(db)
	w := app.NewWallet(st, nil, clock.System{}, nil)
	now := time.Now().UTC()
	t, err := w.CreateTemplate(ctx, "", domain.TemplateSpec{Title: "baseline", ValueFen: 100, ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(24 * time.Hour)})
	if err != nil {
		return Rate{}, err
	}
	c := app.NewCampaigns(st, nil, nil, clock.System{}, nil, nil)
	cc, err := c.Create(ctx, "", domain.CouponCampaignSpec{Name: "baseline", TemplateID: t.ID(), Stock: domain.MaxCampaignStock})
	if err != nil {
		return Rate{}, err
	}
	if _, err := c.Launch(ctx, cc.ID()); err != nil {
		return Rate{}, err
	}
	stream := fmt.Sprintf("load:baseline:campaign:%d", time.Now().UnixNano())
	defer rdb.Del(context.Background(), stream)
	var next atomic.Int64
	r := Closed(ctx, "baseline: marketing's grant transactions + redis XADD per user", workers, d, func(ctx context.Context, _ int, _ int64) error {
		msgIDs := make([]string, bulk)
		users := make([]events.UserMatched, bulk)
		pipe := rdb.Pipeline()
		for i := range users {
			msgIDs[i] = ids.New()
			users[i] = events.UserMatched{CampaignID: cc.ID(), CustomerID: fmt.Sprintf("B%09d", next.Add(1))}
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"id": msgIDs[i], "customer": users[i].CustomerID}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		_, err := st.GrantUsers(ctx, msgIDs, users, time.Now().UTC(), func(domain.CouponCampaign, events.UserMatched, string) []outbox.Event { return nil })
		return err
	})
	r.Ops *= int64(bulk)
	return r, nil
}
