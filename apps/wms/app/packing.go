package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// QCView is what the checker sees after scanning a cart's container: the
// pick list's work orders in slot order, with what each needs.
func (s *Service) QCView(ctx context.Context, warehouse, pickListID string) (domain.PickList, []domain.WorkOrder, error) {
	pl, err := s.PickList(ctx, warehouse, pickListID)
	if err != nil {
		return pl, nil, err
	}
	wos := make([]domain.WorkOrder, len(pl.WorkOrder))
	for i, id := range pl.WorkOrder {
		if wos[i], err = s.store.WorkOrder(ctx, id); err != nil {
			return pl, nil, err
		}
	}
	return pl, wos, nil
}

// QCScan checks qty units of an item off a picked cart and says which work
// order (slot) it goes to. Idempotent by (pick list, key).
func (s *Service) QCScan(ctx context.Context, warehouse, pickListID, key, sku string, qty int64) (domain.QCResult, error) {
	if err := validKey(key); err != nil {
		return domain.QCResult{}, err
	}
	return s.store.QCScan(ctx, warehouse, pickListID, key, sku, qty, s.now())
}

// PackInput is one box: its contents and, when weighed, its weight.
type PackInput struct {
	Lines   []domain.Line
	WeightG int64
}

// Pack packs a checked work order into boxes (DOMAIN 7.1 steps 6-7): every
// checked unit in one box; when the courier requires it, every box weighed
// within the tolerance of its expected weight (*domain.WeightError
// otherwise). Idempotent by key; a work order is packed once.
func (s *Service) Pack(ctx context.Context, warehouse, workOrderID, key string, boxes []PackInput) ([]domain.Box, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	contents := make([][]domain.Line, len(boxes))
	var weights []int64
	for i, b := range boxes {
		contents[i] = b.Lines
		if b.WeightG != 0 && weights == nil {
			weights = make([]int64, len(boxes))
		}
	}
	for i, b := range boxes {
		if weights != nil {
			weights[i] = b.WeightG
		}
	}
	return s.store.Pack(ctx, warehouse, workOrderID, key, domain.RequestHash(boxes), func(w domain.WorkOrder, unit map[string]int64) ([]domain.Box, error) {
		return domain.PlanBoxes(w, contents, weights, unit, s.weigh[w.Carrier], ids.New)
	}, s.now())
}

// Boxes returns a work order's boxes.
func (s *Service) Boxes(ctx context.Context, warehouse, workOrderID string) ([]domain.Box, error) {
	if _, _, err := s.WorkOrder(ctx, warehouse, workOrderID); err != nil {
		return nil, err
	}
	return s.store.Boxes(ctx, workOrderID)
}

// Handover forms the handover batch of a courier's packed parcels
// (DOMAIN 7.1 step 8): outbound is complete, and wms.handover.completed
// imports the parcels into TMS. Idempotent by (warehouse, key).
func (s *Service) Handover(ctx context.Context, warehouse, carrier, key string) (domain.Handover, error) {
	if err := validKey(key); err != nil {
		return domain.Handover{}, err
	}
	if carrier == "" || len(carrier) > 32 {
		return domain.Handover{}, fmt.Errorf("%w: carrier is required (at most 32 bytes)", domain.ErrValidation)
	}
	h, err := s.store.Handover(ctx, warehouse, carrier, key, func(h domain.Handover) outbox.Event {
		return outbox.Event{Topic: events.TopicHandoverCompleted, AggregateID: h.ID, Type: events.TypeHandoverCompleted, Payload: handoverEvent(h)}
	}, s.now())
	if err == nil && !h.Duplicate {
		s.notify()
	}
	return h, err
}

func handoverEvent(h domain.Handover) events.HandoverCompleted {
	ev := events.HandoverCompleted{BatchID: h.ID, Warehouse: h.Warehouse, Carrier: h.Carrier, Parcels: make([]events.Parcel, len(h.Parcels))}
	for i, p := range h.Parcels {
		ev.Parcels[i] = parcelEvent(p)
	}
	return ev
}

func parcelEvent(p domain.Parcel) events.Parcel {
	return events.Parcel{ParcelID: p.ParcelID, BoxNo: p.BoxNo, WorkOrderID: p.WorkOrderID, DeliveryOrderID: p.DeliveryOrderID,
		OrderID: p.OrderID, Carrier: p.Carrier, WaybillNo: p.WaybillNo, WeightG: p.WeightG, State: p.Tracking,
		Lines: eventLines(p.Contents), Refused: eventLines(p.Refused)}
}

func eventLines(ls []domain.ParcelLine) []events.ParcelLine {
	var out []events.ParcelLine
	for _, l := range ls {
		out = append(out, events.ParcelLine{SKU: l.SKU, Qty: l.Qty})
	}
	return out
}
