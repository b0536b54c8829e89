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
	if err := checkReason(reason); err != nil {
		return domain.Interception{}, err
	}
	return s.store.Intercept(ctx, deliveryOrderID, reason, s.now())
}

// maxInterceptAll bounds one all-or-none interception: an order splits
// into a handful of delivery orders, never hundreds.
const maxInterceptAll = 50

// InterceptAll stops an order's delivery orders all or none (the reverse
// flow's cancel): one of them past interception fails the lot with
// domain.ErrTooLateToIntercept naming it, and nothing is intercepted, so a
// refused cancel never leaves part of the order stopped. Idempotent as
// Intercept is.
func (s *Service) InterceptAll(ctx context.Context, ids []string, reason string) ([]domain.Interception, error) {
	reason = strings.TrimSpace(reason)
	if len(ids) == 0 || len(ids) > maxInterceptAll {
		return nil, fmt.Errorf("%w: delivery_order_ids must hold 1-%d ids, got %d", domain.ErrValidation, maxInterceptAll, len(ids))
	}
	clean := make([]string, len(ids))
	for i, id := range ids {
		if clean[i] = strings.TrimSpace(id); clean[i] == "" || len(clean[i]) > 64 {
			return nil, fmt.Errorf("%w: delivery_order_ids[%d] must be 1-64 characters", domain.ErrValidation, i)
		}
	}
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	return s.store.InterceptAll(ctx, clean, reason, s.now())
}

func checkReason(reason string) error {
	if reason == "" || len(reason) > 255 {
		return fmt.Errorf("%w: reason must be 1-255 characters", domain.ErrValidation)
	}
	return nil
}
