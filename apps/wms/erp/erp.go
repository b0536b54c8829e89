// Package erp adapts the ERP system's stock-movement API (partnersclient:
// the stand-in locally, the real ERP's HTTPEndpoint in production) to what
// WMS's upload job declares (app.ERP).
package erp

import (
	"context"

	"github.com/harvest/harvest/apps/partners/partnersclient"
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
