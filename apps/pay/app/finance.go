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
// received once; failures are retried with backoff.
func (s *Service) SendPushes(ctx context.Context) error {
	due, err := s.store.DuePushes(ctx, s.now(), 200)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range due {
		path := "fms/v1/receipts"
		if p.Kind == domain.PushRefundAudit {
			path = "fms/v1/refund-audits"
		}
		err := s.inv.Invoke(ctx, s.cfg.FinanceApp, http.MethodPost, path, json.RawMessage(p.Payload), nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("push %s %s: %w", p.Kind, p.RefID, err))
			if err := s.store.PushFailed(ctx, p.ID, s.now().Add(backoff(p.Attempts, time.Second, 5*time.Minute)), err.Error()); err != nil {
				return err
			}
			continue
		}
		if err := s.store.PushSent(ctx, p.ID, s.now()); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
