// Package events is after-sales' published contract (topics and
// payloads) and its subscribers (subscribers.go).
package events

import "time"

// Topics after-sales publishes.
const (
	// TopicRequestAccepted: a request was stored; after-sales' own
	// subscriber starts its processing from it (the transactional message
	// of DOMAIN 5). The payload names the request; the subscriber reads
	// the request from the database, never from the event.
	TopicRequestAccepted = "aftersales.request.accepted"
	// TypeRequestAccepted is its payload type and version.
	TypeRequestAccepted = "aftersales.request.accepted.v1"
)

// RequestAccepted names an accepted request.
type RequestAccepted struct {
	RequestID  string    `json:"request_id"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
}

// Customer service's documents (DOMAIN 4) and the live feed.
const (
	// TopicDocumentSubmitted: a CS agent made a document; it waits for a
	// supervisor's audit (the console's live feed shows it).
	TopicDocumentSubmitted = "aftersales.document.submitted"
	// TopicDocumentAudited: a supervisor approved or rejected a document.
	TopicDocumentAudited = "aftersales.document.audited"
	// TopicDocumentProgressed: a forward document (reissue, exchange,
	// pull-back) took a step after its audit (Step names it).
	TopicDocumentProgressed = "aftersales.document.progressed"
)

// Document is a document's event (TopicDocumentSubmitted, TopicDocumentAudited).
type Document struct {
	RequestID  string    `json:"request_id"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	By         string    `json:"by"` // the author, or the auditor
	At         time.Time `json:"at"`
	// Step and Note: TopicDocumentProgressed's step (NEW_ORDER_PLACED...).
	Step string `json:"step,omitempty"`
	Note string `json:"note,omitempty"`
}

// Topics the console's live feed follows: new requests, documents
// awaiting audit, audits, documents' progress, customer service's actions
// (actions.go).
var FeedTopics = []string{TopicRequestAccepted, TopicDocumentSubmitted, TopicDocumentAudited, TopicDocumentProgressed, TopicActionRecorded}
