package app

import (
	"context"
	"fmt"
)

// StockReceipt is stock WMS put into a bin of a warehouse: a goods receipt
// against a purchase order, or units put back on the shelf.
type StockReceipt struct {
	ReceiptID, Warehouse, SKU string
	Qty                       int64
}

// StockRise is what applying a StockReceipt did.
type StockRise struct {
	Duplicate bool   // applied before: nothing moved
	Raised    bool   // on-hand and sellable stock rose
	Why       string // why not, when not raised
	Hot       bool   // a hot SKU: Redis's counter needs the rise too
	Epoch     int64  // the hot counter's epoch MariaDB had when it rose
}

// Receiving is the store side of received stock.
type Receiving interface {
	ReceiveStock(ctx context.Context, r StockReceipt) (StockRise, error)
}

// StockReceived raises a SKU's on-hand and sellable stock by what WMS
// received (wms.stock.received), once per receipt id. For a hot SKU the
// Redis counter is raised after the commit; a crash in between leaves it
// lower than MariaDB says until its next rebuild: selling less, never
// more.
func (s *Service) StockReceived(ctx context.Context, r StockReceipt) (StockRise, error) {
	if r.ReceiptID == "" || r.SKU == "" || r.Warehouse == "" || r.Qty <= 0 {
		return StockRise{}, fmt.Errorf("receipt %q of %q in %q x%d: incomplete", r.ReceiptID, r.SKU, r.Warehouse, r.Qty)
	}
	rise, err := s.store.ReceiveStock(ctx, r)
	if err != nil || rise.Duplicate {
		return rise, err
	}
	if !rise.Raised {
		s.log.WarnContext(ctx, "received stock not made sellable", "receipt", r.ReceiptID, "sku", r.SKU, "warehouse", r.Warehouse, "why", rise.Why)
		return rise, nil
	}
	if rise.Hot {
		if err := s.hot.Restock(ctx, r.SKU, r.Qty, rise.Epoch); err != nil {
			s.log.WarnContext(ctx, "hot counter not raised; its next rebuild reads the new on-hand", "sku", r.SKU, "err", err)
		}
	}
	return rise, nil
}

// StockArrived is StockReceived as wms.stock.received's subscriber calls it.
func (s *Service) StockArrived(ctx context.Context, receiptID, warehouse, sku string, qty int64) error {
	_, err := s.StockReceived(ctx, StockReceipt{ReceiptID: receiptID, Warehouse: warehouse, SKU: sku, Qty: qty})
	return err
}
