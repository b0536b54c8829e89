package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/wms/domain"
)

// NoticeReturn records that goods of an order come back to the warehouse
// (DOMAIN 5: after-sales' push for returns with pickup and rejections),
// once per notice id: a repeat answers the first notice.
func (s *Service) NoticeReturn(ctx context.Context, n domain.ReturnNotice) (domain.ReturnNotice, bool, error) {
	n.NoticeID, n.OrderID = strings.TrimSpace(n.NoticeID), strings.TrimSpace(n.OrderID)
	var bad []string
	if n.NoticeID == "" || len(n.NoticeID) > 64 {
		bad = append(bad, "notice_id must be 1-64 characters")
	}
	if n.OrderID == "" || len(n.OrderID) > 64 || n.RequestID == "" || len(n.RequestID) > 64 {
		bad = append(bad, "order_id and request_id must be 1-64 characters")
	}
	if n.Kind != "RETURN" && n.Kind != "REJECTION" {
		bad = append(bad, "kind must be RETURN or REJECTION")
	}
	if len(n.WaybillNo) > 64 {
		bad = append(bad, "waybill_no must be at most 64 characters")
	}
	if len(n.Lines) == 0 || len(n.Lines) > 100 {
		bad = append(bad, "lines must hold 1-100 lines")
	}
	for i, l := range n.Lines {
		if l.SKU == "" || len(l.SKU) > 64 || l.Qty <= 0 {
			bad = append(bad, fmt.Sprintf("lines[%d] needs a sku and a positive qty", i))
		}
	}
	if len(bad) > 0 {
		return n, false, fmt.Errorf("%w: %s", domain.ErrValidation, strings.Join(bad, "; "))
	}
	n.Status, n.At = domain.ReturnExpected, s.now()
	return s.store.NoticeReturn(ctx, n)
}
