package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// HotRestore is a hot SKU's part of a restore: the units and the counter
// epoch MariaDB had when its on_hand rose.
type HotRestore struct {
	SKU   string `json:"sku"`
	Qty   int64  `json:"qty"`
	Epoch int64  `json:"epoch"`
}

// RestoreResult is what the store did with a restore: Duplicate when it
// had it before; Hot the hot lines whose Redis counter is still to raise.
type RestoreResult struct {
	Duplicate bool
	Hot       []HotRestore
}

// RestoreStock gives units that came back (the reverse flow's returns
// with pickup and rejections, DOMAIN 5) back to sellable stock, once per
// restore id, all lines or none. A hot SKU's units rise in MariaDB with
// the restore, then in its Redis counter, once per restore and SKU
// (HotStock.RestoreOnce) and only while the counter is of the epoch the
// rise was made under (a counter rebuilt since read the new on_hand).
// Redis unreachable: the call fails and the restore stays pending; the
// caller's redelivery (after-sales' push is retried) finishes it, adding
// nothing twice. Until then the counter sells less, never more.
func (s *Service) RestoreStock(ctx context.Context, restoreID, orderID string, parts []domain.Part) (bool, error) {
	restoreID, orderID = strings.TrimSpace(restoreID), strings.TrimSpace(orderID)
	if restoreID == "" || len(restoreID) > 64 || orderID == "" || len(orderID) > 64 || len(parts) == 0 || len(parts) > 100 {
		return false, &domain.ValidationError{Field: "restore_id", Msg: "restore_id and order_id (1-64 characters) and 1-100 lines are required"}
	}
	seen := map[string]bool{}
	for i, p := range parts {
		if p.SKU == "" || p.Qty <= 0 || seen[p.SKU] {
			return false, &domain.ValidationError{Field: fmt.Sprintf("lines[%d]", i), Msg: "each line names a SKU once with a positive qty"}
		}
		seen[p.SKU] = true
	}
	res, err := s.store.RestoreStock(ctx, restoreID, orderID, parts, s.clock.Now().UTC())
	if err != nil || len(res.Hot) == 0 {
		return res.Duplicate, err
	}
	for _, h := range res.Hot {
		if err := s.hot.RestoreOnce(ctx, restoreID, h.SKU, h.Qty, h.Epoch); err != nil {
			return res.Duplicate, fmt.Errorf("restore %s: hot counter of %s: %w", restoreID, h.SKU, err)
		}
	}
	if err := s.store.ClearRestorePending(ctx, restoreID); err != nil {
		return res.Duplicate, err
	}
	return res.Duplicate, nil
}
