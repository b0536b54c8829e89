package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// ErrNotYet: the request waits on another system (PAY's refund still
// under way); process it again later.
var ErrNotYet = errors.New("request waits on another system")

// by is how after-sales signs its calls to OMS.
const by = "aftersales"

// Process moves request id as far as it can go now, step by step, each
// step's effect idempotent in the system that has it and recorded after
// it (conditional on the status it came from), so a redelivery, a
// concurrent sweep or a restart after a crash between a call and its
// record repeats the call harmlessly and goes on from there:
//
//	ACCEPTED   OMS pauses the order's fulfillment (or it has none yet);
//	           an order shipped meanwhile is refused
//	PAUSED     what reached a warehouse is intercepted at WMS (too late:
//	           refused, fulfillment resumed); then OMS cancels the order
//	           with its held units (oms.order.cancelled, on which PAY
//	           refunds everything the order took)
//	CANCELLED  PAY is asked whether every trade is refunded in full and
//	           every non-cash deduction reversed: then REFUNDED
func (s *Service) Process(ctx context.Context, id string) error {
	for range 8 {
		r, err := s.d.Repo.Get(ctx, id)
		if err != nil {
			return err
		}
		if r.Status().Done() {
			return nil
		}
		err = s.step(ctx, r)
		switch {
		case errors.Is(err, domain.ErrBadTransition), errors.Is(err, errAgain):
			continue // moved by another delivery, or to be asked again now
		case err != nil:
			return fmt.Errorf("request %s at %s: %w", id, r.Status(), err)
		}
	}
	return nil
}

// errAgain: the step found the world moved (a unit started after the
// pause); run the request's step again.
var errAgain = errors.New("again")

func (s *Service) step(ctx context.Context, r *domain.Request) error {
	if r.IsForward() {
		return s.stepForward(ctx, r)
	}
	if r.IsReturn() {
		return s.stepReturn(ctx, r)
	}
	switch r.Status() {
	case domain.StatusAccepted:
		return s.pause(ctx, r)
	case domain.StatusPaused:
		return s.stopAndCancel(ctx, r)
	case domain.StatusCancelled:
		return s.checkRefund(ctx, r)
	}
	return nil
}

func (s *Service) update(ctx context.Context, id string, fn func(r *domain.Request, now time.Time) error) error {
	_, err := s.d.Repo.Update(ctx, id, func(r *domain.Request) error { return fn(r, s.now()) })
	return err
}

func (s *Service) pause(ctx context.Context, r *domain.Request) error {
	o, err := s.d.Orders.GetOrder(ctx, r.OrderID())
	if err != nil {
		return fmt.Errorf("read order: %w", err)
	}
	switch o.Status {
	case omsclient.StatusCancelled:
		return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.OrderCancelled(now, "the order was cancelled") })
	case omsclient.StatusShipped, omsclient.StatusCompleted:
		return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
			return r.Refuse(now, domain.RefusedShipped, "the order is "+o.Status+"; ask for a return once delivered")
		})
	}
	p, err := s.d.Orders.PauseFulfillment(ctx, r.OrderID(), omsclient.PauseRequest{IdempotencyKey: r.ID(), Reason: "customer cancel", By: by})
	note := ""
	switch {
	case httpapi.HasCode(err, omsclient.CodeNoFulfillment):
		note = "not in fulfillment yet"
	case err != nil:
		return fmt.Errorf("pause fulfillment: %w", err)
	case p.Stage != "":
		note = "at " + p.Stage
	default:
		note = fmt.Sprintf("%d delivery orders, %d at a warehouse", len(p.Units)-1, len(p.Dispatched)+len(p.InDispatch))
	}
	return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.Paused(now, note) })
}

// stopAndCancel stops what reached a warehouse or a supplier, then has
// OMS cancel the order. The order is stopped whole or not at all (issue
// 15): drop-ship suppliers are asked first, one by one, each
// interception recorded on the request as soon as it is made, and the
// warehouses last, all of them in one all-or-none call to WMS. A supplier
// that shipped or a warehouse past interception refuses the cancel, and
// every supplier interception recorded is released before the refusal,
// so the order ships whole and the customer may return it on delivery;
// never part of it stopped and the rest on its way. A crash anywhere
// repeats the step from PAUSED: interceptions and releases are
// idempotent at their receivers, and the recorded list says what to
// release.
func (s *Service) stopAndCancel(ctx context.Context, r *domain.Request) error {
	// Pausing again is free (OMS answers the same) and tells where the
	// order stands now, a unit started since included.
	p, err := s.d.Orders.PauseFulfillment(ctx, r.OrderID(), omsclient.PauseRequest{IdempotencyKey: r.ID(), Reason: "customer cancel", By: by})
	if err != nil && !httpapi.HasCode(err, omsclient.CodeNoFulfillment) {
		return fmt.Errorf("pause fulfillment: %w", err)
	}
	reached := append(slices.Clone(p.Dispatched), p.InDispatch...)
	suppliers := suppliersOf(p)
	var stopped, warehouse []string
	for _, id := range reached {
		sup := suppliers[id]
		if sup == "" {
			warehouse = append(warehouse, id)
			continue
		}
		_, err := s.d.Partners.InterceptAtSupplier(ctx, partnersclient.SupplierInterception{DeliveryOrderID: id, Supplier: sup,
			Reason: "customer cancel " + r.ID()})
		switch {
		case httpapi.HasCode(err, partnersclient.CodeSupplierShipped):
			return s.refuse(ctx, r, suppliers, domain.RefusedAtSupplier, "delivery order "+id+" was shipped by supplier "+sup)
		case err != nil:
			return fmt.Errorf("intercept %s at supplier %s: %w", id, sup, err)
		}
		if err := s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.Intercepted(now, []string{id}) }); err != nil {
			return err
		}
		stopped = append(stopped, id)
	}
	if len(warehouse) > 0 {
		_, err := s.d.Warehouse.InterceptAll(ctx, wmsclient.InterceptAllRequest{DeliveryOrderIDs: warehouse, Reason: "customer cancel " + r.ID()})
		switch {
		case httpapi.HasCode(err, wmsclient.CodeTooLate):
			return s.refuse(ctx, r, suppliers, domain.RefusedAtWarehouse, "past interception at its warehouse: "+problemMessage(err))
		case err != nil:
			return fmt.Errorf("intercept %v: %w", warehouse, err)
		}
		if err := s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.Intercepted(now, warehouse) }); err != nil {
			return err
		}
		stopped = append(stopped, warehouse...)
	}
	c, err := s.d.Orders.CancelPaused(ctx, r.OrderID(), omsclient.CancelPausedRequest{IdempotencyKey: r.ID(), Reason: "customer cancel",
		By: by, Intercepted: stopped})
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotPaused), httpapi.HasCode(err, omsclient.CodeReachedWarehouse):
		return errAgain
	case httpapi.HasCode(err, omsclient.CodeNotCancellable):
		return s.refuse(ctx, r, suppliers, domain.RefusedShipped, "the order left the warehouse; ask for a return once delivered")
	case err != nil:
		return fmt.Errorf("cancel order: %w", err)
	}
	if s.d.AfterCancel != nil {
		s.d.AfterCancel(r, c.Already)
	}
	note := "order cancelled"
	if c.Already {
		note = "order was cancelled already"
	}
	pushes, err := s.cancelPushes(ctx, r)
	if err != nil {
		return err
	}
	err = s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
		for _, p := range pushes {
			r.Push(p)
		}
		return r.OrderCancelled(now, note)
	})
	if err == nil && len(pushes) > 0 {
		s.wakePushers()
	}
	return err
}

// problemMessage is a receiver's refusal message (which delivery order
// was too late), or the error's text.
func problemMessage(err error) string {
	var p *httpapi.Problem
	if errors.As(err, &p) {
		return p.Message
	}
	return err.Error()
}

// refuse releases the supplier interceptions the request recorded and
// lets the paused fulfillment go on, then ends the request with code
// (released and resumed first: a crash in between pauses, intercepts and
// decides again, and the releases are idempotent). suppliers maps the
// order's drop-ship delivery orders to their supplier. Warehouse
// interceptions are all or none and come last, so none is recorded when
// a supplier or a warehouse refuses.
func (s *Service) refuse(ctx context.Context, r *domain.Request, suppliers map[string]string, code, note string) error {
	cur, err := s.d.Repo.Get(ctx, r.ID())
	if err != nil {
		return err
	}
	var released []string
	for _, id := range cur.InterceptedIDs() {
		sup := suppliers[id]
		if sup == "" {
			continue
		}
		if _, err := s.d.Partners.ReleaseAtSupplier(ctx, partnersclient.SupplierInterception{DeliveryOrderID: id, Supplier: sup,
			Reason: "cancel " + r.ID() + " refused: " + code}); err != nil {
			return fmt.Errorf("release %s at supplier %s: %w", id, sup, err)
		}
		released = append(released, id)
	}
	_, err = s.d.Orders.ResumeFulfillment(ctx, r.OrderID(), omsclient.ResumeRequest{By: by})
	if err != nil && !httpapi.HasCode(err, omsclient.CodeNotPaused) && !httpapi.HasCode(err, omsclient.CodeNoFulfillment) {
		return fmt.Errorf("resume fulfillment: %w", err)
	}
	return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
		if err := r.InterceptionsReleased(now, released); err != nil {
			return err
		}
		if err := r.Refuse(now, code, note); err != nil {
			return err
		}
		r.Resumed(now, "fulfillment goes on")
		return nil
	})
}

// checkRefund believes the refund only from PAY: every succeeded trade
// that paid the order (its own, and the one OMS names: a pull-back's
// order is paid by its original's trade) refunded in full by refunds the
// channel confirmed (SUCCEEDED), every deduction of the order reversed.
// A trade's refunded_fen is not enough: PAY reserves it when it creates a
// refund and gives it back when the channel fails the refund.
func (s *Service) checkRefund(ctx context.Context, r *domain.Request) error {
	o, err := s.d.Orders.GetOrder(ctx, r.OrderID())
	if err != nil {
		return fmt.Errorf("read order: %w", err)
	}
	trades, err := s.d.Payments.TradesPaying(ctx, r.OrderID(), o.TradeID)
	if err != nil {
		return fmt.Errorf("read trades: %w", err)
	}
	var total money.Fen
	var parts []string
	for _, t := range trades {
		if t.Status != payclient.TradeSucceeded && t.PaidFen == 0 {
			continue
		}
		settled, err := s.settledRefund(ctx, r, t)
		if err != nil {
			return err
		}
		total += settled
		parts = append(parts, fmt.Sprintf("%s %s to %s", settled, "cash", t.Channel))
	}
	for _, id := range o.DeductionIDs {
		d, err := s.d.Payments.GetDeduction(ctx, id)
		if err != nil {
			return fmt.Errorf("read deduction %s: %w", id, err)
		}
		if d.Status != payclient.DeductionReversed {
			return fmt.Errorf("%w: deduction %s is %s", ErrNotYet, id, d.Status)
		}
		total += d.TotalFen
		parts = append(parts, fmt.Sprintf("%s non-cash reversed", d.TotalFen))
	}
	note := "nothing was paid"
	if len(parts) > 0 {
		note = strings.Join(parts, "; ")
	}
	return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.Refunded(now, total, note) })
}

// settledRefund is what the channel confirmed it gave back of trade t:
// ErrNotYet while that is short of what was paid. PAY retries a full
// refund the channel failed by itself, with backoff, writing the retry
// with the failure, so a failure with a retry under way is just "not
// yet". A refund failed or rejected with nothing else under way to make
// up for it (PAY's attempts used up) is recorded on the request once
// (PUSH_FAILED, for customer service) and the request stays CANCELLED
// until customer service's RETRY_REFUND action has PAY send it again.
func (s *Service) settledRefund(ctx context.Context, r *domain.Request, t payclient.Trade) (money.Fen, error) {
	fs, err := s.d.Payments.RefundsOfTrade(ctx, t.ID)
	if err != nil {
		return 0, fmt.Errorf("read refunds of trade %s: %w", t.ID, err)
	}
	var settled, underWay money.Fen
	var ended []string
	for _, f := range fs {
		switch f.Status {
		case payclient.RefundSucceeded:
			settled += f.AmountFen
		case payclient.RefundFailed, payclient.RefundRejected:
			ended = append(ended, "refund "+f.ID+" "+f.Status)
		default:
			underWay += f.AmountFen
		}
	}
	if settled >= t.PaidFen {
		return settled, nil
	}
	if settled+underWay < t.PaidFen && len(ended) > 0 {
		var fresh []string
		for _, n := range ended {
			if !r.HasStepNote(domain.StepPushFailed, n) {
				fresh = append(fresh, n)
			}
		}
		if len(fresh) > 0 {
			if err := s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
				for _, n := range fresh {
					r.PushFailed(now, n)
				}
				return nil
			}); err != nil {
				return 0, err
			}
		}
		return 0, fmt.Errorf("%w: trade %s: %s; %s of %s came back, customer service decides", ErrNotYet, t.ID,
			strings.Join(ended, ", "), settled, t.PaidFen)
	}
	return 0, fmt.Errorf("%w: trade %s: channel confirmed %s of %s refunded, %s under way", ErrNotYet, t.ID, settled, t.PaidFen, underWay)
}

// RefundSucceeded moves on the order's requests that wait on PAY (a
// cancel CANCELLED, a return REFUNDING) when PAY says a refund of the
// order succeeded (pay.refund.succeeded). Each is believed only from what
// PAY answers (checkRefund), so an event ahead of the order's other
// refunds leaves the request waiting (ErrNotYet) for the next one or the
// sweep.
func (s *Service) RefundSucceeded(ctx context.Context, orderID string) error {
	rs, err := s.d.Repo.OfOrder(ctx, orderID)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rs {
		if r.Status() != domain.StatusCancelled && r.Status() != domain.StatusRefunding {
			continue
		}
		if err := s.Process(ctx, r.ID()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// waitingIdleFactor stretches the sweep's idle time for requests waiting
// on PAY (a cancel CANCELLED, a return REFUNDING): PAY's refund event
// moves them on (RefundSucceeded), so the sweep is only there for an event
// lost or a refund that failed. At the plain idle time, a burst's requests
// whose refunds were queued at PAY were asked for again and again.
const waitingIdleFactor = 10

// Sweep processes every unfinished request not changed for idle (its
// event lost, its processing cut short; waitingIdleFactor times idle for
// those waiting on PAY), at most limit of them.
func (s *Service) Sweep(ctx context.Context, idle time.Duration, limit int) (int, error) {
	now := s.now()
	stale, err := s.d.Repo.Stale(ctx, now.Add(-idle), now.Add(-waitingIdleFactor*idle), limit)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range stale {
		if err := s.Process(ctx, id); err != nil && !errors.Is(err, ErrNotYet) {
			errs = append(errs, err)
		}
	}
	return len(stale), errors.Join(errs...)
}

// RunSweeper sweeps every interval until ctx ends.
func (s *Service) RunSweeper(interval, idle time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				if _, err := s.Sweep(ctx, idle, 100); err != nil {
					s.d.Logger.Warn("sweep of after-sales requests", "err", err)
				}
			}
		}
	}
}

// RebuildFilter rebuilds the cancel filter from the requests when it is
// missing (not marked ready); true when it rebuilt it.
func (s *Service) RebuildFilter(ctx context.Context) (bool, error) {
	ok, err := s.d.Filter.Ready(ctx)
	if err != nil || ok {
		return false, err
	}
	after := ""
	return s.d.Filter.Rebuild(ctx, func(ctx context.Context) ([]string, error) {
		ids, err := s.d.Repo.OrderIDs(ctx, after, 1000)
		if len(ids) > 0 {
			after = ids[len(ids)-1]
		}
		return ids, err
	})
}

// RunFilterKeeper checks the filter every interval and rebuilds it when missing.
func (s *Service) RunFilterKeeper(interval time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for {
			if built, err := s.RebuildFilter(ctx); err != nil {
				s.d.Logger.Warn("cancel filter rebuild", "err", err)
			} else if built {
				s.d.Logger.Info("cancel filter rebuilt")
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(interval):
			}
		}
	}
}
