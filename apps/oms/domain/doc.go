// Package domain is the order model of OMS: the Order aggregate with its
// state machine (PENDING_PAYMENT → PAID → FULFILLING → DISPATCHED → SHIPPED
// → COMPLETED, or CANCELLED before dispatch), the rules of order sources (which ones pay
// cash, DOMAIN 1.1/1.3), the validation of an accept-order call (DOMAIN 1.2),
// the payment deadline (DOMAIN 1.4), and the pure rules of fulfillment
// (DOMAIN 1.6): amount checks, allocation, split and effective time.
//
// It is pure: no I/O, and no clock of its own; callers pass the time they
// read from a clock.Clock, so tests set it. The only non-std import is the
// platform's money.Fen, a business-free value type for amounts.
package domain
