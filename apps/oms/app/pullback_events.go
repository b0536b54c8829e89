package app

import (
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// PaidEvent is the oms.order.paid event of o, for a use case outside
// this package that makes a paid order (a pull-back's new order, made in
// fulfillment's transaction): its consumer starts the order's fulfillment.
func PaidEvent(o *domain.Order, at time.Time) outbox.Event { return paidEvent(o, at) }

// PullBackKey is the idempotency key a pull-back's new order is stored
// under (with the customer): one new order per pull-back document.
func PullBackKey(key string) string { return "pull-back:" + key }
