// Package events is channels' published contract (topics and payloads)
// and its subscribers (subscribers.go). Its own topics are the
// transactional messages of DOMAIN 6.2, each written in the transaction
// of the step before: a staged order makes its plan, a plan its order, a
// queued status its call to the platform. Payloads name the row; the
// subscriber reads the row, never the event.
package events

// Topics channels publishes (and consumes itself).
const (
	TopicOrderReceived = "channels.order.received"
	TypeOrderReceived  = "channels.order.received.v1"
	TopicPlanCreated   = "channels.plan.created"
	TypePlanCreated    = "channels.plan.created.v1"
	TopicStatusQueued  = "channels.status.queued"
	TypeStatusQueued   = "channels.status.queued.v1"
)

// OrderReceived names a staged order.
type OrderReceived struct {
	ProcessID string `json:"process_id"`
	Platform  string `json:"platform"`
}

// PlanCreated names a sales plan ready to become an order.
type PlanCreated struct {
	PlanID string `json:"plan_id"`
}

// StatusQueued names a status owed to a platform.
type StatusQueued struct {
	UpdateID string `json:"update_id"`
}
