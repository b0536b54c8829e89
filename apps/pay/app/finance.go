package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/harvest/harvest/apps/pay/domain"
)

// SendPushes delivers due finance pushes to FMS. Each push carries its id,
// which FMS deduplicates by, so a resend after a lost answer or a crash is
// received once; failures are retried with backoff. A coupon release goes
// to the wallet instead, as a recheck of the reversed deduction's hold
// (idempotent: the wallet asks PAY and settles by the answer).
func (s *Service) SendPushes(ctx context.Context) error {
	due, err := s.repo.DuePushes(ctx, s.now(), 200)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range due {
		var err error
		if p.Kind == domain.PushCouponRelease {
			err = s.wallet.RecheckHold(ctx, p.RefID)
		} else {
			err = s.inv.Invoke(ctx, s.cfg.FinanceApp, http.MethodPost, p.Path(), json.RawMessage(p.Payload), nil)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("push %s %s: %w", p.Kind, p.RefID, err))
			if err := s.repo.PushFailed(ctx, p.ID, s.now().Add(backoff(p.Attempts, time.Second, 5*time.Minute)), err.Error()); err != nil {
				return err
			}
			continue
		}
		if err := s.repo.PushSent(ctx, p.ID, s.now()); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
