package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
)

// stepReturn moves a return or rejection on from what its pushes did
// (the pushes do the work; the request records how far it is):
//
//	ACCEPTED   TMS booked the pickup courier: RETURNING
//	ACCEPTED/RETURNING  the refunds are with PAY (every refund push
//	           DONE): REFUNDING; the warehouse's notice is recorded on the way
//	REFUNDING  PAY's cash refund SUCCEEDED (finance approved it, the
//	           channel paid it back) and the non-cash share went back: REFUNDED
//
// A push its receiver refused for good is recorded once (PUSH_FAILED)
// for customer service. Nothing to do yet answers ErrNotYet.
func (s *Service) stepReturn(ctx context.Context, r *domain.Request) error {
	ps, err := s.d.Repo.PushesOf(ctx, r.ID())
	if err != nil {
		return err
	}
	by := map[domain.PushType]domain.Push{}
	var dead []string
	for _, p := range ps {
		by[p.Type] = p
		if p.Status == domain.PushDead && !r.HasStepNote(domain.StepPushFailed, failNote(p)) {
			dead = append(dead, failNote(p))
		}
	}
	done := func(t domain.PushType) bool { p, ok := by[t]; return ok && p.Status == domain.PushDone }
	needs := func(t domain.PushType) bool {
		switch t {
		case domain.PushRefund:
			return r.RefundCash() > 0
		case domain.PushNonCashRefund:
			return r.RefundNonCash() > 0
		}
		return false
	}
	refundsOut := (!needs(domain.PushRefund) || done(domain.PushRefund)) && (!needs(domain.PushNonCashRefund) || done(domain.PushNonCashRefund))
	// Refund pushes exist only once the goods' leg called for them.
	refundsOut = refundsOut && (r.Mode() != domain.ModePickup && r.Kind() != domain.KindRejection || done(domain.PushWMSReturn))
	if len(dead) > 0 {
		return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
			for _, d := range dead {
				r.PushFailed(now, d)
			}
			return nil
		})
	}
	switch r.Status() {
	case domain.StatusAccepted, domain.StatusReturning:
		switch {
		case r.Status() == domain.StatusAccepted && done(domain.PushPickup):
			return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
				return r.Returning(now, "pickup courier booked, return waybill "+by[domain.PushPickup].Result)
			})
		case done(domain.PushWMSReturn) && !r.HasStep(domain.StepWarehouseNotified):
			return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
				r.WarehouseNotified(now, "return notice "+by[domain.PushWMSReturn].Result)
				return nil
			})
		case refundsOut:
			note := []string{}
			if needs(domain.PushRefund) {
				note = append(note, fmt.Sprintf("%s cash refund %s waits for finance's approval", r.RefundCash(), by[domain.PushRefund].Result))
			}
			if needs(domain.PushNonCashRefund) {
				note = append(note, fmt.Sprintf("%s non-cash given back", r.RefundNonCash()))
			}
			if len(note) == 0 {
				note = append(note, "nothing was paid for these lines")
			}
			return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.RefundRequested(now, strings.Join(note, "; ")) })
		}
		return fmt.Errorf("%w: request %s waits for its pushes", ErrNotYet, r.ID())
	case domain.StatusRefunding:
		var note []string
		if needs(domain.PushRefund) {
			f, err := s.refundOf(ctx, by[domain.PushRefund])
			if err != nil {
				return err
			}
			switch f.Status {
			case payclient.RefundSucceeded:
				note = append(note, fmt.Sprintf("%s cash back to the channel", f.AmountFen))
			case payclient.RefundRejected, payclient.RefundFailed:
				if !r.HasStepNote(domain.StepPushFailed, "refund "+f.ID+" "+f.Status) {
					return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error {
						r.PushFailed(now, "refund "+f.ID+" "+f.Status)
						return nil
					})
				}
				return fmt.Errorf("%w: refund %s is %s; customer service decides", ErrNotYet, f.ID, f.Status)
			default:
				return fmt.Errorf("%w: refund %s is %s", ErrNotYet, f.ID, f.Status)
			}
		}
		if needs(domain.PushNonCashRefund) {
			note = append(note, fmt.Sprintf("%s non-cash back to its accounts", r.RefundNonCash()))
		}
		if len(note) == 0 {
			note = append(note, "nothing to pay back")
		}
		return s.update(ctx, r.ID(), func(r *domain.Request, now time.Time) error { return r.ReturnRefunded(now, strings.Join(note, "; ")) })
	}
	return fmt.Errorf("%w: request %s is %s", ErrNotYet, r.ID(), r.Status())
}

func failNote(p domain.Push) string { return fmt.Sprintf("%s push %s: %s", p.Type, p.ID, p.LastError) }

// refundOf reads the cash refund p (a delivered REFUND push) made at PAY.
func (s *Service) refundOf(ctx context.Context, p domain.Push) (payclient.Refund, error) {
	rp, err := decode[refundPush](p)
	if err != nil {
		return payclient.Refund{}, err
	}
	fs, err := s.d.Payments.RefundsOfTrade(ctx, rp.TradeID)
	if err != nil {
		return payclient.Refund{}, fmt.Errorf("read refunds of trade %s: %w", rp.TradeID, err)
	}
	for _, f := range fs {
		if f.ID == p.Result {
			return f, nil
		}
	}
	return payclient.Refund{}, fmt.Errorf("refund %s not among trade %s's", p.Result, rp.TradeID)
}
