// Package tms adapts the transport management system's API
// (partnersclient: the stand-in locally, the real TMS's HTTPEndpoint in
// production) to what WMS's use cases declare (app.TMS).
package tms

import (
	"context"

	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// TMS is app.TMS over partnersclient.
type TMS struct{ c *partnersclient.Client }

// New returns TMS over c.
func New(c *partnersclient.Client) TMS { return TMS{c: c} }

// ImportParcels imports a handover batch's parcels, idempotent by batch id.
func (t TMS) ImportParcels(ctx context.Context, h events.HandoverCompleted) error {
	in := partnersclient.ParcelImport{BatchID: h.BatchID, Carrier: h.Carrier, Parcels: make([]partnersclient.ImportedParcel, len(h.Parcels))}
	for i, p := range h.Parcels {
		in.Parcels[i] = partnersclient.ImportedParcel{ParcelID: p.ParcelID, WaybillNo: p.WaybillNo, OrderID: p.OrderID,
			DeliveryOrderID: p.DeliveryOrderID, WeightG: p.WeightG}
		for _, l := range p.Lines {
			in.Parcels[i].Lines = append(in.Parcels[i].Lines, partnersclient.ParcelLine{SKU: l.SKU, Qty: l.Qty})
		}
	}
	_, err := t.c.ImportParcels(ctx, in)
	return err
}

// ParcelState asks TMS where a parcel stands and, refused, what the
// courier reported refused.
func (t TMS) ParcelState(ctx context.Context, parcelID string) (domain.ParcelReport, error) {
	p, err := t.c.GetParcel(ctx, parcelID)
	rep := domain.ParcelReport{State: p.State, At: p.At}
	for _, l := range p.RefusedLines {
		rep.RefusedLines = append(rep.RefusedLines, domain.ParcelLine{SKU: l.SKU, Qty: l.Qty})
	}
	return rep, err
}
