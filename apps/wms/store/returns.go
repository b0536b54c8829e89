package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/harvest/harvest/apps/wms/domain"
)

type returnLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// NoticeReturn stores n once by its id; a repeat reads back the first
// notice (dup true).
func (s *Store) NoticeReturn(ctx context.Context, n domain.ReturnNotice) (domain.ReturnNotice, bool, error) {
	ls := make([]returnLine, 0, len(n.Lines))
	for _, l := range n.Lines {
		ls = append(ls, returnLine{SKU: l.SKU, Qty: l.Qty})
	}
	body, err := json.Marshal(ls)
	if err != nil {
		return n, false, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO return_notices (notice_id, order_id, request_id, kind, waybill_no, goods, status, created_at)
		VALUES (?,?,?,?,?,?,?,?)`, n.NoticeID, n.OrderID, n.RequestID, n.Kind, n.WaybillNo, body, n.Status, n.At)
	if err != nil {
		return n, false, fmt.Errorf("record return notice %s: %w", n.NoticeID, err)
	}
	if k, _ := res.RowsAffected(); k == 1 {
		return n, false, nil
	}
	var out domain.ReturnNotice
	var raw []byte
	if err := s.db.QueryRowContext(ctx, `SELECT notice_id, order_id, request_id, kind, waybill_no, goods, status, created_at FROM return_notices
		WHERE notice_id=?`, n.NoticeID).Scan(&out.NoticeID, &out.OrderID, &out.RequestID, &out.Kind, &out.WaybillNo, &raw, &out.Status, &out.At); err != nil {
		return n, false, fmt.Errorf("read return notice %s: %w", n.NoticeID, err)
	}
	if err := json.Unmarshal(raw, &ls); err != nil {
		return n, false, err
	}
	for _, l := range ls {
		out.Lines = append(out.Lines, domain.Line{SKU: l.SKU, Qty: l.Qty})
	}
	out.At = out.At.UTC()
	return out, true, nil
}
