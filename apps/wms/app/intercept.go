package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/wms/domain"
)

// Intercept stops a delivery order for the reverse flow (DOMAIN 5 step 2):
// a received one is marked INTERCEPTED, one not received yet is refused
// when it arrives. Idempotent; too late once the order moved past RECEIVED.
func (s *Service) Intercept(ctx context.Context, deliveryOrderID, reason string) (domain.Interception, error) {
	deliveryOrderID, reason = strings.TrimSpace(deliveryOrderID), strings.TrimSpace(reason)
	if deliveryOrderID == "" || len(deliveryOrderID) > 64 {
		return domain.Interception{}, fmt.Errorf("%w: delivery order id must be 1-64 characters", domain.ErrValidation)
	}
	if reason == "" || len(reason) > 255 {
		return domain.Interception{}, fmt.Errorf("%w: reason must be 1-255 characters", domain.ErrValidation)
	}
	return s.store.Intercept(ctx, deliveryOrderID, reason, s.now())
}
