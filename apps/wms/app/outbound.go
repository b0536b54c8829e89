package app

import (
	"context"
	"time"

	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
)

// Outbound is what the outbound use cases (DOMAIN 7.1, 7.3) need
// persisted. Every method that moves stock or advances a document is one
// transaction with the events it is given, and idempotent by its key or
// guarded by the document's status.
type Outbound interface {
	PutItem(ctx context.Context, it domain.Item, now time.Time) error
	Items(ctx context.Context, skus []string) (map[string]domain.Item, error)
	PutZone(ctx context.Context, z domain.Zone, now time.Time) error
	PutBin(ctx context.Context, warehouse, bin, zone string, now time.Time) error
	ReceiveGoods(ctx context.Context, r domain.Receipt, ordered int64, ev func(domain.Receipt) outbox.Event, now time.Time) (domain.Receipt, bool, error)
	POLines(ctx context.Context, warehouse, po string) ([]domain.POLine, error)
	PutAwayReceipt(ctx context.Context, p domain.ReceiptPutAway, ev func(domain.ReceiptPutAway, domain.Receipt) outbox.Event, now time.Time) (domain.Receipt, bool, error)
	Receipts(ctx context.Context, warehouse, po string, limit int) ([]domain.Receipt, error)
	BinStock(ctx context.Context, warehouse string, f domain.StockFilter) ([]domain.BinStock, error)
	HandoverBatches(ctx context.Context, warehouse, carrier string, limit int) ([]domain.Handover, error)
	HandoverBatch(ctx context.Context, warehouse, id string) (domain.Handover, error)
	Movements(ctx context.Context, warehouse, sku string, limit int) ([]domain.Movement, error)

	Split(ctx context.Context, msgID, wmsOrderID string, split func(domain.Order, map[string]domain.Item) ([]domain.WorkOrder, error),
		evs func([]domain.WorkOrder) []outbox.Event, now time.Time) ([]domain.WorkOrder, error)
	Allocate(ctx context.Context, id string, ev func(domain.WorkOrder) outbox.Event, now time.Time) (domain.WorkOrder, error)
	Waiting(ctx context.Context, warehouse, sku string, limit int) ([]string, error)
	WorkOrder(ctx context.Context, id string) (domain.WorkOrder, error)
	WorkOrders(ctx context.Context, warehouse string, status domain.WorkOrderStatus, after string, limit int) ([]domain.WorkOrder, error)
	WorkOrdersOf(ctx context.Context, wmsOrderID string) ([]domain.WorkOrder, error)
	Picks(ctx context.Context, id string) ([]domain.Pick, error)

	CreatePickList(ctx context.Context, warehouse, key, hash, operator string, woIDs []string,
		plan func([]domain.WorkOrder, map[string][]domain.Pick) (domain.PickList, error), ev func(domain.PickList) outbox.Event, now time.Time) (string, error)
	PickList(ctx context.Context, id string) (domain.PickList, error)
	PickLists(ctx context.Context, warehouse string, status domain.PickListStatus, limit int) ([]domain.PickList, error)
	Task(ctx context.Context, id string) (domain.Task, error)
	ClaimTask(ctx context.Context, warehouse, id, picker string, now time.Time) (domain.Task, error)
	Scan(ctx context.Context, warehouse, id, picker, key, bin, sku string, qty int64, ev func(domain.PickList) outbox.Event,
		progress func(domain.Task, int) outbox.Event, now time.Time) (domain.ScanResult, error)

	QCScan(ctx context.Context, warehouse, pickListID, key, sku string, qty int64, now time.Time) (domain.QCResult, error)
	Pack(ctx context.Context, warehouse, workOrderID, key, hash string, plan func(domain.WorkOrder, map[string]int64) ([]domain.Box, error), now time.Time) ([]domain.Box, error)
	Boxes(ctx context.Context, workOrderID string) ([]domain.Box, error)
	Handover(ctx context.Context, warehouse, carrier, key string, ev func(domain.Handover) outbox.Event, now time.Time) (domain.Handover, error)
	MarkImported(ctx context.Context, batchID string, now time.Time) error
	Track(ctx context.Context, parcelID string, rep domain.ParcelReport, ev func(domain.Parcel) outbox.Event) (domain.Parcel, bool, error)
	ParcelsOfOrder(ctx context.Context, orderID string) ([]domain.Parcel, int, error)

	ConfirmQC(ctx context.Context, warehouse, pickListID string, now time.Time) ([]string, error)
	SecondQC(ctx context.Context, warehouse, workOrderID, key, sku string, qty int64, now time.Time) (domain.WorkOrder, error)
	ConfirmShortage(ctx context.Context, warehouse, workOrderID, key, hash string,
		run func(bt domain.BusinessType, c *domain.ShortageCase) ([]string, error),
		ev func(w domain.WorkOrder, orderID string, o domain.ShortageOutcome) outbox.Event, reasons map[string]string, now time.Time) (domain.WorkOrder, domain.ShortageOutcome, error)
	PutAwayTasks(ctx context.Context, warehouse string, status domain.TaskStatus, limit int) ([]domain.PutAwayTask, error)
	PutStoreCustomer(ctx context.Context, customerID string, bt domain.BusinessType, now time.Time) error
	PendingMovements(ctx context.Context, limit int) ([]domain.Movement, error)
	MarkUploaded(ctx context.Context, ids []string, now time.Time) error
	ConfirmPutAway(ctx context.Context, warehouse, id, key, operator, bin string, ev func(domain.PutAwayTask) outbox.Event, now time.Time) (domain.PutAwayTask, error)
}
