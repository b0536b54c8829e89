package domain

import "fmt"

// Status is where an order stands in its life.
type Status string

// Order statuses. CANCELLED is only reachable before any delivery order is
// handed to a warehouse or supplier (DISPATCHED), so an order is never both
// cancelled and fulfilled: the fraud audit (fulfillment stage 8) may still
// cancel a FULFILLING order, because dispatch (stage 16) comes after it.
const (
	StatusPendingPayment Status = "PENDING_PAYMENT"
	StatusPaid           Status = "PAID" // paid, or needs no payment: fulfillment may start
	StatusCancelled      Status = "CANCELLED"
	StatusFulfilling     Status = "FULFILLING" // in the fulfillment pipeline (DOMAIN 1.6)
	StatusDispatched     Status = "DISPATCHED" // every delivery order handed to its warehouse or supplier
	StatusShipped        Status = "SHIPPED"
	StatusCompleted      Status = "COMPLETED"
)

var statuses = map[Status]bool{
	StatusPendingPayment: true, StatusPaid: true, StatusCancelled: true,
	StatusFulfilling: true, StatusDispatched: true, StatusShipped: true, StatusCompleted: true,
}

// ParseStatus turns a stored or wire value into a Status.
func ParseStatus(s string) (Status, error) {
	if !statuses[Status(s)] {
		return "", fmt.Errorf("%w: %q", ErrUnknownStatus, s)
	}
	return Status(s), nil
}

// CancelReason says why an order was cancelled.
type CancelReason string

// Cancel reasons (the same words as the oms.order.cancelled event).
const (
	ReasonCustomer CancelReason = "CUSTOMER"
	ReasonExpired  CancelReason = "PAYMENT_EXPIRED"
	ReasonFraud    CancelReason = "FRAUD"
	ReasonService  CancelReason = "CUSTOMER_SERVICE"
)

// EventType names an entry of an order's timeline.
type EventType string

// Timeline entry types.
const (
	EventPlaced          EventType = "PLACED"
	EventPaid            EventType = "PAID"
	EventCancelled       EventType = "CANCELLED"
	EventExpired         EventType = "EXPIRED"
	EventPaymentRejected EventType = "PAYMENT_REJECTED"
	EventCancelRequested EventType = "CANCEL_REQUESTED"
	EventFulfilling      EventType = "FULFILLING"
	EventDispatched      EventType = "DISPATCHED"
	EventShipped         EventType = "SHIPPED"
	EventCompleted       EventType = "COMPLETED"
	// EventRefused: the customer refused a parcel at the door; the order
	// stays SHIPPED and the reverse flow takes the rejection (DOMAIN 4.3).
	EventRefused EventType = "REFUSED"
	// EventShortage: the warehouse confirmed a shortage of the order at QC
	// and ships what is good (DOMAIN 7.2); customer service reads it here.
	EventShortage EventType = "SHORTAGE"
)
