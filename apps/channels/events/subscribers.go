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
// guarded by its row's status, so a redelivery repeats nothing. Each
// takes many ids and answers one error per id.
type Processor interface {
	PlanAll(ctx context.Context, processIDs []string) []error
	OrderAll(ctx context.Context, planIDs []string) []error
	SendStatuses(ctx context.Context, updateIDs []string) []error
	OrderStatus(ctx context.Context, consumer, msgID, orderID, omsStatus string) error
}

// Bulk subscribes in bulk (*runtime.App).
type Bulk interface {
	SubscribeBulk(pubsub, topic, match string, max, waitMs int32, h daprx.BulkHandler)
}

// Bulk sizes, in messages of up to MaxIDs ids each. A message holds one
// of the sidecar's delivery workers (shared by every topic) until its
// bulk is answered, and a bulk must be answered within the sidecar's
// inbound timeout (dapr/resiliency.yaml, 10 s): a few messages a bulk
// keep a burst's plans and orders moving in steps of a few hundred.
const (
	receivedBulk, receivedWaitMs = 4, 20
	planBulk, planWaitMs         = 2, 20
	statusBulk, statusWaitMs     = 4, 20
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

// ofIDs is a BulkHandler over messages that name rows: every id of the
// bulk goes to apply at once, and each message's answer is its ids'
// outcome: retried if any of its ids met a passing fault (the others are
// guarded by their rows' status, so the redelivery repeats nothing),
// dropped if none of them exists, else done.
func ofIDs(decode func(data []byte) ([]string, error), apply func(ctx context.Context, ids []string) []error) daprx.BulkHandler {
	return func(ctx context.Context, ms []daprx.Message) []error {
		errs := make([]error, len(ms))
		var all []string
		var of []int // message index of all[k]
		for i, m := range ms {
			list, err := decode(m.Data)
			if err == nil && len(list) == 0 {
				err = errors.New("names no row")
			}
			if err != nil {
				errs[i] = drop(m, err)
				continue
			}
			all = append(all, list...)
			for range list {
				of = append(of, i)
			}
		}
		if len(all) == 0 {
			return errs
		}
		missing, named := make([]int, len(ms)), make([]int, len(ms))
		unknown := make([]error, len(ms))
		for k, err := range apply(ctx, all) {
			i := of[k]
			named[i]++
			switch {
			case err == nil:
			case errors.Is(err, domain.ErrNotFound):
				missing[i]++
				unknown[i] = err
			case errs[i] == nil:
				errs[i] = err
			}
		}
		for i := range ms {
			if errs[i] == nil && named[i] > 0 && missing[i] == named[i] {
				errs[i] = fmt.Errorf("%w: %v", daprx.ErrDrop, unknown[i])
			}
		}
		return errs
	}
}

// Subscribe registers channels' consumers: its own three transactional
// messages and OMS's order events.
func Subscribe(svc common.Service, bulk Bulk, pubsub string, p Processor) error {
	bulk.SubscribeBulk(pubsub, TopicOrderReceived, "", receivedBulk, receivedWaitMs, ofIDs(func(data []byte) ([]string, error) {
		var ev OrderReceived
		err := json.Unmarshal(data, &ev)
		return ev.IDs(), err
	}, p.PlanAll))
	bulk.SubscribeBulk(pubsub, TopicPlanCreated, "", planBulk, planWaitMs, ofIDs(func(data []byte) ([]string, error) {
		var ev PlanCreated
		err := json.Unmarshal(data, &ev)
		return ev.IDs(), err
	}, p.OrderAll))
	bulk.SubscribeBulk(pubsub, TopicStatusQueued, "", statusBulk, statusWaitMs, ofIDs(func(data []byte) ([]string, error) {
		var ev StatusQueued
		err := json.Unmarshal(data, &ev)
		return ev.IDs(), err
	}, p.SendStatuses))
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
