package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	asevents "github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/graph/model"
)

// AfterSales is the feed of after-sales events (the CS console's
// afterSalesEvents subscription): new requests, documents awaiting
// audit, audits, forward documents' progress, customer service's actions.
type AfterSales struct{ *Feed[*model.AfterSalesEvent] }

// NewAfterSales returns an after-sales feed whose subscriber channels hold buffer events.
func NewAfterSales(buffer int, log *slog.Logger) *AfterSales {
	return &AfterSales{NewFeed[*model.AfterSalesEvent]("after-sales", buffer, log)}
}

// AfterSalesTopics are the after-sales topics the feed follows.
var AfterSalesTopics = asevents.FeedTopics

// DecodeAfterSales turns one after-sales event into what console
// subscribers see; an unreadable payload wraps daprx.ErrDrop.
func DecodeAfterSales(topic string, data []byte) (*model.AfterSalesEvent, error) {
	switch topic {
	case asevents.TopicRequestAccepted:
		var e asevents.RequestAccepted
		if err := json.Unmarshal(data, &e); err != nil || e.RequestID == "" {
			return nil, bad(topic, err)
		}
		return &model.AfterSalesEvent{Type: model.AfterSalesEventTypeRequestAccepted, RequestID: e.RequestID, OrderID: e.OrderID, Kind: e.Kind}, nil
	case asevents.TopicDocumentSubmitted, asevents.TopicDocumentAudited:
		var e asevents.Document
		if err := json.Unmarshal(data, &e); err != nil || e.RequestID == "" {
			return nil, bad(topic, err)
		}
		t := model.AfterSalesEventTypeDocumentSubmitted
		if topic == asevents.TopicDocumentAudited {
			t = model.AfterSalesEventTypeDocumentAudited
		}
		return &model.AfterSalesEvent{Type: t, RequestID: e.RequestID, OrderID: e.OrderID, Kind: e.Kind, Status: optStr(e.Status), By: optStr(e.By)}, nil
	case asevents.TopicActionRecorded:
		var e asevents.ActionRecorded
		if err := json.Unmarshal(data, &e); err != nil || e.ActionID == "" {
			return nil, bad(topic, err)
		}
		done := "DONE"
		return &model.AfterSalesEvent{Type: model.AfterSalesEventTypeActionRecorded, RequestID: e.ActionID, OrderID: e.OrderID, Kind: e.Kind,
			Status: &done, By: optStr(e.By)}, nil
	case asevents.TopicDocumentProgressed:
		var e asevents.Document
		if err := json.Unmarshal(data, &e); err != nil || e.RequestID == "" {
			return nil, bad(topic, err)
		}
		return &model.AfterSalesEvent{Type: model.AfterSalesEventTypeDocumentProgressed, RequestID: e.RequestID, OrderID: e.OrderID, Kind: e.Kind,
			Status: optStr(e.Status), By: optStr(e.By), Step: optStr(e.Step), Note: optStr(e.Note)}, nil
	}
	return nil, fmt.Errorf("topic %q is not followed: %w", topic, daprx.ErrDrop)
}

// Handle is the daprx.Handler for the after-sales topics.
func (f *AfterSales) Handle(_ context.Context, m daprx.Message) error {
	e, err := DecodeAfterSales(m.Topic, m.Data)
	if err != nil {
		return err
	}
	f.Publish(e)
	return nil
}
