// Package erp adapts the ERP system's stock-movement and purchase-order APIs (partnersclient:
// the stand-in locally, the real ERP's HTTPEndpoint in production) to what
// WMS's upload job declares (app.ERP).
package erp

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/domain"
)

// ERP is app.ERP over partnersclient.
type ERP struct{ c *partnersclient.Client }

// New returns ERP over c.
func New(c *partnersclient.Client) ERP { return ERP{c: c} }

// UploadMovements books movements at ERP, once each by id.
func (e ERP) UploadMovements(ctx context.Context, ms []domain.Movement) error {
	in := partnersclient.MovementUpload{Movements: make([]partnersclient.StockMovement, len(ms))}
	for i, m := range ms {
		in.Movements[i] = partnersclient.StockMovement{ID: m.ID, Warehouse: m.Warehouse, Bin: m.Bin, SKU: m.SKU, Batch: m.Batch,
			Kind: m.Kind, Qty: m.Qty, Ref: m.Ref, At: m.At.UTC()}
	}
	_, err := e.c.UploadMovements(ctx, in)
	return err
}

// PurchaseOrder reads a purchase order; ERP's PO_NOT_FOUND is
// domain.ErrUnknownPO.
func (e ERP) PurchaseOrder(ctx context.Context, id string) (domain.PurchaseOrder, error) {
	p, err := e.c.PurchaseOrder(ctx, id)
	if httpapi.HasCode(err, partnersclient.CodePONotFound) {
		return domain.PurchaseOrder{}, fmt.Errorf("%w: %s", domain.ErrUnknownPO, id)
	}
	if err != nil {
		return domain.PurchaseOrder{}, fmt.Errorf("read purchase order %s at ERP: %w", id, err)
	}
	out := domain.PurchaseOrder{ID: p.ID, Warehouse: p.Warehouse, Supplier: p.Supplier, Lines: make(map[string]int64, len(p.Lines))}
	for _, l := range p.Lines {
		out.Lines[l.SKU] += l.Qty
	}
	return out, nil
}
