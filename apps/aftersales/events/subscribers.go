package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/platform/daprx"
)

// Processor is what the subscriber runs (*app.Service): it reads the
// request from after-sales' own database and moves it on; every step is
// idempotent, so a redelivery only repeats what is done.
type Processor interface {
	Process(ctx context.Context, id string) error
}

// Subscribe registers after-sales' consumer of its own accepted requests.
// The event carries only the request id; an unknown id is dropped.
func Subscribe(svc common.Service, pubsub string, p Processor, waiting func(error) bool, notFound func(error) bool) error {
	h := func(ctx context.Context, m daprx.Message) error {
		var ev RequestAccepted
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.RequestID == "" {
			return fmt.Errorf("%w: %s payload: %v", daprx.ErrDrop, m.Topic, err)
		}
		err := p.Process(ctx, ev.RequestID)
		switch {
		case err == nil, waiting(err):
			return nil // the sweep comes back for it
		case notFound(err):
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	}
	if err := daprx.Subscribe(svc, pubsub, TopicRequestAccepted, h); err != nil {
		return fmt.Errorf("subscribe %s: %w", TopicRequestAccepted, err)
	}
	return nil
}
