package daprx

import (
	"context"
	"errors"
	"log/slog"

	"github.com/dapr/go-sdk/service/common"
)

// Message is what a subscriber's handler receives.
type Message struct {
	ID      string // the CloudEvent id, what inboxes deduplicate by
	Topic   string
	Type    string
	Subject string
	Data    []byte // the JSON payload
}

// Handler applies one message. Return nil on success (also for a message
// already applied), an error wrapping ErrDrop for a message that can never
// succeed, and any other error for a passing fault to be retried.
type Handler func(ctx context.Context, m Message) error

// Subscribe registers a thin subscriber for topic on svc.
func Subscribe(svc common.Service, pubsub, topic string, h Handler) error {
	sub := &common.Subscription{
		PubsubName: pubsub,
		Topic:      topic,
		Route:      "/events/" + topic,
	}
	return svc.AddTopicEventHandler(sub, func(ctx context.Context, e *common.TopicEvent) (retry bool, err error) {
		m := Message{ID: e.ID, Topic: e.Topic, Type: e.Type, Subject: e.Subject, Data: e.RawData}
		if err := h(ctx, m); err != nil {
			if errors.Is(err, ErrDrop) {
				slog.WarnContext(ctx, "dropping message", "topic", topic, "id", e.ID, "err", err)
				return false, err
			}
			slog.WarnContext(ctx, "message will be retried", "topic", topic, "id", e.ID, "err", err)
			return true, err
		}
		return false, nil
	})
}
