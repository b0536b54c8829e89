package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// SplitOrder splits a received order into work orders by temperature zone
// and the own-box rules (DOMAIN 7.1 step 2), on its wms.order.received
// message msgID; each work order's wms.workorder.created starts its
// allocation. A redelivery changes nothing.
func (s *Service) SplitOrder(ctx context.Context, msgID, wmsOrderID string) ([]domain.WorkOrder, error) {
	wos, err := s.store.Split(ctx, msgID, wmsOrderID, func(o domain.Order, its map[string]domain.Item) ([]domain.WorkOrder, error) {
		return domain.Split(o, its, ids.New)
	}, func(wos []domain.WorkOrder) []outbox.Event {
		evs := make([]outbox.Event, len(wos))
		for i, w := range wos {
			evs[i] = workOrderEvent(w, events.TopicWorkOrderCreated, events.TypeWorkOrderCreated)
		}
		return evs
	}, s.now())
	if err != nil {
		return nil, fmt.Errorf("split %s: %w", wmsOrderID, err)
	}
	if len(wos) > 0 {
		s.notify()
	}
	return wos, nil
}

func workOrderEvent(w domain.WorkOrder, topic, typ string) outbox.Event {
	return outbox.Event{Topic: topic, AggregateID: w.ID, Type: typ, Payload: events.WorkOrder{WorkOrderID: w.ID, WMSOrderID: w.WMSOrderID,
		Warehouse: w.Warehouse, Zone: string(w.Zone), Handling: string(w.Handling), Status: string(w.Status), Reason: w.Reason, Carrier: w.Carrier}}
}

// AllocateWorkOrder occupies bin stock for a work order (DOMAIN 7.1 step
// 3): pick area first, then reserve, first-expiring first; a shortage
// leaves it WAITING_STOCK with its reason (wms.workorder.suspended).
// A work order past allocation is returned as it stands.
func (s *Service) AllocateWorkOrder(ctx context.Context, id string) (domain.WorkOrder, error) {
	w, err := s.store.Allocate(ctx, id, func(w domain.WorkOrder) outbox.Event {
		if w.Status == domain.WOAllocated {
			return workOrderEvent(w, events.TopicWorkOrderAllocated, events.TypeWorkOrderAllocated)
		}
		return workOrderEvent(w, events.TopicWorkOrderSuspended, events.TypeWorkOrderSuspended)
	}, s.now())
	if err != nil {
		return w, fmt.Errorf("allocate %s: %w", id, err)
	}
	s.notify()
	return w, nil
}

// releaseBatch bounds how many waiting work orders one receipt retries at
// once; the rest wait for the next receipt of their SKU.
const releaseBatch = 500

// ReleaseWaiting allocates again, oldest first, the work orders of a
// warehouse waiting for stock of sku (on wms.stock.received), up to
// releaseBatch of them; one still short stays waiting, and a later, smaller
// one may still fit. It returns how many it allocated.
func (s *Service) ReleaseWaiting(ctx context.Context, warehouse, sku string) (int, error) {
	waiting, err := s.store.Waiting(ctx, warehouse, sku, releaseBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range waiting {
		w, err := s.AllocateWorkOrder(ctx, id)
		if err != nil {
			return n, err
		}
		if w.Status == domain.WOAllocated {
			n++
		}
	}
	return n, nil
}
