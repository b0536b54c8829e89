package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/harvest/harvest/apps/platform/daprx"
	wmsevents "github.com/harvest/harvest/apps/wms/events"
	"github.com/harvest/harvest/graph/model"
)

// Floor is the feed of the warehouse floor's events (the console's
// warehouseEvents subscription).
type Floor struct{ *Feed[*model.WarehouseEvent] }

// NewFloor returns a floor feed whose subscriber channels hold buffer events.
func NewFloor(buffer int, log *slog.Logger) *Floor {
	return &Floor{NewFeed[*model.WarehouseEvent]("warehouse", buffer, log)}
}

// FloorTopics are the WMS topics the floor feed follows.
var FloorTopics = []string{wmsevents.TopicWorkOrderCreated, wmsevents.TopicWorkOrderAllocated, wmsevents.TopicWorkOrderSuspended,
	wmsevents.TopicPickListCreated, wmsevents.TopicPickListPicked, wmsevents.TopicTaskProgressed}

var workOrderTypes = map[string]model.WarehouseEventType{
	wmsevents.TopicWorkOrderCreated:   model.WarehouseEventTypeWorkOrderCreated,
	wmsevents.TopicWorkOrderAllocated: model.WarehouseEventTypeWorkOrderAllocated,
	wmsevents.TopicWorkOrderSuspended: model.WarehouseEventTypeWorkOrderSuspended,
}

// DecodeFloor turns one WMS event into the event console subscribers see;
// an unreadable payload wraps daprx.ErrDrop.
func DecodeFloor(topic string, data []byte) (*model.WarehouseEvent, error) {
	switch topic {
	case wmsevents.TopicWorkOrderCreated, wmsevents.TopicWorkOrderAllocated, wmsevents.TopicWorkOrderSuspended:
		var e wmsevents.WorkOrder
		if err := json.Unmarshal(data, &e); err != nil || e.WorkOrderID == "" {
			return nil, bad(topic, err)
		}
		return &model.WarehouseEvent{Type: workOrderTypes[topic], Warehouse: e.Warehouse, ID: e.WorkOrderID, Status: e.Status, Reason: optStr(e.Reason)}, nil
	case wmsevents.TopicPickListCreated, wmsevents.TopicPickListPicked:
		var e wmsevents.PickList
		if err := json.Unmarshal(data, &e); err != nil || e.PickListID == "" {
			return nil, bad(topic, err)
		}
		t := model.WarehouseEventTypePickListCreated
		if topic == wmsevents.TopicPickListPicked {
			t = model.WarehouseEventTypePickListPicked
		}
		return &model.WarehouseEvent{Type: t, Warehouse: e.Warehouse, ID: e.PickListID, Status: e.Status}, nil
	case wmsevents.TopicTaskProgressed:
		var e wmsevents.TaskProgressed
		if err := json.Unmarshal(data, &e); err != nil || e.TaskID == "" {
			return nil, bad(topic, err)
		}
		step, done, steps := int64(e.StepNo), int64(e.StepsDone), int64(e.Steps)
		return &model.WarehouseEvent{Type: model.WarehouseEventTypeTaskProgressed, Warehouse: e.Warehouse, ID: e.TaskID, Status: e.Status,
			PickListID: optStr(e.PickListID), StepNo: &step, StepsDone: &done, Steps: &steps}, nil
	}
	return nil, fmt.Errorf("topic %q is not followed: %w", topic, daprx.ErrDrop)
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Handle is the daprx.Handler for the WMS topics: decode and publish (no
// state a redelivery could double, as for orders).
func (f *Floor) Handle(_ context.Context, m daprx.Message) error {
	e, err := DecodeFloor(m.Topic, m.Data)
	if err != nil {
		return err
	}
	f.Publish(e)
	return nil
}
