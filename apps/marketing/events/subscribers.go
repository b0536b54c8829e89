package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/platform/daprx"
)

// Handlers is what the campaign consumers run (*app.Campaigns fits through
// the adapter in main); each claims the message id in its transaction.
type Handlers interface {
	OnPage(ctx context.Context, msgID string, ev CampaignPage) error
	// OnUsersMatched handles a bulk of user messages in one transaction.
	GrantMatched(ctx context.Context, msgIDs []string, evs []UserMatched) error
	OnCouponGranted(ctx context.Context, msgID string, ev CouponGranted) error
}

// Bulk is how bulk subscriptions are declared (runtime.App fits).
type Bulk interface {
	SubscribeBulk(pubsub, topic, match string, max, waitMs int32, h daprx.BulkHandler)
}

// DefaultUserBulk is the user messages of one bulk delivery by default:
// half the local Redis Streams component's concurrency
// (components/local/pubsub.yaml). Each message of a bulk holds a worker
// until the bulk is answered, so a bulk above the concurrency never fills
// and waits out userWaitMs; at half, the next bulk gathers on the other
// workers while one is being answered. The sidecar hands over one bulk at
// a time, so the bulk's round trip (its transaction included) is paid once
// per bulk: harvest-load campaign, 200 k users on a shared machine, ran
// 3,764/s with bulks of 128 at a concurrency of 256 and 4,649/s with bulks
// of 256 at 512 (100 k, earlier: bulks of up to 256 at a concurrency of
// 256 did not fill, 212 on average, 746/s).
const DefaultUserBulk = 256

// userWaitMs bounds how long the sidecar gathers a bulk of user messages
// (a campaign's last users, or a trickle).
const userWaitMs = 20

// Subscribe registers the campaign consumers: pages one message at a time
// (each is one BI call), users in bulks of up to userBulk (one
// transaction), one bulk subscription per partition (UserPartitions), SMS
// one at a time (the SMS API takes one recipient).
// Every consumer runs on every instance; the broker's consumer group
// shares the messages.
func Subscribe(svc common.Service, bulk Bulk, pubsub string, h Handlers, userBulk int32) error {
	page := func(ctx context.Context, m daprx.Message) error {
		var ev CampaignPage
		if err := decode(m, &ev); err != nil {
			return err
		}
		return h.OnPage(ctx, m.ID, ev)
	}
	for _, topic := range []string{TopicCampaignLaunched, TopicCampaignPaged} {
		if err := daprx.Subscribe(svc, pubsub, topic, page); err != nil {
			return fmt.Errorf("subscribe %s: %w", topic, err)
		}
	}
	if err := daprx.Subscribe(svc, pubsub, TopicCouponGranted, func(ctx context.Context, m daprx.Message) error {
		var ev CouponGranted
		if err := decode(m, &ev); err != nil {
			return err
		}
		return h.OnCouponGranted(ctx, m.ID, ev)
	}); err != nil {
		return fmt.Errorf("subscribe %s: %w", TopicCouponGranted, err)
	}
	for _, topic := range UserMatchedTopics() {
		bulk.SubscribeBulk(pubsub, topic, "", userBulk, userWaitMs, grantBulk(h))
	}
	return nil
}

// grantBulk applies a bulk of user messages: the decodable ones in one
// call (one transaction), the rest dropped.
func grantBulk(h Handlers) daprx.BulkHandler {
	return func(ctx context.Context, ms []daprx.Message) []error {
		errs := make([]error, len(ms))
		var ids []string
		var evs []UserMatched
		var at []int
		for i, m := range ms {
			var ev UserMatched
			if err := decode(m, &ev); err != nil {
				errs[i] = err
				continue
			}
			ids, evs, at = append(ids, m.ID), append(evs, ev), append(at, i)
		}
		if len(evs) > 0 {
			if err := h.GrantMatched(ctx, ids, evs); err != nil {
				for _, i := range at {
					errs[i] = err
				}
			}
		}
		return errs
	}
}

func decode(m daprx.Message, v any) error {
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
	}
	return nil
}

// ClaimHandlers takes claims another instance handed off (*app.Claims).
type ClaimHandlers interface {
	OnClaimQueued(ctx context.Context, ev ClaimQueued) error
}

// SubscribeClaims registers the consumer of handed-off claims: each goes
// into this instance's queues, or back to the broker while this one is
// stopping or full. No inbox: issuing a claim twice binds it once.
func SubscribeClaims(svc common.Service, pubsub string, h ClaimHandlers) error {
	if err := daprx.Subscribe(svc, pubsub, TopicClaimQueued, func(ctx context.Context, m daprx.Message) error {
		var ev ClaimQueued
		if err := decode(m, &ev); err != nil {
			return err
		}
		return h.OnClaimQueued(ctx, ev)
	}); err != nil {
		return fmt.Errorf("subscribe %s: %w", TopicClaimQueued, err)
	}
	return nil
}
