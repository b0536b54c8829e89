package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// ErrNotYetDispatched: a parcel moved while the order still has delivery
// orders in fulfillment; the event is retried until the order is
// DISPATCHED, when WMS's answer covers all of it.
var ErrNotYetDispatched = errors.New("order not yet dispatched in full")

// TrackDelivery moves an order along its delivery leg on a parcel event
// (wms.parcel.tracked): the event only says "look"; what counts is WMS's
// answer for the whole order, asked now. With nothing left to pack and
// every parcel collected, a DISPATCHED order becomes SHIPPED
// (oms.order.shipped); with every parcel delivered, COMPLETED
// (oms.order.completed); a refusal at the door is recorded once and
// published (oms.order.refused, with the units refused) for the reverse
// flow, once no parcel is still on its way (so the units refused of every
// parcel are known). Each transition is guarded by the order's status, so
// redeliveries change nothing.
func (s *Service) TrackDelivery(ctx context.Context, orderID string) (domain.Status, error) {
	if s.wh == nil {
		return "", errors.New("no warehouse client configured")
	}
	op, err := s.wh.OrderParcels(ctx, orderID)
	if err != nil {
		return "", fmt.Errorf("ask WMS about the parcels of %s: %w", orderID, err)
	}
	collected, delivered := op.Unpacked == 0 && len(op.Parcels) > 0, op.Unpacked == 0 && len(op.Parcels) > 0
	ended := collected // every parcel delivered or refused
	var refused []string
	for _, p := range op.Parcels {
		switch p.Tracking {
		case "":
			collected, delivered, ended = false, false, false
		case wmsclient.ParcelCollected:
			delivered, ended = false, false
		case wmsclient.ParcelRefused:
			delivered = false
			refused = append(refused, p.ParcelID)
		}
	}
	var status domain.Status
	o, err := s.repo.Update(ctx, orderID, nil, func(o *domain.Order) ([]outbox.Event, error) {
		now := s.clock.Now()
		var evs []outbox.Event
		if collected && o.Status() == domain.StatusDispatched {
			if err := o.Ship(now); err != nil {
				return nil, err
			}
			evs = append(evs, deliveryEvent(o, events.TopicOrderShipped, nil, now))
		}
		if delivered && o.Status() == domain.StatusShipped {
			if err := o.Complete(now); err != nil {
				return nil, err
			}
			evs = append(evs, deliveryEvent(o, events.TopicOrderCompleted, nil, now))
		}
		if len(refused) > 0 && ended && o.Status() == domain.StatusShipped && !o.Refused() {
			units := RefusedUnits(op)
			if err := o.RecordRefusal(now, "refused at the door: "+strings.Join(refused, ", ")+" ("+unitsNote(units)+")"); err != nil {
				return nil, err
			}
			ev := deliveryEvent(o, events.TopicOrderRefused, refused, now)
			ev.Payload.(*events.OrderDelivery).RefusedLines = units
			evs = append(evs, ev)
		}
		status = o.Status()
		if len(evs) == 0 {
			return nil, ErrNoChange
		}
		return evs, nil
	})
	if err != nil {
		return "", fmt.Errorf("track delivery of %s: %w", orderID, err)
	}
	if o != nil {
		status = o.Status()
	}
	if collected && (status == domain.StatusFulfilling || status == domain.StatusPaid) {
		return status, fmt.Errorf("%w: %s is %s", ErrNotYetDispatched, orderID, status)
	}
	s.notify()
	return status, nil
}

func deliveryEvent(o *domain.Order, topic string, parcels []string, at time.Time) outbox.Event {
	ev := &events.OrderDelivery{OrderID: o.ID(), CustomerID: o.CustomerID(), Status: string(o.Status()), ParcelIDs: parcels, At: at}
	return outbox.Event{Topic: topic, AggregateID: o.ID(), Type: topic + ".v1", Payload: ev}
}

// RefusedUnits is what the customer refused at the door of an order's
// parcels as WMS recorded the courier's reports (a parcel refused without
// lines counts whole), summed per SKU in SKU order.
func RefusedUnits(op wmsclient.OrderParcels) []events.Line {
	qty := map[string]int64{}
	for _, p := range op.Parcels {
		if p.Tracking != wmsclient.ParcelRefused {
			continue
		}
		for _, l := range p.RefusedLines {
			qty[l.SKU] += l.Qty
		}
	}
	out := make([]events.Line, 0, len(qty))
	for _, sku := range slices.Sorted(maps.Keys(qty)) {
		out = append(out, events.Line{SKU: sku, Qty: qty[sku]})
	}
	return out
}

// OrderRefusedUnits asks WMS what was refused of an order at the door:
// WMS keeps the courier's reports, OMS only that the order was refused.
func (s *Service) OrderRefusedUnits(ctx context.Context, orderID string) ([]events.Line, error) {
	if s.wh == nil {
		return nil, errors.New("no warehouse client configured")
	}
	op, err := s.wh.OrderParcels(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("ask WMS about the parcels of %s: %w", orderID, err)
	}
	return RefusedUnits(op), nil
}

func unitsNote(units []events.Line) string {
	parts := make([]string, len(units))
	for i, l := range units {
		parts[i] = fmt.Sprintf("%s x%d", l.SKU, l.Qty)
	}
	return strings.Join(parts, ", ")
}

// ShortageConsumer is the inbox name of the wms.shortage.reported subscriber.
const ShortageConsumer = "oms.shortage-reported"

// RecordShortage puts a shortage the warehouse confirmed (DOMAIN 7.2) on
// the order's timeline, where customer service reads it, once per message.
// note is what ships and what does not; nothing else of the order moves.
func (s *Service) RecordShortage(ctx context.Context, msgID, orderID, note string) error {
	_, err := s.repo.Update(ctx, orderID, &InboxClaim{Consumer: ShortageConsumer, MsgID: msgID}, func(o *domain.Order) ([]outbox.Event, error) {
		return nil, o.RecordShortage(s.clock.Now(), note)
	})
	if errors.Is(err, ErrDuplicateMessage) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record shortage of %s: %w", orderID, err)
	}
	return nil
}
