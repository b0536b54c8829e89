package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// RestoreStock gives units that came back (the reverse flow's returns
// with pickup and rejections, DOMAIN 5) back to sellable stock, once per
// restore id, all lines or none. Hot SKUs are refused
// (domain.ErrHotRestore): their sellable stock lives in the Redis counter.
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
	return s.store.RestoreStock(ctx, restoreID, orderID, parts, s.clock.Now().UTC())
}
