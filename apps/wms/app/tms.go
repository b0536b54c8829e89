package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// TMS is the transport management system as WMS needs it: it takes a
// handover batch's parcels (idempotent by batch id) and answers where a
// parcel stands, which is what a tracking report is checked against.
type TMS interface {
	ImportParcels(ctx context.Context, h events.HandoverCompleted) error
	ParcelState(ctx context.Context, parcelID string) (domain.ParcelReport, error)
}

// ErrNoTMS: no TMS is configured; the import is retried.
var ErrNoTMS = errors.New("no TMS configured")

// ImportHandover imports a handover batch's parcels into TMS (on
// wms.handover.completed); TMS keeps it idempotent by batch id.
func (s *Service) ImportHandover(ctx context.Context, h events.HandoverCompleted) error {
	if s.tms == nil {
		return ErrNoTMS
	}
	if err := s.tms.ImportParcels(ctx, h); err != nil {
		return fmt.Errorf("import handover %s into TMS: %w", h.BatchID, err)
	}
	return s.store.MarkImported(ctx, h.BatchID, s.now())
}

// TrackParcel takes a tracking report for a parcel: it is believed only
// as TMS answers when asked (the report itself may be forged or stale),
// recorded moving forward only, and published (wms.parcel.tracked) when
// it changed something. It returns the parcel as recorded.
func (s *Service) TrackParcel(ctx context.Context, parcelID string) (domain.Parcel, bool, error) {
	if parcelID == "" || len(parcelID) > 64 {
		return domain.Parcel{}, false, fmt.Errorf("%w: parcel id is required", domain.ErrValidation)
	}
	if s.tms == nil {
		return domain.Parcel{}, false, ErrNoTMS
	}
	rep, err := s.tms.ParcelState(ctx, parcelID)
	if err != nil {
		return domain.Parcel{}, false, fmt.Errorf("ask TMS about parcel %s: %w", parcelID, err)
	}
	switch rep.State {
	case domain.ParcelCollected, domain.ParcelDelivered, domain.ParcelRefused:
	default: // imported, not yet collected: nothing to record
		return domain.Parcel{}, false, fmt.Errorf("%w: TMS has parcel %s %q", domain.ErrState, parcelID, rep.State)
	}
	rep.At = rep.At.UTC()
	p, changed, err := s.store.Track(ctx, parcelID, rep, func(p domain.Parcel) outbox.Event {
		return outbox.Event{Topic: events.TopicParcelTracked, AggregateID: p.OrderID, Type: events.TypeParcelTracked, Payload: parcelEvent(p)}
	})
	if err == nil && changed {
		s.notify()
	}
	return p, changed, err
}

// OrderParcels answers for an OMS order: every parcel packed for it and
// how many work orders are still to be packed (OMS ships the order when
// none is and every parcel is collected).
func (s *Service) OrderParcels(ctx context.Context, orderID string) ([]domain.Parcel, int, error) {
	return s.store.ParcelsOfOrder(ctx, orderID)
}
