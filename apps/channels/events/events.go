// Package events is channels' published contract (topics and payloads)
// and its subscribers (subscribers.go). Its own topics are the
// transactional messages of DOMAIN 6.2, each written in the transaction
// of the step before: a staged order makes its plan, a plan its order, a
// queued status its call to the platform. Payloads name the rows; the
// subscriber reads the rows, never the event.
//
// Since v2 one message names every row its transaction wrote (a group of
// pushes staged together, the plans of one planning bulk, the statuses
// one ordering bulk queued), not one message per row: a group buy's burst
// of 50,000 orders was 150,000 messages through the sidecars and the
// broker, whose shared delivery workers the slower topics then held while
// channels.order.received waited. The subscribers still read v1 (one id),
// which the rows written before v2 carry.
package events

import (
	"encoding/json"
	"fmt"
)

// Topics channels publishes (and consumes itself).
const (
	TopicOrderReceived = "channels.order.received"
	TypeOrderReceived  = "channels.order.received.v2"
	TopicPlanCreated   = "channels.plan.created"
	TypePlanCreated    = "channels.plan.created.v2"
	TopicStatusQueued  = "channels.status.queued"
	TypeStatusQueued   = "channels.status.queued.v2"
)

// MaxIDs bounds the ids one message names (the largest group a step
// writes in one transaction).
const MaxIDs = 200

// OrderReceived names staged orders: ProcessIDs (v2) those staged in one
// transaction, ProcessID (v1) one.
type OrderReceived struct {
	ProcessIDs []string `json:"process_ids,omitempty"`
	ProcessID  string   `json:"process_id,omitempty"`
	Platform   string   `json:"platform,omitempty"`
}

// IDs are the staged orders the message names.
func (e OrderReceived) IDs() []string { return idsOf(e.ProcessIDs, e.ProcessID) }

// PlanCreated names sales plans ready to become orders: PlanIDs (v2)
// those made in one transaction, PlanID (v1) one.
type PlanCreated struct {
	PlanIDs []string `json:"plan_ids,omitempty"`
	PlanID  string   `json:"plan_id,omitempty"`
}

// IDs are the plans the message names.
func (e PlanCreated) IDs() []string { return idsOf(e.PlanIDs, e.PlanID) }

// StatusQueued names statuses owed to platforms: UpdateIDs (v2) those
// queued in one transaction, UpdateID (v1) one.
type StatusQueued struct {
	UpdateIDs []string `json:"update_ids,omitempty"`
	UpdateID  string   `json:"update_id,omitempty"`
}

// IDs are the status updates the message names.
func (e StatusQueued) IDs() []string { return idsOf(e.UpdateIDs, e.UpdateID) }

// idsOf is a message's ids, without empty ones (a payload naming none
// is malformed).
func idsOf(list []string, one string) []string {
	out := make([]string, 0, len(list)+1)
	for _, id := range list {
		if id != "" {
			out = append(out, id)
		}
	}
	if one != "" {
		out = append(out, one)
	}
	return out
}

// IDsOf decodes the ids a payload of one of channels' topics names (for
// operators and tests reading the outbox).
func IDsOf(topic string, payload []byte) ([]string, error) {
	var ev interface{ IDs() []string }
	switch topic {
	case TopicOrderReceived:
		ev = &OrderReceived{}
	case TopicPlanCreated:
		ev = &PlanCreated{}
	case TopicStatusQueued:
		ev = &StatusQueued{}
	default:
		return nil, fmt.Errorf("%s is not one of channels' topics", topic)
	}
	if err := json.Unmarshal(payload, ev); err != nil {
		return nil, fmt.Errorf("%s payload: %w", topic, err)
	}
	return ev.IDs(), nil
}
