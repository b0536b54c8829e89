// Package outbox is the transactional outbox: events are written as rows in
// the same transaction as the business change they follow (Add), and a Relay
// publishes them after commit through Dapr pub/sub, at least once and in
// commit order per aggregate. Consumers deduplicate by the event id
// (package inbox), which turns at-least-once into exactly-once effects.
package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
)

// Event is one message to publish after the surrounding transaction commits.
type Event struct {
	Topic       string // <app>.<aggregate>.<past-tense verb>, e.g. oms.order.paid
	AggregateID string // events of one aggregate are published in order
	Type        string // payload type and version, e.g. oms.order.paid.v1
	Payload     any    // marshalled as JSON
}

// Add writes events into the outbox inside tx and returns their ids, which
// become the CloudEvent ids consumers deduplicate by.
func Add(ctx context.Context, tx *sql.Tx, events ...Event) ([]string, error) {
	if len(events) == 0 {
		return nil, nil
	}
	now := time.Now().UTC()
	var q strings.Builder
	q.WriteString(`INSERT INTO outbox (msg_id, topic, aggregate_id, event_type, payload, created_at) VALUES `)
	args := make([]any, 0, len(events)*6)
	out := make([]string, len(events))
	for i, e := range events {
		if e.Topic == "" || e.AggregateID == "" || e.Type == "" {
			return nil, fmt.Errorf("outbox: event %d lacks topic, aggregate or type", i)
		}
		body, err := json.Marshal(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("outbox: marshal %s: %w", e.Type, err)
		}
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?)")
		out[i] = ids.New()
		args = append(args, out[i], e.Topic, e.AggregateID, e.Type, body, now)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return nil, fmt.Errorf("outbox: insert: %w", err)
	}
	return out, nil
}

// Envelope is the CloudEvent the relay publishes; Dapr passes it through
// unchanged apart from adding its own routing fields, so the id survives.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}
