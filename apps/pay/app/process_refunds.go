package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// AuditNotified handles finance's callback about a refund audit. Like a
// channel callback it is only a hint: PAY asks FMS for the audit's state.
func (s *Service) AuditNotified(ctx context.Context, refundID string) (domain.Refund, error) {
	r, err := s.repo.Refund(ctx, refundID)
	if err != nil {
		return r, err
	}
	if r.Status() == domain.RefundPendingAudit {
		if err := s.checkAudit(ctx, r); err != nil {
			return r, err
		}
	}
	return s.repo.Refund(ctx, refundID)
}

type auditState struct {
	RefundID string `json:"refund_id"`
	Status   string `json:"status"` // PENDING, APPROVED, REJECTED
}

func (s *Service) checkAudit(ctx context.Context, r domain.Refund) error {
	var a auditState
	err := s.inv.Invoke(ctx, s.cfg.FinanceApp, http.MethodGet, "fms/v1/refund-audits/"+url.PathEscape(r.ID()), nil, &a)
	now := s.now()
	if httpapi.HasCode(err, "AUDIT_NOT_FOUND") {
		// The audit push has not reached finance yet (it is retried); ask later.
		return s.repo.RefundLater(ctx, r.ID(), now.Add(5*time.Second))
	}
	if err != nil {
		return fmt.Errorf("ask finance about refund %s: %w", r.ID(), err)
	}
	switch a.Status {
	case "APPROVED":
		ok, err := s.repo.MoveRefund(ctx, r.ID(), domain.RefundPendingAudit, domain.RefundSubmitting, now, now)
		if err == nil && ok {
			s.Wake()
		}
		return err
	case "REJECTED":
		_, err := s.repo.RefundGiveBack(ctx, r, []domain.RefundStatus{domain.RefundPendingAudit}, domain.RefundRejected, now)
		return err
	}
	return s.repo.RefundLater(ctx, r.ID(), now.Add(5*time.Second))
}

// refundLease is how long a claimed refund is left to the worker that
// claimed it: longer than one step's channel or finance call.
const refundLease = 30 * time.Second

// ProcessRefunds moves every due refund one step: audits are checked with
// finance, approved refunds are submitted to the channel, submitted ones are
// confirmed by a channel query. Up to Config.RefundConcurrency refunds move
// at once, each claimed first (ClaimRefund), so neither two goroutines nor
// two replicas listing the same rows submit a refund twice; one refund's
// steps stay in order, one per pass.
func (s *Service) ProcessRefunds(ctx context.Context) error {
	due, err := s.repo.RefundsDue(ctx, s.now(), 100)
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, s.cfg.RefundConcurrency)
	)
	for _, r := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.refundStep(ctx, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// refundStep claims refund r and moves it one step.
func (s *Service) refundStep(ctx context.Context, r domain.Refund) error {
	now := s.now()
	claimed, err := s.repo.ClaimRefund(ctx, r.ID(), r.Status(), now, now.Add(refundLease))
	if err != nil || !claimed {
		return err
	}
	switch r.Status() {
	case domain.RefundPendingAudit:
		err = s.checkAudit(ctx, r)
	case domain.RefundSubmitting:
		err = s.submitRefund(ctx, r)
	case domain.RefundProcessing:
		err = s.confirmRefund(ctx, r)
	}
	if err != nil {
		_ = s.repo.RefundLater(ctx, r.ID(), s.now().Add(5*time.Second))
	}
	return err
}

func (s *Service) adapterOf(ctx context.Context, r domain.Refund) (channel.Adapter, domain.Trade, error) {
	t, err := s.repo.Trade(ctx, r.TradeID())
	if err != nil {
		return nil, t, err
	}
	ad, ok := s.channels[t.Channel()]
	if !ok {
		return nil, t, fmt.Errorf("%w: %q", domain.ErrUnknownChannel, t.Channel())
	}
	return ad, t, nil
}

func (s *Service) submitRefund(ctx context.Context, r domain.Refund) error {
	ad, t, err := s.adapterOf(ctx, r)
	if err != nil {
		return err
	}
	// The refund id is the channel's idempotency key: a resubmission after a
	// lost answer is the same refund.
	if _, err := ad.Refund(ctx, channel.RefundRequest{TradeNo: t.ID(), RefundNo: r.ID(), AmountFen: int64(r.AmountFen()),
		TotalFen: int64(t.PaidFen()), Reason: r.Reason()}); err != nil {
		return fmt.Errorf("submit refund %s: %w", r.ID(), err)
	}
	now := s.now()
	_, err = s.repo.MoveRefund(ctx, r.ID(), domain.RefundSubmitting, domain.RefundProcessing, now.Add(2*time.Second), now)
	return err
}

// confirmRefund believes a refund's result only from a channel query.
func (s *Service) confirmRefund(ctx context.Context, r domain.Refund) error {
	if !r.Confirmable() {
		return nil
	}
	ad, t, err := s.adapterOf(ctx, r)
	if err != nil {
		return err
	}
	res, err := ad.QueryRefund(ctx, t.ID(), r.ID())
	if errors.Is(err, channel.ErrUnknownTrade) && r.Status() == domain.RefundSubmitting {
		return nil // not submitted yet; the worker will
	}
	if err != nil {
		return fmt.Errorf("query refund %s: %w", r.ID(), err)
	}
	now := s.now()
	switch res.State {
	case channel.RefundSucceeded:
		ev := outbox.Event{Topic: payevents.TopicRefundSucceeded, AggregateID: r.OrderID(), Type: payevents.TopicRefundSucceeded + ".v1",
			Payload: payevents.RefundSucceeded{RefundID: r.ID(), OrderID: r.OrderID(), TradeID: r.TradeID(), AmountFen: r.AmountFen(),
				Reason: r.Reason(), At: now}}
		done, err := s.repo.RefundDone(ctx, r, t.Channel(), now, ev)
		if err == nil && done {
			s.notify()
			s.Wake()
		}
		return err
	case channel.RefundFailed:
		// An automatic full refund is tried again after a backoff, a
		// bounded number of times, before it is left to customer service
		// (RetryRefund): the retry is written with the failure, so a crash
		// in between cannot lose it and a repeat cannot make two.
		ended, retry, err := s.repo.RefundFailed(ctx, r, now)
		switch {
		case err != nil || !ended:
		case retry != nil:
			s.log.Warn("channel failed a refund; retrying", "refund", r.ID(), "trade", r.TradeID(), "retry", retry.ID(),
				"attempt", retry.RefundAttempt(), "of", domain.AutoRefundAttempts)
		default:
			s.log.Error("channel failed a refund; left to customer service", "refund", r.ID(), "trade", r.TradeID(), "reason", r.Reason())
		}
		return err
	}
	return s.repo.RefundLater(ctx, r.ID(), now.Add(3*time.Second))
}
