package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

func validKey(key string) error {
	if key == "" || len(key) > 64 {
		return fmt.Errorf("%w: idempotency key is required (at most 64 bytes)", domain.ErrValidation)
	}
	return nil
}

func validOperator(who string) error {
	if who == "" || len(who) > 64 {
		return fmt.Errorf("%w: operator is required (at most 64 bytes)", domain.ErrValidation)
	}
	return nil
}

// CreatePickList puts 1..20 allocated work orders of one courier on a
// cart (DOMAIN 7.1 step 4), with one RF task per temperature zone and its
// walking plan. Idempotent by (warehouse, key).
func (s *Service) CreatePickList(ctx context.Context, warehouse, key, operator string, workOrderIDs []string) (domain.PickList, error) {
	if err := validKey(key); err != nil {
		return domain.PickList{}, err
	}
	if err := validOperator(operator); err != nil {
		return domain.PickList{}, err
	}
	if len(workOrderIDs) == 0 || len(workOrderIDs) > domain.MaxCart {
		return domain.PickList{}, fmt.Errorf("%w: a pick list takes 1..%d work orders, got %d", domain.ErrValidation, domain.MaxCart, len(workOrderIDs))
	}
	id, err := s.store.CreatePickList(ctx, warehouse, key, domain.RequestHash(workOrderIDs), operator, workOrderIDs,
		func(wos []domain.WorkOrder, ps map[string][]domain.Pick) (domain.PickList, error) {
			return domain.PlanPickList(warehouse, wos, ps, ids.New)
		}, func(pl domain.PickList) outbox.Event {
			ev := events.PickList{PickListID: pl.ID, Warehouse: pl.Warehouse, Carrier: pl.Carrier, Status: string(pl.Status), WorkOrders: pl.WorkOrder}
			for _, t := range pl.Tasks {
				ev.Tasks = append(ev.Tasks, t.ID)
			}
			return outbox.Event{Topic: events.TopicPickListCreated, AggregateID: pl.ID, Type: events.TypePickListCreated, Payload: ev}
		}, s.now())
	if err != nil {
		return domain.PickList{}, err
	}
	s.notify()
	return s.store.PickList(ctx, id)
}

// PickList returns a pick list of warehouse.
func (s *Service) PickList(ctx context.Context, warehouse, id string) (domain.PickList, error) {
	pl, err := s.store.PickList(ctx, id)
	if err == nil && pl.Warehouse != warehouse {
		return domain.PickList{}, fmt.Errorf("%w: pick list %s", domain.ErrWrongWarehouse, id)
	}
	return pl, err
}

// PickLists lists a warehouse's pick lists in a status.
func (s *Service) PickLists(ctx context.Context, warehouse string, status domain.PickListStatus, limit int) ([]domain.PickList, error) {
	return s.store.PickLists(ctx, warehouse, status, min(max(limit, 1), 100))
}

// Task returns an RF task of warehouse.
func (s *Service) Task(ctx context.Context, warehouse, id string) (domain.Task, error) {
	t, err := s.store.Task(ctx, id)
	if err == nil && t.Warehouse != warehouse {
		return domain.Task{}, fmt.Errorf("%w: task %s", domain.ErrWrongWarehouse, id)
	}
	return t, err
}

// ClaimTask gives an open RF task to a picker; two pickers never hold one.
func (s *Service) ClaimTask(ctx context.Context, warehouse, id, picker string) (domain.Task, error) {
	if err := validOperator(picker); err != nil {
		return domain.Task{}, err
	}
	return s.store.ClaimTask(ctx, warehouse, id, picker, s.now())
}

// ScanPick is one RF scan at the task's current step: bin, item and
// quantity; a wrong bin or item is refused (*domain.ScanError) and changes
// nothing; a right one deducts occupied and on-hand stock of the bin's
// batch (DOMAIN 7.1 step 5). Idempotent by (task, key).
func (s *Service) ScanPick(ctx context.Context, warehouse, id, picker, key, bin, sku string, qty int64) (domain.ScanResult, error) {
	if err := validKey(key); err != nil {
		return domain.ScanResult{}, err
	}
	if err := validOperator(picker); err != nil {
		return domain.ScanResult{}, err
	}
	r, err := s.store.Scan(ctx, warehouse, id, picker, key, bin, sku, qty, func(pl domain.PickList) outbox.Event {
		return outbox.Event{Topic: events.TopicPickListPicked, AggregateID: pl.ID, Type: events.TypePickListPicked,
			Payload: events.PickList{PickListID: pl.ID, Warehouse: pl.Warehouse, Status: string(pl.Status)}}
	}, func(t domain.Task, step int) outbox.Event {
		ev := events.TaskProgressed{TaskID: t.ID, PickListID: t.PickListID, Warehouse: t.Warehouse, Status: string(t.Status), StepNo: step, Steps: len(t.Steps)}
		for _, st := range t.Steps {
			if st.Picked >= st.Qty {
				ev.StepsDone++
			}
		}
		return outbox.Event{Topic: events.TopicTaskProgressed, AggregateID: t.ID, Type: events.TypeTaskProgressed, Payload: ev}
	}, s.now())
	if err == nil && !r.Duplicate {
		s.notify()
	}
	return r, err
}

// WorkOrder returns a work order of warehouse with its picks.
func (s *Service) WorkOrder(ctx context.Context, warehouse, id string) (domain.WorkOrder, []domain.Pick, error) {
	w, err := s.store.WorkOrder(ctx, id)
	if err != nil {
		return w, nil, err
	}
	if w.Warehouse != warehouse {
		return domain.WorkOrder{}, nil, fmt.Errorf("%w: work order %s", domain.ErrWrongWarehouse, id)
	}
	ps, err := s.store.Picks(ctx, id)
	return w, ps, err
}

// WorkOrders lists a warehouse's work orders in a status, oldest first.
func (s *Service) WorkOrders(ctx context.Context, warehouse string, status domain.WorkOrderStatus, after string, limit int) ([]domain.WorkOrder, error) {
	return s.store.WorkOrders(ctx, warehouse, status, after, min(max(limit, 1), 200))
}

// WorkOrdersOf lists the work orders a received order was split into.
func (s *Service) WorkOrdersOf(ctx context.Context, wmsOrderID string) ([]domain.WorkOrder, error) {
	return s.store.WorkOrdersOf(ctx, wmsOrderID)
}
