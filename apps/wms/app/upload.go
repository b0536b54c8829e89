package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/wms/domain"
)

// ERP is the ERP system as WMS needs it: it books stock movements, once
// each by id (a repeat is counted, not booked again), and holds the
// purchase orders goods are received against (domain.ErrUnknownPO when it
// has none by the id).
type ERP interface {
	UploadMovements(ctx context.Context, ms []domain.Movement) error
	PurchaseOrder(ctx context.Context, id string) (domain.PurchaseOrder, error)
}

// uploadBatch is how many movements one upload carries.
const uploadBatch = 500

// UploadMovements sends the movements not yet uploaded to ERP, a batch at
// a time, and marks each batch uploaded once ERP took it (DOMAIN 7.3). A
// crash between the two sends the batch again; ERP books each movement
// once by its id. It returns how many it uploaded.
func (s *Service) UploadMovements(ctx context.Context) (int, error) {
	if s.erp == nil {
		return 0, errors.New("no ERP configured")
	}
	n := 0
	for {
		ms, err := s.store.PendingMovements(ctx, uploadBatch)
		if err != nil || len(ms) == 0 {
			return n, err
		}
		if err := s.erp.UploadMovements(ctx, ms); err != nil {
			return n, fmt.Errorf("upload %d movements to ERP: %w", len(ms), err)
		}
		idList := make([]string, len(ms))
		for i, m := range ms {
			idList[i] = m.ID
		}
		if err := s.store.MarkUploaded(ctx, idList, s.now()); err != nil {
			return n, err
		}
		n += len(ms)
		if len(ms) < uploadBatch {
			return n, nil
		}
	}
}

// UploadWorker runs UploadMovements every interval until ctx ends (the
// upload job); a failed pass is retried at the next.
func (s *Service) UploadWorker(every time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if n, err := s.UploadMovements(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("stock movements not all uploaded to ERP; the next pass retries", "uploaded", n, "err", err)
			}
		}
	}
}
