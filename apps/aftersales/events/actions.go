package events

import "time"

// Customer service's actions (DOMAIN 4).
const (
	// TopicActionRecorded: an action was carried out and recorded DONE
	// (the console's live feed shows it).
	TopicActionRecorded = "aftersales.action.recorded"
	// TypeActionRecorded is its payload type and version.
	TypeActionRecorded = "aftersales.action.recorded.v1"
)

// ActionRecorded is a recorded action: what, on which order or
// customer, by whom, why, and its owner's answer.
type ActionRecorded struct {
	ActionID   string    `json:"action_id"`
	Kind       string    `json:"kind"`
	OrderID    string    `json:"order_id,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	By         string    `json:"by"`
	Reason     string    `json:"reason"`
	Result     string    `json:"result,omitempty"`
	At         time.Time `json:"at"`
}
