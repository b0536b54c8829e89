// Package events holds inventory's side of pub/sub: inventory publishes no
// topics of its own yet; it consumes OMS's order events (subscribers.go)
// to confirm and release reservations.
package events
