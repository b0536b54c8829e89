package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// ConfirmQC confirms QC on a picked cart (DOMAIN 7.2 step 1): the work
// orders checked short become QC_SHORT with their physical shortage; the
// rest are ready to pack. It returns the work orders with differences.
func (s *Service) ConfirmQC(ctx context.Context, warehouse, pickListID string) ([]string, error) {
	return s.store.ConfirmQC(ctx, warehouse, pickListID, s.now())
}

// SecondQC re-checks a QC_SHORT work order by its number (step 2): found
// items count; checked in full it is ready to pack again.
func (s *Service) SecondQC(ctx context.Context, warehouse, workOrderID, key, sku string, qty int64) (domain.WorkOrder, error) {
	if err := validKey(key); err != nil {
		return domain.WorkOrder{}, err
	}
	return s.store.SecondQC(ctx, warehouse, workOrderID, key, sku, qty, s.now())
}

// ConfirmShortage confirms the shortage still found at the second QC
// (step 3, 报缺重检确认) with the checker's reasons by SKU (DAMAGED,
// MISSING): the chain of the order's business type (domain.ChainFor)
// decides what ships, the loss records and the put-away of what does not
// ship, commits it all in one transaction, and tells customer service
// (wms.shortage.reported). Once per work order, by key.
func (s *Service) ConfirmShortage(ctx context.Context, warehouse, workOrderID, key string, reasons map[string]string) (domain.WorkOrder, domain.ShortageOutcome, error) {
	if err := validKey(key); err != nil {
		return domain.WorkOrder{}, domain.ShortageOutcome{}, err
	}
	for sku, r := range reasons {
		if r != domain.LossDamaged && r != domain.LossMissing {
			return domain.WorkOrder{}, domain.ShortageOutcome{}, fmt.Errorf("%w: reason %q of %s is not DAMAGED or MISSING", domain.ErrValidation, r, sku)
		}
	}
	w, o, err := s.store.ConfirmShortage(ctx, warehouse, workOrderID, key, domain.RequestHash(reasons), domain.RunChain,
		func(w domain.WorkOrder, orderID string, o domain.ShortageOutcome) outbox.Event {
			ev := events.ShortageReported{WorkOrderID: w.ID, WMSOrderID: w.WMSOrderID, OrderID: orderID, Warehouse: w.Warehouse,
				Status: string(w.Status), Lines: make([]events.ShortLine, len(o.Lines))}
			for i, l := range o.Lines {
				ev.Lines[i] = events.ShortLine{SKU: l.SKU, Ordered: l.Ordered, Short: l.Short, Ship: l.Ship, Withheld: l.Withheld, Reason: l.Reason}
			}
			return outbox.Event{Topic: events.TopicShortageReported, AggregateID: orderID, Type: events.TypeShortageReported, Payload: ev}
		}, reasons, s.now())
	if err == nil && o.NotifyCS {
		s.notify()
	}
	return w, o, err
}

// PutAwayTasks lists a warehouse's RF put-away tasks in a status.
func (s *Service) PutAwayTasks(ctx context.Context, warehouse string, status domain.TaskStatus, limit int) ([]domain.PutAwayTask, error) {
	return s.store.PutAwayTasks(ctx, warehouse, status, min(max(limit, 1), 200))
}

// ConfirmPutAway puts a task's units back into its bin (the scanned bin
// must be the task's): bin and ERP stock rise, and wms.stock.received
// (ReceiptID: the task's id) allocates work orders waiting for the SKU and
// makes the units sellable again in inventory. Idempotent by key.
func (s *Service) ConfirmPutAway(ctx context.Context, warehouse, id, key, operator, bin string) (domain.PutAwayTask, error) {
	if err := validKey(key); err != nil {
		return domain.PutAwayTask{}, err
	}
	if err := validOperator(operator); err != nil {
		return domain.PutAwayTask{}, err
	}
	t, err := s.store.ConfirmPutAway(ctx, warehouse, id, key, operator, bin, func(t domain.PutAwayTask) outbox.Event {
		return outbox.Event{Topic: events.TopicStockReceived, AggregateID: t.Warehouse + "/" + t.SKU, Type: events.TypeStockReceived,
			Payload: events.StockReceived{ReceiptID: t.ID, Warehouse: t.Warehouse, Bin: t.Bin, SKU: t.SKU, Batch: t.Batch, Qty: t.Qty}}
	}, s.now())
	if err == nil {
		s.notify()
	}
	return t, err
}

// PutStoreCustomer makes a customer a retail store whose orders take the
// business type bt's chain at a shortage (STORE_*; STANDARD makes it an
// ordinary customer again).
func (s *Service) PutStoreCustomer(ctx context.Context, customerID, bt string) error {
	if customerID == "" || len(customerID) > 64 {
		return fmt.Errorf("%w: customer id is required (at most 64 bytes)", domain.ErrValidation)
	}
	t, err := domain.ParseBusinessType(bt)
	if err != nil {
		return err
	}
	return s.store.PutStoreCustomer(ctx, customerID, t, s.now())
}
