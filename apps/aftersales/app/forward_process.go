package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// newOrderPush is a NEW_ORDER push: the new order a reissue or exchange
// asks OMS's accept-order API for. The original's customer, address and
// unit prices are read from OMS at delivery.
type newOrderPush struct {
	Source string          `json:"source"` // REISSUE or EXCHANGE
	Lines  []goodsLine     `json:"lines"`
	Slot   *omsclient.Slot `json:"slot,omitempty"`
}

// approvedPushes are the pushes an approved document starts with: a
// return's or rejection's (firstPushes); a reissue's new order; an
// exchange's answer and pickup courier (the goods' leg of a return with
// nothing refunded; the new order follows the warehouse's notice); none
// for a pull-back, whose steps run under its lock (stepPullBack).
func (s *Service) approvedPushes(r *domain.Request, al omsclient.Allocation, cat catalog) error {
	if !r.IsForward() {
		return s.firstPushes(r, al, cat)
	}
	var lines []goodsLine
	for _, l := range r.Lines() {
		lines = append(lines, goodsLine{SKU: l.SKU, Qty: l.Qty})
	}
	switch r.Kind() {
	case domain.KindReissue:
		return s.pushNewOrder(r, lines)
	case domain.KindExchange:
		for _, p := range []struct {
			t       domain.PushType
			payload any
		}{
			{domain.PushAnswer, answerPush{CustomerID: r.CustomerID(), Kind: string(r.Kind())}},
			{domain.PushPickup, pickupPush{Address: al.Address, Lines: lines}},
		} {
			np, err := domain.MakePush(pushID(r.ID(), p.t), p.t, r.OrderID(), r.ID(), p.payload)
			if err != nil {
				return err
			}
			r.Push(np)
		}
	}
	return nil
}

func (s *Service) pushNewOrder(r *domain.Request, lines []goodsLine) error {
	src := omsclient.SourceReissue
	if r.Kind() == domain.KindExchange {
		src = omsclient.SourceExchange
	}
	np := newOrderPush{Source: src, Lines: lines}
	if sl := r.Forward().Slot; sl != nil {
		np.Slot = &omsclient.Slot{Type: sl.Type, Date: sl.Date}
	}
	p, err := domain.MakePush(pushID(r.ID(), domain.PushNewOrder), domain.PushNewOrder, r.OrderID(), r.ID(), np)
	if err == nil {
		r.Push(p)
	}
	return err
}

// shanghai is where delivery dates are promised.
var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// deliverNewOrder places a reissue's or exchange's new order through
// OMS's accept-order API (a ToB order: no payment; stock reserved like
// any; stages 1-16, stage 14 texts the customer), the push id its
// idempotency key, so however often it is delivered OMS holds one order.
// It goes to the original's customer and address at the original's unit
// prices, free of freight, on the document's slot or express today.
// OMS's refusals (a price changed, out of stock, the slot full) end the
// push DEAD with the reason, for customer service.
func (s *Service) deliverNewOrder(ctx context.Context, p domain.Push) (Delivery, error) {
	np, err := decode[newOrderPush](p)
	if err != nil {
		return Delivery{}, err
	}
	if s.d.Forward == nil {
		return Delivery{}, fmt.Errorf("new orders need OMS's accept-order API (Deps.Forward)")
	}
	o, err := s.d.Orders.GetOrder(ctx, p.OrderID)
	if err != nil {
		return Delivery{}, refused(err, omsclient.CodeNotFound)
	}
	req := omsclient.PlaceOrderRequest{IdempotencyKey: p.ID, Source: np.Source, CustomerID: o.CustomerID, Address: o.Address,
		OriginalOrder: p.OrderID, Slot: omsclient.Slot{Type: omsclient.SlotExpress, Date: s.now().In(shanghai).Format("2006-01-02")}}
	if np.Slot != nil {
		req.Slot = *np.Slot
	}
	for _, l := range np.Lines {
		i := slices.IndexFunc(o.Lines, func(x omsclient.Line) bool { return x.SKU == l.SKU })
		if i < 0 {
			return Delivery{}, fmt.Errorf("%w: %s is not a line of %s", ErrPushRefused, l.SKU, p.OrderID)
		}
		req.Lines = append(req.Lines, omsclient.LineInput{SKU: l.SKU, Qty: l.Qty, UnitPriceFen: o.Lines[i].UnitPriceFen})
	}
	placed, err := s.d.Forward.PlaceOrder(ctx, req)
	if err != nil {
		return Delivery{}, refused(err, omsclient.CodeOutOfStock, omsclient.CodeSlotFull, omsclient.CodeIdempotencyReuse, omsclient.CodeValidation)
	}
	return Delivery{Result: placed.ID}, nil
}

// progress saves fn's step of a forward document with its
// aftersales.document.progressed event (the console's live feed).
func (s *Service) progress(ctx context.Context, id string, fn func(r *domain.Request, now time.Time) error) error {
	_, err := s.d.Repo.UpdateEmitting(ctx, id, func(r *domain.Request) ([]outbox.Event, error) {
		before := len(r.Steps())
		if err := fn(r, s.now()); err != nil {
			return nil, err
		}
		steps := r.Steps()
		if len(steps) == before {
			return nil, nil
		}
		last := steps[len(steps)-1]
		ev := documentEvent(events.TopicDocumentProgressed, r, by)
		d := ev.Payload.(events.Document)
		d.Step, d.Note = string(last.Step), last.Note
		ev.Payload = d
		return []outbox.Event{ev}, nil
	})
	if err == nil {
		s.d.Notify()
		s.wakePushers()
	}
	return err
}

// stepForward moves a forward document on (see domain/forward.go):
//
//	REISSUE   ACCEPTED  its NEW_ORDER push placed the order: COMPLETED
//	EXCHANGE  ACCEPTED  TMS booked the pickup courier: RETURNING
//	          RETURNING the warehouse expects the goods back (WMS_RETURN
//	          done): the new delivery is pushed (NEW_ORDER); placed: COMPLETED
//	PULL_BACK under the order's lock: see stepPullBack
//
// A push its receiver refused for good is recorded once (PUSH_FAILED).
func (s *Service) stepForward(ctx context.Context, r *domain.Request) error {
	if r.Kind() == domain.KindPullBack {
		return s.lockPullBack(ctx, r.OrderID(), func(ctx context.Context) error {
			// Read again under the lock: another holder may have moved it.
			r, err := s.d.Repo.Get(ctx, r.ID())
			if err != nil || r.Status().Done() {
				return err
			}
			return s.stepPullBack(ctx, r)
		})
	}
	ps, err := s.d.Repo.PushesOf(ctx, r.ID())
	if err != nil {
		return err
	}
	got := map[domain.PushType]domain.Push{}
	var dead []string
	for _, p := range ps {
		got[p.Type] = p
		if p.Status == domain.PushDead && !r.HasStepNote(domain.StepPushFailed, failNote(p)) {
			dead = append(dead, failNote(p))
		}
	}
	done := func(t domain.PushType) bool { p, ok := got[t]; return ok && p.Status == domain.PushDone }
	if len(dead) > 0 {
		return s.progress(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
			for _, d := range dead {
				r.PushFailed(now, d)
			}
			return nil
		})
	}
	switch {
	case r.Status() == domain.StatusAccepted && r.Kind() == domain.KindExchange && done(domain.PushPickup):
		return s.progress(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
			return r.Returning(now, "pickup courier booked, return waybill "+got[domain.PushPickup].Result)
		})
	case r.Status() == domain.StatusReturning && done(domain.PushWMSReturn) && !r.HasStep(domain.StepWarehouseNotified):
		return s.progress(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
			r.WarehouseNotified(now, "return notice "+got[domain.PushWMSReturn].Result+"; the new delivery follows")
			var lines []goodsLine
			for _, l := range r.Lines() {
				lines = append(lines, goodsLine{SKU: l.SKU, Qty: l.Qty})
			}
			return s.pushNewOrder(r, lines)
		})
	case done(domain.PushNewOrder) && (r.Status() == domain.StatusAccepted || r.Status() == domain.StatusReturning):
		id := got[domain.PushNewOrder].Result
		return s.progress(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
			return r.NewOrderPlaced(now, id, fmt.Sprintf("new %s order %s", strings.ToLower(string(r.Kind())), id))
		})
	}
	return fmt.Errorf("%w: document %s waits for its pushes", ErrNotYet, r.ID())
}

// stepPullBack runs one step of a pull-back, under its order's lock:
//
//	WAIT_FOR_STOCK  ACCEPTED  the shortage is read again and recorded;
//	                          the order waits: COMPLETED
//	CANCEL          the cancel's steps (pause, intercept at WMS, OMS's
//	                cancel, PAY's refund seen through): REFUNDED
//	NEW_ORDER       ACCEPTED  OMS pauses the order (as a cancel)
//	                PAUSED    WMS intercepts what reached it (too late:
//	                          REFUSED, fulfillment resumed); OMS ends the
//	                          order and makes the new one directly, in one
//	                          transaction: COMPLETED
func (s *Service) stepPullBack(ctx context.Context, r *domain.Request) error {
	f := r.Forward()
	switch {
	case f.Outcome == domain.OutcomeWait && r.Status() == domain.StatusAccepted:
		waiting, err := s.shortage(ctx, r.OrderID())
		note := strings.Join(waiting, "; ")
		if err != nil {
			note = "no longer short: " + err.Error()
		}
		return s.progress(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.WaitsForStock(now, note) })
	case r.Status() == domain.StatusAccepted:
		return s.pause(ctx, r)
	case r.Status() == domain.StatusCancelled: // the order was cancelled meanwhile (or by the CANCEL outcome)
		return s.checkRefund(ctx, r)
	case f.Outcome == domain.OutcomeCancel && r.Status() == domain.StatusPaused:
		return s.stopAndCancel(ctx, r)
	case f.Outcome == domain.OutcomeNewOrder && r.Status() == domain.StatusPaused:
		return s.pullBackToNewOrder(ctx, r)
	}
	return fmt.Errorf("%w: pull-back %s is %s", ErrNotYet, r.ID(), r.Status())
}

// pullBackToNewOrder intercepts at WMS what reached a warehouse, then
// has OMS end the order and make its new one (keyed by the document, so
// a repeat answers the same new order).
func (s *Service) pullBackToNewOrder(ctx context.Context, r *domain.Request) error {
	p, err := s.d.Orders.PauseFulfillment(ctx, r.OrderID(), omsclient.PauseRequest{IdempotencyKey: r.ID(), Reason: "pull-back", By: by})
	if err != nil && !httpapi.HasCode(err, omsclient.CodeNoFulfillment) {
		return fmt.Errorf("pause fulfillment: %w", err)
	}
	reached := append(slices.Clone(p.Dispatched), p.InDispatch...)
	for _, u := range p.Units {
		if u.Supplier != "" && slices.Contains(reached, u.ID) {
			return s.refuse(ctx, r, nil, domain.RefusedAtSupplier, "delivery order "+u.ID+" is with supplier "+u.Supplier)
		}
	}
	// All of them or none: a pull-back refused by one warehouse leaves
	// none of the order's delivery orders stopped.
	var stopped []string
	if len(reached) > 0 {
		_, err := s.d.Warehouse.InterceptAll(ctx, wmsclient.InterceptAllRequest{DeliveryOrderIDs: reached, Reason: "pull-back " + r.ID()})
		switch {
		case httpapi.HasCode(err, wmsclient.CodeTooLate):
			return s.refuse(ctx, r, nil, domain.RefusedAtWarehouse, "past interception at its warehouse: "+problemMessage(err))
		case err != nil:
			return fmt.Errorf("intercept %v: %w", reached, err)
		}
		stopped = reached
	}
	if len(stopped) > 0 {
		if err := s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.Intercepted(now, stopped) }); err != nil {
			return err
		}
	}
	req := omsclient.PullBackRequest{IdempotencyKey: r.ID(), Reason: "pull-back: " + r.Reason(), By: by, Intercepted: stopped}
	f := r.Forward()
	if a := f.Address; a != nil {
		req.Address = &omsclient.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
	}
	if sl := f.Slot; sl != nil {
		req.Slot = &omsclient.Slot{Type: sl.Type, Date: sl.Date}
	}
	pb, err := s.d.Forward.PullBackOrder(ctx, r.OrderID(), req)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotPaused), httpapi.HasCode(err, omsclient.CodeReachedWarehouse):
		return errAgain
	case httpapi.HasCode(err, omsclient.CodeNotCancellable):
		return s.refuse(ctx, r, nil, domain.RefusedShipped, "the order left the warehouse; it can no longer be pulled back")
	case httpapi.HasCode(err, omsclient.CodeValidation):
		return s.refuse(ctx, r, nil, "NEW_ORDER_INVALID", "OMS refused the new order: "+err.Error())
	case err != nil:
		return fmt.Errorf("pull back %s: %w", r.OrderID(), err)
	}
	return s.progress(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
		return r.NewOrderPlaced(now, pb.NewOrderID, "order "+r.OrderID()+" ended; new order "+pb.NewOrderID+" made directly")
	})
}
