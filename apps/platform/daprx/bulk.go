package daprx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// bulkDeliverySize shows whether bulks fill: a delivery far below its
// subscription's maximum means the sidecar flushed on its wait, not its
// count (for Redis Streams, at most the component's concurrency can be
// gathered, each message holding one of its workers).
var bulkDeliverySize = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "harvest_bulk_delivery_messages",
	Help:    "Messages per bulk delivery from the sidecar, by topic.",
	Buckets: []float64{1, 4, 16, 32, 64, 128, 256, 512, 1024},
}, []string{"topic"})

// Bulk subscriptions.
//
// A message delivered alone costs its sidecar an HTTP request to the app
// and the app a request of its own, on top of what handling it does; for
// the consumers that see every order (inventory confirming reservations,
// the gateway's live feed) that was a fixed cost per order. Subscribed in
// bulk, the sidecar hands the app whatever arrived within a short wait, up
// to a count, in one request, and the app answers a status per message, so
// one failing message is retried alone. A BulkHandler may also apply the
// whole bulk at once (one UPDATE for a hundred confirmations).
//
// The go-sdk's HTTP service neither declares bulk subscriptions nor parses
// their requests; runtime.App.SubscribeBulk declares them on the service's
// /dapr/subscribe answer and serves ServeBulk at their route.

// BulkHandler applies the messages of a bulk and answers one error per
// message, in their order: nil for applied (or applied before), ErrDrop
// for a message that can never succeed, any other error to retry it.
type BulkHandler func(ctx context.Context, ms []Message) []error

// BulkSubscription is how a bulk subscription is declared to the sidecar
// on /dapr/subscribe (Dapr's SubscriptionJSON).
type BulkSubscription struct {
	PubsubName string `json:"pubsubname"`
	Topic      string `json:"topic"`
	Routes     struct {
		Rules   []BulkRule `json:"rules,omitempty"`
		Default string     `json:"default,omitempty"`
	} `json:"routes"`
	BulkSubscribe struct {
		Enabled            bool  `json:"enabled"`
		MaxMessagesCount   int32 `json:"maxMessagesCount,omitempty"`
		MaxAwaitDurationMs int32 `json:"maxAwaitDurationMs,omitempty"`
	} `json:"bulkSubscribe"`
}

// BulkRule routes the messages matching a CEL expression.
type BulkRule struct {
	Match string `json:"match"`
	Path  string `json:"path"`
}

// BulkRoute is the app route a bulk subscription to topic is delivered to.
func BulkRoute(topic string) string { return "/events-bulk/" + topic }

// NewBulkSubscription declares a bulk subscription to topic: up to max
// messages per delivery, waiting at most waitMs for them; with match, only
// the messages matching it are delivered (the others are acknowledged).
func NewBulkSubscription(pubsub, topic, match string, max, waitMs int32) BulkSubscription {
	s := BulkSubscription{PubsubName: pubsub, Topic: topic}
	if match != "" {
		s.Routes.Rules = []BulkRule{{Match: match, Path: BulkRoute(topic)}}
	} else {
		s.Routes.Default = BulkRoute(topic)
	}
	s.BulkSubscribe.Enabled = true
	s.BulkSubscribe.MaxMessagesCount = max
	s.BulkSubscribe.MaxAwaitDurationMs = waitMs
	return s
}

type bulkEnvelope struct {
	Topic   string `json:"topic"`
	Entries []struct {
		EntryID     string          `json:"entryId"`
		Event       json.RawMessage `json:"event"`
		ContentType string          `json:"contentType"`
	} `json:"entries"`
}

type cloudEvent struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	Type       string          `json:"type"`
	Subject    string          `json:"subject"`
	Data       json.RawMessage `json:"data"`
	DataBase64 string          `json:"data_base64"`
}

type bulkStatus struct {
	EntryID string `json:"entryId"`
	Status  string `json:"status"` // SUCCESS, RETRY or DROP
}

// ServeBulk serves a bulk subscription's deliveries with h.
func ServeBulk(topic string, h BulkHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var env bulkEnvelope
		// Read leniently: the envelope carries more than this reads.
		if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
			// The sidecar retries the whole bulk on an error answer.
			p := httpapi.BodyError(err)
			if p.Code == httpapi.CodeBadRequest {
				p.Message = "malformed bulk: " + err.Error()
			}
			httpapi.WriteError(w, r, p)
			return
		}
		bulkDeliverySize.WithLabelValues(topic).Observe(float64(len(env.Entries)))
		statuses := make([]bulkStatus, len(env.Entries))
		var ms []Message
		var at []int // index in statuses of ms[i]
		for i, e := range env.Entries {
			statuses[i].EntryID = e.EntryID
			m, err := decodeEntry(topic, e.Event)
			if err != nil {
				slog.WarnContext(r.Context(), "dropping undecodable message", "topic", topic, "entry", e.EntryID, "err", err)
				statuses[i].Status = "DROP"
				continue
			}
			ms = append(ms, m)
			at = append(at, i)
		}
		var errs []error
		if len(ms) > 0 {
			errs = h(r.Context(), ms)
		}
		for j, i := range at {
			var err error
			if j < len(errs) {
				err = errs[j]
			}
			switch {
			case err == nil:
				statuses[i].Status = "SUCCESS"
			case errors.Is(err, ErrDrop):
				slog.WarnContext(r.Context(), "dropping message", "topic", topic, "id", ms[j].ID, "err", err)
				statuses[i].Status = "DROP"
			default:
				slog.WarnContext(r.Context(), "message will be retried", "topic", topic, "id", ms[j].ID, "err", err)
				statuses[i].Status = "RETRY"
			}
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"statuses": statuses})
	}
}

// decodeEntry reads one entry's CloudEvent; the sidecar sends it as a JSON
// object, or as a JSON string holding one.
func decodeEntry(topic string, raw json.RawMessage) (Message, error) {
	var ce cloudEvent
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Message{}, err
		}
		raw = json.RawMessage(s)
	}
	if err := json.Unmarshal(raw, &ce); err != nil {
		return Message{}, err
	}
	data := []byte(ce.Data)
	if ce.DataBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(ce.DataBase64)
		if err != nil {
			return Message{}, err
		}
		data = b
	}
	if ce.Topic != "" {
		topic = ce.Topic
	}
	return Message{ID: ce.ID, Topic: topic, Type: ce.Type, Subject: ce.Subject, Data: data}, nil
}

// EachMessageAtOnce is a BulkHandler that applies h to every message at
// the same time, each in a goroutine of its own, for consumers that group
// concurrent work themselves (one transaction for the calls that arrive
// together): a bulk then becomes a few groups instead of one call each.
func EachMessageAtOnce(h Handler) BulkHandler {
	return func(ctx context.Context, ms []Message) []error {
		errs := make([]error, len(ms))
		var wg sync.WaitGroup
		for i, m := range ms {
			wg.Go(func() { errs[i] = h(ctx, m) })
		}
		wg.Wait()
		return errs
	}
}

// EachMessage is a BulkHandler that applies h to each message in turn, for
// consumers whose effect is per message anyway: the bulk still saves the
// per-message delivery.
func EachMessage(h Handler) BulkHandler {
	return func(ctx context.Context, ms []Message) []error {
		errs := make([]error, len(ms))
		for i, m := range ms {
			errs[i] = h(ctx, m)
		}
		return errs
	}
}
