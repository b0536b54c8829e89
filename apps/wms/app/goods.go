package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// PutItem sets a SKU's item master row: zone, handling, unit weight and
// a retail store's minimum order quantity (0: none).
func (s *Service) PutItem(ctx context.Context, sku, name, zone, handling string, unitWeightG, storeMOQ int64) (domain.Item, error) {
	it, err := domain.NewItem(sku, name, zone, handling, unitWeightG)
	if err == nil {
		it, err = it.WithStoreMOQ(storeMOQ)
	}
	if err != nil {
		return it, err
	}
	return it, s.store.PutItem(ctx, it, s.now())
}

// PutZone creates a storage zone of a warehouse.
func (s *Service) PutZone(ctx context.Context, warehouse, code, temp, area string) (domain.Zone, error) {
	z, err := domain.NewZone(warehouse, code, temp, area)
	if err != nil {
		return z, err
	}
	return z, s.store.PutZone(ctx, z, s.now())
}

// PutBin creates a bin in a zone.
func (s *Service) PutBin(ctx context.Context, warehouse, bin, zone string) error {
	if !domain.ValidWarehouse(warehouse) || !domain.ValidCode(bin) || !domain.ValidCode(zone) {
		return fmt.Errorf("%w: warehouse %q, bin %q or zone %q is not a code", domain.ErrValidation, warehouse, bin, zone)
	}
	return s.store.PutBin(ctx, warehouse, bin, zone, s.now())
}

// ReceiptInput is an operator's goods receipt: dates are YYYY-MM-DD.
type ReceiptInput struct {
	Warehouse, IdempotencyKey, PurchaseOrder, Bin, SKU, Batch string
	ProductionDate, ExpiryDate                                string
	Qty                                                       int64
	Operator                                                  string
}

// ReceiveGoods receives goods against a purchase order and puts them away
// into a bin (DOMAIN 7.3): bin stock and ERP on-hand rise, the movement is
// logged, and wms.stock.received releases work orders waiting for the SKU
// and raises inventory's sellable stock. The purchase order is ERP's: one
// it does not have (domain.ErrUnknownPO), of another warehouse, without
// the SKU, or whose line the receipt would take above its quantity
// (*domain.OverReceiptError) is refused and nothing moves. Idempotent by
// (warehouse, key).
func (s *Service) ReceiveGoods(ctx context.Context, in ReceiptInput) (domain.Receipt, bool, error) {
	r := domain.Receipt{ID: ids.New(), Warehouse: in.Warehouse, IdempotencyKey: in.IdempotencyKey, PurchaseOrder: in.PurchaseOrder,
		Bin: in.Bin, SKU: in.SKU, Batch: in.Batch, Qty: in.Qty, Operator: in.Operator}
	var err error
	if r.Production, err = time.Parse(time.DateOnly, in.ProductionDate); err != nil {
		return r, false, fmt.Errorf("%w: production date %q is not YYYY-MM-DD", domain.ErrValidation, in.ProductionDate)
	}
	if r.Expiry, err = time.Parse(time.DateOnly, in.ExpiryDate); err != nil {
		return r, false, fmt.Errorf("%w: expiry date %q is not YYYY-MM-DD", domain.ErrValidation, in.ExpiryDate)
	}
	if err := r.Validate(); err != nil {
		return r, false, err
	}
	if s.erp == nil {
		return r, false, errors.New("no ERP configured")
	}
	po, err := s.erp.PurchaseOrder(ctx, r.PurchaseOrder)
	if err != nil {
		return r, false, err
	}
	ordered, err := po.Admit(r)
	if err != nil {
		return r, false, err
	}
	out, dup, err := s.store.ReceiveGoods(ctx, r, ordered, func(r domain.Receipt) outbox.Event {
		return outbox.Event{Topic: events.TopicStockReceived, AggregateID: r.Warehouse + "/" + r.SKU, Type: events.TypeStockReceived,
			Payload: events.StockReceived{ReceiptID: r.ID, Warehouse: r.Warehouse, Bin: r.Bin, SKU: r.SKU, Batch: r.Batch, Qty: r.Qty,
				PurchaseOrder: r.PurchaseOrder}}
	}, s.now())
	if err == nil && !dup {
		s.notify()
	}
	return out, dup, err
}

// PutAwayReceipt puts qty of a receipt received at the dock into a bin
// (DOMAIN 7.3, put-away): bin and ERP stock rise, the movement is logged,
// and wms.stock.received (ReceiptID: the put-away's id) allocates waiting
// work orders and raises inventory's sellable stock. More than waits at
// the dock is domain.ErrState; idempotent by (warehouse, key).
func (s *Service) PutAwayReceipt(ctx context.Context, warehouse, receiptID, key, bin, operator string, qty int64) (domain.Receipt, bool, error) {
	p := domain.ReceiptPutAway{ID: ids.New(), ReceiptID: receiptID, Warehouse: warehouse, IdempotencyKey: key, Bin: bin, Operator: operator, Qty: qty}
	if err := p.Validate(); err != nil {
		return domain.Receipt{}, false, err
	}
	r, dup, err := s.store.PutAwayReceipt(ctx, p, func(p domain.ReceiptPutAway, r domain.Receipt) outbox.Event {
		return outbox.Event{Topic: events.TopicStockReceived, AggregateID: r.Warehouse + "/" + r.SKU, Type: events.TypeStockReceived,
			Payload: events.StockReceived{ReceiptID: p.ID, Warehouse: r.Warehouse, Bin: p.Bin, SKU: r.SKU, Batch: r.Batch, Qty: p.Qty,
				PurchaseOrder: r.PurchaseOrder}}
	}, s.now())
	if err == nil && !dup {
		s.notify()
	}
	return r, dup, err
}

// BinStock lists a warehouse's batch stock per bin as f selects it.
func (s *Service) BinStock(ctx context.Context, warehouse string, f domain.StockFilter) ([]domain.BinStock, error) {
	return s.store.BinStock(ctx, warehouse, f)
}

// HandoverBatches lists a warehouse's handover batches, newest first.
func (s *Service) HandoverBatches(ctx context.Context, warehouse, carrier string, limit int) ([]domain.Handover, error) {
	return s.store.HandoverBatches(ctx, warehouse, carrier, min(max(limit, 1), 200))
}

// HandoverBatch reads one handover batch with its parcels.
func (s *Service) HandoverBatch(ctx context.Context, warehouse, id string) (domain.Handover, error) {
	return s.store.HandoverBatch(ctx, warehouse, id)
}

// Movements lists a warehouse's latest stock movements.
func (s *Service) Movements(ctx context.Context, warehouse, sku string, limit int) ([]domain.Movement, error) {
	return s.store.Movements(ctx, warehouse, sku, min(max(limit, 1), 500))
}

// PurchaseOrderView is a purchase order as the receiving bench sees it:
// ERP's lines with what this warehouse received of each.
type PurchaseOrderView struct {
	ID, Warehouse, Supplier string
	Lines                   []domain.POLine
}

// PurchaseOrder reads ERP's purchase order and what the warehouse
// received against it; another warehouse's is domain.ErrWrongWarehouse.
func (s *Service) PurchaseOrder(ctx context.Context, warehouse, id string) (PurchaseOrderView, error) {
	if s.erp == nil {
		return PurchaseOrderView{}, errors.New("no ERP configured")
	}
	po, err := s.erp.PurchaseOrder(ctx, id)
	if err != nil {
		return PurchaseOrderView{}, err
	}
	if po.Warehouse != warehouse {
		return PurchaseOrderView{}, fmt.Errorf("%w: purchase order %s", domain.ErrWrongWarehouse, id)
	}
	got, err := s.store.POLines(ctx, warehouse, id)
	if err != nil {
		return PurchaseOrderView{}, err
	}
	received := map[string]int64{}
	for _, l := range got {
		received[l.SKU] = l.Received
	}
	v := PurchaseOrderView{ID: po.ID, Warehouse: po.Warehouse, Supplier: po.Supplier}
	for sku, q := range po.Lines {
		v.Lines = append(v.Lines, domain.POLine{SKU: sku, Ordered: q, Received: received[sku]})
	}
	slices.SortFunc(v.Lines, func(a, b domain.POLine) int { return strings.Compare(a.SKU, b.SKU) })
	return v, nil
}

// Receipts lists the warehouse's goods receipts, newest first (of one
// purchase order, or all).
func (s *Service) Receipts(ctx context.Context, warehouse, po string, limit int) ([]domain.Receipt, error) {
	return s.store.Receipts(ctx, warehouse, po, min(max(limit, 1), 500))
}
