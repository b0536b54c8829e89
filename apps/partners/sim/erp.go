package sim

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// ERP's stock-movement intake (DOMAIN 7.3): WMS uploads every movement of
// its transaction log; ERP books each once by its id and counts repeats.
// Fault switch "erp.stock_movements" (or "erp").

// APIMovements is the movement upload's API name.
const APIMovements = "erp.stock_movements"

func (s *Server) mountERP(r chi.Router) {
	r.Post("/erp/v1/stock-movements", s.erpMovements)
}

func (s *Server) erpMovements(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIMovements) {
		return
	}
	var in pc.MovementUpload
	if _, err := decodeStrict(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if len(in.Movements) == 0 || len(in.Movements) > 1000 {
		httpapi.WriteError(w, r, rejected("movements", "1..1000 movements are required"))
		return
	}
	for i, m := range in.Movements {
		if err := firstErr(idField("id", m.ID), idField("warehouse", m.Warehouse), idField("sku", m.SKU), required("kind", m.Kind)); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("movements[%d]: %w", i, err))
			return
		}
	}
	var out pc.UploadReceipt
	now := s.now()
	for _, m := range in.Movements {
		n, err := affected(s.db.ExecContext(r.Context(), `INSERT INTO erp_movements (movement_id, warehouse, sku, kind, qty, ref, received_at)
			VALUES (?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE deliveries=deliveries+1`, m.ID, m.Warehouse, m.SKU, m.Kind, m.Qty, m.Ref, now))
		if err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("book movement %s: %w", m.ID, err))
			return
		}
		if n == 1 {
			out.Accepted++
		} else {
			out.Duplicates++
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// adminERPMovements shows what ERP booked of a warehouse's SKU: how many
// movements, their net quantity, and the most deliveries of one.
func (s *Server) adminERPMovements(w http.ResponseWriter, r *http.Request) {
	var out struct {
		Movements     int   `json:"movements"`
		NetQty        int64 `json:"net_qty"`
		MaxDeliveries int   `json:"max_deliveries"`
	}
	err := s.db.QueryRowContext(r.Context(), `SELECT COUNT(*), COALESCE(SUM(qty),0), COALESCE(MAX(deliveries),0) FROM erp_movements
		WHERE warehouse=? AND sku=?`, r.URL.Query().Get("warehouse"), r.URL.Query().Get("sku")).Scan(&out.Movements, &out.NetQty, &out.MaxDeliveries)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
