package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/channels/domain"
	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
)

// Processor is what the subscribers run (*app.Service); every step is
// guarded by its row's status, so a redelivery repeats nothing.
type Processor interface {
	PlanAll(ctx context.Context, processIDs []string) []error
	Order(ctx context.Context, planID string) error
	SendStatus(ctx context.Context, updateID string) error
	OrderStatus(ctx context.Context, consumer, msgID, orderID, omsStatus string) error
}

// Bulk subscribes in bulk (*runtime.App).
type Bulk interface {
	SubscribeBulk(pubsub, topic, match string, max, waitMs int32, h daprx.BulkHandler)
}

// Bulk sizes: a group buy's burst is planned a hundred staged orders per
// transaction; plans and statuses go through at once, each message in a
// goroutine of its own, so OMS's accept-order calls travel in batches.
const (
	receivedBulk, receivedWaitMs = 100, 50
	planBulk, planWaitMs         = 100, 20
	statusBulk, statusWaitMs     = 50, 20
)

// OMSTopics are the OMS events whose statuses platforms are told
// (and the refusals at the door, which settlement counts as returned).
var OMSTopics = []string{omsevents.TopicOrderShipped, omsevents.TopicOrderCompleted, omsevents.TopicOrderCancelled, omsevents.TopicOrderRefused}

// statusOf is the OMS status each topic reports (by the topic, not the
// payload's status, which a later change may already have moved on).
var statusOf = map[string]string{omsevents.TopicOrderShipped: "SHIPPED", omsevents.TopicOrderCompleted: "COMPLETED",
	omsevents.TopicOrderCancelled: "CANCELLED", omsevents.TopicOrderRefused: "REFUSED"}

func drop(m daprx.Message, err error) error {
	return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
}

func outcome(err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
	}
	return err
}

// Subscribe registers channels' consumers: its own three transactional
// messages and OMS's order events.
func Subscribe(svc common.Service, bulk Bulk, pubsub string, p Processor) error {
	bulk.SubscribeBulk(pubsub, TopicOrderReceived, "", receivedBulk, receivedWaitMs, func(ctx context.Context, ms []daprx.Message) []error {
		errs := make([]error, len(ms))
		var idList []string
		var at []int
		for i, m := range ms {
			var ev OrderReceived
			if err := json.Unmarshal(m.Data, &ev); err != nil || ev.ProcessID == "" {
				errs[i] = drop(m, err)
				continue
			}
			idList = append(idList, ev.ProcessID)
			at = append(at, i)
		}
		for j, err := range p.PlanAll(ctx, idList) {
			errs[at[j]] = outcome(err)
		}
		return errs
	})
	bulk.SubscribeBulk(pubsub, TopicPlanCreated, "", planBulk, planWaitMs, daprx.EachMessageAtOnce(func(ctx context.Context, m daprx.Message) error {
		var ev PlanCreated
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.PlanID == "" {
			return drop(m, err)
		}
		return outcome(p.Order(ctx, ev.PlanID))
	}))
	bulk.SubscribeBulk(pubsub, TopicStatusQueued, "", statusBulk, statusWaitMs, daprx.EachMessageAtOnce(func(ctx context.Context, m daprx.Message) error {
		var ev StatusQueued
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.UpdateID == "" {
			return drop(m, err)
		}
		return outcome(p.SendStatus(ctx, ev.UpdateID))
	}))
	for _, topic := range OMSTopics {
		consumer := "channels." + topic
		h := func(ctx context.Context, m daprx.Message) error {
			var ev struct {
				OrderID string `json:"order_id"`
			}
			if err := json.Unmarshal(m.Data, &ev); err != nil || ev.OrderID == "" {
				return drop(m, err)
			}
			return p.OrderStatus(ctx, consumer, m.ID, ev.OrderID, statusOf[topic])
		}
		if err := daprx.Subscribe(svc, pubsub, topic, h); err != nil {
			return fmt.Errorf("subscribe %s: %w", topic, err)
		}
	}
	return nil
}
